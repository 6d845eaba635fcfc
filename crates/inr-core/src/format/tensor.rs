//! Network weight tensors: their stored encodings and decoding to dense f32.
//!
//! A tensor lives inside a decoded section at a byte offset. Encodings:
//! - `f32`: little-endian IEEE binary32, row-major.
//! - `f16`: little-endian IEEE binary16, row-major.
//! - `codebook`: k-means quantization (deep compression): a table of f32 values,
//!   one packed `bits`-bit index per kept element, and optionally a pruning mask
//!   (one bit per element, 1 = kept; pruned elements are 0). Several tensors may
//!   share one codebook (ECNR's global quantization).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::bitpack;
use crate::format::limits;

/// A tensor: its shape and where/how its values are stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorRef {
    /// Row-major shape; a weight matrix is [out_features, in_features].
    pub shape: Vec<u64>,
    pub encoding: TensorEncoding,
}

/// A byte position inside a decoded section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub section: u32,
    pub offset: u64,
}

/// How a tensor's values are stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TensorEncoding {
    F32 {
        #[serde(flatten)]
        at: Location,
    },
    F16 {
        #[serde(flatten)]
        at: Location,
    },
    Codebook {
        bits: u8,
        /// f32 codebook values.
        codebook: Location,
        /// Number of codebook entries (at most 2^bits).
        codebook_len: u64,
        /// Packed indices, one per kept element.
        indices: Location,
        /// Optional pruning mask, one bit per element.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mask: Option<Location>,
    },
}

impl TensorRef {
    /// Number of elements, checked against the limits.
    pub fn numel(&self) -> Result<u64> {
        let n = self
            .shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .filter(|&n| n <= limits::MAX_TENSOR_ELEMENTS);
        n.ok_or_else(|| {
            Error::LimitExceeded(format!(
                "tensor of shape {:?} exceeds {} elements",
                self.shape,
                limits::MAX_TENSOR_ELEMENTS
            ))
        })
    }

    /// Sections this tensor reads.
    pub fn sections(&self) -> Vec<u32> {
        match &self.encoding {
            TensorEncoding::F32 { at } | TensorEncoding::F16 { at } => vec![at.section],
            TensorEncoding::Codebook {
                codebook,
                indices,
                mask,
                ..
            } => {
                let mut s = vec![codebook.section, indices.section];
                s.extend(mask.map(|m| m.section));
                s
            }
        }
    }

    /// Decodes to dense f32. `section` returns the decoded bytes of a section.
    pub fn decode<'a>(&self, section: &dyn Fn(u32) -> Result<&'a [u8]>) -> Result<Vec<f32>> {
        let n = self.numel()?;
        match &self.encoding {
            TensorEncoding::F32 { at } => {
                let b = slice(section(at.section)?, at.offset, n * 4, "f32 tensor")?;
                Ok(b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect())
            }
            TensorEncoding::F16 { at } => {
                let b = slice(section(at.section)?, at.offset, n * 2, "f16 tensor")?;
                Ok(b.chunks_exact(2)
                    .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                    .collect())
            }
            TensorEncoding::Codebook {
                bits,
                codebook,
                codebook_len,
                indices,
                mask,
            } => decode_codebook(
                n,
                *bits,
                codebook,
                *codebook_len,
                indices,
                mask.as_ref(),
                section,
            ),
        }
    }
}

fn decode_codebook<'a>(
    n: u64,
    bits: u8,
    codebook: &Location,
    codebook_len: u64,
    indices: &Location,
    mask: Option<&Location>,
    section: &dyn Fn(u32) -> Result<&'a [u8]>,
) -> Result<Vec<f32>> {
    if bits == 0
        || bits > limits::MAX_CODEBOOK_BITS
        || codebook_len == 0
        || codebook_len > 1 << bits
    {
        return Err(Error::Invalid(format!(
            "codebook of {codebook_len} entries with {bits}-bit indices"
        )));
    }
    let table = slice(
        section(codebook.section)?,
        codebook.offset,
        codebook_len * 4,
        "codebook",
    )?;
    let table: Vec<f32> = table
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    // Without a mask every element is kept; nothing of size `n` is allocated
    // before the indices are known to be in the section.
    let keep = match mask {
        Some(m) => {
            let b = slice(
                section(m.section)?,
                m.offset,
                bitpack::packed_len(n, 1),
                "pruning mask",
            )?;
            Some(bitpack::unpack_mask(b, n as usize)?)
        }
        None => None,
    };
    let kept = keep
        .as_ref()
        .map_or(n as usize, |k| k.iter().filter(|&&k| k).count());
    let packed = slice(
        section(indices.section)?,
        indices.offset,
        bitpack::packed_len(kept as u64, bits),
        "codebook indices",
    )?;
    let idx = bitpack::unpack(packed, bits, kept)?;
    if let Some(bad) = idx.iter().find(|&&i| i as u64 >= codebook_len) {
        return Err(Error::Invalid(format!(
            "codebook index {bad} beyond the {codebook_len}-entry codebook"
        )));
    }
    let Some(keep) = keep else {
        return Ok(idx.into_iter().map(|i| table[i as usize]).collect());
    };
    let mut it = idx.into_iter();
    Ok(keep
        .into_iter()
        .map(|k| {
            if k {
                table[it.next().unwrap_or(0) as usize]
            } else {
                0.0
            }
        })
        .collect())
}

/// `len` bytes at `offset` of a decoded section, or an out-of-bounds error.
pub fn slice<'a>(bytes: &'a [u8], offset: u64, len: u64, what: &str) -> Result<&'a [u8]> {
    let end = offset.checked_add(len).filter(|&e| e <= bytes.len() as u64);
    match end {
        Some(end) => Ok(&bytes[offset as usize..end as usize]),
        None => Err(Error::OutOfBounds(format!(
            "{what}: bytes {offset}..+{len} of a {}-byte section",
            bytes.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ECNR time sample without non-empty blocks has a `[0, l]` latent
    /// tensor: it decodes to nothing, wherever its (empty) data lies in the
    /// section, but not past the section's end.
    #[test]
    fn tensors_without_elements_decode_to_nothing() {
        let section = [0u8; 8];
        let get = |_| Ok(&section[..]);
        let at = |offset| Location { section: 0, offset };
        for shape in [vec![0, 8], vec![3, 0], vec![0]] {
            let f32_at = |offset| TensorRef {
                shape: shape.clone(),
                encoding: TensorEncoding::F32 { at: at(offset) },
            };
            assert_eq!(f32_at(8).decode(&get).unwrap(), Vec::<f32>::new());
            assert!(f32_at(9).decode(&get).is_err());
            let coded = TensorRef {
                shape: shape.clone(),
                encoding: TensorEncoding::Codebook {
                    bits: 3,
                    codebook: at(0),
                    codebook_len: 2,
                    indices: at(8),
                    mask: Some(at(8)),
                },
            };
            assert_eq!(coded.decode(&get).unwrap(), Vec::<f32>::new());
        }
    }
}
