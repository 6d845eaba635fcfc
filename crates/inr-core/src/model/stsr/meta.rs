//! The `"stsr_inr"` model object as stored in the metadata (docs/format.md,
//! section 10.5): what a writer serializes and a reader parses before any
//! section is read.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::metadata::Association;
use crate::format::tensor::TensorRef;
use crate::model::residual_siren::{layer_tensors, LayerMeta};
use crate::model::stacked::StackedLayerMeta;

/// The family's metadata, as stored under `"model"` (without `family`,
/// which [`StsrMeta::to_value`] adds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StsrMeta {
    /// Whether the samples are the domain's points or its cell centers.
    pub sites: Association,
    /// 4 for (x, y, z, t), 3 without a time axis.
    pub inputs: u32,
    /// `t_n = time_scale * t + time_shift` (4 inputs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_shift: Option<f64>,
    /// Sub-volumes per axis.
    pub heads: [u64; 3],
    /// Samples per axis of the grid the heads split (the training grid).
    pub head_grid: [u64; 3],
    /// That grid's sample `i` is native sample `i * head_stride`.
    pub head_stride: [u64; 3],
    pub latent_dim: u32,
    /// `[variables, latent_dim]`.
    pub latents: TensorRef,
    pub stages: Vec<StageMeta>,
    /// Outputs of each head: the largest variable's components.
    pub outputs: u32,
    /// The heads as stacked layers: sine layers, then one linear layer.
    pub head_layers: Vec<StackedLayerMeta>,
}

/// One stage: a synthesis layer and the modulator layer whose activations
/// multiply its output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageMeta {
    pub synthesis: LayerMeta,
    pub modulator: LayerMeta,
}

impl StsrMeta {
    /// Parses the `"model"` object.
    pub fn from_value(v: &serde_json::Value) -> Result<StsrMeta> {
        serde_json::from_value(v.clone())
            .map_err(|e| Error::Invalid(format!("stsr_inr model: {e}")))
    }

    /// The `"model"` value to store, `family` included.
    pub fn to_value(&self) -> Result<serde_json::Value> {
        let mut v = serde_json::to_value(self).map_err(|e| Error::Invalid(e.to_string()))?;
        v["family"] = serde_json::Value::from(crate::model::FAMILY_STSR_INR);
        Ok(v)
    }

    /// Every tensor: latents, stages, heads.
    pub fn tensors(&self) -> Vec<&TensorRef> {
        let mut all = vec![&self.latents];
        for s in &self.stages {
            all.extend(layer_tensors(std::slice::from_ref(&s.synthesis)));
            all.extend(layer_tensors(std::slice::from_ref(&s.modulator)));
        }
        for l in &self.head_layers {
            all.extend(l.tensors());
        }
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
