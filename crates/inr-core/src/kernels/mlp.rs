//! The fused evaluator of residual SIREN networks on tiles of points.
//!
//! A tile of `TILE` points flows through all layers while its activations
//! (3 buffers of `TILE x width` floats, 384 KiB at width 64) stay in the
//! core's L2 cache: each layer is one GEMM into the scratch buffer followed by
//! one fused pass (bias + sine, or bias + sine + residual average). Nothing of
//! size "all points x width" ever exists, so memory traffic is the inputs and
//! the outputs only.
//!
//! A [`Plan`] is a trunk of sine and residual sine steps shared by all
//! outputs, then one head per group of outputs (its own steps on a copy of
//! the trunk's features, then a linear layer). It knows no model family:
//! the decoder builds plans from the families' layers (`decode::plan`).

use crate::kernels::gemm::matmul_wx;
use crate::kernels::sine::{add_bias, bias_sin, bias_sin_residual};

/// Points per tile. 512 x 64 floats = 128 KiB per buffer: the three buffers
/// and the weights fit a core's L2 (2 MiB here, 1 MiB on many laptops), and
/// the GEMM's panels are long enough to amortize packing the weights (the
/// sizes measured in docs/benchmarks.md).
pub const TILE: usize = 512;

/// A layer's weights (`out_features x in_features`, row-major) and bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub out_features: usize,
    pub in_features: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// One step of a plan, its sine frequency already folded into the weights
/// (`sin(w0 (W x + b)) = sin((w0 W) x + w0 b)`).
#[derive(Clone, Debug)]
pub enum Step {
    /// `x <- sin(W x + b)`.
    Sine(Matrix),
    /// `x <- 0.5 (x + sin(W2 sin(W1 x + b1) + b2))`.
    Residual(Matrix, Matrix),
    /// `x <- x * m` per feature (STSR-INR's modulation).
    Modulate(Vec<f32>),
}

/// One group of outputs: its own steps after the trunk (none for a residual
/// SIREN; a variable's branch for a branched network), then a linear layer
/// whose rows are the group's outputs.
#[derive(Clone, Debug)]
pub struct Head {
    pub steps: Vec<Step>,
    pub linear: Matrix,
}

/// A head placed in the plan's outputs.
struct PlacedHead {
    steps: Vec<Step>,
    linear: Matrix,
    /// Column of the head's first output in the plan's outputs.
    first: usize,
}

/// A network ready to evaluate: a trunk of sine and residual layers shared
/// by every output, then one or more heads.
pub struct Plan {
    inputs: usize,
    trunk: Vec<Step>,
    heads: Vec<PlacedHead>,
    width: usize,
    outputs: usize,
}

/// Per-thread scratch space.
pub struct Scratch {
    x: Vec<f32>,
    h: Vec<f32>,
    g: Vec<f32>,
    /// A head's own activations (the trunk's stay in `x` for the next head).
    y: Vec<f32>,
}

impl Scratch {
    /// Scratch space for tiles of up to [`TILE`] points of any plan no wider
    /// than `width` (inputs, features and outputs alike).
    pub fn for_width(width: usize) -> Scratch {
        let n = TILE * width.max(1);
        Scratch {
            x: vec![0.0; n],
            h: vec![0.0; n],
            g: vec![0.0; n],
            y: vec![0.0; n],
        }
    }
}

impl Plan {
    /// A plan of `inputs` inputs, the `trunk` steps, then the `heads`, whose
    /// outputs follow each other in order.
    pub fn new(inputs: usize, trunk: Vec<Step>, heads: Vec<Head>) -> Plan {
        let mut width = inputs.max(widest(&trunk));
        let mut first = 0;
        let heads: Vec<PlacedHead> = heads
            .into_iter()
            .map(|h| {
                let placed = PlacedHead {
                    first,
                    ..PlacedHead::from(h)
                };
                width = width
                    .max(widest(&placed.steps))
                    .max(placed.linear.in_features);
                first += placed.linear.out_features;
                placed
            })
            .collect();
        Plan {
            inputs,
            trunk,
            heads: merge_linear_heads(heads),
            width: width.max(first),
            outputs: first,
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
        let d = |d: &Matrix| 2 * (d.in_features * d.out_features) as u64;
        let steps = |s: &[Step]| -> u64 {
            s.iter()
                .map(|s| match s {
                    Step::Sine(a) => d(a),
                    Step::Residual(a, b) => d(a) + d(b),
                    Step::Modulate(_) => 0,
                })
                .sum()
        };
        steps(&self.trunk)
            + self
                .heads
                .iter()
                .map(|h| steps(&h.steps) + d(&h.linear))
                .sum::<u64>()
    }

    /// Scratch space for tiles of up to [`TILE`] points of any of `plans`
    /// (the networks of a clustered model: one buffer set per thread).
    pub fn shared_scratch<'a>(plans: impl Iterator<Item = &'a Plan>) -> Scratch {
        Scratch::for_width(plans.map(|p| p.width).max().unwrap_or(1))
    }

    /// Scratch space for tiles of up to [`TILE`] points.
    pub fn scratch(&self) -> Scratch {
        let n = TILE * self.width;
        let branched = self.heads.iter().any(|h| !h.steps.is_empty());
        Scratch {
            x: vec![0.0; n],
            h: vec![0.0; n],
            g: vec![0.0; n],
            y: if branched { vec![0.0; n] } else { Vec::new() },
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
        self.eval_tile_with_bias(n, input, out, s, None);
    }

    /// [`Plan::eval_tile`] with the first trunk step's bias replaced by
    /// `first_bias` (`w0` folded in) when given: the per-block bias of an
    /// ECNR MLP, whose latent code is folded into it.
    pub fn eval_tile_with_bias(
        &self,
        n: usize,
        input: &[f32],
        out: &mut [f32],
        s: &mut Scratch,
        first_bias: Option<&[f32]>,
    ) {
        assert!(n <= TILE && input.len() >= n * self.inputs && out.len() >= n * self.outputs);
        transpose(
            &input[..n * self.inputs],
            n,
            self.inputs,
            &mut s.x[..n * self.inputs],
        );
        let (x, h, g) = (&mut s.x, &mut s.h, &mut s.g);
        let width = run_steps(&self.trunk, self.inputs, n, x, h, g, first_bias);
        for head in self.heads.iter().filter(|h| h.linear.out_features > 0) {
            let d = &head.linear;
            let x = if head.steps.is_empty() {
                &s.x
            } else {
                s.y[..n * width].copy_from_slice(&s.x[..n * width]);
                run_steps(&head.steps, width, n, &mut s.y, &mut s.h, &mut s.g, None);
                &s.y
            };
            let o = &mut s.h[..n * d.out_features];
            matmul_wx(d.out_features, d.in_features, n, &d.weight, x, o);
            add_bias(o, &d.bias);
            transpose_into(o, d.out_features, n, out, self.outputs, head.first);
        }
    }
}

/// Joins neighbouring heads that are only a linear layer on the trunk's
/// features into one (their rows stacked): one GEMM instead of several
/// thin ones.
fn merge_linear_heads(heads: Vec<PlacedHead>) -> Vec<PlacedHead> {
    let mut out: Vec<PlacedHead> = Vec::with_capacity(heads.len());
    for h in heads {
        match out.last_mut() {
            Some(prev)
                if prev.steps.is_empty()
                    && h.steps.is_empty()
                    && prev.first + prev.linear.out_features == h.first
                    && prev.linear.in_features == h.linear.in_features =>
            {
                prev.linear.weight.extend_from_slice(&h.linear.weight);
                prev.linear.bias.extend_from_slice(&h.linear.bias);
                prev.linear.out_features += h.linear.out_features;
            }
            _ => out.push(h),
        }
    }
    out
}

impl From<Head> for PlacedHead {
    fn from(h: Head) -> PlacedHead {
        PlacedHead {
            steps: h.steps,
            linear: h.linear,
            first: 0,
        }
    }
}

/// The widest side of any step.
fn widest(steps: &[Step]) -> usize {
    let m = |m: &Matrix| m.out_features.max(m.in_features);
    steps
        .iter()
        .map(|s| match s {
            Step::Sine(a) => m(a),
            Step::Residual(a, b) => m(a).max(m(b)),
            Step::Modulate(v) => v.len(),
        })
        .max()
        .unwrap_or(1)
}

/// Runs `steps` on the `width x n` activations in `x` (feature-major), with
/// `h` and `g` as scratch; returns the width they end with (in `x`).
/// `first_bias`, when given, replaces the bias of a first sine step.
pub(crate) fn run_steps(
    steps: &[Step],
    mut width: usize,
    n: usize,
    x: &mut Vec<f32>,
    h: &mut Vec<f32>,
    g: &mut [f32],
    first_bias: Option<&[f32]>,
) -> usize {
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Sine(d) => {
                let out = &mut h[..n * d.out_features];
                matmul_wx(d.out_features, width, n, &d.weight, x, out);
                let bias = first_bias.filter(|_| i == 0).unwrap_or(&d.bias);
                bias_sin(out, bias);
                std::mem::swap(x, h);
                width = d.out_features;
            }
            Step::Residual(a, b) => {
                let hh = &mut h[..n * width];
                matmul_wx(width, width, n, &a.weight, x, hh);
                bias_sin(hh, &a.bias);
                let gg = &mut g[..n * width];
                matmul_wx(width, width, n, &b.weight, h, gg);
                bias_sin_residual(&mut x[..n * width], gg, &b.bias);
            }
            Step::Modulate(m) if n > 0 => {
                for (row, &m) in x[..n * width].chunks_exact_mut(n).zip(m) {
                    row.iter_mut().for_each(|v| *v *= m);
                }
            }
            Step::Modulate(_) => {}
        }
    }
    width
}

/// Writes the `rows x n` feature-major `src` into columns `first..first +
/// rows` of the point-major `n x stride` output.
fn transpose_into(
    src: &[f32],
    rows: usize,
    n: usize,
    out: &mut [f32],
    stride: usize,
    first: usize,
) {
    for r in 0..rows {
        for c in 0..n {
            out[c * stride + first + r] = src[r * n + c];
        }
    }
}

/// `dst[c x r] = src[r x c]^T`, both row-major.
pub(crate) fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    for r in 0..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}
