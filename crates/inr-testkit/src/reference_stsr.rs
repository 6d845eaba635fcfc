//! A plain f64 evaluator of STSR-INR models written from docs/format.md,
//! section 10.5, against which the decoder is checked: per point, the head
//! parts along each axis, and for every combination the synthesis network
//! with the modulator's activations multiplied in after each stage, then
//! the head; nothing folded, nothing cached.

use inr_core::format::{Association, Metadata};
use inr_core::model::stsr::Stsr;
use inr_core::model::{Dense, Layer};

use crate::reference_ecnr::native_index_of;

/// Variable `v`'s components in physical units at `(x, y, z, t)` (`t` the
/// effective time), with its latent and range blended toward variable
/// `blend.0`'s by `blend.1` when given. `axes` holds a rectilinear domain's
/// coordinates.
pub fn reference_stsr(
    model: &Stsr,
    meta: &Metadata,
    axes: Option<&[Vec<f64>; 3]>,
    coords: &[f64],
    v: usize,
    blend: Option<(usize, f64)>,
) -> Vec<f64> {
    let cells = model.sites == Association::Cell;
    let p = native_index_of(cells, meta, axes, coords);
    let latent = |v: usize| -> Vec<f64> {
        let l = model.latent_dim;
        model.latents[v * l..(v + 1) * l]
            .iter()
            .map(|&x| x as f64)
            .collect()
    };
    let (z, ranges) = match blend {
        None => (latent(v), meta.variables[v].range.clone()),
        Some((w, a)) => {
            let mix = |x: f64, y: f64| (1.0 - a) * x + a * y;
            let z = latent(v)
                .iter()
                .zip(latent(w))
                .map(|(&x, y)| mix(x, y))
                .collect();
            let r = (meta.variables[v].range.iter())
                .zip(&meta.variables[w].range)
                .map(|(r, s)| [mix(r[0], s[0]), mix(r[1], s[1])])
                .collect();
            (z, r)
        }
    };
    let t_n = model.time.map(|(a, b)| (a * coords[3] + b) as f32 as f64);
    let parts: Vec<Vec<(usize, f64, f64)>> = (0..3).map(|a| axis_parts(model, a, p[a])).collect();
    let mut y = vec![0.0; model.outputs];
    for &(qz, wz, uz) in &parts[2] {
        for &(qy, wy, uy) in &parts[1] {
            for &(qx, wx, ux) in &parts[0] {
                let [hx, hy] = [model.grid.axes[0].heads, model.grid.axes[1].heads];
                let head = qx + hx * (qy + hy * qz);
                let mut input: Vec<f64> = [ux, uy, uz].iter().map(|&u| u as f32 as f64).collect();
                input.extend(t_n);
                let out = network(model, &input, &z, head);
                for (y, o) in y.iter_mut().zip(out) {
                    *y += wx * wy * wz * o;
                }
            }
        }
    }
    ranges
        .iter()
        .zip(&y)
        .map(|(r, y)| r[0] + (y + 1.0) * 0.5 * (r[1] - r[0]))
        .collect()
}

/// `(sub-volume, weight, local coordinate)` along axis `a` at continuous
/// native index `p`.
fn axis_parts(model: &Stsr, a: usize, p: f64) -> Vec<(usize, f64, f64)> {
    let axis = model.grid.axes[a];
    let (h, g) = (axis.heads as f64, axis.per_head as f64);
    let s = p / axis.stride as f64;
    let q = (s / g).floor().max(0.0).min(h - 1.0);
    let r = s - q * g;
    let u = |r: f64| {
        if g == 1.0 {
            0.0
        } else {
            -1.0 + 2.0 * r / (g - 1.0)
        }
    };
    if q < h - 1.0 && r > g - 1.0 {
        let w = r - (g - 1.0);
        vec![(q as usize, 1.0 - w, u(r)), (q as usize + 1, w, u(r - g))]
    } else {
        vec![(q as usize, 1.0, u(r))]
    }
}

/// The synthesis network modulated by latent `z`, then head `head`.
fn network(model: &Stsr, input: &[f64], z: &[f64], head: usize) -> Vec<f64> {
    let (mut syn, mut m) = (input.to_vec(), z.to_vec());
    for stage in &model.stages {
        syn = layer(&stage.synthesis, &syn);
        m = layer(&stage.modulator, &m);
        syn = syn.iter().zip(&m).map(|(a, b)| a * b).collect();
    }
    for l in &model.head_layers {
        let (w, b) = l.mlp(head);
        syn = (0..l.out_features)
            .map(|o| {
                let row = &w[o * l.in_features..(o + 1) * l.in_features];
                let s: f64 = row
                    .iter()
                    .zip(&syn)
                    .map(|(&w, x)| w as f64 * x)
                    .sum::<f64>()
                    + b[o] as f64;
                match l.w0 {
                    Some(w0) => (w0 as f64 * s).sin(),
                    None => s,
                }
            })
            .collect();
    }
    syn
}

/// A sine or residual sine layer.
fn layer(l: &Layer, x: &[f64]) -> Vec<f64> {
    let sine = |d: &Dense, w0: f32, x: &[f64]| -> Vec<f64> {
        (0..d.out_features)
            .map(|o| {
                let row = &d.weight[o * d.in_features..(o + 1) * d.in_features];
                let s: f64 = row.iter().zip(x).map(|(&w, x)| w as f64 * x).sum::<f64>();
                (w0 as f64 * (s + d.bias[o] as f64)).sin()
            })
            .collect()
    };
    match l {
        Layer::Sine { w0, dense } => sine(dense, *w0, x),
        Layer::ResidualSine { w0, first, second } => {
            let g = sine(first, w0[0], x);
            let f = sine(second, w0[1], &g);
            x.iter().zip(f).map(|(a, b)| 0.5 * (a + b)).collect()
        }
        Layer::Linear { .. } => panic!("a linear layer in a stage"),
    }
}
