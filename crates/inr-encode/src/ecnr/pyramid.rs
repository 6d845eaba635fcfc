//! The Laplacian pyramid over space and time (docs/format.md §10.4): scale
//! `s` holds the samples at every `f`-th native sample (`f = 2^(levels-1-s)`
//! for scales coarsest first), and what a scale stores is its samples less
//! the multilinear upsampling of the coarser scales' reconstruction.

use rayon::prelude::*;

use super::volume::{linear, Volume};

/// The sample grid of one scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    /// Subsampling factor along every axis (time too).
    pub factor: usize,
    /// Samples along x, y, z and time: `ceil(native / factor)`.
    pub dims: [usize; 4],
}

impl Level {
    pub fn new(native: [usize; 4], factor: usize) -> Level {
        Level {
            factor,
            dims: native.map(|n| n.div_ceil(factor)),
        }
    }

    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The levels of `scales` scales on a native grid, coarsest first; a scale
/// whose grid would be no smaller than the next finer one's is left out
/// (a tiny axis stops halving at one sample).
pub fn levels(native: [usize; 4], scales: usize) -> Vec<Level> {
    let mut out: Vec<Level> = Vec::new();
    for s in (0..scales.max(1)).rev() {
        let level = Level::new(native, 1 << s);
        if out.last().is_some_and(|l| l.dims == level.dims) {
            out.pop();
        }
        out.push(level);
    }
    out
}

/// The volume's samples on `level`'s grid.
pub fn subsample(volume: &Volume, level: Level) -> Vec<f32> {
    let c = volume.channels;
    let f = level.factor;
    let mut out = vec![0f32; level.len() * c];
    out.par_chunks_mut(level.dims[0] * c)
        .enumerate()
        .for_each(|(row, dst)| {
            let (y, z, t) = unrow(row, level.dims);
            for x in 0..level.dims[0] {
                let i = volume.index([x * f, y * f, z * f, t * f]) * c;
                dst[x * c..(x + 1) * c].copy_from_slice(&volume.values[i..i + c]);
            }
        });
    out
}

/// `coarse` (samples on `from`, `c` channels) interpolated multilinearly at
/// the samples of the finer `to` (the same native grid), indices clamped.
pub fn upsample(coarse: &[f32], from: Level, to: Level, c: usize) -> Vec<f32> {
    let ratio = from.factor / to.factor;
    let axis = |a: usize| -> Vec<(usize, usize, f32)> {
        (0..to.dims[a])
            .map(|j| bracket(j, ratio, from.dims[a]))
            .collect()
    };
    let (ax, ay, az, at) = (axis(0), axis(1), axis(2), axis(3));
    let mut out = vec![0f32; to.len() * c];
    out.par_chunks_mut(to.dims[0] * c)
        .enumerate()
        .for_each(|(row, dst)| {
            let (y, z, t) = unrow(row, to.dims);
            let corners = corner_weights(&ay[y], &az[z], &at[t]);
            for (x, &(x0, x1, wx)) in ax.iter().enumerate() {
                let v = &mut dst[x * c..(x + 1) * c];
                for &(cy, cz, ct, w) in &corners {
                    for (xi, wxi) in [(x0, 1.0 - wx), (x1, wx)] {
                        let weight = w * wxi;
                        if weight == 0.0 {
                            continue;
                        }
                        let i = linear(from.dims, [xi, cy, cz, ct]) * c;
                        for k in 0..c {
                            v[k] += weight * coarse[i + k];
                        }
                    }
                }
            }
        });
    out
}

/// Fine sample `j` at `j / ratio` on a coarse axis of `n` samples: the two
/// samples around it and the weight of the upper one.
fn bracket(j: usize, ratio: usize, n: usize) -> (usize, usize, f32) {
    let lo = (j / ratio).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let w = if lo == j / ratio && hi > lo {
        (j % ratio) as f32 / ratio as f32
    } else {
        0.0
    };
    (lo, hi, w)
}

/// The 8 (y, z, t) corners and their weights.
fn corner_weights(
    y: &(usize, usize, f32),
    z: &(usize, usize, f32),
    t: &(usize, usize, f32),
) -> Vec<(usize, usize, usize, f32)> {
    let mut out = Vec::with_capacity(8);
    for (ty, wy) in [(y.0, 1.0 - y.2), (y.1, y.2)] {
        for (tz, wz) in [(z.0, 1.0 - z.2), (z.1, z.2)] {
            for (tt, wt) in [(t.0, 1.0 - t.2), (t.1, t.2)] {
                out.push((ty, tz, tt, wy * wz * wt));
            }
        }
    }
    out
}

/// Row `row` of an array of `dims` (rows along x) as (y, z, t).
fn unrow(row: usize, dims: [usize; 4]) -> (usize, usize, usize) {
    (
        row % dims[1],
        (row / dims[1]) % dims[2],
        row / (dims[1] * dims[2]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_halve_every_axis_and_stop_at_one_sample() {
        let l = levels([64, 64, 1, 20], 3);
        let dims: Vec<_> = l.iter().map(|l| (l.factor, l.dims)).collect();
        assert_eq!(
            dims,
            vec![
                (4, [16, 16, 1, 5]),
                (2, [32, 32, 1, 10]),
                (1, [64, 64, 1, 20])
            ]
        );
        // A 2-sample grid: factors 4 and 2 both give 1 sample; the coarser goes.
        let l = levels([2, 2, 1, 1], 3);
        assert_eq!(l.iter().map(|l| l.factor).collect::<Vec<_>>(), vec![2, 1]);
    }

    #[test]
    fn upsampling_is_linear_between_coarse_samples_and_clamped_beyond() {
        let from = Level::new([6, 1, 1, 1], 2); // samples at 0, 2, 4
        let to = Level::new([6, 1, 1, 1], 1);
        let up = upsample(&[0.0, 2.0, 10.0], from, to, 1);
        assert_eq!(up, vec![0.0, 1.0, 2.0, 6.0, 10.0, 10.0]);
    }

    #[test]
    fn upsampling_twice_equals_upsampling_by_four() {
        let native = [9, 5, 3, 6];
        let (l4, l2, l1) = (
            Level::new(native, 4),
            Level::new(native, 2),
            Level::new(native, 1),
        );
        let coarse: Vec<f32> = (0..l4.len() * 2).map(|i| (i * 7 % 11) as f32).collect();
        let twice = upsample(&upsample(&coarse, l4, l2, 2), l2, l1, 2);
        let once = upsample(&coarse, l4, l1, 2);
        for (a, b) in twice.iter().zip(&once) {
            assert!((a - b).abs() < 1e-4, "{a} {b}");
        }
    }
}
