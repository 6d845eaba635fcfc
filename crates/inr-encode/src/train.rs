//! Training: Adam on the mean squared error of random minibatches, learning
//! rate on a cosine schedule over the step or time budget (whichever runs out
//! first) and halved whenever the loss stops improving, early stopping after
//! a few halvings, and the best weights seen kept for the end (also when
//! interrupted).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

use inr_core::error::{Error, Result};

use super::data::Samples;
use super::siren::Siren;
use super::tch_error;

/// The samples as tensors on the training device.
#[derive(Debug)]
pub struct TrainData {
    /// [n, inputs] normalized coordinates.
    pub inputs: Tensor,
    /// [n, outputs] targets in [-1, 1].
    pub targets: Tensor,
    /// [n, outputs] 1 where a target exists (point and cell variables live
    /// at different sites); `None` when every site has every output.
    pub mask: Option<Tensor>,
    /// Number of sites.
    pub len: usize,
}

impl TrainData {
    /// Copies the samples to `device`, applying the input normalization
    /// for a first layer of frequency `omega` ([`Samples::input_affine`]).
    pub fn new(samples: &Samples, omega: f64, device: Device) -> Result<TrainData> {
        let (scale, shift) = samples.input_affine(omega);
        let (k, c) = (samples.inputs(), samples.outputs());
        let n = samples.num_sites();
        let mut inputs = Vec::with_capacity(n * k);
        for part in &samples.parts {
            let tn = if k == 4 {
                Some((scale[3] * part.time + shift[3]) as f32)
            } else {
                None
            };
            for p in part.coordinates().chunks_exact(3) {
                inputs.extend((0..3).map(|a| (scale[a] * p[a] + shift[a]) as f32));
                inputs.extend(tn);
            }
        }
        let (targets, mask) = samples.dense_targets();
        let full = mask.iter().all(|&m| m == 1.0);
        let tensor = |v: &[f32], cols: usize| {
            Tensor::f_from_slice(v)
                .and_then(|t| t.f_view([n as i64, cols as i64]))
                .and_then(|t| t.f_to_device(device))
                .map_err(tch_error)
        };
        Ok(TrainData {
            inputs: tensor(&inputs, k)?,
            targets: tensor(&targets, c)?,
            mask: if full { None } else { Some(tensor(&mask, c)?) },
            len: n,
        })
    }
}

/// Training settings.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Most optimizer steps.
    pub steps: usize,
    /// Wall-clock budget; the schedule follows whichever budget is used faster.
    pub max_time: Option<Duration>,
    /// Sites per minibatch (all sites when the data has fewer).
    pub batch: usize,
    /// Initial learning rate; decays to 1 % of it on a cosine.
    pub lr: f64,
    /// The loss is checked every this many steps ...
    pub check_every: usize,
    /// ... and after this many checks without a 0.1 % improvement of the
    /// mean loss the learning rate halves; the fifth halving ends training
    /// (0: neither).
    pub patience: usize,
    /// Set (e.g. by a Ctrl-C handler) to end training at the next step,
    /// keeping the best weights so far.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            steps: 20_000,
            max_time: None,
            batch: 16_384,
            lr: 2e-3,
            check_every: 100,
            patience: 10,
            interrupt: None,
        }
    }
}

/// What an encode is doing, for its progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// A meta-learned initialization (MC-INR's Reptile).
    MetaLearn,
    /// The network's weights.
    Train,
    /// Training again after re-clustering (round from 1).
    Recluster(usize),
    /// The codebook values of the quantized network.
    FineTune,
}

impl Phase {
    /// A short name for progress lines.
    pub fn name(self) -> String {
        match self {
            Phase::MetaLearn => "meta-learning".into(),
            Phase::Train => "training".into(),
            Phase::Recluster(round) => format!("re-clustering round {round}"),
            Phase::FineTune => "fine-tuning".into(),
        }
    }
}

/// The default initial learning rate for a network `width` wide: 2e-3 up to
/// width 32, then falling as 1 / width (wide networks diverge at narrow
/// ones' rates; docs/benchmarks.md, "The encoder's other figures").
pub fn default_lr(width: usize) -> f64 {
    2e-3 * (32.0 / width.max(1) as f64).min(1.0)
}

/// Progress, reported at every check.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub phase: Phase,
    pub step: usize,
    pub steps: usize,
    /// Mean training loss (MSE in [-1, 1] units) since the last check;
    /// for many networks at once, their mean.
    pub loss: f64,
    /// PSNR that loss means over the scaled range (2): `10 log10(4 / loss)`.
    pub psnr_estimate: f64,
    pub lr: f64,
    pub elapsed: Duration,
}

impl Progress {
    /// The progress of `phase` at `step` of `steps`, its loss `loss` (for
    /// many networks, their mean) at rate `lr`.
    pub fn at(
        phase: Phase,
        step: usize,
        steps: usize,
        loss: f64,
        lr: f64,
        elapsed: Duration,
    ) -> Progress {
        Progress {
            phase,
            step,
            steps,
            loss,
            psnr_estimate: psnr_of_scaled_mse(loss),
            lr,
            elapsed,
        }
    }
}

/// Why training ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Steps,
    Time,
    Plateau,
    Interrupted,
}

impl Stop {
    /// Why training ended, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Stop::Steps => "step count reached",
            Stop::Time => "time limit reached",
            Stop::Plateau => "loss stopped improving",
            Stop::Interrupted => "interrupted",
        }
    }

    /// A short name (also the JSON report's).
    pub fn name(self) -> &'static str {
        match self {
            Stop::Steps => "steps",
            Stop::Time => "time",
            Stop::Plateau => "plateau",
            Stop::Interrupted => "interrupted",
        }
    }
}

/// What training did.
#[derive(Clone, Copy, Debug)]
pub struct TrainReport {
    pub steps: usize,
    /// The initial learning rate.
    pub lr: f64,
    /// Mean minibatch loss of the check window whose weights were kept.
    pub final_loss: f64,
    pub elapsed: Duration,
    pub stop: Stop,
    /// Times the loss jumped [`DIVERGED`] times above the best and training
    /// went back to the best weights.
    pub rollbacks: usize,
}

/// PSNR of a mean squared error over the scaled range [-1, 1].
pub fn psnr_of_scaled_mse(mse: f64) -> f64 {
    10.0 * (4.0 / mse).log10()
}

/// A loss this many times the best so far means the network has jumped out
/// of its basin, as a sine network can under Adam at a high rate: training
/// goes back to the best weights (both families).
pub(crate) const DIVERGED: f64 = 10.0;

/// Halvings of the learning rate on plateaus before training stops.
const MAX_HALVINGS: u32 = 5;

/// The weights of the best check window, restored at the end: with a noisy
/// minibatch loss and a possibly cut-short schedule, the last weights need
/// not be the best.
struct Best {
    loss: f64,
    weights: Vec<Tensor>,
}

impl Best {
    fn record(&mut self, vs: &VarStore, loss: f64) {
        if loss < self.loss {
            self.loss = loss;
            self.weights = vs
                .trainable_variables()
                .iter()
                .map(|t| t.detach().copy())
                .collect();
        }
    }

    fn restore(&self, vs: &VarStore) {
        let _guard = tch::no_grad_guard();
        for (mut v, w) in vs.trainable_variables().into_iter().zip(&self.weights) {
            v.copy_(w);
        }
    }
}

/// Whether the interrupt flag is set.
fn interrupted(opts: &TrainOptions) -> bool {
    opts.interrupt
        .as_ref()
        .is_some_and(|f| f.load(Ordering::Relaxed))
}

/// Trains `net` (whose variables are in `vs`) on `data`.
pub fn train(
    vs: &VarStore,
    net: &Siren,
    data: &TrainData,
    opts: &TrainOptions,
    phase: Phase,
    progress: &mut dyn FnMut(&Progress),
) -> Result<TrainReport> {
    if opts.steps == 0 || opts.batch == 0 || opts.lr.is_nan() || opts.lr <= 0.0 {
        return Err(Error::InvalidArgument(
            "training needs steps, batch and learning rate above 0".into(),
        ));
    }
    let start = Instant::now();
    let mut opt = nn::Adam::default().build(vs, opts.lr).map_err(tch_error)?;
    let device = data.inputs.device();
    let full_batch = opts.batch >= data.len;
    let check_every = opts.check_every.max(1);
    let mut sum = Tensor::zeros([1], (Kind::Float, device));
    let mut since_check = 0usize;
    let mut best = Best {
        loss: f64::INFINITY,
        weights: Vec::new(),
    };
    let (mut plateau_best, mut stale) = (f64::INFINITY, 0usize);
    // A loss that stalls at a high learning rate is noise, not
    // convergence: halve the rate (on top of the schedule) and go on.
    let (mut halvings, mut plateau_scale) = (0u32, 1.0);
    let mut stop = Stop::Steps;
    let mut step = 0;
    let mut lr = opts.lr;
    let mut rollbacks = 0;
    while step < opts.steps {
        if interrupted(opts) {
            stop = Stop::Interrupted;
            break;
        }
        let used = match opts.max_time {
            Some(t) => {
                let f = start.elapsed().as_secs_f64() / t.as_secs_f64().max(1e-9);
                if f >= 1.0 {
                    stop = Stop::Time;
                    break;
                }
                f.max(step as f64 / opts.steps as f64)
            }
            None => step as f64 / opts.steps as f64,
        };
        lr = plateau_scale * cosine_lr(opts.lr, used);
        opt.set_lr(lr);
        let (x, y, m) = if full_batch {
            (
                data.inputs.shallow_clone(),
                data.targets.shallow_clone(),
                data.mask.as_ref().map(Tensor::shallow_clone),
            )
        } else {
            let idx = Tensor::randint(data.len as i64, [opts.batch as i64], (Kind::Int64, device));
            (
                data.inputs.index_select(0, &idx),
                data.targets.index_select(0, &idx),
                data.mask.as_ref().map(|m| m.index_select(0, &idx)),
            )
        };
        let diff = net.forward(&x) - y;
        let loss = match &m {
            None => diff.square().mean(Kind::Float),
            Some(m) => (diff.square() * m).sum(Kind::Float) / m.sum(Kind::Float).clamp_min(1.0),
        };
        opt.backward_step(&loss);
        sum += loss.detach();
        since_check += 1;
        step += 1;
        if step % check_every == 0 || step == opts.steps {
            let mean = f64::try_from(&sum).map_err(tch_error)? / since_check as f64;
            if !mean.is_finite() {
                return Err(Error::Training(format!(
                    "diverged at step {step} (loss {mean}); try a lower --lr"
                )));
            }
            sum = Tensor::zeros([1], (Kind::Float, device));
            since_check = 0;
            best.record(vs, mean);
            progress(&Progress::at(
                phase,
                step,
                opts.steps,
                mean,
                lr,
                start.elapsed(),
            ));
            if mean > DIVERGED * best.loss {
                // A sine network out of its basin does not come back: the
                // best weights, fresh Adam moments (the jump's would keep
                // pushing) and half the rate.
                log::debug!(
                    "step {step}: loss {mean:.3e}, {:.0} times the best; back to the best weights at half the rate",
                    mean / best.loss
                );
                best.restore(vs);
                opt = nn::Adam::default().build(vs, lr).map_err(tch_error)?;
                plateau_scale *= 0.5;
                rollbacks += 1;
                continue;
            }
            if mean < plateau_best * (1.0 - 1e-3) {
                plateau_best = mean;
                stale = 0;
            } else {
                stale += 1;
                if opts.patience > 0 && stale >= opts.patience {
                    stale = 0;
                    halvings += 1;
                    plateau_scale *= 0.5;
                    log::debug!("step {step}: loss on a plateau, rate halved ({halvings} of {MAX_HALVINGS})");
                    if halvings >= MAX_HALVINGS {
                        stop = Stop::Plateau;
                        break;
                    }
                }
            }
        }
    }
    if since_check > 0 {
        let mean = f64::try_from(&sum).map_err(tch_error)? / since_check as f64;
        if mean.is_finite() {
            best.record(vs, mean);
        }
        progress(&Progress::at(
            phase,
            step,
            opts.steps,
            mean,
            lr,
            start.elapsed(),
        ));
    }
    best.restore(vs);
    Ok(TrainReport {
        steps: step,
        lr: opts.lr,
        final_loss: best.loss,
        elapsed: start.elapsed(),
        stop,
        rollbacks,
    })
}

/// The network's outputs at every site of `data`, [n * outputs] row-major
/// in [-1, 1] units, on the CPU.
pub fn predict(net: &Siren, data: &TrainData) -> Result<Vec<f32>> {
    let _guard = tch::no_grad_guard();
    let chunk = 1 << 16;
    let mut out = Vec::with_capacity(data.len * net.shape.outputs);
    let mut start = 0i64;
    while (start as usize) < data.len {
        let len = chunk.min(data.len as i64 - start);
        let y = net
            .forward(&data.inputs.narrow(0, start, len))
            .to_device(Device::Cpu)
            .contiguous()
            .view(-1);
        out.extend(Vec::<f32>::try_from(&y).map_err(tch_error)?);
        start += len;
    }
    Ok(out)
}

/// The loss over all sites of `data` (masked MSE, in [-1, 1] units).
pub fn full_loss(net: &Siren, data: &TrainData) -> Result<f64> {
    let _guard = tch::no_grad_guard();
    let chunk = 1 << 16;
    let (mut sum, mut count) = (0f64, 0f64);
    let mut start = 0i64;
    while (start as usize) < data.len {
        let len = chunk.min(data.len as i64 - start);
        let sq = (net.forward(&data.inputs.narrow(0, start, len))
            - data.targets.narrow(0, start, len))
        .square();
        let (s, c) = match &data.mask {
            None => (sq.sum(Kind::Double), (len * sq.size()[1]) as f64),
            Some(m) => {
                let m = m.narrow(0, start, len);
                let c = f64::try_from(m.sum(Kind::Double)).map_err(tch_error)?;
                ((sq * m).sum(Kind::Double), c)
            }
        };
        sum += f64::try_from(s).map_err(tch_error)?;
        count += c;
        start += len;
    }
    Ok(sum / count.max(1.0))
}

/// The rate of a cosine schedule from `lr` down to 1 % of it, `used` the
/// share of the budget (steps or time) spent; past the budget it stays at
/// the floor. Shared by both families' training.
pub(crate) fn cosine_lr(lr: f64, used: f64) -> f64 {
    let floor = 0.01 * lr;
    floor + 0.5 * (lr - floor) * (1.0 + (std::f64::consts::PI * used.clamp(0.0, 1.0)).cos())
}
