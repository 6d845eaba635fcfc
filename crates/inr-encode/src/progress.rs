//! What an encode tells while it trains: the phase, the step, the loss,
//! and why a phase ended.

use std::time::Duration;

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

/// Progress, reported at every check of the loss.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub phase: Phase,
    /// Optimizer steps of the phase so far (Reptile: outer steps).
    pub step: usize,
    pub steps: usize,
    /// Mean training loss (MSE in [-1, 1] units) since the last check;
    /// for many networks at once, their mean.
    pub loss: f64,
    /// PSNR that loss means over the scaled range (2): `10 log10(4 / loss)`.
    pub psnr_estimate: f64,
    pub lr: f64,
    /// Since the phase began.
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

/// PSNR of a mean squared error over the scaled range [-1, 1].
pub fn psnr_of_scaled_mse(mse: f64) -> f64 {
    10.0 * (4.0 / mse).log10()
}
