//! The network at every native sample, as the decoder evaluates it
//! (docs/format.md §10.5, "Local coordinates"): each sample's one to eight
//! (head, weight, local coordinates) parts, grouped by head, the trunk
//! modulated by each variable's latent mean.

use tch::{Kind, Tensor};

use inr_core::error::Result;

use super::grid::Grid;
use super::net::StsrNet;
use crate::data::Samples;
use crate::tensor_values;

/// One head's evaluations: the site, the weight and local coordinates.
#[derive(Default)]
struct HeadEntries {
    sites: Vec<usize>,
    weights: Vec<f64>,
    coords: Vec<f32>,
}

/// Every native site's parts, grouped by head.
fn entries(grid: &Grid) -> Vec<HeadEntries> {
    let parts: Vec<Vec<_>> = (0..3)
        .map(|a| {
            let axis = grid.head_axis(a);
            (0..grid.native[a]).map(|i| axis.parts(i as f64)).collect()
        })
        .collect();
    let mut heads: Vec<HeadEntries> = (0..grid.head_count())
        .map(|_| HeadEntries::default())
        .collect();
    let n = grid.native;
    for z in 0..n[2] {
        for y in 0..n[1] {
            for x in 0..n[0] {
                let site = x + n[0] * (y + n[1] * z);
                let ((px, cx), (py, cy), (pz, cz)) = (&parts[0][x], &parts[1][y], &parts[2][z]);
                for a in &px[..*cx] {
                    for b in &py[..*cy] {
                        for c in &pz[..*cz] {
                            let h = a.head + grid.heads[0] * (b.head + grid.heads[1] * c.head);
                            let e = &mut heads[h];
                            e.sites.push(site);
                            e.weights.push(a.weight * b.weight * c.weight);
                            e.coords.extend([a.u as f32, b.u as f32, c.u as f32]);
                        }
                    }
                }
            }
        }
    }
    heads
}

/// Entries evaluated at once.
const CHUNK: usize = 1 << 15;

/// The network's scaled outputs at every native sample of every step,
/// per step laid out as the samples' part targets.
pub fn predict(net: &StsrNet, grid: &Grid, samples: &Samples) -> Result<Vec<Vec<f32>>> {
    let _guard = tch::no_grad_guard();
    let device = net.mu.device();
    let heads = entries(grid);
    let width = samples.outputs();
    let k = net.shape.outputs;
    let mut out = vec![vec![0f64; grid.native_len() * width]; grid.times.len()];
    for (v, var) in samples.variables.iter().enumerate() {
        let mods = net.modulations(&net.mu.get(v as i64).unsqueeze(0));
        for (h, e) in heads.iter().enumerate() {
            for start in (0..e.sites.len()).step_by(CHUNK) {
                let end = (start + CHUNK).min(e.sites.len());
                let coords = crate::matrix(&e.coords[3 * start..3 * end], end - start, 3, device)?;
                for (s, step) in out.iter_mut().enumerate() {
                    let x = with_time(&coords, grid, s, net.shape.inputs);
                    let y = tensor_values(&net.head(h, &net.features(&x, &mods, None)))?;
                    for (j, row) in y.chunks_exact(k).enumerate() {
                        let (site, w) = (e.sites[start + j], e.weights[start + j]);
                        let at = site * width + var.column;
                        for c in 0..var.components {
                            step[at + c] += w * row[c] as f64;
                        }
                    }
                }
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|s| s.into_iter().map(|y| y as f32).collect())
        .collect())
}

/// The local coordinates `[E, 3]`, with native step `s`'s normalized time
/// as a fourth column for a network of 4 inputs.
fn with_time(coords: &Tensor, grid: &Grid, s: usize, inputs: usize) -> Tensor {
    if inputs == 3 {
        return coords.shallow_clone();
    }
    let n = coords.size()[0];
    let t = Tensor::full(
        [n, 1],
        grid.time_input(s) as f64,
        (Kind::Float, coords.device()),
    );
    Tensor::cat(&[coords.shallow_clone(), t], 1)
}

/// Native site indices, for tests and the baseline: `(x, y, z)` of `site`.
pub fn site_index(native: [usize; 3], site: usize) -> [usize; 3] {
    [
        site % native[0],
        site / native[0] % native[1],
        site / (native[0] * native[1]),
    ]
}
