//! `inr encode --method stsr`: the STSR-INR encoder's options on the
//! command line.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use inr_core::error::{Error, Result};
use inr_encode::stsr::{self, StsrOptions, Vad};

use super::encode::{EncodeArgs, Run, DEFAULT_BITS};

/// The encoder's options from the command line.
fn options(args: &EncodeArgs, interrupt: Arc<AtomicBool>) -> Result<StsrOptions> {
    let s = &args.stsr;
    let heads = match &s.heads {
        None => None,
        Some(h) if h.len() == 3 => Some([h[0], h[1], h[2]]),
        Some(h) => {
            return Err(Error::InvalidArgument(format!(
                "--heads {h:?}: expected X,Y,Z"
            )))
        }
    };
    let train_stride = match s.train_stride.as_slice() {
        &[space, time] => [space, time],
        other => {
            return Err(Error::InvalidArgument(format!(
                "--train-stride {other:?}: expected SPACE,TIME"
            )))
        }
    };
    let defaults = StsrOptions::default();
    Ok(StsrOptions {
        size: args.size()?,
        heads,
        train_stride,
        latent_dim: s.latent_length,
        blocks: s.stsr_blocks,
        vad: s.vad.then_some(Vad {
            log_var: s.vad_log_var,
            kld_weight: s.kld_weight,
        }),
        lr: args.lr,
        steps: args.steps,
        batch: args.batch,
        patience: args.patience,
        bits: args.bits.unwrap_or(DEFAULT_BITS),
        finetune_steps: args.finetune_steps.unwrap_or(args.steps / 10),
        finetune_lr: args.finetune_lr,
        seed: args.seed,
        device: args.device()?,
        max_time: args.max_time(),
        interrupt: Some(interrupt),
        ..defaults
    })
}

/// Runs the STSR-INR encode of `run.samples` and writes the file and report.
pub(super) fn run(run: &Run, interrupt: Arc<AtomicBool>) -> Result<()> {
    let opts = options(run.args, interrupt.clone())?;
    let what = format!("STSR-INR, train stride {:?}", opts.train_stride);
    run.encode(&what, |args, progress| {
        let opts = options(args, interrupt.clone())?;
        stsr::encode(run.samples, &opts, progress)
    })
}
