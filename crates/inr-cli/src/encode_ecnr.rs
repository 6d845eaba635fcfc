//! `inr encode --method ecnr`: the ECNR encoder's options on the command
//! line.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use inr_core::error::{Error, Result};
use inr_encode::ecnr::{self, EcnrOptions};

use super::encode::{EncodeArgs, Run};

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
        max_time: args.max_time(),
        interrupt: Some(interrupt),
    })
}

/// Runs the ECNR encode of `run.samples` and writes the file and report.
pub(super) fn run(run: &Run, interrupt: Arc<AtomicBool>) -> Result<()> {
    let opts = options(run.args, interrupt.clone())?;
    let what = format!("ECNR, {} scales", opts.scales);
    run.encode(&what, |args, progress| {
        let opts = options(args, interrupt.clone())?;
        ecnr::encode(run.samples, &opts, progress)
    })
}
