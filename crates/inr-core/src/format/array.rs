//! Typed arrays inside sections ([`ArrayRef`]): reading them as f64 or u64,
//! and the `delta_varint` integer encoding (zigzag LEB128 of the differences
//! between consecutive values), which stores mesh connectivity in a byte or
//! two per id because neighbouring cells use nearby point ids.

use crate::error::{Error, Result};
use crate::format::metadata::{ArrayRef, DType};
use crate::format::tensor::slice;

impl ArrayRef {
    /// Bytes the array occupies in its section.
    pub fn byte_len(&self) -> Result<u64> {
        match (self.dtype.size(), self.bytes) {
            (Some(size), _) => self
                .count
                .checked_mul(size)
                .ok_or_else(|| Error::LimitExceeded(format!("array of {} elements", self.count))),
            (None, Some(b)) => Ok(b),
            (None, None) => Err(Error::Invalid(
                "a delta_varint array needs its byte length (\"bytes\")".into(),
            )),
        }
    }

    /// The array's bytes inside the decoded section `section`. Checking this
    /// before decoding bounds every allocation by the real data.
    pub fn bytes_in<'a>(&self, section: &'a [u8]) -> Result<&'a [u8]> {
        slice(section, self.offset, self.byte_len()?, "array")
    }

    /// Reads a floating-point array (f32 or f64) as f64.
    pub fn read_f64(&self, section: &[u8]) -> Result<Vec<f64>> {
        let b = self.bytes_in(section)?;
        match self.dtype {
            DType::F64 => Ok(b
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect()),
            DType::F32 => Ok(b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64)
                .collect()),
            d => Err(Error::Invalid(format!(
                "{d:?} array where floats are expected"
            ))),
        }
    }

    /// Reads an integer array (u8, u32, u64 or delta_varint) as u64.
    pub fn read_u64(&self, section: &[u8]) -> Result<Vec<u64>> {
        let b = self.bytes_in(section)?;
        match self.dtype {
            DType::U8 => Ok(b.iter().map(|&v| v as u64).collect()),
            DType::U32 => Ok(b
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")) as u64)
                .collect()),
            DType::U64 => Ok(b
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect()),
            DType::DeltaVarint => decode_delta_varint(b, self.count),
            d => Err(Error::Invalid(format!(
                "{d:?} array where integers are expected"
            ))),
        }
    }
}

/// Encodes non-negative integers as zigzag LEB128 deltas.
pub fn encode_delta_varint(values: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 2);
    let mut prev = 0i64;
    for &v in values {
        let d = (v as i64).wrapping_sub(prev);
        prev = v as i64;
        let mut z = ((d << 1) ^ (d >> 63)) as u64;
        loop {
            let byte = (z & 0x7f) as u8;
            z >>= 7;
            if z == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// Decodes exactly `count` values from `bytes`, which must be used up.
pub fn decode_delta_varint(bytes: &[u8], count: u64) -> Result<Vec<u64>> {
    // Each value takes at least one byte: this bounds the allocation.
    if count > bytes.len() as u64 {
        return Err(Error::Shape(format!(
            "{count} varints cannot fit in {} bytes",
            bytes.len()
        )));
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut it = bytes.iter();
    let mut prev = 0i64;
    for _ in 0..count {
        let mut z = 0u64;
        let mut shift = 0;
        loop {
            let &byte = it
                .next()
                .ok_or_else(|| Error::Truncated("varint array ends early".into()))?;
            if shift > 63 {
                return Err(Error::Invalid("varint longer than 64 bits".into()));
            }
            z |= ((byte & 0x7f) as u64) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
        prev = prev.wrapping_add(d);
        if prev < 0 {
            return Err(Error::Invalid(
                "negative value in a delta_varint array".into(),
            ));
        }
        out.push(prev as u64);
    }
    if it.next().is_some() {
        return Err(Error::Shape("bytes left after the last varint".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_varint_round_trips_and_is_compact() {
        let v: Vec<u64> = vec![0, 1, 2, 3, 100, 99, 5, u32::MAX as u64, 7, 1 << 40];
        let b = encode_delta_varint(&v);
        assert_eq!(decode_delta_varint(&b, v.len() as u64).unwrap(), v);
        let ids: Vec<u64> = (0..1000).collect();
        assert_eq!(encode_delta_varint(&ids).len(), 1000);
        assert!(decode_delta_varint(&b, v.len() as u64 + 1).is_err());
        assert!(decode_delta_varint(&b[..b.len() - 1], v.len() as u64).is_err());
    }
}
