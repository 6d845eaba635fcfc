//! Writing an STSR-INR model: its weights into one section of a file being
//! built, and its `"model"` object (docs/format.md, section 10.5).

use crate::error::Result;
use crate::format::metadata::Association;
use crate::format::{FileBuilder, WeightEncoding};
use crate::model::residual_siren::{bias_encoding, encoding_for, write_layers, Layer};
use crate::model::stacked::{StackedLayer, StackedLayerMeta};

use super::meta::{StageMeta, StsrMeta};

/// An STSR-INR model's weights and geometry, as an encoder or a test makes
/// them.
#[derive(Clone, Debug)]
pub struct StsrParts {
    pub sites: Association,
    /// `(time_scale, time_shift)` for 4 inputs; `None` for 3.
    pub time: Option<(f64, f64)>,
    pub heads: [u64; 3],
    pub head_grid: [u64; 3],
    pub head_stride: [u64; 3],
    pub latent_dim: usize,
    /// `variables x latent_dim`.
    pub latents: Vec<f32>,
    /// `(synthesis, modulator)` per stage.
    pub stages: Vec<(Layer, Layer)>,
    pub outputs: usize,
    pub head_layers: Vec<StackedLayer>,
}

impl StsrParts {
    /// Adds the weights to `section` and returns the `"model"` value: the
    /// latents in f32 (few, and each a whole variable), the layers as
    /// `encoding` asks (f32 where a codebook would not be smaller).
    pub fn write(
        &self,
        builder: &mut FileBuilder,
        section: u32,
        encoding: WeightEncoding,
    ) -> Result<serde_json::Value> {
        let variables = (self.latents.len() / self.latent_dim.max(1)) as u64;
        let latents = builder.push_tensor(
            section,
            &self.latents,
            &[variables, self.latent_dim as u64],
            WeightEncoding::F32,
        )?;
        let stages = (self.stages.iter())
            .map(|(s, m)| {
                let s = write_layers(builder, section, std::slice::from_ref(s), encoding)?;
                let m = write_layers(builder, section, std::slice::from_ref(m), encoding)?;
                Ok(StageMeta {
                    synthesis: s.into_iter().next().expect("one layer"),
                    modulator: m.into_iter().next().expect("one layer"),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let head_layers = (self.head_layers.iter())
            .map(|l| stacked_meta(builder, section, l, encoding))
            .collect::<Result<Vec<_>>>()?;
        StsrMeta {
            sites: self.sites,
            inputs: if self.time.is_some() { 4 } else { 3 },
            time_scale: self.time.map(|t| t.0),
            time_shift: self.time.map(|t| t.1),
            heads: self.heads,
            head_grid: self.head_grid,
            head_stride: self.head_stride,
            latent_dim: self.latent_dim as u32,
            latents,
            stages,
            outputs: self.outputs as u32,
            head_layers,
        }
        .to_value()
    }
}

/// One stacked layer's tensors written, its metadata returned.
fn stacked_meta(
    builder: &mut FileBuilder,
    section: u32,
    l: &StackedLayer,
    encoding: WeightEncoding,
) -> Result<StackedLayerMeta> {
    let shape = [l.mlps as u64, l.out_features as u64, l.in_features as u64];
    let weight = builder.push_tensor(
        section,
        &l.weight,
        &shape,
        encoding_for(&l.weight, encoding),
    )?;
    let bias = builder.push_tensor(
        section,
        &l.bias,
        &shape[..2],
        encoding_for(&l.bias, bias_encoding(encoding)),
    )?;
    Ok(match l.w0 {
        Some(w0) => StackedLayerMeta::Sine {
            w0: w0 as f64,
            weight,
            bias,
        },
        None => StackedLayerMeta::Linear { weight, bias },
    })
}
