//! Error measures against the original data: per variable, PSNR over the
//! data's range (`20 log10(max - min) - 10 log10(MSE)`, the project's
//! convention; for a vector, `max - min` spans all its components and the MSE
//! averages them), NRMSE (RMSE over that range), R^2 (one minus the squared
//! error over the squared deviation from the mean) and the largest absolute
//! error.

use inr_core::error::Result;

use super::data::Samples;

/// The quality of one variable.
#[derive(Clone, Debug, PartialEq)]
pub struct VariableQuality {
    pub name: String,
    pub psnr: f64,
    pub mse: f64,
    /// sqrt(MSE) / range.
    pub nrmse: f64,
    /// 1 - sum (error^2) / sum ((value - mean)^2).
    pub r2: f64,
    pub max_abs_error: f64,
    /// max - min over all components and steps.
    pub range: f64,
}

/// Measures predictions in the variables' units. `predict(p)` gives, for
/// part `p`, values laid out as the part's targets.
pub fn measure(
    samples: &Samples,
    mut predict: impl FnMut(usize) -> Result<Vec<f64>>,
) -> Result<Vec<VariableQuality>> {
    let nv = samples.variables.len();
    let mean = means(samples);
    let (mut sq, mut count, mut max_err) = (vec![0f64; nv], vec![0u64; nv], vec![0f64; nv]);
    let mut deviation = vec![0f64; nv];
    for (p, part) in samples.parts.iter().enumerate() {
        let pred = predict(p)?;
        let width = part.width(&samples.variables);
        debug_assert_eq!(pred.len(), part.targets.len());
        for (t, y) in part
            .targets
            .chunks_exact(width)
            .zip(pred.chunks_exact(width))
        {
            let mut i = 0;
            for &v in &part.variables {
                for c in 0..samples.variables[v].components {
                    let truth = samples.unscale(v, c, t[i] as f64);
                    let e = (y[i] - truth).abs();
                    sq[v] += e * e;
                    deviation[v] += (truth - mean[v]) * (truth - mean[v]);
                    max_err[v] = max_err[v].max(e);
                    i += 1;
                }
                count[v] += samples.variables[v].components as u64;
            }
        }
    }
    Ok(samples
        .variables
        .iter()
        .enumerate()
        .map(|(v, var)| {
            let span = var.span();
            let mse = sq[v] / count[v].max(1) as f64;
            VariableQuality {
                name: var.name.clone(),
                psnr: psnr(span, mse),
                mse,
                nrmse: mse.sqrt() / span,
                r2: 1.0 - sq[v] / deviation[v],
                max_abs_error: max_err[v],
                range: span,
            }
        })
        .collect())
}

/// Per variable, the mean of its values (all components, sites and steps).
fn means(samples: &Samples) -> Vec<f64> {
    let nv = samples.variables.len();
    let (mut sum, mut count) = (vec![0f64; nv], vec![0u64; nv]);
    for part in &samples.parts {
        let width = part.width(&samples.variables);
        for t in part.targets.chunks_exact(width) {
            let mut i = 0;
            for &v in &part.variables {
                for c in 0..samples.variables[v].components {
                    sum[v] += samples.unscale(v, c, t[i] as f64);
                    i += 1;
                }
                count[v] += samples.variables[v].components as u64;
            }
        }
    }
    sum.iter()
        .zip(&count)
        .map(|(s, &n)| s / n.max(1) as f64)
        .collect()
}

/// `20 log10(range) - 10 log10(mse)`; infinite for an exact reconstruction.
pub fn psnr(range: f64, mse: f64) -> f64 {
    if mse == 0.0 {
        f64::INFINITY
    } else {
        20.0 * range.log10() - 10.0 * mse.log10()
    }
}

/// The mean PSNR over variables.
pub fn mean_psnr(q: &[VariableQuality]) -> f64 {
    q.iter().map(|v| v.psnr).sum::<f64>() / q.len().max(1) as f64
}
