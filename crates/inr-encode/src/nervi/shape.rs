//! The network's shape for an image size (Table 1 of NeRVI, scaled): a
//! `[c2 / 2, H0, W0]` map made by the MLP, upscale blocks of factor 4 then
//! 2 whose channels halve from `c2` (at least [`MIN_CHANNELS`]), a head of
//! color and mask; and the channels `c2` that fit a parameter budget.

use inr_core::error::{Error, Result};

/// Fewest channels of an upscale block's output.
pub const MIN_CHANNELS: usize = 4;
/// Narrowest MLP a ratio may shrink it to.
pub const MIN_MLP_WIDTH: usize = 8;
/// Largest first feature map, `H0 x W0` pixels.
pub const MAX_MAP_PIXELS: usize = 256;
/// Kernel size of every convolution.
pub const KERNEL: usize = 3;
/// Color (3) and mask.
pub const OUTPUTS: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NerviShape {
    /// Network inputs before the encoding (time and view parameters).
    pub inputs: usize,
    /// Fourier levels per input.
    pub levels: usize,
    /// Width of the first residual block.
    pub width: usize,
    /// `[C0, H0, W0]`.
    pub reshape: [usize; 3],
    /// `(factor, channels after the shuffle)` per upscale block.
    pub blocks: Vec<(usize, usize)>,
}

impl NerviShape {
    /// The shape for `width x height` images with `channels` (c2).
    pub fn new(
        size: [usize; 2],
        inputs: usize,
        levels: usize,
        width: usize,
        channels: usize,
    ) -> Result<NerviShape> {
        let [w, h] = size;
        // The largest power of two common to both sides, leaving a map of
        // at least 2 x 2 (Table 1's 2 x 2 for 1024^2).
        let common = w.trailing_zeros().min(h.trailing_zeros());
        let half = (w.min(h) / 2).max(1).ilog2();
        let r = 1usize << common.min(half);
        let (w0, h0) = (w / r, h / r);
        if w0 * h0 > MAX_MAP_PIXELS {
            return Err(Error::InvalidArgument(format!(
                "{w} x {h} images: their largest power-of-two factor in common, {r}, leaves a \
                 {w0} x {h0} first map (at most {MAX_MAP_PIXELS} pixels; sizes such as 256, 384 \
                 or 512 work)"
            )));
        }
        let mut factors = Vec::new();
        let mut left = r;
        while left >= 16 && factors.len() < 2 {
            factors.push(4);
            left /= 4;
        }
        while left > 1 {
            factors.push(2);
            left /= 2;
        }
        let blocks = (factors.iter().enumerate())
            .map(|(i, &f)| (f, (channels >> i).max(MIN_CHANNELS)))
            .collect();
        Ok(NerviShape {
            inputs,
            levels,
            width,
            reshape: [(channels / 2).max(MIN_CHANNELS), h0, w0],
            blocks,
        })
    }

    /// Width of the encoded inputs.
    pub fn encoded(&self) -> usize {
        self.inputs * 2 * self.levels
    }

    /// Width of the MLP's output.
    pub fn map_features(&self) -> usize {
        self.reshape.iter().product()
    }

    /// Number of parameters.
    pub fn parameters(&self) -> u64 {
        let (e, c1, f) = (self.encoded(), self.width, self.map_features());
        // A projected block: W1 [out, in], W2 [out, out], S [out, in], biases.
        let block = |i: usize, o: usize| 2 * o * i + o * o + 3 * o;
        let mut n = block(e, c1) + block(c1, f);
        let mut c = self.reshape[0];
        for &(r, out) in &self.blocks {
            n += c * out * r * r * KERNEL * KERNEL + out * r * r;
            c = out;
        }
        (n + c * OUTPUTS * KERNEL * KERNEL + OUTPUTS) as u64
    }

    /// The largest `c2` (from [`MIN_CHANNELS`]) whose network has at most
    /// `budget` parameters; the MLP's `width` halves (down to
    /// [`MIN_MLP_WIDTH`]) when even the fewest channels do not fit.
    pub fn fitting(
        size: [usize; 2],
        inputs: usize,
        levels: usize,
        width: usize,
        budget: u64,
    ) -> Result<NerviShape> {
        let mut width = width;
        let fits = |c: usize, width: usize| -> Result<Option<NerviShape>> {
            let s = NerviShape::new(size, inputs, levels, width, c)?;
            Ok((s.parameters() <= budget).then_some(s))
        };
        let mut best = loop {
            match fits(MIN_CHANNELS, width)? {
                Some(s) => break s,
                None if width / 2 >= MIN_MLP_WIDTH => width /= 2,
                None => {
                    return Err(Error::InvalidArgument(format!(
                        "no network fits {budget} parameters (the smallest, MLP width {width} \
                         and {MIN_CHANNELS} channels, has {}): ask for a lower ratio",
                        NerviShape::new(size, inputs, levels, width, MIN_CHANNELS)?.parameters()
                    )))
                }
            }
        };
        let fits = |c: usize| fits(c, width);
        for c in MIN_CHANNELS + 1..=4096 {
            match fits(c)? {
                Some(s) => best = s,
                None => break,
            }
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_1_scaled() {
        let s = NerviShape::new([1024, 1024], 3, 2, 128, 1024).unwrap();
        assert_eq!(s.reshape, [512, 2, 2]);
        let f: Vec<usize> = s.blocks.iter().map(|b| b.0).collect();
        assert_eq!(f, [4, 4, 2, 2, 2, 2, 2]);
        let c: Vec<usize> = s.blocks.iter().map(|b| b.1).collect();
        assert_eq!(c, [1024, 512, 256, 128, 64, 32, 16]);
        assert_eq!(s.encoded(), 12);
        let s = NerviShape::new([384, 256], 2, 4, 32, 16).unwrap();
        assert_eq!(s.reshape[1..], [2, 3]);
        assert_eq!(s.blocks.iter().map(|b| b.0).product::<usize>(), 128);
        assert!(NerviShape::new([100, 100], 2, 4, 32, 16).is_err());
        let fit = NerviShape::fitting([256, 256], 3, 4, 64, 200_000).unwrap();
        assert!(fit.parameters() <= 200_000);
        let bigger = NerviShape::new([256, 256], 3, 4, 64, fit.blocks[0].1 + 1).unwrap();
        assert!(bigger.parameters() > 200_000);
        // A small budget narrows the MLP first.
        let tiny = NerviShape::fitting([128, 128], 4, 4, 64, 11_184).unwrap();
        assert!(tiny.width < 64 && tiny.parameters() <= 11_184, "{tiny:?}");
        assert!(NerviShape::fitting([128, 128], 4, 4, 64, 500).is_err());
    }
}
