//! A plain f64 evaluator of NeRVI models written from docs/format.md,
//! section 10.6, against which the decoder is checked: the encoding, the
//! MLP, each convolution as its defining sum, the pixel shuffle by its index
//! formula, the exact GELU; nothing folded, nothing banded.

use inr_core::format::Metadata;
use inr_core::model::nervi::{ConvLayer, MlpLayer, Nervi};
use inr_core::model::Dense;

/// Variable `v` of the image at inputs `c = (t, p..)` (already clamped):
/// pixel after pixel, top row first, components interleaved, physical units.
pub fn reference_nervi(model: &Nervi, meta: &Metadata, c: &[f64], v: usize) -> Vec<f64> {
    let mut h = encode(model, c);
    for l in &model.mlp {
        h = mlp_layer(l, &h);
    }
    let [mut ch, mut hh, mut ww] = model.reshape;
    let mut map = h;
    for u in &model.upscale {
        let conv = convolve(&u.conv, &map, hh, ww);
        let r = u.factor;
        ch = u.conv.shape.cout / (r * r);
        let (oh, ow) = (hh * r, ww * r);
        let mut out = vec![0.0; ch * oh * ow];
        for c in 0..ch {
            for y in 0..oh {
                for x in 0..ow {
                    let src = (c * r * r + (y % r) * r + x % r) * hh * ww + (y / r) * ww + x / r;
                    out[(c * oh + y) * ow + x] = gelu(conv[src]);
                }
            }
        }
        (map, hh, ww) = (out, oh, ow);
    }
    debug_assert_eq!(ch, model.head.shape.cin);
    let out = convolve(&model.head, &map, hh, ww);
    let first: usize = meta.variables[..v]
        .iter()
        .map(|w| w.components as usize)
        .sum();
    let var = &meta.variables[v];
    let n = var.components as usize;
    let pixels = hh * ww;
    let mut values = vec![0.0; pixels * n];
    for (k, r) in var.range.iter().enumerate() {
        for p in 0..pixels {
            let y = out[(first + k) * pixels + p];
            let y = if model.tanh { y.tanh() } else { y };
            values[p * n + k] = r[0] + (y + 1.0) * 0.5 * (r[1] - r[0]);
        }
    }
    values
}

fn encode(m: &Nervi, c: &[f64]) -> Vec<f64> {
    let x: Vec<f64> = (0..c.len())
        .map(|i| m.input_scale[i] * c[i] + m.input_shift[i])
        .collect();
    let Some(f) = m.encoding else {
        return x;
    };
    let mut out = Vec::new();
    for v in x {
        if f.include_input {
            out.push(v);
        }
        for l in 0..f.levels {
            let a = f.base.powi(l as i32) * std::f64::consts::PI * v;
            out.extend([a.sin(), a.cos()]);
        }
    }
    out
}

fn mlp_layer(l: &MlpLayer, h: &[f64]) -> Vec<f64> {
    match l {
        MlpLayer::Sine { w0, dense } => affine(dense, h)
            .iter()
            .map(|v| (*w0 as f64 * v).sin())
            .collect(),
        MlpLayer::Residual {
            w0,
            first,
            second,
            shortcut,
        } => {
            let g: Vec<f64> = affine(first, h)
                .iter()
                .map(|v| (w0[0] as f64 * v).sin())
                .collect();
            let f = affine(second, &g);
            let skip = shortcut
                .as_ref()
                .map_or_else(|| h.to_vec(), |s| affine(s, h));
            skip.iter()
                .zip(&f)
                .map(|(s, v)| 0.5 * (s + (w0[1] as f64 * v).sin()))
                .collect()
        }
    }
}

fn affine(d: &Dense, x: &[f64]) -> Vec<f64> {
    (0..d.out_features)
        .map(|o| {
            d.bias[o] as f64
                + (0..d.in_features)
                    .map(|i| d.weight[o * d.in_features + i] as f64 * x[i])
                    .sum::<f64>()
        })
        .collect()
}

/// `out[o, y, x] = bias[o] + sum over c, i, j of weight[o, c, i, j] ×
/// in[c, y + i - k/2, x + j - k/2]`, zero outside.
fn convolve(l: &ConvLayer, input: &[f64], h: usize, w: usize) -> Vec<f64> {
    let (cin, cout, k) = (l.shape.cin, l.shape.cout, l.shape.k);
    let pad = (k / 2) as isize;
    let mut out = vec![0.0; cout * h * w];
    for o in 0..cout {
        for y in 0..h {
            for x in 0..w {
                let mut s = l.bias[o] as f64;
                for c in 0..cin {
                    for i in 0..k {
                        for j in 0..k {
                            let (yy, xx) =
                                (y as isize + i as isize - pad, x as isize + j as isize - pad);
                            if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                                s += l.weight[((o * cin + c) * k + i) * k + j] as f64
                                    * input[(c * h + yy as usize) * w + xx as usize];
                            }
                        }
                    }
                }
                out[(o * h + y) * w + x] = s;
            }
        }
    }
    out
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
}
