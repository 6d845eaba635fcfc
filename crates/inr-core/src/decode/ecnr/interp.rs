//! Multilinear interpolation on one scale's samples: the (up to) 16 samples
//! around a continuous index and their weights, the index clamped to the
//! scale's samples (docs/format.md, section 10.4, "Reconstruction").

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

/// The corners of continuous index `p` (native samples) on a scale of
/// `factor` and `dims` samples, axis by axis.
pub fn corners(p: [f64; 4], factor: u64, dims: [usize; 4]) -> [Corner; 4] {
    std::array::from_fn(|a| Corner::at(p[a] / factor as f64, dims[a]))
}

/// Calls `f(sample, weight)` for every sample the corners span.
pub fn for_each_sample(c: &[Corner; 4], mut f: impl FnMut([usize; 4], f64)) {
    for it in 0..c[3].count {
        for iz in 0..c[2].count {
            for iy in 0..c[1].count {
                let w = c[3].weight[it] * c[2].weight[iz] * c[1].weight[iy];
                for ix in 0..c[0].count {
                    let j = [
                        c[0].index[ix],
                        c[1].index[iy],
                        c[2].index[iz],
                        c[3].index[it],
                    ];
                    f(j, w * c[0].weight[ix]);
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
        let c = corners([1.5, 0.0, 0.0, 0.25], 1, [3, 1, 1, 2]);
        let mut total = 0.0;
        let mut n = 0;
        for_each_sample(&c, |_, w| {
            total += w;
            n += 1;
        });
        assert_eq!((n, total), (4, 1.0));
    }
}
