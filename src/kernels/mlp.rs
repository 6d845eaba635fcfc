//! The fused evaluator of residual SIREN networks on tiles of points.
//!
//! A tile of `TILE` points flows through all layers while its activations
//! (3 buffers of `TILE x width` floats, 384 KiB at width 64) stay in the
//! core's L2 cache: each layer is one GEMM into the scratch buffer followed by
//! one fused pass (bias + sine, or bias + sine + residual average). Nothing of
//! size "all points x width" ever exists, so memory traffic is the inputs and
//! the outputs only.
//!
//! A [`Plan`] is the network prepared for one request: `w0` folded into the
//! weights (`sin(w0 (W x + b)) = sin((w0 W) x + w0 b)`), and the head cut down
//! to the requested outputs with the de-normalization to physical units folded
//! into its rows.

use crate::kernels::gemm::matmul_wx;
use crate::kernels::sine::{add_bias, bias_sin, bias_sin_residual};
use crate::model::{Dense, Layer, ResidualSiren};

/// Points per tile. 512 x 64 floats = 128 KiB per buffer: the three buffers
/// and the weights fit a core's L2 (2 MiB here, 1 MiB on many laptops), and
/// the GEMM's panels are long enough to amortize packing the weights (measured:
/// 512 and 1024 tie, 128 and 256 are 3-8 % slower; docs/benchmarks.md).
pub const TILE: usize = 512;

/// One output of a plan: network output `index`, mapped to physical units by
/// `value = scale * y + offset`.
#[derive(Clone, Copy, Debug)]
pub struct OutputMap {
    pub index: usize,
    pub scale: f64,
    pub offset: f64,
}

enum Step {
    Sine(Dense),
    Residual(Dense, Dense),
    Linear(Dense),
}

/// A network ready to evaluate.
pub struct Plan {
    inputs: usize,
    steps: Vec<Step>,
    width: usize,
    outputs: usize,
}

/// Per-thread scratch space.
pub struct Scratch {
    x: Vec<f32>,
    h: Vec<f32>,
    g: Vec<f32>,
}

impl Plan {
    /// Prepares `model` to produce the outputs in `outputs`, in that order.
    pub fn new(model: &ResidualSiren, outputs: &[OutputMap]) -> Plan {
        let scaled = |d: &Dense, w0: f32| Dense {
            weight: d.weight.iter().map(|w| w * w0).collect(),
            bias: d.bias.iter().map(|b| b * w0).collect(),
            ..d.clone()
        };
        let steps: Vec<Step> = model
            .layers
            .iter()
            .map(|l| match l {
                Layer::Sine { w0, dense } => Step::Sine(scaled(dense, *w0)),
                Layer::ResidualSine { w0, first, second } => {
                    Step::Residual(scaled(first, w0[0]), scaled(second, w0[1]))
                }
                Layer::Linear { dense } => Step::Linear(select_rows(dense, outputs)),
            })
            .collect();
        let width = model
            .layers
            .iter()
            .map(|l| l.features().0.max(l.features().1))
            .max()
            .unwrap_or(1)
            .max(outputs.len());
        Plan {
            inputs: model.inputs,
            steps,
            width,
            outputs: outputs.len(),
        }
    }

    /// Inputs per point.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Outputs per point.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Floating-point operations per point of the GEMMs (2 per multiply-add).
    pub fn flops_per_point(&self) -> u64 {
        let d = |d: &Dense| 2 * (d.in_features * d.out_features) as u64;
        self.steps
            .iter()
            .map(|s| match s {
                Step::Sine(a) | Step::Linear(a) => d(a),
                Step::Residual(a, b) => d(a) + d(b),
            })
            .sum()
    }

    /// Scratch space for tiles of up to [`TILE`] points.
    pub fn scratch(&self) -> Scratch {
        let n = TILE * self.width;
        Scratch {
            x: vec![0.0; n],
            h: vec![0.0; n],
            g: vec![0.0; n],
        }
    }

    /// Evaluates `n <= TILE` points: `input` holds `n x inputs` normalized
    /// coordinates, `out` receives `n x outputs` values in physical units
    /// (both point-major).
    ///
    /// Inside, activations are feature-major (`features x n`): each layer is
    /// `H = W X`, whose right-hand side the GEMM packs by copying contiguous
    /// rows, where the point-major `X W^T` made it gather a transpose (that
    /// packing was a fifth of the decode time).
    pub fn eval_tile(&self, n: usize, input: &[f32], out: &mut [f32], s: &mut Scratch) {
        assert!(n <= TILE && input.len() >= n * self.inputs && out.len() >= n * self.outputs);
        let mut width = self.inputs;
        transpose(&input[..n * width], n, width, &mut s.x[..n * width]);
        for step in &self.steps {
            match step {
                Step::Sine(d) => {
                    let h = &mut s.h[..n * d.out_features];
                    matmul_wx(d.out_features, width, n, &d.weight, &s.x, h);
                    bias_sin(h, &d.bias);
                    std::mem::swap(&mut s.x, &mut s.h);
                    width = d.out_features;
                }
                Step::Residual(a, b) => {
                    let h = &mut s.h[..n * width];
                    matmul_wx(width, width, n, &a.weight, &s.x, h);
                    bias_sin(h, &a.bias);
                    let g = &mut s.g[..n * width];
                    matmul_wx(width, width, n, &b.weight, &s.h, g);
                    bias_sin_residual(&mut s.x[..n * width], g, &b.bias);
                }
                Step::Linear(d) => {
                    let o = &mut s.h[..n * d.out_features];
                    matmul_wx(d.out_features, width, n, &d.weight, &s.x, o);
                    add_bias(o, &d.bias);
                    transpose(o, d.out_features, n, &mut out[..n * d.out_features]);
                }
            }
        }
    }
}

/// `dst[c x r] = src[r x c]^T`, both row-major.
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    for r in 0..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

/// The head's rows for the requested outputs, scaled to physical units:
/// `scale * (w . x + b) + offset = (scale w) . x + (scale b + offset)`.
fn select_rows(d: &Dense, outputs: &[OutputMap]) -> Dense {
    let mut weight = Vec::with_capacity(outputs.len() * d.in_features);
    let mut bias = Vec::with_capacity(outputs.len());
    for o in outputs {
        let row = &d.weight[o.index * d.in_features..(o.index + 1) * d.in_features];
        weight.extend(row.iter().map(|&w| (w as f64 * o.scale) as f32));
        bias.push((d.bias[o.index] as f64 * o.scale + o.offset) as f32);
    }
    Dense {
        out_features: outputs.len(),
        in_features: d.in_features,
        weight,
        bias,
    }
}
