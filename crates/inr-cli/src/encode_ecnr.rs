//! `inr encode --method ecnr`: the ECNR encoder's options on the command
//! line.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use inr_core::error::{Error, Result};
use inr_encode::ecnr::{self, EcnrOptions};
use inr_encode::{device_name, Samples};

use super::encode::{EncodeArgs, ProgressView};

/// The encoder's options from the command line.
fn options(args: &EncodeArgs, interrupt: Arc<AtomicBool>) -> Result<EcnrOptions> {
    let e = &args.ecnr;
    let block = match &e.block {
        None => None,
        Some(b) if b.len() == 3 => Some([b[0], b[1], b[2]]),
        Some(b) => {
            return Err(Error::InvalidArgument(format!(
                "--block {b:?}: expected X,Y,Z"
            )))
        }
    };
    let defaults = EcnrOptions::default();
    Ok(EcnrOptions {
        size: args.size()?,
        scales: e.scales,
        block,
        latent_dim: e.latent_dim,
        width: e.mlp_width,
        sine_layers: defaults.sine_layers,
        blocks_per_mlp: e.blocks_per_mlp.clone(),
        lr: args.lr.unwrap_or(defaults.lr),
        epochs: e.epochs,
        batch: args.batch,
        prune: !e.no_prune,
        bits: args.bits.unwrap_or(defaults.bits),
        seed: args.seed,
        device: args.device()?,
        max_time: args
            .max_minutes
            .map(|m| Duration::from_secs_f64((m * 60.0).max(0.0))),
        interrupt: Some(interrupt),
    })
}

/// Runs the ECNR encode of `samples` and writes the file and report.
pub fn run(
    args: &EncodeArgs,
    samples: &Samples,
    start: Instant,
    interrupt: Arc<AtomicBool>,
) -> Result<()> {
    let opts = options(args, interrupt)?;
    log::info!(
        "{} sites, {} steps, {} variables ({} components); ECNR, {} scales; training on {}",
        samples.num_sites(),
        samples.times.len(),
        samples.variables.len(),
        samples.outputs(),
        opts.scales,
        device_name(opts.device)
    );
    let mut bar = ProgressView::new(opts.max_time);
    let report = ecnr::encode(samples, &opts, &mut |p| bar.update(p))?;
    bar.finish();
    super::encode::write_outputs(args, &report, start)
}
