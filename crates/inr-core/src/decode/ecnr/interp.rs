//! Multilinear interpolation on one scale's samples: the (up to) 16 samples
//! around a continuous index, their weights and where their values lie
//! (block, offset in the block), the index clamped to the scale's samples
//! (docs/format.md, section 10.4, "Reconstruction").

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
    pub fn at(x: f64, n: usize) -> Corner {
        let last = (n - 1) as f64;
        let x = if x.is_nan() { 0.0 } else { x.clamp(0.0, last) };
        let i = x.floor();
        let frac = x - i;
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

/// A corner's samples located in their blocks along one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Located {
    pub corner: Corner,
    /// The block coordinate of each sample along the axis.
    pub block: [usize; 2],
    /// Its index within the block.
    pub local: [usize; 2],
    /// The block's samples along the axis (fewer at the far edge).
    pub extent: [usize; 2],
}

/// The samples around continuous native index `p` on `scale`, axis by axis
/// (x, y, z, then time, where each sample is a layer of blocks).
pub fn locate(p: [f64; 4], scale: &Scale) -> [Located; 4] {
    std::array::from_fn(|a| {
        let n = scale.dims[a];
        let corner = Corner::at(p[a] / scale.factor as f64, n);
        let b = if a < 3 { scale.block[a] } else { 1 };
        let block = corner.index.map(|i| i / b);
        Located {
            corner,
            block,
            local: corner.index.map(|i| i % b),
            extent: block.map(|k| b.min(n - k * b)),
        }
    })
}

/// Calls `f(block, offset, weight)` for every sample the located corners
/// span: the block's index on a scale of `blocks` blocks per axis and the
/// sample's offset in the block's values (x fastest).
pub fn for_each_sample(c: &[Located; 4], blocks: [usize; 3], mut f: impl FnMut(usize, usize, f64)) {
    for it in 0..c[3].corner.count {
        for iz in 0..c[2].corner.count {
            for iy in 0..c[1].corner.count {
                let w = c[3].corner.weight[it] * c[2].corner.weight[iz] * c[1].corner.weight[iy];
                let by = c[1].block[iy] + blocks[1] * (c[2].block[iz] + blocks[2] * c[3].block[it]);
                let ly = c[1].local[iy] + c[1].extent[iy] * c[2].local[iz];
                for ix in 0..c[0].corner.count {
                    let block = c[0].block[ix] + blocks[0] * by;
                    let offset = c[0].local[ix] + c[0].extent[ix] * ly;
                    f(block, offset, w * c[0].corner.weight[ix]);
                }
            }
        }
    }
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
    }
}
