//! Packed b-bit unsigned integers (quantization indices) and bit masks.
//! Bit order: element `i` occupies bits `i*b .. (i+1)*b` of the stream, where
//! bit `n` of the stream is bit `n % 8` (least significant first) of byte `n / 8`.

use crate::error::{Error, Result};

/// Bytes needed for `count` values of `bits` bits.
pub fn packed_len(count: u64, bits: u8) -> u64 {
    (count * bits as u64).div_ceil(8)
}

/// Packs `values` (each `< 2^bits`) into a little-endian bit stream.
pub fn pack(values: &[u32], bits: u8) -> Vec<u8> {
    let mut out = vec![0u8; packed_len(values.len() as u64, bits) as usize];
    let mut bitpos = 0usize;
    for &v in values {
        for b in 0..bits as usize {
            if (v >> b) & 1 == 1 {
                let n = bitpos + b;
                out[n / 8] |= 1 << (n % 8);
            }
        }
        bitpos += bits as usize;
    }
    out
}

/// Unpacks `count` values of `bits` bits. `bytes` must hold exactly
/// [`packed_len`] bytes; the caller has bounded `count` already.
pub fn unpack(bytes: &[u8], bits: u8, count: usize) -> Result<Vec<u32>> {
    if !(1..=32).contains(&bits) {
        return Err(Error::Invalid(format!("index width of {bits} bits")));
    }
    if bytes.len() as u64 != packed_len(count as u64, bits) {
        return Err(Error::Shape(format!(
            "{} packed bytes for {count} values of {bits} bits",
            bytes.len()
        )));
    }
    let mut out = Vec::with_capacity(count);
    let mut bitpos = 0usize;
    for _ in 0..count {
        let mut v = 0u32;
        for b in 0..bits as usize {
            let n = bitpos + b;
            v |= (((bytes[n / 8] >> (n % 8)) & 1) as u32) << b;
        }
        out.push(v);
        bitpos += bits as usize;
    }
    Ok(out)
}

/// Unpacks a mask of `count` bits into booleans.
pub fn unpack_mask(bytes: &[u8], count: usize) -> Result<Vec<bool>> {
    Ok(unpack(bytes, 1, count)?
        .into_iter()
        .map(|b| b == 1)
        .collect())
}

/// Packs booleans into a mask.
pub fn pack_mask(mask: &[bool]) -> Vec<u8> {
    let v: Vec<u32> = mask.iter().map(|&b| b as u32).collect();
    pack(&v, 1)
}
