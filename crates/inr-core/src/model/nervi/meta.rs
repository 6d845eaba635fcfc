//! The `"nervi"` model object as stored in the metadata (docs/format.md,
//! section 10.6): what a writer serializes and a reader parses before any
//! section is read.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::tensor::TensorRef;

/// The family's metadata, as stored under `"model"` (without `family`,
/// which [`NerviMeta::to_value`] adds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NerviMeta {
    /// The view parameters, plus one for time when the file has a time axis.
    pub inputs: u32,
    /// Per input, `x_n = scale * c + shift`, `c = (t, p_1, ..., p_P)`.
    pub input_scale: Vec<f64>,
    pub input_shift: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<EncodingMeta>,
    pub mlp: Vec<MlpLayerMeta>,
    /// `[C0, H0, W0]`: the MLP's output as a feature map.
    pub reshape: [u64; 3],
    pub upscale: Vec<UpscaleMeta>,
    pub head: ConvMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_activation: Option<OutputActivation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composite: Option<CompositeMeta>,
}

/// The positional encoding of the normalized inputs (section 10.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EncodingMeta {
    Fourier {
        base: f64,
        levels: u32,
        include_input: bool,
    },
}

/// A layer of the MLP: the shared layer kinds (section 10.1), or a residual
/// block that changes the width (NeRVI's SIREN residual block with a
/// projected skip).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MlpLayerMeta {
    Sine {
        w0: f64,
        weight: TensorRef,
        bias: TensorRef,
    },
    ResidualSine {
        w0: [f64; 2],
        weight1: TensorRef,
        bias1: TensorRef,
        weight2: TensorRef,
        bias2: TensorRef,
    },
    ResidualSineProjected {
        w0: [f64; 2],
        weight1: TensorRef,
        bias1: TensorRef,
        weight2: TensorRef,
        bias2: TensorRef,
        shortcut_weight: TensorRef,
        shortcut_bias: TensorRef,
    },
}

impl MlpLayerMeta {
    /// The layer's tensors, in order.
    pub fn tensors(&self) -> Vec<&TensorRef> {
        match self {
            MlpLayerMeta::Sine { weight, bias, .. } => vec![weight, bias],
            MlpLayerMeta::ResidualSine {
                weight1,
                bias1,
                weight2,
                bias2,
                ..
            } => vec![weight1, bias1, weight2, bias2],
            MlpLayerMeta::ResidualSineProjected {
                weight1,
                bias1,
                weight2,
                bias2,
                shortcut_weight,
                shortcut_bias,
                ..
            } => vec![
                weight1,
                bias1,
                weight2,
                bias2,
                shortcut_weight,
                shortcut_bias,
            ],
        }
    }
}

/// A convolution layer: `weight [C_out, C_in, k, k]`, `bias [C_out]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvMeta {
    pub weight: TensorRef,
    pub bias: TensorRef,
}

/// An upscale block: convolution to `C r²` channels, pixel shuffle by `r`,
/// GELU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpscaleMeta {
    pub factor: u32,
    pub weight: TensorRef,
    pub bias: TensorRef,
}

/// The activation applied to the head's output before the ranges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputActivation {
    #[default]
    Identity,
    Tanh,
}

/// How to present the outputs as one picture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompositeMeta {
    /// The color variable.
    pub color: String,
    /// The foreground mask variable (one component, 0 background, 1 foreground).
    pub mask: String,
    /// One value per color component.
    pub background: Vec<f64>,
}

impl NerviMeta {
    /// Parses the `"model"` object.
    pub fn from_value(v: &serde_json::Value) -> Result<NerviMeta> {
        serde_json::from_value(v.clone()).map_err(|e| Error::Invalid(format!("nervi model: {e}")))
    }

    /// The `"model"` value to store, `family` included.
    pub fn to_value(&self) -> Result<serde_json::Value> {
        let mut v = serde_json::to_value(self).map_err(|e| Error::Invalid(e.to_string()))?;
        v["family"] = serde_json::Value::from(crate::model::FAMILY_NERVI);
        Ok(v)
    }

    /// Every tensor: the MLP's, the upscale blocks', the head's.
    pub fn tensors(&self) -> Vec<&TensorRef> {
        let mut all: Vec<&TensorRef> = self.mlp.iter().flat_map(|l| l.tensors()).collect();
        for u in &self.upscale {
            all.extend([&u.weight, &u.bias]);
        }
        all.extend([&self.head.weight, &self.head.bias]);
        all
    }

    /// Every section the model reads.
    pub fn sections_used(&self) -> Vec<u32> {
        let mut s: Vec<u32> = self.tensors().iter().flat_map(|t| t.sections()).collect();
        s.sort_unstable();
        s.dedup();
        s
    }
}
