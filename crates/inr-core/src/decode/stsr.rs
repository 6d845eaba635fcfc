//! The STSR-INR family in the decoder. Per requested variable, the modulator
//! runs once (in binary64) and its activations become `Modulate` steps
//! between the synthesis layers; per tile, every point's one to eight
//! (head, weight, local coordinates) evaluations are grouped by head, the
//! synthesis trunk runs on all of them at once, and each head's layers run
//! on its own columns. Heads are prepared when a point first needs them.

use std::any::Any;
use std::sync::OnceLock;

use crate::decode::family::{Evaluator, Family, OutputRequest, Outputs};
use crate::decode::parallel::{self, DecodeOptions};
use crate::decode::plan::{self, OutputMap};
use crate::error::Result;
use crate::kernels::gemm::matmul_wx;
use crate::kernels::mlp::{run_steps, transpose, Matrix, Step, TILE};
use crate::kernels::sine::add_bias;
use crate::model::stsr::heads::MAX_COMBINATIONS;
use crate::model::stsr::Stsr;
use crate::model::{Dense, Layer};

impl Family for Stsr {
    fn parameter_count(&self) -> u64 {
        Stsr::parameter_count(self)
    }

    fn describe(&self) -> String {
        let [hx, hy, hz] = self.grid.axes.map(|a| a.heads);
        let blocks = (self.stages.iter())
            .filter(|s| matches!(s.synthesis, Layer::ResidualSine { .. }))
            .count();
        format!(
            "{} inputs, width {}, {} stages ({blocks} residual), latent {}, {} heads ({hx}x{hy}x{hz}) of {} layers, {} outputs",
            self.inputs,
            self.width(),
            self.stages.len(),
            self.latent_dim,
            self.grid.count(),
            self.head_layers.len(),
            self.outputs
        )
    }

    fn prepare<'a>(&'a self, request: &OutputRequest) -> Result<Box<dyn Evaluator + 'a>> {
        Ok(Box::new(self.evaluator(request)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn embeds_variables(&self) -> bool {
        true
    }
}

/// One requested variable: the synthesis trunk with its modulations, and
/// its outputs.
struct VariablePlan {
    trunk: Vec<Step>,
    /// Head output `index` to physical units; `first` is the column of the
    /// variable's first component in the evaluator's outputs.
    maps: Vec<OutputMap>,
    first: usize,
}

/// One head: its sine layers, then its linear layer (all outputs,
/// normalized).
struct HeadPlan {
    steps: Vec<Step>,
    linear: Matrix,
}

/// One evaluation of a point: its head, weight and network inputs.
#[derive(Clone, Copy, Debug)]
struct Entry {
    point: u32,
    head: u32,
    weight: f64,
    input: [f32; 4],
}

impl Stsr {
    /// The model prepared for the variables (and blend) of `request`.
    pub fn evaluator<'a>(&'a self, request: &OutputRequest) -> StsrEvaluator<'a> {
        let maps = request.output_maps(true);
        let mut first = 0;
        let variables = (request.variables.iter().zip(maps))
            .map(|(&v, mut maps)| {
                let latent: Vec<f64> = match request.blend {
                    None => self.latent(v).iter().map(|&x| x as f64).collect(),
                    Some(b) => {
                        let (a, w) = (self.latent(v), self.latent(b.with));
                        let mix = |x: f32, y: f32| (1.0 - b.alpha) * x as f64 + b.alpha * y as f64;
                        a.iter().zip(w).map(|(&x, &y)| mix(x, y)).collect()
                    }
                };
                if let Some(b) = request.blend {
                    blend_maps(&mut maps, &maps_of(request, b.with), b.alpha);
                }
                let plan = VariablePlan {
                    trunk: self.trunk(&latent),
                    first,
                    maps,
                };
                first += plan.maps.len();
                plan
            })
            .collect();
        let width = (self.stages.iter())
            .flat_map(|s| [s.synthesis.features().1])
            .chain(self.head_layers.iter().map(|l| l.out_features))
            .chain([self.inputs])
            .max()
            .unwrap_or(self.inputs);
        StsrEvaluator {
            model: self,
            variables,
            heads: (0..self.grid.count()).map(|_| OnceLock::new()).collect(),
            width,
            outputs: first,
        }
    }

    /// The synthesis layers as steps, each followed by the modulation the
    /// modulator gives `latent` at that stage.
    fn trunk(&self, latent: &[f64]) -> Vec<Step> {
        let mut m = latent.to_vec();
        let mut trunk = Vec::with_capacity(2 * self.stages.len());
        for s in &self.stages {
            trunk.extend(plan::steps(std::slice::from_ref(&s.synthesis)));
            m = layer_f64(&s.modulator, &m);
            trunk.push(Step::Modulate(m.iter().map(|&v| v as f32).collect()));
        }
        trunk
    }

    /// Head `q` as steps (`w0` folded in) and its linear layer.
    fn head_plan(&self, q: usize) -> HeadPlan {
        let (hidden, last) = self.head_layers.split_at(self.head_layers.len() - 1);
        let dense = |l: &crate::model::stacked::StackedLayer| {
            let (w, b) = l.mlp(q);
            Dense {
                out_features: l.out_features,
                in_features: l.in_features,
                weight: w.to_vec(),
                bias: b.to_vec(),
            }
        };
        let layers: Vec<Layer> = (hidden.iter())
            .map(|l| Layer::Sine {
                w0: l.w0.unwrap_or(1.0),
                dense: dense(l),
            })
            .collect();
        let d = dense(&last[0]);
        HeadPlan {
            steps: plan::steps(&layers),
            linear: Matrix {
                out_features: d.out_features,
                in_features: d.in_features,
                weight: d.weight,
                bias: d.bias,
            },
        }
    }
}

/// The output maps of variable `v`, numbered like a requested one's.
fn maps_of(request: &OutputRequest, v: usize) -> Vec<OutputMap> {
    let single = OutputRequest {
        variables: &[v],
        meta: request.meta,
        blend: None,
    };
    single.output_maps(true).pop().unwrap_or_default()
}

/// `maps` blended toward `other` by `alpha` (ranges interpolated).
fn blend_maps(maps: &mut [OutputMap], other: &[OutputMap], alpha: f64) {
    for (m, o) in maps.iter_mut().zip(other) {
        m.scale = (1.0 - alpha) * m.scale + alpha * o.scale;
        m.offset = (1.0 - alpha) * m.offset + alpha * o.offset;
    }
}

/// One sine or residual sine layer applied to `x` in binary64.
fn layer_f64(layer: &Layer, x: &[f64]) -> Vec<f64> {
    let dense = |d: &Dense, w0: f32, x: &[f64]| -> Vec<f64> {
        (0..d.out_features)
            .map(|o| {
                let row = &d.weight[o * d.in_features..(o + 1) * d.in_features];
                let z: f64 = row.iter().zip(x).map(|(&w, &v)| w as f64 * v).sum();
                (w0 as f64 * (z + d.bias[o] as f64)).sin()
            })
            .collect()
    };
    match layer {
        Layer::Sine { w0, dense: d } => dense(d, *w0, x),
        Layer::ResidualSine { w0, first, second } => {
            let g = dense(first, w0[0], x);
            let f = dense(second, w0[1], &g);
            x.iter().zip(f).map(|(a, b)| 0.5 * (a + b)).collect()
        }
        // The loader admits no linear layer in a stage.
        Layer::Linear { .. } => x.to_vec(),
    }
}

/// An STSR-INR model prepared for one request.
pub struct StsrEvaluator<'a> {
    model: &'a Stsr,
    variables: Vec<VariablePlan>,
    /// Per head, made when a point first needs it.
    heads: Vec<OnceLock<HeadPlan>>,
    /// Widest layer or input count.
    width: usize,
    outputs: usize,
}

/// A thread's buffers.
struct Worker {
    entries: Vec<Entry>,
    input: Vec<f32>,
    /// Trunk activations, a head's, and two scratch buffers.
    x: Vec<f32>,
    y: Vec<f32>,
    h: Vec<f32>,
    g: Vec<f32>,
    /// Normalized outputs per point, then physical ones.
    acc: Vec<f64>,
    result: Vec<f32>,
}

impl StsrEvaluator<'_> {
    fn head(&self, q: usize) -> &HeadPlan {
        self.heads[q].get_or_init(|| self.model.head_plan(q))
    }

    fn worker(&self) -> Worker {
        let n = TILE * self.width;
        Worker {
            entries: Vec::with_capacity(TILE * MAX_COMBINATIONS),
            input: vec![0.0; TILE * 4],
            x: vec![0.0; n],
            y: vec![0.0; n],
            h: vec![0.0; n],
            g: vec![0.0; n],
            acc: vec![0.0; TILE * self.outputs],
            result: vec![0.0; TILE * self.outputs],
        }
    }

    /// The evaluations of `len` points from `start`, grouped by head (in
    /// each point's combination order within a head, so a point's sum does
    /// not depend on its neighbours).
    fn entries(
        &self,
        start: usize,
        len: usize,
        coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
        time_of: &(dyn Fn(usize) -> f64 + Sync),
        entries: &mut Vec<Entry>,
    ) {
        entries.clear();
        let m = self.model;
        for i in 0..len {
            let t = time_of(start + i);
            let p = m.axes.index(coords(start + i), t);
            let t_n = m.time.map_or(0.0, |(a, b)| (a * t + b) as f32);
            m.grid.combinations([p[0], p[1], p[2]], |head, weight, u| {
                entries.push(Entry {
                    point: i as u32,
                    head: head as u32,
                    weight,
                    input: [u[0] as f32, u[1] as f32, u[2] as f32, t_n],
                });
            });
        }
        entries.sort_by_key(|e| e.head);
    }

    /// Adds the weighted outputs of `chunk` (at most [`TILE`] entries) for
    /// every variable to `w.acc`.
    fn eval_chunk(&self, chunk: &[Entry], w: &mut Worker) {
        let (n, k) = (chunk.len(), self.model.inputs);
        for (e, dst) in chunk.iter().zip(w.input.chunks_exact_mut(k)) {
            dst.copy_from_slice(&e.input[..k]);
        }
        for var in &self.variables {
            transpose(&w.input[..n * k], n, k, &mut w.x[..n * k]);
            let width = run_steps(&var.trunk, k, n, &mut w.x, &mut w.h, &mut w.g, None);
            let mut a = 0;
            while a < n {
                let q = chunk[a].head;
                let b = a + chunk[a..].iter().take_while(|e| e.head == q).count();
                self.eval_head(q as usize, width, &chunk[a..b], a, n, var, w);
                a = b;
            }
        }
    }

    /// Head `q` on the trunk's columns `a ..` (`run.len()` of them, of `n`
    /// in `w.x`), added to the points' outputs of `var`.
    #[allow(clippy::too_many_arguments)]
    fn eval_head(
        &self,
        q: usize,
        width: usize,
        run: &[Entry],
        a: usize,
        n: usize,
        var: &VariablePlan,
        w: &mut Worker,
    ) {
        let head = self.head(q);
        let m = run.len();
        for r in 0..width {
            w.y[r * m..(r + 1) * m].copy_from_slice(&w.x[r * n + a..r * n + a + m]);
        }
        let width = run_steps(&head.steps, width, m, &mut w.y, &mut w.h, &mut w.g, None);
        let d = &head.linear;
        let o = &mut w.h[..m * d.out_features];
        matmul_wx(d.out_features, width, m, &d.weight, &w.y, o);
        add_bias(o, &d.bias);
        for (j, e) in run.iter().enumerate() {
            let row = e.point as usize * self.outputs + var.first;
            for (c, map) in var.maps.iter().enumerate() {
                w.acc[row + c] += e.weight * o[map.index * m + j] as f64;
            }
        }
    }
}

impl Evaluator for StsrEvaluator<'_> {
    fn outputs(&self) -> usize {
        self.outputs
    }

    /// Per point evaluated once (a point of the head grid; points between
    /// sub-volumes take two to eight): each variable's trunk and head.
    fn flops_per_point(&self) -> u64 {
        let d = |m: &Matrix| 2 * (m.in_features * m.out_features) as u64;
        let steps = |s: &[Step]| -> u64 {
            s.iter()
                .map(|s| match s {
                    Step::Sine(a) => d(a),
                    Step::Residual(a, b) => d(a) + d(b),
                    Step::Modulate(_) => 0,
                })
                .sum()
        };
        let head = self.head(0);
        let head = steps(&head.steps) + d(&head.linear);
        (self.variables.iter())
            .map(|v| steps(&v.trunk) + head)
            .sum()
    }

    fn eval(
        &self,
        n: usize,
        coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
        time_of: &(dyn Fn(usize) -> f64 + Sync),
        out: Outputs,
        options: &DecodeOptions,
    ) -> Result<()> {
        let c = self.outputs;
        let jobs = out.tiles();
        parallel::run(
            jobs,
            options,
            || self.worker(),
            |w, (start, mut o)| {
                let len = TILE.min(n - start);
                let mut entries = std::mem::take(&mut w.entries);
                self.entries(start, len, coords, time_of, &mut entries);
                w.acc[..len * c].fill(0.0);
                for chunk in entries.chunks(TILE) {
                    self.eval_chunk(chunk, w);
                }
                w.entries = entries;
                for var in &self.variables {
                    for p in 0..len {
                        for (k, map) in var.maps.iter().enumerate() {
                            let i = p * c + var.first + k;
                            w.result[i] = (map.offset + map.scale * w.acc[i]) as f32;
                        }
                    }
                }
                o.put(0, len, &w.result);
            },
        )
    }
}
