//! A plain f64 evaluator of ECNR models written from docs/format.md,
//! section 10.4, against which the decoder is checked: per scale, the 16
//! samples around the continuous index, each the output of its block's MLP
//! on the sample's local coordinates and the block's latent code, with no
//! cache and nothing folded.

use inr_core::format::{Association, Domain, Metadata};
use inr_core::model::ecnr::{Ecnr, Scale, EMPTY};

/// Every output in physical units at `(x, y, z, t)` (`t` the effective
/// time), summing the coarsest `detail` scales (0: all). `axes` holds a
/// rectilinear domain's coordinates.
pub fn reference_ecnr(
    model: &Ecnr,
    meta: &Metadata,
    axes: Option<&[Vec<f64>; 3]>,
    coords: &[f64],
    detail: usize,
) -> Vec<f64> {
    let p = native_index(model, meta, axes, coords);
    let y = normalized_at(model, p, detail);
    let ranges = meta.variables.iter().flat_map(|v| v.range.clone());
    y.iter()
        .zip(ranges)
        .map(|(y, r)| r[0] + (y + 1.0) * 0.5 * (r[1] - r[0]))
        .collect()
}

/// The continuous native index of `(x, y, z, t)`.
pub fn native_index(
    model: &Ecnr,
    meta: &Metadata,
    axes: Option<&[Vec<f64>; 3]>,
    coords: &[f64],
) -> [f64; 4] {
    native_index_of(model.sites == Association::Cell, meta, axes, coords)
}

/// The continuous native index of `(x, y, z, t)` on the domain's points, or
/// its cell centers when `cells`.
pub fn native_index_of(
    cells: bool,
    meta: &Metadata,
    axes: Option<&[Vec<f64>; 3]>,
    coords: &[f64],
) -> [f64; 4] {
    let mut p = [0.0; 4];
    for a in 0..3 {
        let x = coords[a];
        p[a] = match &meta.domain {
            Domain::Image {
                dims,
                origin,
                spacing,
            } => {
                let samples = if cells { dims[a] - 1 } else { dims[a] };
                match samples > 1 {
                    true => (x - origin[a]) / spacing[a] - if cells { 0.5 } else { 0.0 },
                    false => 0.0,
                }
            }
            _ => {
                let c = &axes.expect("rectilinear coordinates")[a];
                let sites: Vec<f64> = match cells {
                    true => c.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect(),
                    false => c.clone(),
                };
                inverse(&sites, x)
            }
        };
    }
    if let Some(t) = &meta.time {
        p[3] = inverse(&t.values, coords[3]);
    }
    p
}

/// Piecewise-linear inverse of increasing `c`, extended beyond its ends.
fn inverse(c: &[f64], x: f64) -> f64 {
    if c.len() < 2 {
        return 0.0;
    }
    let mut k = 0;
    while k + 2 < c.len() && x > c[k + 1] {
        k += 1;
    }
    k as f64 + (x - c[k]) / (c[k + 1] - c[k])
}

/// The normalized outputs at continuous native index `p`: the sum over the
/// coarsest `detail` scales (0: all) of each one's multilinear
/// interpolation, clamped to its samples.
pub fn normalized_at(model: &Ecnr, p: [f64; 4], detail: usize) -> Vec<f64> {
    let k = match detail {
        0 => model.scales.len(),
        k => k.min(model.scales.len()),
    };
    let mut sum = vec![0.0; model.outputs];
    for scale in &model.scales[..k] {
        let mut lo = [0usize; 4];
        let mut hi = [0usize; 4];
        let mut frac = [0.0; 4];
        for a in 0..4 {
            let last = scale.dims[a] - 1;
            let x = (p[a] / scale.factor as f64).clamp(0.0, last as f64);
            lo[a] = x.floor() as usize;
            hi[a] = (lo[a] + 1).min(last);
            frac[a] = x - lo[a] as f64;
        }
        for corner in 0..16 {
            let mut j = [0usize; 4];
            let mut w = 1.0;
            for a in 0..4 {
                let upper = corner >> a & 1 == 1;
                j[a] = if upper { hi[a] } else { lo[a] };
                w *= if upper { frac[a] } else { 1.0 - frac[a] };
            }
            for (s, v) in sum.iter_mut().zip(sample(scale, j)) {
                *s += w * v;
            }
        }
    }
    sum
}

/// `R(j)`: the output of sample `j`'s block's MLP, 0 in an empty block.
pub fn sample(scale: &Scale, j: [usize; 4]) -> Vec<f64> {
    let b = scale.block;
    let nb: [usize; 3] = std::array::from_fn(|a| scale.dims[a].div_ceil(b[a]));
    let bi = [j[0] / b[0], j[1] / b[1], j[2] / b[2]];
    let index = bi[0] + nb[0] * (bi[1] + nb[1] * (bi[2] + nb[2] * j[3]));
    let q = scale.assignment[index];
    let outputs = scale.layers.last().unwrap().out_features;
    if q == EMPTY {
        return vec![0.0; outputs];
    }
    let first_of_sample = nb[0] * nb[1] * nb[2] * j[3];
    let r = scale.assignment[first_of_sample..index]
        .iter()
        .filter(|&&a| a != EMPTY)
        .count();
    let l = scale.latent_dim;
    let mut x: Vec<f64> = (0..3)
        .map(|a| {
            let local = j[a] % b[a];
            match b[a] {
                1 => 0.0,
                n => (-1.0 + 2.0 * local as f64 / (n - 1) as f64) as f32 as f64,
            }
        })
        .collect();
    x.extend(
        scale.latents[j[3]][r * l..(r + 1) * l]
            .iter()
            .map(|&z| z as f64),
    );
    for layer in &scale.layers {
        let (o, i) = (layer.out_features, layer.in_features);
        let q = q as usize;
        x = (0..o)
            .map(|row| {
                let w = &layer.weight[(q * o + row) * i..(q * o + row + 1) * i];
                let v: f64 = w.iter().zip(&x).map(|(&w, &x)| w as f64 * x).sum::<f64>()
                    + layer.bias[q * o + row] as f64;
                match layer.w0 {
                    Some(w0) => (w0 as f64 * v).sin(),
                    None => v,
                }
            })
            .collect();
    }
    x
}
