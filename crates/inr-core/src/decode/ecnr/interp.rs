//! Multilinear interpolation on one scale's samples, separably: the (up to)
//! 8 samples around a continuous index in (y, z, t), each located in its
//! layer of blocks, and the one or two samples along x; the index clamped to
//! the scale's samples (docs/format.md, section 10.4, "Reconstruction").
//!
//! Points of a grid come in rows along x that share `(p_y, p_z, p_t)`, so
//! the decoder interpolates each x sample of a row in (y, z, t) once
//! ([`Plane`]) and each point then only in x.

use crate::model::ecnr::Scale;

/// Along one axis: the one or two samples around a position, with weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Corner {
    pub index: [usize; 2],
    pub weight: [f64; 2],
    /// 1 where the position is on a sample (or clamped to the last), else 2.
    pub count: usize,
}

impl Corner {
    /// The samples around `x` on an axis of `n >= 1` samples, `x` clamped
    /// to `[0, n - 1]` (NaN to 0). A zero weight leaves its sample out, so
    /// that no block is evaluated for nothing.
    #[inline]
    pub fn at(x: f64, n: usize) -> Corner {
        Corner::below(x, n, (n - 1) as f64)
    }

    /// [`Corner::at`] with `last = n - 1` given.
    #[inline]
    pub fn below(x: f64, n: usize, last: f64) -> Corner {
        let x = if x.is_nan() { 0.0 } else { x.clamp(0.0, last) };
        // `x` is in [0, n - 1]: truncation is its floor (no libm call),
        // through i64 (one instruction each way, unlike u64).
        let i = x as i64;
        let frac = x - i as f64;
        let i = i as usize;
        if frac == 0.0 || i + 1 >= n {
            return Corner {
                index: [i.min(n - 1), 0],
                weight: [1.0, 0.0],
                count: 1,
            };
        }
        Corner {
            index: [i, i + 1],
            weight: [1.0 - frac, frac],
            count: 2,
        }
    }
}

/// One sample of a [`Plane`]: where its values lie, but for the x part.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlaneSample {
    /// The block's index is `bx + blocks[0] * block` for x block `bx`.
    pub block: usize,
    /// The sample's offset in the block is `lx + extent_x * local` for x
    /// index `lx` in a block of `extent_x` samples along x.
    pub local: usize,
    /// Its weight: the product of the y, z and t weights.
    pub weight: f64,
}

/// The (up to) 8 samples around `(p_y, p_z, p_t)` on one scale, time
/// outermost, then z, then y: every x sample's interpolation in (y, z, t).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Plane {
    pub samples: [PlaneSample; 8],
    pub len: usize,
}

impl Plane {
    /// The samples around continuous native index `p` (its y, z, t) on
    /// `scale`.
    pub fn locate(p: [f64; 4], scale: &Scale) -> Plane {
        let f = scale.factor as f64;
        let [y, z, t] = [1, 2, 3].map(|a| Corner::at(p[a] / f, scale.dims[a]));
        // Per axis, the corner's samples: block coordinate, index in the
        // block, the block's samples along the axis (fewer at the far edge)
        // and weight.
        let split = |c: &Corner, a: usize| {
            let (b, n) = (scale.block[a], scale.dims[a]);
            let at = |k: usize| {
                let i = c.index[k];
                (i / b, i % b, b.min(n - i / b * b), c.weight[k])
            };
            [at(0), at(1)].into_iter().take(c.count)
        };
        let blocks = scale.blocks;
        let mut plane = Plane::default();
        for (&jt, &wt) in t.index.iter().zip(&t.weight).take(t.count) {
            for (bz, lz, _, wz) in split(&z, 2) {
                for (by, ly, ey, wy) in split(&y, 1) {
                    plane.samples[plane.len] = PlaneSample {
                        block: by + blocks[1] * (bz + blocks[2] * jt),
                        local: ly + ey * lz,
                        weight: wt * wz * wy,
                    };
                    plane.len += 1;
                }
            }
        }
        plane
    }
}

/// X sample `jx` of a scale located in its blocks: `(block coordinate,
/// index in the block, the block's samples along x)`.
#[inline]
pub fn split_x(jx: usize, scale: &Scale) -> (usize, usize, usize) {
    let b = scale.block[0];
    let (bx, lx) = if b.is_power_of_two() {
        (jx >> b.trailing_zeros(), jx & (b - 1))
    } else {
        (jx / b, jx % b)
    };
    (bx, lx, b.min(scale.dims[0] - bx * b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_are_clamped_and_skip_zero_weights() {
        assert_eq!(Corner::at(1.25, 4).index, [1, 2]);
        assert_eq!(Corner::at(1.25, 4).weight, [0.75, 0.25]);
        assert_eq!(Corner::at(2.0, 4).count, 1);
        assert_eq!(Corner::at(-3.0, 4).index[0], 0);
        assert_eq!(Corner::at(7.5, 4).index[0], 3);
        assert_eq!(Corner::at(0.5, 1).index[0], 0);
        assert_eq!(Corner::at(f64::NAN, 3).index[0], 0);
        assert_eq!(Corner::at(f64::INFINITY, 3).index[0], 2);
        assert_eq!(Corner::at(f64::NEG_INFINITY, 3).index[0], 0);
        assert_eq!(Corner::at(2.999, 3).count, 1);
    }
}
