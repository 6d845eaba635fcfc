//! `inr encode --method stsr`: the STSR-INR encoder's options on the
//! command line.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use inr_core::error::{Error, Result};
use inr_encode::stsr::{self, StsrOptions, Vad};
use inr_encode::{device_name, Samples};

use super::encode::{EncodeArgs, DEFAULT_BITS};

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
        vad: (!s.no_vad).then_some(Vad {
            kld_weight: s.kld_weight,
            ..defaults.vad.expect("the paper's VAD")
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
        max_time: args
            .max_minutes
            .map(|m| Duration::from_secs_f64((m * 60.0).max(0.0))),
        interrupt: Some(interrupt),
        ..defaults
    })
}

/// Runs the STSR-INR encode of `samples` and writes the file and report.
pub fn run(
    args: &EncodeArgs,
    samples: &Samples,
    start: Instant,
    interrupt: Arc<AtomicBool>,
) -> Result<()> {
    let opts = options(args, interrupt)?;
    log::info!(
        "{} sites, {} steps, {} variables ({} components); STSR-INR, train stride {:?}; training on {}",
        samples.num_sites(),
        samples.times.len(),
        samples.variables.len(),
        samples.outputs(),
        opts.train_stride,
        device_name(opts.device)
    );
    let mut bar = super::encode::ProgressView::new(opts.max_time);
    let report = stsr::encode(samples, &opts, &mut |p| bar.update(p))?;
    bar.finish();
    super::encode::write_outputs(args, &report, start)
}
