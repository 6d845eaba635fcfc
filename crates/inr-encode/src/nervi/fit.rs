//! NeRVI's training: minibatches of whole images through the shared loop,
//! the paper's loss (Eq. 2): `alpha (|M (f - I)|_1 + |M' - M|_1) + (1 -
//! alpha) (1 - SSIM(f, I))`, L1 terms as means over pixels.

use tch::nn::VarStore;
use tch::{Kind, Tensor};

use inr_core::error::Result;

use super::data::ImageSet;
use super::net::NerviNet;
use super::ssim::ssim;
use crate::clock::Clock;
use crate::progress::{Phase, Progress};
use crate::train::{self, cosine_lr, At, Keep, Loop, Rate, Rollback, Start, Trained, Trainee};

/// The weight of the L1 terms (NeRVI, after NeRV).
pub const ALPHA: f64 = 0.7;

/// Training settings.
#[derive(Clone, Copy, Debug)]
pub struct FitOptions {
    pub lr: f64,
    pub steps: usize,
    /// Images per minibatch.
    pub batch: usize,
    pub patience: usize,
    pub background: [f64; 3],
}

impl Rate for FitOptions {
    fn at(&self, at: At) -> f64 {
        cosine_lr(self.lr, at.spent.max(at.step as f64 / at.steps as f64))
    }
}

/// The loss of `net` on the images `index`, with its graph.
pub fn loss(net: &NerviNet, set: &ImageSet, index: &Tensor, background: [f64; 3]) -> Tensor {
    let (color, mask) = set.targets(index, background);
    let out = (net.forward(&set.inputs.index_select(0, index)) + 1.0) * 0.5;
    let (pred_color, pred_mask) = (out.narrow(1, 0, 3), out.narrow(1, 3, 1));
    let l1 = (&mask * (&pred_color - &color)).abs().mean(Kind::Float)
        + (pred_mask - &mask).abs().mean(Kind::Float);
    let structure = 1.0 - ssim(&pred_color, &color).mean(Kind::Float);
    l1 * ALPHA + structure * (1.0 - ALPHA)
}

struct NerviTrainee<'a> {
    net: &'a NerviNet,
    set: &'a ImageSet,
    opts: &'a FitOptions,
}

impl Trainee for NerviTrainee<'_> {
    fn networks(&self) -> usize {
        1
    }

    fn minibatch_loss(&mut self) -> Result<Tensor> {
        let device = self.set.inputs.device();
        let b = self.opts.batch.clamp(1, self.set.len()) as i64;
        let index = Tensor::randint(self.set.len() as i64, [b], (Kind::Int64, device));
        Ok(loss(self.net, self.set, &index, self.opts.background))
    }

    fn full_losses(&self) -> Result<Vec<f64>> {
        let _guard = tch::no_grad_guard();
        let device = self.set.inputs.device();
        let n = self.set.len() as i64;
        let b = self.opts.batch.max(1) as i64;
        let mut sum = 0.0;
        for start in (0..n).step_by(b as usize) {
            let len = b.min(n - start);
            let index = Tensor::arange_start(start, start + len, (Kind::Int64, device));
            sum += loss(self.net, self.set, &index, self.opts.background).double_value(&[])
                * len as f64;
        }
        Ok(vec![sum / n as f64])
    }
}

/// Trains `net` (variables of `vs`) on `set` within `clock`.
pub fn fit(
    vs: &VarStore,
    net: &NerviNet,
    set: &ImageSet,
    opts: &FitOptions,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Trained> {
    let epoch = set.len().div_ceil(opts.batch.max(1));
    let settings = Loop {
        phase: Phase::Train,
        lr: opts.lr,
        steps: opts.steps,
        check_every: (10 * epoch).clamp(50, 200),
        patience: opts.patience,
        plateaus: 5,
        keep: Keep::Lower,
        rollback: Rollback::Restart,
        start: Start::Fresh,
    };
    let mut trainee = NerviTrainee { net, set, opts };
    train::run(vs, &mut trainee, opts, &settings, clock, progress)
}
