//! One scale of the pyramid, start to end: its residual blocks ranked and
//! kept, assigned to MLPs, trained with block-guided pruning rounds,
//! quantized to the scale's shared tables and fine-tuned; the result is
//! the scale as the file stores it and its reconstruction of the residual.

use tch::nn::VarStore;
use tch::Device;

use inr_core::error::Result;

use super::assign;
use super::blocks::Tiling;
use super::fit::{mlp_losses, predict, ScaleData, ScaleTrainee};
use super::prune;
use super::quantize;
use super::stacked::{MlpShape, Stacked};
use super::write::{ScaleModel, Stored, StoredLayer, EMPTY};
use crate::clock::Clock;
use crate::progress::{Phase, Progress};
use crate::tensor_values as values;
use crate::train::{self, At, Keep, Loop, Rate, Rollback, Start};

/// The paper's schedule, as shares of a scale's training time: pruning
/// after each of the first four phases (epochs 150, 225, 300, 375 of 500).
const PHASES: [f64; 5] = [0.3, 0.15, 0.15, 0.15, 0.25];
/// Sparsity after each pruning round.
pub const SPARSITY: [f64; 4] = [0.3, 0.4, 0.45, 0.5];
/// The rate's factor after each pruning round.
const DECAY: f64 = 0.75;
/// Optimizer steps an epoch at least.
const MIN_EPOCH_STEPS: usize = 16;
/// Share of a scale's time for fine-tuning its quantized tables.
const FINE_TUNE_SHARE: f64 = 0.15;

/// How a scale trains.
#[derive(Clone, Debug)]
pub struct ScaleTraining {
    pub shape: MlpShape,
    pub lr: f64,
    /// Epochs (every sample of every kept block once) of the training
    /// before quantization, at most.
    pub epochs: usize,
    /// Samples per step over all MLPs.
    pub batch: usize,
    pub prune: bool,
    /// Table bits (0: f32).
    pub bits: u8,
    pub seed: u64,
    pub device: Device,
}

/// What a scale gives.
pub struct Fitted {
    pub model: ScaleModel,
    /// The residual as stored (quantized), and before quantization, on the
    /// scale's grid.
    pub stored: Vec<f32>,
    pub trained: Vec<f32>,
    pub steps: usize,
    pub sparsity: f64,
    pub mse: f64,
}

/// A constant rate.
struct Constant(f64);

impl Rate for Constant {
    fn at(&self, _: At) -> f64 {
        self.0
    }
}

/// Fits `residual` (`c` channels on `tiling`'s grid) with the `keep` most
/// energetic blocks, `per_mlp` blocks to an MLP.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    tiling: Tiling,
    residual: &[f32],
    c: usize,
    keep: usize,
    per_mlp: usize,
    opts: &ScaleTraining,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Fitted> {
    let blocks = strongest(&tiling.energies(residual, c), keep);
    let mlps = blocks.len().div_ceil(per_mlp.max(1)).max(1);
    let (rows, _) = tiling.gather(residual, c, &blocks);
    let mlp_of = assign::balanced(&rows, blocks.len(), mlps, opts.seed)?;
    let data = ScaleData::new(tiling, residual, c, blocks, mlp_of, mlps, opts.device)?;
    let vs = VarStore::new(opts.device);
    let mut net = Stacked::new(&vs.root(), mlps, opts.shape, data.blocks.len());
    let mut steps = 0;
    let level_len = tiling.level.len() * c;
    if data.blocks.is_empty() {
        return Ok(Fitted {
            model: store(&net, &data, &tiling)?,
            stored: vec![0.0; level_len],
            trained: vec![0.0; level_len],
            steps,
            sparsity: 0.0,
            mse: 0.0,
        });
    }
    // At least MIN_EPOCH_STEPS steps an epoch: a small scale (the coarsest)
    // would otherwise take one step an epoch.
    let per_mlp_samples = (data.blocks.len() * tiling.volume()).div_ceil(mlps);
    let batch = (opts.batch / mlps)
        .min(per_mlp_samples.div_ceil(MIN_EPOCH_STEPS))
        .max(16);
    let epoch_steps = (data.blocks.len() * tiling.volume())
        .div_ceil(batch * mlps)
        .max(1);
    let train_clock = clock.share(1.0 - FINE_TUNE_SHARE * f64::from(opts.bits > 0));
    let mut lr = opts.lr;
    let rounds = if opts.prune { PHASES.len() } else { 1 };
    for r in 0..rounds {
        let share = if opts.prune {
            PHASES[r] / PHASES[r..].iter().sum::<f64>()
        } else {
            1.0
        };
        let phase_epochs = if opts.prune { PHASES[r] } else { 1.0 } * opts.epochs as f64;
        let settings = loop_settings(
            lr,
            (phase_epochs * epoch_steps as f64).ceil() as usize,
            r > 0,
        );
        let run = (&vs, &net, &data, batch);
        let done = run_phase(run, &settings, &train_clock.share(share), progress)?;
        steps += done.report.steps;
        log::debug!(
            "scale factor {}: phase {r}: {} steps in {:.1?}, loss {:.3e}",
            tiling.level.factor,
            done.report.steps,
            done.report.elapsed,
            done.report.final_loss
        );
        if opts.prune && r < SPARSITY.len() {
            let losses = mlp_losses(&net, &data)?;
            prune::prune(&mut net, &losses, SPARSITY[r])?;
            lr *= DECAY;
        }
    }
    let trained = scatter(&tiling, &data, &predict(&net, &data)?, level_len);
    if opts.bits > 0 {
        quantize::quantize(&vs.root(), &mut net, opts.bits)?;
        let settings = Loop {
            phase: Phase::FineTune,
            ..loop_settings(
                0.1 * lr,
                (0.15 * opts.epochs as f64 * epoch_steps as f64).ceil() as usize,
                true,
            )
        };
        let done = run_phase((&vs, &net, &data, batch), &settings, clock, progress)?;
        steps += done.report.steps;
    }
    let stored = scatter(&tiling, &data, &predict(&net, &data)?, level_len);
    let losses = mlp_losses(&net, &data)?;
    Ok(Fitted {
        model: store(&net, &data, &tiling)?,
        stored,
        trained,
        steps,
        sparsity: prune::sparsity(&net)?,
        mse: losses.iter().sum::<f64>() / losses.len().max(1) as f64,
    })
}

/// One phase of the shared loop on a scale's MLPs (`batch` samples per
/// MLP and step), at the constant rate of `settings`.
fn run_phase(
    (vs, net, data, batch): (&VarStore, &Stacked, &ScaleData, usize),
    settings: &Loop,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<train::Trained> {
    let mut trainee = ScaleTrainee { net, data, batch };
    train::run(
        vs,
        &mut trainee,
        &Constant(settings.lr),
        settings,
        clock,
        progress,
    )
}

fn loop_settings(lr: f64, steps: usize, resumed: bool) -> Loop {
    Loop {
        phase: Phase::Train,
        lr,
        steps: steps.max(1),
        check_every: 50,
        patience: 0,
        plateaus: 0,
        keep: Keep::Lower,
        rollback: Rollback::Restart,
        start: if resumed {
            Start::Guarded
        } else {
            Start::Fresh
        },
    }
}

/// The `keep` blocks of highest energy that are not negligible, in index
/// order.
fn strongest(energy: &[f64], keep: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..energy.len()).filter(|&b| energy[b] > 0.0).collect();
    order.sort_by(|&a, &b| energy[b].total_cmp(&energy[a]).then(a.cmp(&b)));
    order.truncate(keep);
    order.sort_unstable();
    order
}

/// Block predictions written into a zero array of the scale's grid.
fn scatter(tiling: &Tiling, data: &ScaleData, pred: &[f32], len: usize) -> Vec<f32> {
    let mut out = vec![0f32; len];
    tiling.scatter(pred, data.channels, &data.blocks, &mut out);
    out
}

/// The scale as the file stores it.
fn store(net: &Stacked, data: &ScaleData, tiling: &Tiling) -> Result<ScaleModel> {
    let m = net.m;
    let mut assignment = vec![EMPTY; tiling.len()];
    for (&b, &q) in data.blocks.iter().zip(&data.mlp_of) {
        assignment[b] = q;
    }
    let l = net.latents.size()[1] as usize;
    let z = values(&net.latents())?;
    let mut latents = vec![Vec::new(); tiling.counts[3]];
    for (row, &b) in data.blocks.iter().enumerate() {
        latents[tiling.time_of(b)].extend_from_slice(&z[row * l..(row + 1) * l]);
    }
    let layers = (0..net.layers.len())
        .map(|i| layer(net, i, m))
        .collect::<Result<Vec<_>>>()?;
    let tables = match &net.tables {
        Some(t) => Some([values(&t.weights)?, values(&t.biases)?, values(&t.latents)?].map(sorted)),
        None => None,
    };
    Ok(ScaleModel {
        factor: tiling.level.factor,
        dims: tiling.level.dims,
        assignment,
        mlps: m,
        latents,
        layers,
        tables,
    })
}

fn sorted(mut v: Vec<f32>) -> Vec<f32> {
    v.sort_by(f32::total_cmp);
    v
}

/// Layer `i` transposed to the file's `[m, out, in]`, its values as used.
fn layer(net: &Stacked, i: usize, m: usize) -> Result<StoredLayer> {
    let l = &net.layers[i];
    let w = net.weight(i).transpose(1, 2);
    let size = w.size();
    let (out, inp) = (size[1] as u64, size[2] as u64);
    let keep = |mask: &Option<tch::Tensor>, t: bool| -> Result<Option<Vec<bool>>> {
        mask.as_ref()
            .map(|mk| {
                let mk = if t {
                    mk.transpose(1, 2)
                } else {
                    mk.shallow_clone()
                };
                Ok(values(&mk)?.into_iter().map(|v| v > 0.0).collect())
            })
            .transpose()
    };
    Ok(StoredLayer {
        weight: Stored {
            shape: vec![m as u64, out, inp],
            values: values(&w)?,
            keep: keep(&l.weight_mask, true)?,
        },
        bias: Stored {
            shape: vec![m as u64, out],
            values: values(&net.bias(i))?,
            keep: keep(&l.bias_mask, false)?,
        },
        sine: l.sine,
    })
}
