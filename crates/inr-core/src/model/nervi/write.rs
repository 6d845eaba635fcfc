//! Writing a NeRVI model: its weights into one section of a file being
//! built, and its `"model"` object (docs/format.md, section 10.6).

use crate::error::Result;
use crate::format::tensor::TensorRef;
use crate::format::{FileBuilder, WeightEncoding};
use crate::model::residual_siren::{bias_encoding, encoding_for, Dense};

use super::meta::{
    CompositeMeta, ConvMeta, EncodingMeta, MlpLayerMeta, NerviMeta, OutputActivation, UpscaleMeta,
};
use super::{ConvLayer, MlpLayer, Nervi};

/// A NeRVI model as an encoder or a test makes it: the network, and the
/// composite by variable names (the loaded model's `composite` is ignored).
#[derive(Clone, Debug)]
pub struct NerviParts {
    pub model: Nervi,
    pub composite: Option<CompositeMeta>,
}

impl NerviParts {
    /// Adds the weights to `section` and returns the `"model"` value, each
    /// tensor as `encoding` asks (f32 where a codebook would not be smaller).
    pub fn write(
        &self,
        builder: &mut FileBuilder,
        section: u32,
        encoding: WeightEncoding,
    ) -> Result<serde_json::Value> {
        let m = &self.model;
        let mut push = |values: &[f32], shape: &[u64], e: WeightEncoding| {
            builder.push_tensor(section, values, shape, encoding_for(values, e))
        };
        let bias_e = bias_encoding(encoding);
        let mut dense = |d: &Dense| -> Result<(TensorRef, TensorRef)> {
            Ok((
                push(&d.weight, &d.weight_shape(), encoding)?,
                push(&d.bias, &[d.out_features as u64], bias_e)?,
            ))
        };
        let mlp = (m.mlp.iter())
            .map(|l| mlp_meta(l, &mut dense))
            .collect::<Result<Vec<_>>>()?;
        let mut conv = |c: &ConvLayer| -> Result<(TensorRef, TensorRef)> {
            let s = c.shape;
            let shape = [s.cout, s.cin, s.k, s.k].map(|v| v as u64);
            Ok((
                push(&c.weight, &shape, encoding)?,
                push(&c.bias, &[s.cout as u64], bias_e)?,
            ))
        };
        let upscale = (m.upscale.iter())
            .map(|u| {
                let (weight, bias) = conv(&u.conv)?;
                Ok(UpscaleMeta {
                    factor: u.factor as u32,
                    weight,
                    bias,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (weight, bias) = conv(&m.head)?;
        NerviMeta {
            inputs: m.inputs as u32,
            input_scale: m.input_scale.clone(),
            input_shift: m.input_shift.clone(),
            encoding: m.encoding.map(|f| EncodingMeta::Fourier {
                base: f.base,
                levels: f.levels as u32,
                include_input: f.include_input,
            }),
            mlp,
            reshape: m.reshape.map(|v| v as u64),
            upscale,
            head: ConvMeta { weight, bias },
            output_activation: Some(if m.tanh {
                OutputActivation::Tanh
            } else {
                OutputActivation::Identity
            }),
            composite: self.composite.clone(),
        }
        .to_value()
    }
}

/// One MLP layer's tensors stored by `dense`, its metadata returned.
fn mlp_meta(
    l: &MlpLayer,
    dense: &mut dyn FnMut(&Dense) -> Result<(TensorRef, TensorRef)>,
) -> Result<MlpLayerMeta> {
    Ok(match l {
        MlpLayer::Sine { w0, dense: d } => {
            let (weight, bias) = dense(d)?;
            MlpLayerMeta::Sine {
                w0: *w0 as f64,
                weight,
                bias,
            }
        }
        MlpLayer::Residual {
            w0,
            first,
            second,
            shortcut,
        } => {
            let w0 = [w0[0] as f64, w0[1] as f64];
            let (weight1, bias1) = dense(first)?;
            let (weight2, bias2) = dense(second)?;
            match shortcut {
                None => MlpLayerMeta::ResidualSine {
                    w0,
                    weight1,
                    bias1,
                    weight2,
                    bias2,
                },
                Some(s) => {
                    let (shortcut_weight, shortcut_bias) = dense(s)?;
                    MlpLayerMeta::ResidualSineProjected {
                        w0,
                        weight1,
                        bias1,
                        weight2,
                        bias2,
                        shortcut_weight,
                        shortcut_bias,
                    }
                }
            }
        }
    })
}
