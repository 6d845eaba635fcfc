//! The head grid of an STSR-INR model (docs/format.md, section 10.5, "Local
//! coordinates"): which sub-volume's head evaluates a position, at which
//! local coordinates, and how neighbouring heads blend between their
//! sub-volumes.

/// One axis of the head grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeadAxis {
    /// Sub-volumes along the axis.
    pub heads: usize,
    /// Head-grid samples per sub-volume.
    pub per_head: u64,
    /// Native samples per head-grid sample.
    pub stride: u64,
}

/// One axis's share of an evaluation: the sub-volume, its weight and the
/// local coordinate there.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Part {
    pub head: usize,
    pub weight: f64,
    pub u: f64,
}

impl HeadAxis {
    /// The one or two parts at continuous native index `p`.
    pub fn parts(&self, p: f64) -> ([Part; 2], usize) {
        let g = self.per_head as f64;
        let s = p / self.stride as f64;
        // `as` saturates (NaN to 0), so hostile coordinates stay in range.
        let q = ((s / g).floor() as i64).clamp(0, self.heads as i64 - 1) as usize;
        let r = s - q as f64 * g;
        let u = |r: f64| {
            if self.per_head == 1 {
                0.0
            } else {
                -1.0 + 2.0 * r / (g - 1.0)
            }
        };
        if q + 1 < self.heads && r > g - 1.0 {
            let w = r - (g - 1.0);
            let first = Part {
                head: q,
                weight: 1.0 - w,
                u: u(r),
            };
            let second = Part {
                head: q + 1,
                weight: w,
                u: u(r - g),
            };
            ([first, second], 2)
        } else {
            let only = Part {
                head: q,
                weight: 1.0,
                u: u(r),
            };
            ([only, Part::default()], 1)
        }
    }
}

/// The three axes of the head grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeadGrid {
    pub axes: [HeadAxis; 3],
}

/// At most 8 evaluations of a position: one part per axis.
pub const MAX_COMBINATIONS: usize = 8;

impl HeadGrid {
    /// Number of heads.
    pub fn count(&self) -> usize {
        self.axes.iter().map(|a| a.heads).product()
    }

    /// Calls `f(head, weight, [u_x, u_y, u_z])` for every combination of one
    /// part per axis at continuous native index `p`.
    pub fn combinations(&self, p: [f64; 3], mut f: impl FnMut(usize, f64, [f64; 3])) {
        let [(x, nx), (y, ny), (z, nz)] = [0, 1, 2].map(|a| self.axes[a].parts(p[a]));
        let [hx, hy] = [self.axes[0].heads, self.axes[1].heads];
        for pz in &z[..nz] {
            for py in &y[..ny] {
                for px in &x[..nx] {
                    let head = px.head + hx * (py.head + hy * pz.head);
                    f(head, px.weight * py.weight * pz.weight, [px.u, py.u, pz.u]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(heads: usize, per_head: u64, stride: u64) -> HeadAxis {
        HeadAxis {
            heads,
            per_head,
            stride,
        }
    }

    #[test]
    fn samples_are_their_own_heads_at_the_ends_of_minus_one_to_one() {
        let a = axis(2, 5, 1);
        let (p, n) = a.parts(0.0);
        assert_eq!((n, p[0].head, p[0].u), (1, 0, -1.0));
        let (p, n) = a.parts(4.0);
        assert_eq!((n, p[0].head, p[0].u), (1, 0, 1.0));
        let (p, n) = a.parts(5.0);
        assert_eq!((n, p[0].head, p[0].u), (1, 1, -1.0));
        let (p, n) = a.parts(9.0);
        assert_eq!((n, p[0].head, p[0].u), (1, 1, 1.0));
    }

    #[test]
    fn between_sub_volumes_the_heads_blend() {
        let a = axis(2, 5, 1);
        let (p, n) = a.parts(4.25);
        assert_eq!(n, 2);
        assert_eq!((p[0].head, p[0].weight, p[0].u), (0, 0.75, 1.125));
        assert_eq!((p[1].head, p[1].weight, p[1].u), (1, 0.25, -1.375));
    }

    #[test]
    fn beyond_the_grid_the_edge_heads_extrapolate() {
        let a = axis(3, 2, 2);
        let (p, n) = a.parts(-1.0);
        assert_eq!((n, p[0].head, p[0].u), (1, 0, -2.0));
        // Native index 11 is head-grid index 5.5, past the last sample (5).
        let (p, n) = a.parts(11.0);
        assert_eq!((n, p[0].head, p[0].u), (1, 2, 2.0));
        let (p, n) = a.parts(f64::NAN);
        assert_eq!((n, p[0].head), (1, 0));
    }

    #[test]
    fn one_sample_per_head_blends_linearly() {
        let a = axis(4, 1, 1);
        let (p, n) = a.parts(1.5);
        assert_eq!(n, 2);
        assert_eq!((p[0].head, p[0].weight, p[0].u), (1, 0.5, 0.0));
        assert_eq!((p[1].head, p[1].weight, p[1].u), (2, 0.5, 0.0));
    }

    #[test]
    fn combinations_cover_the_weights() {
        let g = HeadGrid {
            axes: [axis(2, 4, 1), axis(2, 4, 1), axis(1, 8, 1)],
        };
        let mut total = 0.0;
        let mut heads = Vec::new();
        g.combinations([3.5, 3.25, 2.0], |h, w, _| {
            total += w;
            heads.push(h);
        });
        assert_eq!(heads, [0, 1, 2, 3]);
        assert!((total - 1.0).abs() < 1e-12);
    }
}
