//! Sampling grids: which coordinates a grid decode evaluates.
//!
//! A grid is given by its point counts per axis over the domain's bounding
//! box. At the domain's native dims the stored coordinates are used exactly
//! (image: `origin + i * spacing`; rectilinear: the stored axes); at any other
//! dims the points are spread uniformly from the low to the high bound. Each
//! coordinate is a function of its global index only, so a sub-extent decodes
//! to the same bits as the same region of the whole grid.

use crate::error::{Error, Result};
use crate::format::metadata::validate_dims;

/// Per-axis coordinates of a sampling grid.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingGrid {
    /// Point coordinates along x, y, z.
    pub axes: [Vec<f64>; 3],
    /// Origin and spacing when the grid is uniform (always, except a
    /// rectilinear domain at native dims).
    pub uniform: Option<([f64; 3], [f64; 3])>,
}

/// A VTK-style inclusive point extent `[x0, x1, y0, y1, z0, z1]`.
pub type Extent = [usize; 6];

impl SamplingGrid {
    /// A uniform grid of `dims` points from `origin` with `spacing`.
    pub fn uniform(dims: [usize; 3], origin: [f64; 3], spacing: [f64; 3]) -> Result<SamplingGrid> {
        // The caller chose these dims: a bad value is a bad argument, not a bad file.
        validate_dims(dims.map(|d| d as u64)).map_err(|e| match e {
            Error::Invalid(m) | Error::LimitExceeded(m) => Error::InvalidArgument(m),
            e => e,
        })?;
        let axes = std::array::from_fn(|a| {
            (0..dims[a])
                .map(|i| origin[a] + i as f64 * spacing[a])
                .collect()
        });
        Ok(SamplingGrid {
            axes,
            uniform: Some((origin, spacing)),
        })
    }

    /// `dims` points spread over `[lo, hi]` per axis (one point sits at `lo`).
    pub fn over_bounds(dims: [usize; 3], lo: [f64; 3], hi: [f64; 3]) -> Result<SamplingGrid> {
        let spacing = std::array::from_fn(|a| {
            if dims[a] > 1 {
                (hi[a] - lo[a]) / (dims[a] - 1) as f64
            } else {
                1.0
            }
        });
        Self::uniform(dims, lo, spacing)
    }

    /// Points per axis.
    pub fn dims(&self) -> [usize; 3] {
        [self.axes[0].len(), self.axes[1].len(), self.axes[2].len()]
    }

    /// The whole point extent.
    pub fn whole_extent(&self) -> Extent {
        let d = self.dims();
        [0, d[0] - 1, 0, d[1] - 1, 0, d[2] - 1]
    }

    /// Checks that `e` is a non-empty extent inside the grid.
    pub fn check_extent(&self, e: &Extent) -> Result<()> {
        let d = self.dims();
        for a in 0..3 {
            if e[2 * a] > e[2 * a + 1] || e[2 * a + 1] >= d[a] {
                return Err(Error::InvalidArgument(format!(
                    "extent {e:?} is not inside grid of dims {d:?}"
                )));
            }
        }
        Ok(())
    }

    /// The coordinates of cell centers along each axis (an axis with one point
    /// has one cell, centered on it, as VTK counts cells of flat images).
    pub fn cell_centers(&self) -> SamplingGrid {
        let axes = self.axes.clone().map(|c| {
            if c.len() == 1 {
                c
            } else {
                c.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
            }
        });
        SamplingGrid {
            axes,
            uniform: None,
        }
    }
}

/// Points in an extent.
pub fn extent_len(e: &Extent) -> usize {
    (e[1] - e[0] + 1) * (e[3] - e[2] + 1) * (e[5] - e[4] + 1)
}

/// The cell extent between the points of a point extent, or `None` when the
/// extent is one point thick along an axis that has cells (a piece that owns
/// no cells). An axis with a single point keeps its one cell.
pub fn cell_extent(e: &Extent, dims: [usize; 3]) -> Option<Extent> {
    let mut c = *e;
    for a in 0..3 {
        if dims[a] > 1 {
            if e[2 * a + 1] == e[2 * a] {
                return None;
            }
            c[2 * a + 1] = e[2 * a + 1] - 1;
        }
    }
    Some(c)
}
