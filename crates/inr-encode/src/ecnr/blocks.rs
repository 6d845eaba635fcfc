//! A scale's samples cut into equal blocks (docs/format.md §10.4, "Blocks"):
//! per block its values at every local sample, zero-padded where an edge
//! block is partial, with a mask of the samples that exist.

use super::pyramid::Level;
use super::volume::linear;

/// The block layout of one scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tiling {
    /// Samples per block along x, y, z.
    pub block: [usize; 3],
    /// Blocks along x, y, z, and time samples.
    pub counts: [usize; 4],
    pub level: Level,
}

impl Tiling {
    pub fn new(level: Level, block: [usize; 3]) -> Tiling {
        Tiling {
            block,
            counts: [
                level.dims[0].div_ceil(block[0]),
                level.dims[1].div_ceil(block[1]),
                level.dims[2].div_ceil(block[2]),
                level.dims[3],
            ],
            level,
        }
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.counts.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples of a full block.
    pub fn volume(&self) -> usize {
        self.block.iter().product()
    }

    /// The time sample of block `b`.
    pub fn time_of(&self, b: usize) -> usize {
        b / (self.counts[0] * self.counts[1] * self.counts[2])
    }

    /// Local coordinates of every sample of a block, x fastest, each in
    /// [-1, 1] (0 along an axis of one sample).
    pub fn local_coordinates(&self) -> Vec<f32> {
        let u = |l: usize, b: usize| {
            if b == 1 {
                0.0
            } else {
                (-1.0 + 2.0 * l as f64 / (b - 1) as f64) as f32
            }
        };
        let [bx, by, bz] = self.block;
        let mut out = Vec::with_capacity(3 * self.volume());
        for lz in 0..bz {
            for ly in 0..by {
                for lx in 0..bx {
                    out.extend([u(lx, bx), u(ly, by), u(lz, bz)]);
                }
            }
        }
        out
    }

    /// The scale sample of local sample `l` of block `b`, if it exists.
    fn sample(&self, b: usize, l: usize) -> Option<[usize; 4]> {
        let [bx, by, _] = self.block;
        let [nx, ny, nz, _] = self.counts;
        let (ix, iy, iz, t) = (b % nx, (b / nx) % ny, (b / (nx * ny)) % nz, self.time_of(b));
        let (lx, ly, lz) = (l % bx, (l / bx) % by, l / (bx * by));
        let j = [ix * bx + lx, iy * by + ly, iz * self.block[2] + lz, t];
        (j[0] < self.level.dims[0] && j[1] < self.level.dims[1] && j[2] < self.level.dims[2])
            .then_some(j)
    }

    /// The values of `blocks` (block indices) cut from `scale` (`c`
    /// channels per sample): `[blocks, volume, c]`, zero outside the scale,
    /// and the mask `[blocks, volume]` of the samples that exist.
    pub fn gather(&self, scale: &[f32], c: usize, blocks: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let v = self.volume();
        let mut values = vec![0f32; blocks.len() * v * c];
        let mut mask = vec![0f32; blocks.len() * v];
        for (k, &b) in blocks.iter().enumerate() {
            for l in 0..v {
                if let Some(j) = self.sample(b, l) {
                    let i = linear(self.level.dims, j) * c;
                    let o = (k * v + l) * c;
                    values[o..o + c].copy_from_slice(&scale[i..i + c]);
                    mask[k * v + l] = 1.0;
                }
            }
        }
        (values, mask)
    }

    /// Writes block values `[blocks, volume, c]` into `scale` (the samples
    /// that exist).
    pub fn scatter(&self, values: &[f32], c: usize, blocks: &[usize], scale: &mut [f32]) {
        let v = self.volume();
        for (k, &b) in blocks.iter().enumerate() {
            for l in 0..v {
                if let Some(j) = self.sample(b, l) {
                    let i = linear(self.level.dims, j) * c;
                    let o = (k * v + l) * c;
                    scale[i..i + c].copy_from_slice(&values[o..o + c]);
                }
            }
        }
    }

    /// Per block, how many of its samples exist (fewer in the blocks at the
    /// far edges).
    pub fn sample_counts(&self) -> Vec<usize> {
        let [nx, ny, nz, _] = self.counts;
        (0..self.len())
            .map(|b| {
                let i = [b % nx, (b / nx) % ny, (b / (nx * ny)) % nz];
                (0..3)
                    .map(|a| self.block[a].min(self.level.dims[a] - i[a] * self.block[a]))
                    .product()
            })
            .collect()
    }

    /// Per block, the sum of squares of its values in `scale`.
    pub fn energies(&self, scale: &[f32], c: usize) -> Vec<f64> {
        let v = self.volume();
        (0..self.len())
            .map(|b| {
                (0..v)
                    .filter_map(|l| self.sample(b, l))
                    .map(|j| {
                        let i = linear(self.level.dims, j) * c;
                        scale[i..i + c]
                            .iter()
                            .map(|&x| (x as f64) * (x as f64))
                            .sum::<f64>()
                    })
                    .sum()
            })
            .collect()
    }
}

/// The default block: about an eighth of each axis, a power of two from 2
/// to 16 samples (1 on a flat axis).
pub fn default_block(native: [usize; 4]) -> [usize; 3] {
    std::array::from_fn(|a| match native[a] {
        1 => 1,
        n => n.div_ceil(8).next_power_of_two().clamp(2, 16),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_then_scatter_restores_the_scale_and_pads_edge_blocks() {
        let level = Level::new([5, 3, 2, 2], 1);
        let t = Tiling::new(level, [2, 2, 2]);
        assert_eq!(t.counts, [3, 2, 1, 2]);
        let scale: Vec<f32> = (0..level.len() * 2).map(|i| i as f32 + 1.0).collect();
        let all: Vec<usize> = (0..t.len()).collect();
        let (values, mask) = t.gather(&scale, 2, &all);
        // Block 2 (x = 4..6) has one column of samples, x = 4.
        assert_eq!(mask[2 * 8..3 * 8], [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        let mut back = vec![0f32; scale.len()];
        t.scatter(&values, 2, &all, &mut back);
        assert_eq!(back, scale);
        let e = t.energies(&scale, 2);
        let total: f64 = scale.iter().map(|&x| (x * x) as f64).sum();
        assert!((e.iter().sum::<f64>() - total).abs() < 1e-6 * total);
        assert_eq!(t.time_of(7), 1);
        let counted: Vec<usize> = mask
            .chunks(8)
            .map(|m| m.iter().sum::<f32>() as usize)
            .collect();
        assert_eq!(t.sample_counts(), counted);
        assert_eq!(counted[..3], [8, 8, 4]);
    }

    #[test]
    fn local_coordinates_span_minus_one_to_one() {
        let t = Tiling::new(Level::new([4, 4, 1, 1], 1), [4, 2, 1]);
        let u = t.local_coordinates();
        assert_eq!(&u[..6], &[-1.0, -1.0, 0.0, -1.0 / 3.0, -1.0, 0.0]);
        assert_eq!(&u[u.len() - 3..], &[1.0, 1.0, 0.0]);
    }
}
