//! The residual SIREN's training: its samples as tensors, its settings and
//! schedule (a cosine over the step or time budget, whichever runs out
//! first), and its minibatches, run by the shared loop ([`crate::train`]).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use inr_core::error::{Error, Result};

use crate::clock::Clock;
use crate::data::Samples;
use crate::progress::{Phase, Progress};
use crate::siren::Siren;
use crate::tch_error;
use crate::train::{self, cosine_lr, At, Keep, Loop, Rate, Rollback, Start, Trained, Trainee};

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
        let tensor = |v: &[f32], cols: usize| crate::matrix(v, n, cols, device);
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

/// The default initial learning rate for a network `width` wide: 2e-3 up to
/// width 32, then falling as 1 / width (wide networks diverge at narrow
/// ones' rates; docs/benchmarks.md, "The encoder's other figures").
pub fn default_lr(width: usize) -> f64 {
    2e-3 * (32.0 / width.max(1) as f64).min(1.0)
}

/// Halvings of the learning rate on plateaus before training stops.
const PLATEAUS: u32 = 5;

impl Rate for TrainOptions {
    fn at(&self, at: At) -> f64 {
        cosine_lr(self.lr, at.spent.max(at.step as f64 / at.steps as f64))
    }
}

/// The SIREN and its samples, as the loop trains them.
struct SirenTrainee<'a> {
    net: &'a Siren,
    data: &'a TrainData,
    batch: usize,
}

impl Trainee for SirenTrainee<'_> {
    fn networks(&self) -> usize {
        1
    }

    fn minibatch_loss(&mut self) -> Result<Tensor> {
        let data = self.data;
        let (x, y, m) = if self.batch >= data.len {
            (
                data.inputs.shallow_clone(),
                data.targets.shallow_clone(),
                data.mask.as_ref().map(Tensor::shallow_clone),
            )
        } else {
            let device = data.inputs.device();
            let idx = Tensor::randint(data.len as i64, [self.batch as i64], (Kind::Int64, device));
            (
                data.inputs.index_select(0, &idx),
                data.targets.index_select(0, &idx),
                data.mask.as_ref().map(|m| m.index_select(0, &idx)),
            )
        };
        let diff = self.net.forward(&x) - y;
        Ok(match &m {
            None => diff.square().mean(Kind::Float),
            Some(m) => (diff.square() * m).sum(Kind::Float) / m.sum(Kind::Float).clamp_min(1.0),
        })
    }

    fn full_losses(&self) -> Result<Vec<f64>> {
        Ok(vec![full_loss(self.net, self.data)?])
    }
}

/// Trains `net` (whose variables are in `vs`) on `data`. Fine-tuning
/// goes on from trained weights and keeps its result only when it lowers
/// the loss over all sites.
pub fn train(
    vs: &VarStore,
    net: &Siren,
    data: &TrainData,
    opts: &TrainOptions,
    phase: Phase,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Trained> {
    if opts.steps == 0 || opts.batch == 0 || opts.lr.is_nan() || opts.lr <= 0.0 {
        return Err(Error::InvalidArgument(
            "training needs steps, batch and learning rate above 0".into(),
        ));
    }
    let clock = Clock::new(opts.max_time, opts.interrupt.clone());
    let settings = Loop {
        phase,
        lr: opts.lr,
        steps: opts.steps,
        check_every: opts.check_every,
        patience: opts.patience,
        plateaus: PLATEAUS,
        keep: Keep::Lower,
        rollback: Rollback::Restart,
        start: match phase {
            Phase::FineTune => Start::Guarded,
            _ => Start::Fresh,
        },
    };
    let mut trainee = SirenTrainee {
        net,
        data,
        batch: opts.batch,
    };
    train::run(vs, &mut trainee, opts, &settings, &clock, progress)
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
