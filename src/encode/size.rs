//! Choosing the network's size for a target compression ratio.
//!
//! The target file size is the data's float32 size divided by the ratio. A
//! file holds, per weight tensor, either 4 bytes a value (f32) or a
//! codebook of `min(values, 2^bits)` f32 entries plus `bits` per value
//! (biases too: the writer quantizes them with the weights), and a
//! metadata block of about a kilobyte. The width is the largest that fits.

use crate::error::{Error, Result};
use crate::format::limits;

use super::siren::Shape;

/// Metadata, header and section table: a fixed allowance plus a little per
/// layer (tensor descriptions in compressed JSON).
const OVERHEAD_BYTES: u64 = 1024;
const OVERHEAD_PER_TENSOR: u64 = 48;

/// The narrowest network the encoder makes.
pub const MIN_WIDTH: usize = 4;

/// Estimated file bytes of a network of `shape` with `bits`-bit codebooks
/// (0: f32 weights).
pub fn estimate_bytes(shape: Shape, bits: u8) -> u64 {
    let (k, w, c) = (
        shape.inputs as u64,
        shape.width as u64,
        shape.outputs as u64,
    );
    // (values) of every tensor, weight then bias.
    let mut tensors = vec![k * w, w];
    for _ in 0..shape.blocks {
        tensors.extend([w * w, w, w * w, w]);
    }
    tensors.extend([w * c, c]);
    let payload: u64 = tensors
        .iter()
        .map(|&n| {
            if bits == 0 {
                4 * n
            } else {
                4 * n.min(1 << bits) + (n * bits as u64).div_ceil(8)
            }
        })
        .sum();
    OVERHEAD_BYTES + OVERHEAD_PER_TENSOR * tensors.len() as u64 + payload
}

/// The widest network with `blocks` residual blocks whose file fits in
/// `target` bytes.
pub fn width_for_bytes(
    target: u64,
    inputs: usize,
    outputs: usize,
    blocks: usize,
    bits: u8,
) -> Result<usize> {
    let shape = |width| Shape {
        inputs,
        width,
        blocks,
        outputs,
    };
    let fits = |w: usize| {
        estimate_bytes(shape(w), bits) <= target && shape(w).parameters() <= limits::MAX_PARAMETERS
    };
    if !fits(MIN_WIDTH) {
        return Err(Error::InvalidArgument(format!(
            "a target of {target} bytes is too small for a network of {blocks} blocks \
             (width {MIN_WIDTH} needs about {} bytes): ask for a lower ratio or fewer blocks",
            estimate_bytes(shape(MIN_WIDTH), bits)
        )));
    }
    // Bytes grow with the width: bisect the largest that fits.
    let (mut lo, mut hi) = (MIN_WIDTH, MIN_WIDTH);
    while fits(hi) && hi < limits::MAX_FEATURES as usize {
        lo = hi;
        hi = (hi * 2).min(limits::MAX_FEATURES as usize);
    }
    if fits(hi) {
        return Ok(hi);
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_estimate_counts_four_bytes_a_parameter() {
        let s = Shape {
            inputs: 3,
            width: 16,
            blocks: 2,
            outputs: 4,
        };
        assert_eq!(
            estimate_bytes(s, 0),
            4 * s.parameters() + OVERHEAD_BYTES + 12 * OVERHEAD_PER_TENSOR
        );
    }

    #[test]
    fn width_is_the_largest_that_fits() {
        let target = 200_000;
        let w = width_for_bytes(target, 4, 1, 3, 9).unwrap();
        let shape = |width| Shape {
            inputs: 4,
            width,
            blocks: 3,
            outputs: 1,
        };
        assert!(estimate_bytes(shape(w), 9) <= target);
        assert!(estimate_bytes(shape(w + 1), 9) > target);
        assert!(width_for_bytes(100, 3, 1, 3, 0).is_err());
    }
}
