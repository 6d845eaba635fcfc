//! The `"ecnr"` model object as stored in the metadata (docs/format.md,
//! section 10.4): what a writer serializes and a reader parses before any
//! section is read.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::metadata::{ArrayRef, Association};
use crate::format::tensor::TensorRef;
use crate::model::stacked::StackedLayerMeta;

/// The family's metadata, as stored under `"model"` (without `family`,
/// which [`EcnrMeta::to_value`] adds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EcnrMeta {
    /// Whether the samples are the domain's points or its cell centers.
    pub sites: Association,
    /// Block size `(bx, by, bz)` in samples, the same at every scale.
    pub block: [u64; 3],
    /// Length of each block's latent code.
    pub latent_dim: u32,
    /// The scales, coarsest first.
    pub scales: Vec<ScaleMeta>,
    /// The reserved seam-removal CNN; a file with one is not decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnn: Option<serde_json::Value>,
}

/// One scale of the pyramid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleMeta {
    /// Subsampling factor: a power of two, 1 for the finest scale.
    pub factor: u64,
    /// Samples along x, y, z and t: `ceil(N / factor)`.
    pub dims: [u64; 4],
    /// Per block (x fastest, then y, z, time sample): its MLP, or
    /// [`super::EMPTY`] (`u32` array).
    pub assignment: ArrayRef,
    /// Number of MLPs of the scale.
    pub mlps: u32,
    /// Per time sample: the latent codes of its non-empty blocks, in block
    /// order, `[e_s, latent_dim]`.
    pub latents: Vec<TensorRef>,
    /// The MLPs as stacked layers: sine layers, then one linear layer.
    pub layers: Vec<StackedLayerMeta>,
}

impl EcnrMeta {
    /// Parses the `"model"` object. A CNN makes the file unsupported before
    /// anything else is looked at: it is a valid file this reader cannot
    /// decode.
    pub fn from_value(v: &serde_json::Value) -> Result<EcnrMeta> {
        if v.get("cnn").is_some_and(|c| !c.is_null()) {
            return Err(Error::Unsupported(
                "ECNR's seam-removal CNN (\"cnn\") is not decoded by this version of inr".into(),
            ));
        }
        serde_json::from_value(v.clone()).map_err(|e| Error::Invalid(format!("ecnr model: {e}")))
    }

    /// The `"model"` value to store, `family` included.
    pub fn to_value(&self) -> Result<serde_json::Value> {
        let mut v = serde_json::to_value(self).map_err(|e| Error::Invalid(e.to_string()))?;
        v["family"] = serde_json::Value::from(crate::model::FAMILY_ECNR);
        Ok(v)
    }

    /// Every tensor of every scale: latents and layers.
    pub fn tensors(&self) -> Vec<&TensorRef> {
        let mut all = Vec::new();
        for s in &self.scales {
            all.extend(&s.latents);
            for l in &s.layers {
                let [weight, bias] = l.tensors();
                all.push(weight);
                all.push(bias);
            }
        }
        all
    }

    /// Every section the model reads: assignments and tensors.
    pub fn sections_used(&self) -> Vec<u32> {
        let mut s: Vec<u32> = self.tensors().iter().flat_map(|t| t.sections()).collect();
        s.extend(self.scales.iter().map(|s| s.assignment.section));
        s.sort_unstable();
        s.dedup();
        s
    }
}
