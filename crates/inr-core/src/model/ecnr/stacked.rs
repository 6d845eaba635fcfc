//! Stacked layers: one layer of all the MLPs of a scale at once
//! (docs/format.md, section 10.1), `weight [m, out, in]` and
//! `bias [m, out]`; MLP `q` uses slice `q` of each.

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::tensor::TensorRef;

use super::meta::StackedLayerMeta;

/// One stacked layer with its weights.
#[derive(Clone, Debug, PartialEq)]
pub struct StackedLayer {
    /// The sine frequency; `None` for the final linear layer.
    pub w0: Option<f32>,
    pub mlps: usize,
    pub out_features: usize,
    pub in_features: usize,
    /// `mlps x out x in`, row-major.
    pub weight: Vec<f32>,
    /// `mlps x out`.
    pub bias: Vec<f32>,
}

/// The `(mlps, out, in)` of a stacked layer, from its shapes alone, checked
/// against `mlps` and the feature limit.
pub(super) fn shape(l: &StackedLayerMeta, mlps: u64) -> Result<(u64, u64)> {
    let [weight, bias] = l.tensors();
    let feature = |f: u64| (1..=limits::MAX_FEATURES).contains(&f);
    match weight.shape[..] {
        [m, o, i] if m == mlps && feature(o) && feature(i) && bias.shape == [m, o] => Ok((o, i)),
        _ => Err(Error::Shape(format!(
            "stacked layer of weight {:?} and bias {:?} for {mlps} MLPs \
             (expected [{mlps}, out, in] and [{mlps}, out], out and in 1..={})",
            weight.shape,
            bias.shape,
            limits::MAX_FEATURES
        ))),
    }
}

impl StackedLayer {
    /// Decodes a layer whose shapes [`shape`] checked.
    pub(super) fn load<'a>(
        meta: &StackedLayerMeta,
        mlps: u64,
        section: &dyn Fn(u32) -> Result<&'a [u8]>,
    ) -> Result<StackedLayer> {
        let (out, inp) = shape(meta, mlps)?;
        let [weight, bias] = meta.tensors();
        let w0 = match meta {
            StackedLayerMeta::Sine { w0, .. } if w0.is_finite() && w0.abs() < 1e6 => {
                Some(*w0 as f32)
            }
            StackedLayerMeta::Sine { w0, .. } => {
                return Err(Error::Invalid(format!("w0 = {w0}")));
            }
            StackedLayerMeta::Linear { .. } => None,
        };
        Ok(StackedLayer {
            w0,
            mlps: mlps as usize,
            out_features: out as usize,
            in_features: inp as usize,
            weight: finite(weight, section)?,
            bias: finite(bias, section)?,
        })
    }

    /// MLP `q`'s weight (`out x in`, row-major) and bias.
    pub fn mlp(&self, q: usize) -> (&[f32], &[f32]) {
        let (o, i) = (self.out_features, self.in_features);
        (
            &self.weight[q * o * i..(q + 1) * o * i],
            &self.bias[q * o..(q + 1) * o],
        )
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> u64 {
        (self.weight.len() + self.bias.len()) as u64
    }
}

/// A tensor's values, every one finite.
pub(super) fn finite<'a>(
    t: &TensorRef,
    section: &dyn Fn(u32) -> Result<&'a [u8]>,
) -> Result<Vec<f32>> {
    let values = t.decode(section)?;
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Invalid("non-finite ECNR parameter".into()));
    }
    Ok(values)
}
