//! `inr encode --method mc-inr`: the MC-INR encoder's options, progress and
//! report on the command line.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use inr_core::error::{Error, Result};
use inr_encode::mc_inr::{self, GroupTraining, McInrOptions, MetaOptions, Schedule, Weighting};

use super::encode::{ClusterWeights, EncodeArgs, LrSchedule, Run};

/// The encoder's options from the command line.
fn options(args: &EncodeArgs, interrupt: Arc<AtomicBool>) -> Result<McInrOptions> {
    let mc = &args.mc;
    let size = args.size()?;
    if !(mc.sample_fraction > 0.0 && mc.sample_fraction <= 1.0) {
        return Err(Error::InvalidArgument(format!(
            "--sample-fraction {} (must be in (0, 1])",
            mc.sample_fraction
        )));
    }
    if mc.cluster_batch == 0 || mc.max_epochs == 0 {
        return Err(Error::InvalidArgument(
            "--cluster-batch and --max-epochs must be above 0".into(),
        ));
    }
    let lr = args.lr.unwrap_or(GroupTraining::default().lr);
    if !(lr.is_finite() && lr > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "--lr {lr} (must be above 0)"
        )));
    }
    Ok(McInrOptions {
        clusters: mc.clusters,
        weighting: match mc.cluster_weights {
            ClusterWeights::Uniform => Weighting::Uniform,
            ClusterWeights::Variation => Weighting::Variation,
        },
        trunk_blocks: mc.trunk_blocks,
        branch_blocks: mc.branch_blocks,
        size,
        bits: args.bits.unwrap_or(super::encode::DEFAULT_BITS),
        omega: args.omega,
        split_threshold: mc.split_threshold,
        max_splits: mc.max_splits,
        split_rounds: mc.split_rounds,
        train_unsplit: mc.train_unsplit,
        meta: MetaOptions {
            steps: mc.meta_steps,
            inner_lr: 2.0 * lr,
            ..MetaOptions::default()
        },
        train: GroupTraining {
            lr,
            schedule: match mc.lr_schedule {
                LrSchedule::Step => Schedule::Step,
                LrSchedule::Cosine => Schedule::Cosine,
            },
            decay: mc.lr_decay,
            decay_every: mc.decay_every,
            patience: mc.epoch_patience,
            sample_fraction: mc.sample_fraction,
            batch: mc.cluster_batch,
            max_epochs: mc.max_epochs,
            warmup_steps: 0,
        },
        blend_width: mc.blend_width,
        max_time: args.max_time(),
        interrupt: Some(interrupt),
        seed: args.seed,
        device: args.device()?,
    })
}

/// Runs the MC-INR encode of `run.samples` and writes the file and report.
pub(super) fn run(run: &Run, interrupt: Arc<AtomicBool>) -> Result<()> {
    let opts = options(run.args, interrupt.clone())?;
    let what = format!(
        "MC-INR, {} clusters, trunk {} / branch {} blocks",
        opts.clusters, opts.trunk_blocks, opts.branch_blocks
    );
    run.encode(&what, |args, progress| {
        let opts = options(args, interrupt.clone())?;
        mc_inr::encode(run.samples, &opts, progress)
    })
}
