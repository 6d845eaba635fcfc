//! Block-guided pruning (the paper's Eq. 2): a weight's importance is its
//! magnitude, min-max normalized within its layer over all MLPs of the
//! scale, plus `lambda` times its MLP's average block loss, min-max
//! normalized over the MLPs; the least important go first until the masks
//! reach the target sparsity. An MLP whose blocks it fits well loses more.

use tch::{Kind, Tensor};

use inr_core::error::Result;

use super::stacked::Stacked;
use crate::tensor_values as values;

/// The paper's weight of the block loss.
pub const LAMBDA: f64 = 0.1;

/// Prunes the masked tensors of `net` to `sparsity` (the share of their
/// entries set to zero), given each MLP's loss.
pub fn prune(net: &mut Stacked, mlp_loss: &[f64], sparsity: f64) -> Result<()> {
    let loss_norm = min_max(mlp_loss);
    let mut scores: Vec<f32> = Vec::new();
    let mut tensors = Vec::new();
    for (i, layer) in net.layers.iter().enumerate() {
        for (param, mask) in [
            (&layer.weight, &layer.weight_mask),
            (&layer.bias, &layer.bias_mask),
        ] {
            let Some(mask) = mask else { continue };
            let s = importance(param, mask, &loss_norm)?;
            scores.extend_from_slice(&s);
            tensors.push((i, param.size(), s.len()));
        }
    }
    if scores.is_empty() {
        return Ok(());
    }
    let cut = ((scores.len() as f64 * sparsity.clamp(0.0, 1.0)) as usize).min(scores.len());
    let mut sorted = scores.clone();
    sorted.sort_by(f32::total_cmp);
    let threshold = if cut == 0 {
        f32::NEG_INFINITY
    } else {
        sorted[cut - 1]
    };
    let mut at = 0;
    let mut masks = Vec::new();
    for (_, size, n) in &tensors {
        let keep: Vec<f32> = scores[at..at + n]
            .iter()
            .map(|&s| if s > threshold { 1.0 } else { 0.0 })
            .collect();
        at += n;
        masks.push(Tensor::from_slice(&keep).view(size.as_slice()));
    }
    let mut next = masks.into_iter();
    for layer in &mut net.layers {
        for m in [&mut layer.weight_mask, &mut layer.bias_mask]
            .into_iter()
            .flatten()
        {
            let new = next.next().expect("one mask per masked tensor");
            *m = new.to_device(m.device());
        }
    }
    Ok(())
}

/// Importance of every entry of `param` (`[m, ...]`); pruned entries score
/// below everything, so they stay pruned.
fn importance(param: &Tensor, mask: &Tensor, loss_norm: &[f64]) -> Result<Vec<f32>> {
    let m = param.size()[0] as usize;
    let mag = values(&(param.abs() * mask))?;
    let keep = values(mask)?;
    let kept_mag: Vec<f64> = mag
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k > 0.0)
        .map(|(&v, _)| v as f64)
        .collect();
    let (lo, hi) = bounds(&kept_mag);
    let per = mag.len() / m.max(1);
    Ok(mag
        .iter()
        .zip(&keep)
        .enumerate()
        .map(|(e, (&v, &k))| {
            if k == 0.0 {
                return f32::NEG_INFINITY;
            }
            let n = if hi > lo {
                (v as f64 - lo) / (hi - lo)
            } else {
                0.0
            };
            (n + LAMBDA * loss_norm[e / per]) as f32
        })
        .collect())
}

fn bounds(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn min_max(v: &[f64]) -> Vec<f64> {
    let (lo, hi) = bounds(v);
    v.iter()
        .map(|&x| if hi > lo { (x - lo) / (hi - lo) } else { 0.0 })
        .collect()
}

/// Share of the masked entries that are pruned.
pub fn sparsity(net: &Stacked) -> Result<f64> {
    let (mut kept, mut all) = (0.0, 0.0);
    for l in &net.layers {
        for mask in [&l.weight_mask, &l.bias_mask].into_iter().flatten() {
            kept += mask.sum(Kind::Double).double_value(&[]);
            all += mask.numel() as f64;
        }
    }
    Ok(if all > 0.0 { 1.0 - kept / all } else { 0.0 })
}
