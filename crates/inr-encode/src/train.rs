//! The one training loop of every family: Adam on minibatch losses at the
//! rate of the family's schedule, the loss checked every few steps, the
//! best weights kept (network by network when several train at once), a
//! jump of the loss rolled back, plateaus halving the rate and then ending
//! the phase, and the phase's share of the time budget.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

use inr_core::error::{Error, Result};

use crate::clock::Clock;
use crate::progress::{Phase, Progress, Stop};
use crate::snapshot::Snapshot;
use crate::tch_error;

/// The networks a phase trains, as the loop sees them.
pub trait Trainee {
    /// How many train at once; with more than one, every trainable
    /// variable has them along its first axis.
    fn networks(&self) -> usize;

    /// Each network's loss on a fresh minibatch, `[networks]` (or a
    /// scalar for one network), with its graph.
    fn minibatch_loss(&mut self) -> Result<Tensor>;

    /// Each network's loss over all its sites.
    fn full_losses(&self) -> Result<Vec<f64>>;
}

/// Where a phase is, for its learning rate.
#[derive(Clone, Copy, Debug)]
pub struct At {
    /// Optimizer step (from 0) of `steps`.
    pub step: usize,
    pub steps: usize,
    /// Check interval (from 0; MC-INR's epoch) of `checks`.
    pub check: usize,
    pub checks: usize,
    /// Share of the phase's time budget used (0 without one).
    pub spent: f64,
}

/// A learning-rate schedule.
pub trait Rate {
    /// The schedule's rate at `at`.
    fn at(&self, at: At) -> f64;

    /// The share of it that optimizer step `step` (from 0) takes: a warm-up.
    fn warmup(&self, _step: usize) -> f64 {
        1.0
    }
}

/// Which check losses replace the kept weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Any lower one.
    Lower,
    /// Only one [`IMPROVEMENT`] lower (MC-INR's clusters, whose epochs'
    /// losses are noisy at a plateau).
    Improved,
}

/// What a loss [`DIVERGED`] times the kept one does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rollback {
    /// All networks go back to the kept weights, with a fresh optimizer
    /// (the jump's moments would keep pushing) and half the rate.
    Restart,
    /// That network alone goes back; the optimizer, shared by all, goes on.
    Network,
}

/// A loss this many times the kept one means the network has jumped out of
/// its basin, as a sine network can under Adam at a high rate; it does not
/// come back by itself.
pub const DIVERGED: f64 = 10.0;

/// A check counts as an improvement when its loss is this much lower
/// (relative) than the best (for plateaus, and for [`Keep::Improved`]).
pub const IMPROVEMENT: f64 = 1e-3;

/// A phase of training.
#[derive(Clone, Debug)]
pub struct Loop {
    pub phase: Phase,
    /// The optimizer's initial rate (the schedule sets each step's).
    pub lr: f64,
    /// Most optimizer steps.
    pub steps: usize,
    /// The loss is checked every this many steps (MC-INR: an epoch's).
    pub check_every: usize,
    /// Checks without an improvement of every network make a plateau
    /// (0: none) ...
    pub patience: usize,
    /// ... each halves the rate, and this many end the phase.
    pub plateaus: u32,
    pub keep: Keep,
    pub rollback: Rollback,
    pub start: Start,
}

/// What the weights a phase starts with are worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Nothing: the first check's weights are kept.
    Fresh,
    /// Trained weights: a network whose loss over all its sites at the end
    /// is not below its loss at the start gets them back, so that the phase
    /// never leaves it worse.
    Guarded,
    /// As [`Start::Guarded`], and that starting loss is also the one the
    /// checks must beat to be kept (MC-INR's clusters, whose epochs can
    /// all be worse than a converged start).
    Measured,
}

/// What a phase did.
#[derive(Clone, Debug)]
pub struct Trained {
    pub report: TrainReport,
    /// Checks of the loss (MC-INR's epochs), the last one possibly short.
    pub checks: usize,
    /// The rate of the last step before any warm-up share: where a phase
    /// that goes on from these weights may start.
    pub last_lr: f64,
    /// Unless the start is [`Start::Fresh`], each network's loss over all
    /// its sites before and after (the trained weights', also where they were not
    /// kept).
    pub before: Vec<f64>,
    pub after: Vec<f64>,
}

/// What training did, as the report gives it.
#[derive(Clone, Copy, Debug)]
pub struct TrainReport {
    pub steps: usize,
    /// The initial learning rate.
    pub lr: f64,
    /// Mean minibatch loss of the check windows whose weights were kept
    /// (for many networks, their mean).
    pub final_loss: f64,
    pub elapsed: Duration,
    pub stop: Stop,
    /// Times a network went back to its kept weights after a jump.
    pub rollbacks: usize,
}

/// Trains `trainee`, whose variables are `vs`'s, at `rate` within `clock`.
pub fn run(
    vs: &VarStore,
    trainee: &mut dyn Trainee,
    rate: &dyn Rate,
    opts: &Loop,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Trained> {
    let began = Instant::now();
    let k = trainee.networks();
    let before = match opts.start {
        Start::Fresh => Vec::new(),
        Start::Guarded | Start::Measured => trainee.full_losses()?,
    };
    let start = (opts.start != Start::Fresh).then(|| Snapshot::of(vs));
    let to_beat = match opts.start {
        Start::Measured => before.clone(),
        Start::Fresh | Start::Guarded => vec![f64::INFINITY; k],
    };
    let mut kept = Kept::new(vs, &to_beat, opts.keep);
    let mut plateau = Plateau::new(&to_beat, opts.patience, opts.plateaus);
    let mut opt = nn::Adam::default().build(vs, opts.lr).map_err(tch_error)?;
    let every = opts.check_every.max(1);
    let mut window = Window::new(k, vs.device());
    let (mut step, mut checks, mut rollbacks) = (0, 0, 0);
    let (mut scale, mut lr) = (1.0, opts.lr);
    let mut stop = Stop::Steps;
    let report = |step: usize, losses: &[f64], lr: f64| {
        let mean = losses.iter().sum::<f64>() / k as f64;
        Progress::at(opts.phase, step, opts.steps, mean, lr, began.elapsed())
    };
    while step < opts.steps {
        if clock.interrupted() {
            stop = Stop::Interrupted;
            break;
        }
        if clock.timed_out() {
            stop = Stop::Time;
            break;
        }
        let at = At {
            step,
            steps: opts.steps,
            check: step / every,
            checks: opts.steps.div_ceil(every),
            spent: clock.spent(began),
        };
        lr = scale * rate.at(at);
        opt.set_lr(lr * rate.warmup(step));
        let loss = trainee.minibatch_loss()?;
        opt.backward_step(&loss.sum(Kind::Float));
        window.add(&loss);
        step += 1;
        if step % every != 0 && step != opts.steps {
            continue;
        }
        let losses = window.take()?;
        checks += 1;
        if let Some(l) = losses.iter().find(|l| !l.is_finite()) {
            return Err(Error::Training(format!(
                "{} diverged at step {step} (loss {l}); try a lower --lr",
                opts.phase.name()
            )));
        }
        kept.record(vs, &losses);
        progress(&report(step, &losses, lr));
        let diverged: Vec<usize> = (0..k)
            .filter(|&g| losses[g] > DIVERGED * kept.loss[g])
            .collect();
        if !diverged.is_empty() {
            log::debug!(
                "{} step {step}: networks {diverged:?} diverged, back to their kept weights",
                opts.phase.name()
            );
            rollbacks += diverged.len();
            match opts.rollback {
                Rollback::Network => kept.weights.restore_rows_or_all(vs, k, &diverged),
                Rollback::Restart => {
                    kept.weights.restore(vs);
                    opt = nn::Adam::default().build(vs, lr).map_err(tch_error)?;
                    scale *= 0.5;
                    continue;
                }
            }
        }
        match plateau.update(&losses) {
            Some(Plateaued::Halve) => {
                scale *= 0.5;
                log::debug!(
                    "{} step {step}: loss on a plateau, rate halved",
                    opts.phase.name()
                );
            }
            Some(Plateaued::Stop) => {
                stop = Stop::Plateau;
                break;
            }
            None => {}
        }
    }
    if window.steps > 0 {
        // Cut short by the clock: the last, short window counts too.
        let losses = window.take()?;
        checks += 1;
        if losses.iter().all(|l| l.is_finite()) {
            kept.record(vs, &losses);
        }
        progress(&report(step, &losses, lr));
    }
    kept.weights.restore(vs);
    let after = match &start {
        Some(start) => {
            let after = trainee.full_losses()?;
            // Not below (NaN included): the start is kept.
            let worse: Vec<usize> = (0..k)
                .filter(|&g| after[g].partial_cmp(&before[g]) != Some(Ordering::Less))
                .collect();
            start.restore_rows_or_all(vs, k, &worse);
            after
        }
        None => Vec::new(),
    };
    Ok(Trained {
        report: TrainReport {
            steps: step,
            lr: opts.lr,
            final_loss: kept.loss.iter().sum::<f64>() / k as f64,
            elapsed: began.elapsed(),
            stop,
            rollbacks,
        },
        checks,
        last_lr: lr,
        before,
        after,
    })
}

/// The kept weights and each network's loss when they were kept.
struct Kept {
    weights: Snapshot,
    loss: Vec<f64>,
    keep: Keep,
}

impl Kept {
    fn new(vs: &VarStore, start: &[f64], keep: Keep) -> Kept {
        Kept {
            weights: Snapshot::of(vs),
            loss: start.to_vec(),
            keep,
        }
    }

    /// Keeps the weights of the networks whose check loss in `losses` is
    /// better than their kept one.
    fn record(&mut self, vs: &VarStore, losses: &[f64]) {
        let margin = match self.keep {
            Keep::Lower => 1.0,
            Keep::Improved => 1.0 - IMPROVEMENT,
        };
        let better: Vec<usize> = (0..losses.len())
            .filter(|&g| losses[g] < self.loss[g] * margin)
            .collect();
        for &g in &better {
            self.loss[g] = losses[g];
        }
        match better.len() {
            0 => {}
            _ if losses.len() == 1 => self.weights.take(vs),
            _ => self.weights.take_rows(vs, &better),
        }
    }
}

/// What a plateau does.
enum Plateaued {
    Halve,
    Stop,
}

/// Checks without improvement, per network.
struct Plateau {
    best: Vec<f64>,
    stale: Vec<usize>,
    patience: usize,
    left: u32,
}

impl Plateau {
    fn new(start: &[f64], patience: usize, plateaus: u32) -> Plateau {
        Plateau {
            best: start.to_vec(),
            stale: vec![0; start.len()],
            patience,
            left: plateaus,
        }
    }

    /// Counts a check's `losses`; a plateau when every network has gone
    /// `patience` checks without improving.
    fn update(&mut self, losses: &[f64]) -> Option<Plateaued> {
        for ((best, stale), &l) in self.best.iter_mut().zip(&mut self.stale).zip(losses) {
            if l < *best * (1.0 - IMPROVEMENT) {
                *best = l;
                *stale = 0;
            } else {
                *stale += 1;
            }
        }
        if self.patience == 0 || self.stale.iter().any(|&s| s < self.patience) {
            return None;
        }
        self.left = self.left.saturating_sub(1);
        if self.left == 0 {
            return Some(Plateaued::Stop);
        }
        self.stale.fill(0);
        Some(Plateaued::Halve)
    }
}

/// The losses of the steps since the last check, summed on the device (one
/// transfer a check, not one a step).
struct Window {
    sum: Tensor,
    steps: usize,
}

impl Window {
    fn new(k: usize, device: Device) -> Window {
        Window {
            sum: Tensor::zeros([k as i64], (Kind::Float, device)),
            steps: 0,
        }
    }

    fn add(&mut self, loss: &Tensor) {
        self.sum += loss.detach();
        self.steps += 1;
    }

    /// Each network's mean loss over the window, which starts again.
    fn take(&mut self) -> Result<Vec<f64>> {
        let sums = Vec::<f32>::try_from(&self.sum.to_device(Device::Cpu)).map_err(tch_error)?;
        let n = self.steps as f64;
        self.sum = self.sum.zeros_like();
        self.steps = 0;
        Ok(sums.into_iter().map(|s| s as f64 / n).collect())
    }
}

/// The rate of a cosine schedule from `lr` down to 1 % of it, `used` the
/// share of the budget (steps or time) spent; past the budget it stays at
/// the floor.
pub fn cosine_lr(lr: f64, used: f64) -> f64 {
    let floor = 0.01 * lr;
    floor + 0.5 * (lr - floor) * (1.0 + (std::f64::consts::PI * used.clamp(0.0, 1.0)).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plateaus_halve_then_stop() {
        let mut p = Plateau::new(&[f64::INFINITY; 2], 2, 2);
        assert!(p.update(&[1.0, 1.0]).is_none());
        // Network 0 stalls, network 1 improves: no plateau yet.
        assert!(p.update(&[1.0, 0.5]).is_none());
        assert!(p.update(&[0.9995, 0.4]).is_none());
        // Both stale for two checks (0.9995 is not 0.1 % below 1).
        assert!(p.update(&[1.0, 0.4]).is_none());
        assert!(matches!(p.update(&[1.0, 0.4]), Some(Plateaued::Halve)));
        assert!(p.update(&[1.0, 0.4]).is_none());
        assert!(matches!(p.update(&[1.0, 0.4]), Some(Plateaued::Stop)));
        let mut never = Plateau::new(&[1.0], 0, 1);
        assert!((0..100).all(|_| never.update(&[2.0]).is_none()));
    }

    #[test]
    fn the_cosine_falls_to_one_percent_and_stays() {
        assert_eq!(cosine_lr(1e-3, 0.0), 1e-3);
        assert!((cosine_lr(1e-3, 0.5) - (1e-5 + 0.5 * (1e-3 - 1e-5))).abs() < 1e-15);
        assert!((cosine_lr(1e-3, 1.0) - 1e-5).abs() < 1e-15);
        assert_eq!(cosine_lr(1e-3, 3.0), cosine_lr(1e-3, 1.0));
    }
}
