//! Training STSR-INR (the paper's Algorithm 1) in the shared loop: each
//! minibatch samples local coordinates, time steps and variables, runs
//! the trunk once per sample and every head on it (the multi-head
//! speed-up), with the latents drawn as `μ + σ ε` (the variational
//! auto-decoder); after every epoch's worth of steps the latents' means
//! take an Adam step on the KLD loss alone.

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use inr_core::error::Result;

use super::grid::Grid;
use super::net::StsrNet;
use crate::clock::Clock;
use crate::data::Samples;
use crate::progress::{Phase, Progress};
use crate::tch_error;
use crate::train::{self, cosine_lr, At, Keep, Loop, Rate, Rollback, Start, Trained, Trainee};

/// The training samples as tensors on the device.
#[derive(Debug)]
pub struct TrainSet {
    /// `[variables × steps × m_z × m_y × m_x, K]` scaled values (x fastest).
    targets: Tensor,
    /// `[variables, K]`: 1 for the components a variable has.
    components: Tensor,
    /// `[steps]` normalized times of the training steps.
    times: Tensor,
    /// `[H]` index offset of each head's first sample.
    offsets: Tensor,
    train: [usize; 3],
    per_head: [usize; 3],
    steps: usize,
    variables: usize,
    timed: bool,
}

impl TrainSet {
    /// The training samples of `grid` from `samples`, with `outputs` (K)
    /// columns.
    pub fn new(samples: &Samples, grid: &Grid, outputs: usize, device: Device) -> Result<TrainSet> {
        let (nv, m) = (samples.variables.len(), grid.train);
        let per_step = m.iter().product::<usize>();
        let mut values = vec![0f32; nv * grid.steps.len() * per_step * outputs];
        let width = samples.outputs();
        let mut row = 0;
        for var in &samples.variables {
            for &s in &grid.steps {
                let part = &samples.parts[s];
                for i in 0..per_step {
                    let site = native_site(grid, [i % m[0], i / m[0] % m[1], i / (m[0] * m[1])]);
                    let at = site * width + var.column;
                    let out = &mut values[row * outputs..(row + 1) * outputs];
                    out[..var.components].copy_from_slice(&part.targets[at..at + var.components]);
                    row += 1;
                }
            }
        }
        let components: Vec<f32> = (samples.variables.iter())
            .flat_map(|v| (0..outputs).map(move |c| (c < v.components) as u8 as f32))
            .collect();
        let times: Vec<f32> = grid.steps.iter().map(|&s| grid.time_input(s)).collect();
        let g = grid.per_head();
        let offsets: Vec<i64> = (0..grid.head_count())
            .map(|h| {
                let q = [
                    h % grid.heads[0],
                    h / grid.heads[0] % grid.heads[1],
                    h / (grid.heads[0] * grid.heads[1]),
                ];
                ((q[2] * g[2] * m[1] + q[1] * g[1]) * m[0] + q[0] * g[0]) as i64
            })
            .collect();
        Ok(TrainSet {
            targets: crate::matrix(&values, values.len() / outputs, outputs, device)?,
            components: crate::matrix(&components, nv, outputs, device)?,
            times: Tensor::from_slice(&times).to_device(device),
            offsets: Tensor::from_slice(&offsets).to_device(device),
            train: m,
            per_head: g,
            steps: grid.steps.len(),
            variables: nv,
            timed: grid.time_affine().is_some(),
        })
    }

    /// Training values (all heads, steps and variables).
    pub fn len(&self) -> usize {
        self.targets.size()[0] as usize
    }

    /// True without training values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inputs `[B, 3 or 4]` and target indices `[H, B]` of local grid
    /// indices `l` (three `[B]` tensors), steps `t` and variables `v`.
    fn batch(&self, l: &[Tensor; 3], t: &Tensor, v: &Tensor) -> (Tensor, Tensor) {
        let mut cols: Vec<Tensor> = (0..3)
            .map(|a| match self.per_head[a] {
                1 => l[a].zeros_like().to_kind(Kind::Float),
                g => l[a].to_kind(Kind::Float) * (2.0 / (g - 1) as f64) - 1.0,
            })
            .collect();
        if self.timed {
            cols.push(self.times.index_select(0, t));
        }
        let m = self.train.map(|x| x as i64);
        let base = (((v * self.steps as i64 + t) * m[2] + &l[2]) * m[1] + &l[1]) * m[0] + &l[0];
        let index = base.unsqueeze(0) + self.offsets.unsqueeze(1);
        (Tensor::stack(&cols, 1), index)
    }

    /// The squared error summed over the values of `index` and the values
    /// counted: `(sum, count)` as tensors.
    fn error(&self, pred: &Tensor, index: &Tensor, v: &Tensor) -> (Tensor, Tensor) {
        let size = pred.size();
        let y = (self.targets.index_select(0, &index.view(-1))).view(size.as_slice());
        let mask = self.components.index_select(0, v).unsqueeze(0);
        let sum = ((pred - y).square() * &mask).sum(Kind::Float);
        (sum, mask.sum(Kind::Float) * size[0] as f64)
    }
}

/// The site of training sample `i` in a native step.
fn native_site(grid: &Grid, i: [usize; 3]) -> usize {
    let n = grid.native;
    let j: [usize; 3] = std::array::from_fn(|a| i[a] * grid.stride[a]);
    j[0] + n[0] * (j[1] + n[1] * j[2])
}

/// The variational auto-decoder's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vad {
    /// `log σ²` of every latent component (the paper's 1e-3).
    pub log_var: f64,
    /// `λ`, the KLD loss's weight (the paper's 1e-3).
    pub kld_weight: f64,
}

impl Vad {
    /// The paper's: `log σ² = 1e-3`, `λ = 1e-3`.
    pub const PAPER: Vad = Vad {
        log_var: 1e-3,
        kld_weight: 1e-3,
    };
}

/// Adam on `λ KLD` for the latents' means alone (Algorithm 1's second
/// update): the KLD's gradient is `λ μ`.
struct KldStep {
    m: Tensor,
    v: Tensor,
    t: i32,
}

impl KldStep {
    fn new(mu: &Tensor) -> KldStep {
        KldStep {
            m: mu.zeros_like(),
            v: mu.zeros_like(),
            t: 0,
        }
    }

    fn apply(&mut self, mu: &Tensor, weight: f64, lr: f64) {
        let _guard = tch::no_grad_guard();
        let (b1, b2) = (0.9f64, 0.999f64);
        self.t += 1;
        let g = mu.detach() * weight;
        self.m = &self.m * b1 + &g * (1.0 - b1);
        self.v = &self.v * b2 + g.square() * (1.0 - b2);
        let mh = &self.m / (1.0 - b1.powi(self.t));
        let vh = &self.v / (1.0 - b2.powi(self.t));
        let step = mh / (vh.sqrt() + 1e-8) * lr;
        let mut mu = mu.shallow_clone();
        let _ = mu.f_sub_(&step);
    }
}

/// The settings of a training phase.
#[derive(Clone, Debug)]
pub struct FitOptions {
    pub steps: usize,
    /// Training values per minibatch, over all heads and variables (the
    /// paper's 8000).
    pub batch: usize,
    pub lr: f64,
    /// Checks (every 100 steps) without improvement before the rate halves.
    pub patience: usize,
    /// `None`: a plain auto-decoder (the paper's ablation).
    pub vad: Option<Vad>,
}

impl Rate for FitOptions {
    fn at(&self, at: At) -> f64 {
        cosine_lr(self.lr, at.spent.max(at.step as f64 / at.steps as f64))
    }
}

/// The network and its samples, as the loop trains them.
struct StsrTrainee<'a> {
    net: &'a StsrNet,
    set: &'a TrainSet,
    opts: &'a FitOptions,
    kld: KldStep,
    step: usize,
}

impl StsrTrainee<'_> {
    /// Sample points per minibatch (each evaluated by every head).
    fn points(&self) -> i64 {
        (self.opts.batch / self.net.shape.heads).max(1) as i64
    }

    /// Steps per epoch (every training value once, on average).
    fn epoch(&self) -> usize {
        self.set.len().div_ceil(self.opts.batch.max(1)).max(1)
    }
}

impl Trainee for StsrTrainee<'_> {
    fn networks(&self) -> usize {
        1
    }

    fn minibatch_loss(&mut self) -> Result<Tensor> {
        let (set, b) = (self.set, self.points());
        let device = set.targets.device();
        let draw = |n: usize| Tensor::randint(n as i64, [b], (Kind::Int64, device));
        let l = [0, 1, 2].map(|a| draw(set.per_head[a]));
        let (t, v) = (draw(set.steps), draw(set.variables));
        let (x, index) = set.batch(&l, &t, &v);
        let latents = match self.opts.vad {
            Some(vad) => &self.net.mu + self.net.mu.randn_like() * (0.5 * vad.log_var).exp(),
            None => self.net.mu.shallow_clone(),
        };
        let mods = self.net.modulations(&latents);
        let pred = self.net.all_heads(&self.net.features(&x, &mods, Some(&v)));
        let (sum, count) = set.error(&pred, &index, &v);
        self.step += 1;
        if let Some(vad) = self.opts.vad {
            if self.step % self.epoch() == 0 {
                self.kld.apply(&self.net.mu, vad.kld_weight, self.opts.lr);
            }
        }
        Ok(sum / count.clamp_min(1.0))
    }

    fn full_losses(&self) -> Result<Vec<f64>> {
        Ok(vec![full_loss(self.net, self.set)?])
    }
}

/// Most training values [`full_loss`] evaluates: each variable needs its
/// own pass, so all of cth's would take seconds of a short budget.
const FULL_LOSS_VALUES: usize = 1 << 19;

/// The MSE (scaled units) over the training values, with the latents'
/// means: all of them, or an even stride of [`FULL_LOSS_VALUES`] (the same
/// each time, so that fine-tuning compares like with like).
pub fn full_loss(net: &StsrNet, set: &TrainSet) -> Result<f64> {
    let _guard = tch::no_grad_guard();
    let device = set.targets.device();
    let g = set.per_head.map(|x| x as i64);
    let n = g.iter().product::<i64>();
    let stride = set.len().div_ceil(FULL_LOSS_VALUES).max(1) as i64;
    let all = Tensor::arange_start_step(0, n, stride, (Kind::Int64, device));
    let n = all.size()[0];
    let l = [
        all.remainder(g[0]),
        all.floor_divide_scalar(g[0]).remainder(g[1]),
        all.floor_divide_scalar(g[0] * g[1]),
    ];
    let mods = net.modulations(&net.mu);
    let (mut sum, mut count) = (0f64, 0f64);
    for v in 0..set.variables {
        for t in 0..set.steps {
            let full = |x: usize| Tensor::full([n], x as i64, (Kind::Int64, device));
            let (tv, vv) = (full(t), full(v));
            let (x, index) = set.batch(&l, &tv, &vv);
            let pred = net.all_heads(&net.features(&x, &mods, Some(&vv)));
            let (s, c) = set.error(&pred, &index, &vv);
            sum += f64::try_from(s).map_err(tch_error)?;
            count += f64::try_from(c).map_err(tch_error)?;
        }
    }
    Ok(sum / count.max(1.0))
}

/// Trains `net` (variables of `vs`) on `set` within `clock`. Fine-tuning
/// starts from trained weights and keeps its result only when it lowers
/// the loss over the training values ([`full_loss`]).
pub fn fit(
    vs: &VarStore,
    net: &StsrNet,
    set: &TrainSet,
    opts: &FitOptions,
    phase: Phase,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Trained> {
    let settings = Loop {
        phase,
        lr: opts.lr,
        steps: opts.steps,
        check_every: 100,
        patience: opts.patience,
        plateaus: 5,
        keep: Keep::Lower,
        rollback: Rollback::Restart,
        start: match phase {
            Phase::FineTune => Start::Guarded,
            _ => Start::Fresh,
        },
    };
    let mut trainee = StsrTrainee {
        net,
        set,
        opts,
        kld: KldStep::new(&net.mu),
        step: 0,
    };
    train::run(vs, &mut trainee, opts, &settings, clock, progress)
}
