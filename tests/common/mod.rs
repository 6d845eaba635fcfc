//! Shared test support: a plain, obviously correct f64 evaluator of residual
//! SIRENs, written from the definition in docs/format.md, against which the
//! fast decoder is checked.
#![allow(dead_code)]

use inr::format::Metadata;
use inr::model::{Dense, Layer, ResidualSiren};

fn affine(d: &Dense, x: &[f64]) -> Vec<f64> {
    (0..d.out_features)
        .map(|o| {
            let row = &d.weight[o * d.in_features..(o + 1) * d.in_features];
            row.iter().zip(x).map(|(&w, &v)| w as f64 * v).sum::<f64>() + d.bias[o] as f64
        })
        .collect()
}

/// All network outputs, in physical units, at (x, y, z[, t]).
pub fn reference_eval(model: &ResidualSiren, meta: &Metadata, coords: &[f64]) -> Vec<f64> {
    let mut x: Vec<f64> = (0..model.inputs)
        .map(|i| model.input_scale[i] * coords[i] + model.input_shift[i])
        .collect();
    for layer in &model.layers {
        x = match layer {
            Layer::Sine { w0, dense } => affine(dense, &x)
                .iter()
                .map(|v| (*w0 as f64 * v).sin())
                .collect(),
            Layer::ResidualSine { w0, first, second } => {
                let h: Vec<f64> = affine(first, &x)
                    .iter()
                    .map(|v| (w0[0] as f64 * v).sin())
                    .collect();
                let g: Vec<f64> = affine(second, &h)
                    .iter()
                    .map(|v| (w0[1] as f64 * v).sin())
                    .collect();
                x.iter().zip(&g).map(|(a, b)| 0.5 * (a + b)).collect()
            }
            Layer::Linear { dense } => affine(dense, &x),
        };
    }
    let ranges: Vec<[f64; 2]> = meta
        .variables
        .iter()
        .flat_map(|v| v.range.clone())
        .collect();
    x.iter()
        .zip(&ranges)
        .map(|(y, r)| r[0] + (y + 1.0) * 0.5 * (r[1] - r[0]))
        .collect()
}

pub mod meshes;
