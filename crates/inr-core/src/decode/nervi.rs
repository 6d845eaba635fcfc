//! The NeRVI family in the decoder: one whole image per evaluation. The MLP
//! runs once on the encoded parameters; each convolution splits its output
//! channels among the threads (each computes its channels from the whole
//! input map), with progress scaled by the convolutions' work.

use std::any::Any;

use crate::decode::family::{Evaluator, Family, OutputRequest};
use crate::decode::parallel::{self, scaled_progress, DecodeOptions, Progress};
use crate::error::{Error, Result};
use crate::kernels::conv::{gelu, pixel_shuffle, Conv};
use crate::model::nervi::{ConvLayer, MlpLayer, Nervi};
use crate::model::Dense;

/// Fewest output channels of one convolution job: each job copies the
/// whole input into columns once, so small jobs would mostly copy.
const MIN_JOB_CHANNELS: usize = 8;

impl Family for Nervi {
    fn parameter_count(&self) -> u64 {
        Nervi::parameter_count(self)
    }

    fn describe(&self) -> String {
        let widths: Vec<String> = (self.mlp.iter())
            .map(|l| match l {
                MlpLayer::Sine { dense, .. } | MlpLayer::Residual { first: dense, .. } => {
                    dense.out_features.to_string()
                }
            })
            .collect();
        let factors: Vec<String> = self
            .upscale
            .iter()
            .map(|u| format!("x{}", u.factor))
            .collect();
        let [c, h, w] = self.reshape;
        format!(
            "{} inputs ({} encoded), mlp {}, map {c}x{h}x{w}, {} upscale blocks ({}), head {} -> {} channels",
            self.inputs,
            self.encoded_inputs(),
            widths.join("-"),
            self.upscale.len(),
            factors.join(" "),
            self.head.shape.cin,
            self.head.shape.cout
        )
    }

    fn prepare<'a>(&'a self, _: &OutputRequest) -> Result<Box<dyn Evaluator + 'a>> {
        Err(Error::Unsupported(
            "a nervi model decodes whole images for view parameters, not points or grids \
             (Decoder::decode_image, inr_decode_image, inr decode --params)"
                .into(),
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Nervi {
    /// The network's `[outputs, height, width]` channels (after the output
    /// activation, before the ranges) at physical inputs `c = (t, p_1 ..)`.
    pub fn eval(&self, c: &[f64], options: &DecodeOptions) -> Result<Vec<f32>> {
        let mut h = self.encode(c);
        for l in &self.mlp {
            h = mlp_layer(l, &h);
        }
        let [_, mut hh, mut ww] = self.reshape;
        let work = self.conv_work();
        let total: f64 = work.iter().sum::<f64>().max(1.0);
        let mut done = 0.0;
        let mut map = h;
        for (i, u) in self.upscale.iter().enumerate() {
            let p = scaled_progress(options.progress, done / total, work[i] / total);
            let conv = conv(&u.conv, &map, hh, ww, &with_progress(options, &p))?;
            done += work[i];
            let r = u.factor;
            map = vec![0.0; conv.len()];
            pixel_shuffle(&conv, u.conv.shape.cout / (r * r), hh, ww, r, &mut map);
            (hh, ww) = (hh * r, ww * r);
            gelu(&mut map);
        }
        let p = scaled_progress(options.progress, done / total, 1.0 - done / total);
        let mut out = conv(&self.head, &map, hh, ww, &with_progress(options, &p))?;
        if self.tanh {
            out.iter_mut().for_each(|v| *v = v.tanh());
        }
        Ok(out)
    }

    /// Normalized, then positionally encoded inputs: per input, `[x]`, then
    /// `sin(base^l π x)`, `cos(base^l π x)` for each level `l`.
    pub fn encode(&self, c: &[f64]) -> Vec<f32> {
        let x: Vec<f32> = (c.iter().enumerate())
            .map(|(i, &v)| (self.input_scale[i] * v + self.input_shift[i]) as f32)
            .collect();
        let Some(f) = self.encoding else {
            return x;
        };
        let mut out = Vec::with_capacity(self.encoded_inputs());
        for &v in &x {
            if f.include_input {
                out.push(v);
            }
            for l in 0..f.levels {
                let a = f.base.powi(l as i32) * std::f64::consts::PI * v as f64;
                out.extend([a.sin() as f32, a.cos() as f32]);
            }
        }
        out
    }

    /// Multiply-adds of each convolution (upscale blocks, then the head).
    fn conv_work(&self) -> Vec<f64> {
        let [_, mut h, mut w] = self.reshape;
        let mut work = Vec::new();
        for u in &self.upscale {
            work.push(conv_macs(u.conv.shape, h, w));
            (h, w) = (h * u.factor, w * u.factor);
        }
        work.push(conv_macs(self.head.shape, h, w));
        work
    }
}

fn conv_macs(c: Conv, h: usize, w: usize) -> f64 {
    (c.cout * c.cin * c.k * c.k) as f64 * (h * w) as f64
}

fn with_progress<'a>(options: &DecodeOptions<'a>, p: Progress<'a>) -> DecodeOptions<'a> {
    DecodeOptions {
        progress: options.progress.map(|_| p),
        ..*options
    }
}

/// `layer` applied to `input` (`[cin, h, w]`), its output channels shared
/// among the threads, or its rows when it has too few channels to share.
fn conv(
    layer: &ConvLayer,
    input: &[f32],
    h: usize,
    w: usize,
    options: &DecodeOptions,
) -> Result<Vec<f32>> {
    let threads = parallel::thread_count(options.threads);
    if layer.shape.cout >= 2 * MIN_JOB_CHANNELS * threads || h < 2 * threads {
        conv_by_channels(layer, input, h, w, threads, options)
    } else {
        conv_by_rows(layer, input, h, w, threads, options)
    }
}

fn conv_by_channels(
    layer: &ConvLayer,
    input: &[f32],
    h: usize,
    w: usize,
    threads: usize,
    options: &DecodeOptions,
) -> Result<Vec<f32>> {
    let Conv { cin, cout, k } = layer.shape;
    let mut out = vec![0.0f32; cout * h * w];
    let per_job = cout.div_ceil(4 * threads).max(MIN_JOB_CHANNELS).min(cout);
    let jobs: Vec<(usize, &mut [f32])> = out
        .chunks_mut(per_job * h * w)
        .enumerate()
        .map(|(j, o)| (j * per_job, o))
        .collect();
    parallel::run(
        jobs,
        options,
        || (),
        |_, (o0, dst)| {
            let n = dst.len() / (h * w);
            let part = Conv { cin, cout: n, k };
            let wlen = cin * k * k;
            part.apply(
                input,
                h,
                w,
                &layer.weight[o0 * wlen..(o0 + n) * wlen],
                &layer.bias[o0..o0 + n],
                dst,
            );
        },
    )?;
    Ok(out)
}

/// Each job computes a band of rows for every channel; the bands are then
/// placed into the channel-major map.
fn conv_by_rows(
    layer: &ConvLayer,
    input: &[f32],
    h: usize,
    w: usize,
    threads: usize,
    options: &DecodeOptions,
) -> Result<Vec<f32>> {
    let cout = layer.shape.cout;
    let per_job = h.div_ceil(4 * threads).max(1);
    let mut bands: Vec<(usize, Vec<f32>)> = (0..h)
        .step_by(per_job)
        .map(|y0| (y0, vec![0.0f32; cout * per_job.min(h - y0) * w]))
        .collect();
    let jobs: Vec<&mut (usize, Vec<f32>)> = bands.iter_mut().collect();
    parallel::run(
        jobs,
        options,
        || (),
        |_, (y0, dst)| {
            let rows = *y0..*y0 + dst.len() / (cout * w);
            layer
                .shape
                .apply_rows(input, h, w, &layer.weight, &layer.bias, rows, dst);
        },
    )?;
    let mut out = vec![0.0f32; cout * h * w];
    for (y0, band) in &bands {
        let n = band.len() / cout;
        for (o, part) in band.chunks_exact(n).enumerate() {
            out[o * h * w + y0 * w..][..n].copy_from_slice(part);
        }
    }
    Ok(out)
}

/// One MLP layer on one vector.
fn mlp_layer(l: &MlpLayer, h: &[f32]) -> Vec<f32> {
    match l {
        MlpLayer::Sine { w0, dense } => dense_apply(dense, h)
            .iter()
            .map(|v| (w0 * v).sin())
            .collect(),
        MlpLayer::Residual {
            w0,
            first,
            second,
            shortcut,
        } => {
            let g: Vec<f32> = dense_apply(first, h)
                .iter()
                .map(|v| (w0[0] * v).sin())
                .collect();
            let f = dense_apply(second, &g);
            let skip = shortcut
                .as_ref()
                .map_or_else(|| h.to_vec(), |s| dense_apply(s, h));
            (skip.iter().zip(&f))
                .map(|(s, v)| 0.5 * (s + (w0[1] * v).sin()))
                .collect()
        }
    }
}

/// `W x + b`.
fn dense_apply(d: &Dense, x: &[f32]) -> Vec<f32> {
    (d.weight.chunks_exact(d.in_features).zip(&d.bias))
        .map(|(row, b)| b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>())
        .collect()
}
