//! `inr encode --max-error` (or `--max-rel-error`) without a size: the
//! network's compression ratio is searched for the smallest file, network
//! and corrections together.

use inr_core::error::{Error, Result};
use inr_encode::bound::{self, ErrorBound};
use inr_encode::{self as encode, EncodeReport};

use super::encode::{EncodeArgs, Run};

/// Encodes tried at most; each gets this share of --max-minutes.
pub const MAX_TRIALS: usize = 4;

/// The first network ratio tried: on CPU budgets smaller networks train
/// further and usually leave less to correct (docs/benchmarks.md).
pub const FIRST_RATIO: f64 = 100.0;

/// From [`FIRST_RATIO`], doubles the ratio while the file shrinks, or halves
/// it when the first doubling grows the file; keeps the smallest file.
pub(super) fn smallest<D>(
    run: &Run,
    bound: ErrorBound,
    encode: &impl Fn(&EncodeArgs, &mut dyn FnMut(&encode::Progress)) -> Result<EncodeReport<D>>,
    progress: &mut dyn FnMut(&encode::Progress),
) -> Result<EncodeReport<D>> {
    let mut trial = |ratio: f64| -> Result<EncodeReport<D>> {
        let mut args = run.args.clone();
        args.ratio = Some(ratio);
        args.max_minutes = run.args.max_minutes.map(|m| m / MAX_TRIALS as f64);
        let mut report = encode(&args, progress)?;
        bound::correct(run.samples, &mut report, bound)?;
        log::info!(
            "network ratio {ratio}: file {} bytes ({} of corrections)",
            report.bytes.len(),
            report.corrections.as_ref().map_or(0, |c| c.bytes)
        );
        Ok(report)
    };
    let mut tried = vec![(FIRST_RATIO, 0u64)];
    let mut best = trial(FIRST_RATIO)?;
    tried[0].1 = best.bytes.len() as u64;
    let mut factor = 2.0;
    let mut ratio = FIRST_RATIO;
    while tried.len() < MAX_TRIALS {
        ratio *= factor;
        // A ratio no network fits (too small a budget) ends this direction.
        let size = match trial(ratio) {
            Ok(report) if report.bytes.len() < best.bytes.len() => {
                let size = report.bytes.len() as u64;
                best = report;
                tried.push((ratio, size));
                continue;
            }
            Ok(report) => report.bytes.len() as u64,
            Err(Error::InvalidArgument(e)) => {
                log::info!("network ratio {ratio}: {e}");
                0 // no file: the report says none fits
            }
            Err(e) => return Err(e),
        };
        tried.push((ratio, size));
        if tried.len() == 2 {
            // Bigger networks may pay: go the other way.
            factor = 0.5;
            ratio = FIRST_RATIO;
        } else {
            break;
        }
    }
    if let Some(c) = &mut best.corrections {
        c.searched = tried;
    }
    Ok(best)
}
