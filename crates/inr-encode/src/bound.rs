//! Error-bounded files: after training, the stored sites where the decoded
//! file misses the data by more than the bound get corrections (integer
//! multiples of a step just under twice the bound), stored beside the
//! network; the decoder adds them at those sites (format section 10.9).

use inr_core::corrections::write::{self, Units};
use inr_core::decode::{DecodeOptions, Decoder, GridRequest};
use inr_core::error::{Error, Result};

use crate::data::{span, Samples, VariableInfo};
use crate::quality::{self, VariableQuality};
use crate::report::EncodeReport;

/// The bound asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ErrorBound {
    /// In the variables' units, the same for every variable.
    Absolute(f64),
    /// A fraction of each variable's range (over its components and steps).
    Relative(f64),
}

/// What the corrections did.
#[derive(Clone, Debug)]
pub struct CorrectionReport {
    pub bound: ErrorBound,
    /// Per variable, the absolute bound the file guarantees.
    pub bounds: Vec<f64>,
    /// Values (sites times components) corrected, and all values.
    pub corrected: u64,
    pub values: u64,
    /// The bytes the corrections add to the file.
    pub bytes: u64,
    /// The file's network alone at every site, before corrections.
    pub network_quality: Vec<VariableQuality>,
    /// The network ratios tried for the smallest file, with its bytes (0:
    /// no network fits that ratio; empty when the size was given).
    pub searched: Vec<(f64, u64)>,
}

impl ErrorBound {
    /// Checks the number: finite and above 0 (a relative bound below 1).
    pub fn check(self) -> Result<ErrorBound> {
        let ok = match self {
            ErrorBound::Absolute(a) => a.is_finite() && a > 0.0,
            ErrorBound::Relative(r) => r.is_finite() && r > 0.0 && r < 1.0,
        };
        if ok {
            Ok(self)
        } else {
            Err(Error::InvalidArgument(format!(
                "error bound {self:?}: must be above 0 (and a relative one below 1)"
            )))
        }
    }

    /// The absolute bound of `var`.
    pub fn of(self, var: &VariableInfo) -> f64 {
        match self {
            ErrorBound::Absolute(a) => a,
            ErrorBound::Relative(r) => r * var.span(),
        }
    }
}

/// The step for absolute bound `bound` of a variable of `name` and
/// component ranges `range`: twice the bound less a margin for float32
/// rounding (of the data, of the decoded value, and of the network's last
/// bits on another machine).
pub fn step_for(name: &str, range: &[[f64; 2]], bound: f64) -> Result<f64> {
    let magnitude = range
        .iter()
        .flat_map(|r| [r[0].abs(), r[1].abs()])
        .fold(0.0, f64::max);
    let margin = (magnitude + span(range)) * 2f64.powi(-20);
    if !(bound - margin >= 0.5 * bound && bound > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "error bound {bound:e} for {name:?} is below what float32 values hold for it \
             (at least {:e})",
            2.0 * margin
        )));
    }
    Ok(2.0 * (bound - margin))
}

/// Adds corrections to `report`'s file so that every stored site of
/// `samples` decodes within `bound`; updates its bytes and file quality.
pub fn correct<D>(
    samples: &Samples,
    report: &mut EncodeReport<D>,
    bound: ErrorBound,
) -> Result<()> {
    let bound = bound.check()?;
    let bounds: Vec<f64> = samples.variables.iter().map(|v| bound.of(v)).collect();
    let steps = samples
        .variables
        .iter()
        .zip(&bounds)
        .map(|(v, &b)| step_for(&v.name, &v.range, b))
        .collect::<Result<Vec<f64>>>()?;
    let decoder = Decoder::from_bytes(report.bytes.clone())?;
    let network = stored_values(&decoder, samples)?;
    // The file so far is the network alone: its quality was measured.
    let network_quality = report.file_quality.clone();
    let (units, corrected) = units_of(samples, &network, &steps);
    let bytes = write::add(
        &report.bytes,
        expand(samples, &bounds),
        expand(samples, &steps),
        &units,
    )?;
    let fixed = stored_values(&Decoder::from_bytes(bytes.clone())?, samples)?;
    let file_quality = quality::measure(samples, |p| Ok(fixed[p].clone()))?;
    check_bound(&file_quality, &bounds)?;
    report.corrections = Some(CorrectionReport {
        bound,
        bounds,
        corrected,
        values: samples.parts.iter().map(|p| p.targets.len() as u64).sum(),
        bytes: bytes.len().saturating_sub(report.bytes.len()) as u64,
        network_quality,
        searched: Vec::new(),
    });
    report.model_bytes += bytes.len() as u64 - report.bytes.len() as u64;
    report.bytes = bytes;
    report.file_quality = file_quality;
    Ok(())
}

/// A per-variable value for each of its components.
fn expand(samples: &Samples, per_variable: &[f64]) -> Vec<Vec<f64>> {
    samples
        .variables
        .iter()
        .zip(per_variable)
        .map(|(v, &x)| vec![x; v.components])
        .collect()
}

/// Per time step, variable and component, the correction units at every
/// stored site; and how many are nonzero.
fn units_of(samples: &Samples, network: &[Vec<f64>], steps: &[f64]) -> (Units, u64) {
    let mut units: Units = samples
        .times
        .iter()
        .map(|_| {
            samples
                .variables
                .iter()
                .map(|v| vec![Vec::new(); v.components])
                .collect()
        })
        .collect();
    let mut corrected = 0;
    for (part, pred) in samples.parts.iter().zip(network) {
        let s = samples
            .times
            .iter()
            .position(|&t| t == part.time)
            .unwrap_or(0);
        let width = part.width(&samples.variables);
        let mut column = 0;
        for &v in &part.variables {
            for (c, slot) in units[s][v].iter_mut().enumerate() {
                let field: Vec<i64> = (0..part.len())
                    .map(|q| {
                        let i = q * width + column;
                        let truth = samples.unscale(v, c, part.targets[i] as f64);
                        ((truth - pred[i]) / steps[v]).round() as i64
                    })
                    .collect();
                corrected += field.iter().filter(|&&u| u != 0).count() as u64;
                *slot = field;
                column += 1;
            }
        }
    }
    // A variable a step lacks: no corrections there.
    for step in &mut units {
        for (v, var) in step.iter_mut().enumerate() {
            let n = site_count(samples, v);
            for comp in var.iter_mut().filter(|c| c.is_empty()) {
                *comp = vec![0; n];
            }
        }
    }
    (units, corrected)
}

/// The stored sites of variable `v`.
fn site_count(samples: &Samples, v: usize) -> usize {
    let a = samples.variables[v].association;
    samples
        .parts
        .iter()
        .find(|p| p.association == a)
        .map_or(0, |p| p.len())
}

/// The largest error must be within each variable's bound.
fn check_bound(quality: &[VariableQuality], bounds: &[f64]) -> Result<()> {
    match quality
        .iter()
        .zip(bounds)
        .find(|(q, &b)| q.max_abs_error > b)
    {
        Some((q, b)) => Err(Error::Invalid(format!(
            "corrected {:?} still errs by {:e} > {b:e}: please report this",
            q.name, q.max_abs_error
        ))),
        None => Ok(()),
    }
}

/// The decoded values at every stored site, per part laid out as its
/// targets: native grid or stored mesh, at the part's time step.
pub fn stored_values(decoder: &Decoder, samples: &Samples) -> Result<Vec<Vec<f64>>> {
    let options = DecodeOptions::default();
    samples
        .parts
        .iter()
        .map(|part| {
            let time = Some(part.time);
            let arrays: Vec<Vec<f32>> = if samples.mesh().is_some() {
                decoder.decode_nodes(&part.variables, time, &options)?
            } else {
                let req = GridRequest {
                    variables: part.variables.clone(),
                    time,
                    ..GridRequest::default()
                };
                let grid = decoder.decode_grid(&req, &options)?;
                grid.arrays.into_iter().map(|a| a.values).collect()
            };
            let width = part.width(&samples.variables);
            let mut out = vec![0f64; part.targets.len()];
            let mut column = 0;
            for (&v, values) in part.variables.iter().zip(&arrays) {
                let n = samples.variables[v].components;
                if values.len() != part.len() * n {
                    return Err(Error::Shape(format!(
                        "{} decoded values of {:?} for {} sites",
                        values.len(),
                        samples.variables[v].name,
                        part.len()
                    )));
                }
                for (q, tuple) in values.chunks_exact(n).enumerate() {
                    for (c, &x) in tuple.iter().enumerate() {
                        out[q * width + column + c] = x as f64;
                    }
                }
                column += n;
            }
            Ok(out)
        })
        .collect()
}
