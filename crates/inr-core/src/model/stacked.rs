//! Stacked layers: one layer of `m` independent small networks at once
//! (docs/format.md, section 10.1; ECNR's MLPs of a scale, STSR-INR's
//! heads), `weight [m, out, in]` and `bias [m, out]`; network `q` uses
//! slice `q` of each.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::tensor::TensorRef;

/// A stacked layer as stored in the metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StackedLayerMeta {
    Sine {
        w0: f64,
        weight: TensorRef,
        bias: TensorRef,
    },
    Linear {
        weight: TensorRef,
        bias: TensorRef,
    },
}

impl StackedLayerMeta {
    /// The layer's weight and bias.
    pub fn tensors(&self) -> [&TensorRef; 2] {
        match self {
            StackedLayerMeta::Sine { weight, bias, .. }
            | StackedLayerMeta::Linear { weight, bias } => [weight, bias],
        }
    }
}

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

/// The `(out, in)` of a stacked layer of `mlps` networks, from its shapes alone, checked
/// against `mlps` and the feature limit.
pub(crate) fn shape(l: &StackedLayerMeta, mlps: u64) -> Result<(u64, u64)> {
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
    pub(crate) fn load<'a>(
        meta: &StackedLayerMeta,
        mlps: u64,
        section: &dyn Fn(u32) -> Result<&'a [u8]>,
    ) -> Result<StackedLayer> {
        let (out, inp) = shape(meta, mlps)?;
        let [weight, bias] = meta.tensors();
        let w0 = match meta {
            StackedLayerMeta::Sine { w0, .. } => Some(crate::model::residual_siren::w0(*w0)?),
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
pub(crate) fn finite<'a>(
    t: &TensorRef,
    section: &dyn Fn(u32) -> Result<&'a [u8]>,
) -> Result<Vec<f32>> {
    let values = t.decode(section)?;
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Invalid("non-finite network parameter".into()));
    }
    Ok(values)
}
