//! The super-resolution baseline: trilinear interpolation in space and
//! linear interpolation in time of the training samples (the low
//! resolution data), and the PSNR of it and of the network at every
//! native sample and at the held-out ones.

use super::grid::Grid;
use super::predict::site_index;
use crate::data::Samples;
use crate::quality::psnr;

/// Where a native index falls between two training samples: `(i0, i1, w)`
/// with the value `(1 - w) v[i0] + w v[i1]`.
type Lerp = (usize, usize, f64);

/// Along one axis of `native` samples, trained every `stride`-th up to
/// `train` samples; beyond the last one the edge value is kept.
fn axis_lerps(native: usize, stride: usize, train: usize) -> Vec<Lerp> {
    (0..native)
        .map(|i| {
            let s = (i as f64 / stride as f64).min((train - 1) as f64);
            let i0 = (s.floor() as usize).min(train.saturating_sub(2));
            let i1 = (i0 + 1).min(train - 1);
            (
                i0 * stride,
                i1 * stride,
                if i1 > i0 { s - i0 as f64 } else { 0.0 },
            )
        })
        .collect()
}

/// Every native step's place between the trained steps (by time).
fn time_lerps(grid: &Grid) -> Vec<Lerp> {
    let t = |s: usize| grid.times[s];
    (0..grid.times.len())
        .map(|s| {
            let j = grid.steps.partition_point(|&k| t(k) <= t(s)).max(1) - 1;
            let Some(&next) = grid.steps.get(j + 1) else {
                return (grid.steps[j], grid.steps[j], 0.0);
            };
            let w = ((t(s) - t(grid.steps[j])) / (t(next) - t(grid.steps[j]))).clamp(0.0, 1.0);
            (grid.steps[j], next, w)
        })
        .collect()
}

/// The interpolation of the training samples at every native sample,
/// scaled, per step laid out as the samples' part targets.
pub fn interpolate(samples: &Samples, grid: &Grid) -> Vec<Vec<f32>> {
    let n = grid.native;
    let axes: Vec<Vec<Lerp>> = (0..3)
        .map(|a| axis_lerps(n[a], grid.stride[a], grid.train[a]))
        .collect();
    let width = samples.outputs();
    let at = |x: usize, y: usize, z: usize| (x + n[0] * (y + n[1] * z)) * width;
    time_lerps(grid)
        .into_iter()
        .map(|(s0, s1, wt)| {
            let mut out = vec![0f32; grid.native_len() * width];
            for (site, o) in out.chunks_exact_mut(width).enumerate() {
                let [x, y, z] = site_index(n, site);
                let (ax, ay, az) = (axes[0][x], axes[1][y], axes[2][z]);
                for (s, ws) in [(s0, 1.0 - wt), (s1, wt)] {
                    let v = &samples.parts[s].targets;
                    for (zi, wz) in [(az.0, 1.0 - az.2), (az.1, az.2)] {
                        for (yi, wy) in [(ay.0, 1.0 - ay.2), (ay.1, ay.2)] {
                            for (xi, wx) in [(ax.0, 1.0 - ax.2), (ax.1, ax.2)] {
                                let w = ws * wz * wy * wx;
                                if w != 0.0 {
                                    let src = &v[at(xi, yi, zi)..at(xi, yi, zi) + width];
                                    for (o, &t) in o.iter_mut().zip(src) {
                                        *o += (w * t as f64) as f32;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            out
        })
        .collect()
}

/// One variable's super-resolution PSNRs (dB, over its range).
#[derive(Clone, Debug, PartialEq)]
pub struct SuperRow {
    pub name: String,
    pub network_all: f64,
    pub network_held_out: f64,
    pub interpolation_all: f64,
    pub interpolation_held_out: f64,
}

/// What the network adds to interpolating the training samples.
#[derive(Clone, Debug, PartialEq)]
pub struct SuperResolution {
    /// Native samples (sites times steps), and those not trained on.
    pub samples: usize,
    pub held_out: usize,
    pub rows: Vec<SuperRow>,
}

/// Squared errors in the variable's units: all, held out.
#[derive(Clone, Copy, Default)]
struct Sums {
    all: f64,
    held: f64,
}

/// The PSNRs of `network` (scaled outputs as [`interpolate`] lays them out)
/// and of the interpolation, at every native sample and the held-out ones.
pub fn compare(samples: &Samples, grid: &Grid, network: &[Vec<f32>]) -> SuperResolution {
    let interp = interpolate(samples, grid);
    let nv = samples.variables.len();
    let (mut net, mut lin) = (vec![Sums::default(); nv], vec![Sums::default(); nv]);
    let width = samples.outputs();
    let mut held_out = 0;
    for (s, part) in samples.parts.iter().enumerate() {
        for site in 0..grid.native_len() {
            let held = !grid.is_trained(site_index(grid.native, site), s);
            held_out += held as usize;
            for (v, var) in samples.variables.iter().enumerate() {
                for c in 0..var.components {
                    let i = site * width + var.column + c;
                    let half = 0.5 * (var.range[c][1] - var.range[c][0]);
                    let truth = part.targets[i] as f64;
                    for (sums, y) in [(&mut net[v], network[s][i]), (&mut lin[v], interp[s][i])] {
                        let e = ((y as f64 - truth) * half).powi(2);
                        sums.all += e;
                        if held {
                            sums.held += e;
                        }
                    }
                }
            }
        }
    }
    let total = grid.native_len() * samples.parts.len();
    let rows = (samples.variables.iter().enumerate())
        .map(|(v, var)| {
            let span = var.span();
            let db = |sum: f64, n: usize| psnr(span, sum / (n * var.components).max(1) as f64);
            SuperRow {
                name: var.name.clone(),
                network_all: db(net[v].all, total),
                network_held_out: db(net[v].held, held_out),
                interpolation_all: db(lin[v].all, total),
                interpolation_held_out: db(lin[v].held, held_out),
            }
        })
        .collect();
    SuperResolution {
        samples: total,
        held_out,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_lerps_interpolate_between_trained_samples_and_hold_the_edge() {
        // 6 samples trained every 2nd: 0, 2, 4; sample 5 keeps sample 4's value.
        let l = axis_lerps(6, 2, 3);
        assert_eq!(l[0], (0, 2, 0.0));
        assert_eq!(l[1], (0, 2, 0.5));
        assert_eq!(l[4], (2, 4, 1.0));
        assert_eq!(l[5], (2, 4, 1.0));
        assert_eq!(axis_lerps(1, 1, 1), vec![(0, 0, 0.0)]);
    }
}
