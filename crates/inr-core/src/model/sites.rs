//! Where the samples of a grid model (ECNR, STSR-INR) lie: the native
//! sample grid (the domain's points or cell centers, and its time steps)
//! and the continuous native index of any position and time
//! (docs/format.md, section 10.4, "Continuous native index").

use crate::error::{Error, Result};
use crate::format::metadata::{Association, Domain, Metadata};

/// How a coordinate along one spatial axis maps to a continuous sample index.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisMap {
    /// One sample: every coordinate is index 0.
    Single,
    /// Evenly spaced samples: `(x - origin) / spacing - shift` (`shift` is
    /// 0.5 for cell centers of an image grid).
    Uniform {
        origin: f64,
        spacing: f64,
        shift: f64,
    },
    /// Samples at these increasing coordinates: the piecewise-linear inverse,
    /// extended linearly beyond the ends.
    Coords(Vec<f64>),
}

/// The native sample grid of a model and the map from positions to it.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleAxes {
    pub space: [AxisMap; 3],
    /// The time axis's values (empty without one).
    pub times: Vec<f64>,
}

/// Native samples `(N_x, N_y, N_z, N_t)` of `sites` on the file's domain:
/// points or cells per axis, and time steps. Only grids have them.
pub fn native_samples(meta: &Metadata, sites: Association) -> Result<[u64; 4]> {
    let dims = match &meta.domain {
        Domain::Image { dims, .. } | Domain::Rectilinear { dims, .. } => *dims,
        d => {
            return Err(Error::Invalid(format!(
                "a sample-grid model on a domain of kind {} (image or rectilinear expected)",
                d.kind_name()
            )))
        }
    };
    let n = |d: u64| match sites {
        Association::Point => d,
        Association::Cell => d.saturating_sub(1).max(1),
    };
    Ok([n(dims[0]), n(dims[1]), n(dims[2]), meta.time_steps() as u64])
}

impl SampleAxes {
    /// The sample grid of `sites` on the file's domain; `rectilinear` holds a
    /// rectilinear domain's coordinates.
    pub fn new(
        meta: &Metadata,
        sites: Association,
        rectilinear: Option<[Vec<f64>; 3]>,
    ) -> Result<SampleAxes> {
        let cells = sites == Association::Cell;
        let space = match (&meta.domain, rectilinear) {
            (
                Domain::Image {
                    dims,
                    origin,
                    spacing,
                },
                _,
            ) => std::array::from_fn(|a| {
                let samples = if cells {
                    dims[a].saturating_sub(1)
                } else {
                    dims[a]
                };
                if samples <= 1 {
                    return AxisMap::Single;
                }
                AxisMap::Uniform {
                    origin: origin[a],
                    spacing: spacing[a],
                    shift: if cells { 0.5 } else { 0.0 },
                }
            }),
            (Domain::Rectilinear { .. }, Some(axes)) => axes.map(|c| {
                let c = if cells {
                    c.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
                } else {
                    c
                };
                if c.len() <= 1 {
                    AxisMap::Single
                } else {
                    AxisMap::Coords(c)
                }
            }),
            (d, _) => {
                return Err(Error::Invalid(format!(
                    "a sample-grid model on a domain of kind {} without its coordinates",
                    d.kind_name()
                )))
            }
        };
        let times = meta.time.as_ref().map_or(Vec::new(), |t| t.values.clone());
        Ok(SampleAxes { space, times })
    }

    /// The continuous native index `(p_x, p_y, p_z, p_t)` of position `xyz`
    /// at (effective) time `t`.
    pub fn index(&self, xyz: [f64; 3], t: f64) -> [f64; 4] {
        let [x, y, z] = [0, 1, 2].map(|a| self.space[a].index(xyz[a]));
        [x, y, z, piecewise_inverse(&self.times, t)]
    }
}

impl AxisMap {
    /// The continuous sample index of coordinate `x`.
    pub fn index(&self, x: f64) -> f64 {
        match self {
            AxisMap::Single => 0.0,
            AxisMap::Uniform {
                origin,
                spacing,
                shift,
            } => (x - origin) / spacing - shift,
            AxisMap::Coords(c) => piecewise_inverse(c, x),
        }
    }
}

/// `k + (x - c_k) / (c_(k+1) - c_k)` for `x` in `[c_k, c_(k+1)]` of the
/// increasing `c`, the first and last intervals extended; 0 for fewer than
/// two values.
fn piecewise_inverse(c: &[f64], x: f64) -> f64 {
    if c.len() < 2 {
        return 0.0;
    }
    let k = c.partition_point(|&v| v <= x).clamp(1, c.len() - 1) - 1;
    k as f64 + (x - c[k]) / (c[k + 1] - c[k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_is_piecewise_linear_and_extended() {
        let c = [0.0, 1.0, 3.0, 7.0];
        assert_eq!(piecewise_inverse(&c, 0.0), 0.0);
        assert_eq!(piecewise_inverse(&c, 2.0), 1.5);
        assert_eq!(piecewise_inverse(&c, 7.0), 3.0);
        assert_eq!(piecewise_inverse(&c, -1.0), -1.0);
        assert_eq!(piecewise_inverse(&c, 9.0), 3.5);
        assert_eq!(piecewise_inverse(&[5.0], 9.0), 0.0);
        let cells = AxisMap::Uniform {
            origin: 1.0,
            spacing: 0.5,
            shift: 0.5,
        };
        assert_eq!(cells.index(1.25), 0.0);
        assert_eq!(cells.index(2.25), 2.0);
    }
}
