//! The residual SIREN family (MVNet; neurcomp and CoordNet have the same shape).
//!
//! `y = head(block_n(... block_1(sine(x_n))))` where
//! - `x_n = input_scale * x + input_shift` maps (x, y, z[, t]) into the
//!   network's input range (the encoder picks [-1, 1] over the bounding box, or
//!   an aspect-preserving scale, as neurcomp offers);
//! - a sine layer is `sin(w0 * (W x + b))`;
//! - a residual block is `0.5 * (x + sin(w0_2 * (W2 sin(w0_1 * (W1 x + b1)) + b2)))`;
//! - the head is linear, one output per variable component, and output `y` in
//!   [-1, 1] maps to the variable's stored range: `min + (y + 1) / 2 * (max - min)`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::metadata::Metadata;
use crate::format::tensor::TensorRef;
use crate::format::writer::{codebook_pays, distinct_levels, index_bits, levels_pay};
use crate::format::InrFile;
use crate::format::{FileBuilder, WeightEncoding};
use crate::model::model_parts;

/// The family's metadata, as stored under `"model"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidualSirenMeta {
    /// 3 for (x, y, z), 4 for (x, y, z, t).
    pub inputs: u32,
    /// Per input, `x_n = scale * x + shift`.
    pub input_scale: Vec<f64>,
    pub input_shift: Vec<f64>,
    pub layers: Vec<LayerMeta>,
}

/// One layer in the metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LayerMeta {
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
    Linear {
        weight: TensorRef,
        bias: TensorRef,
    },
}

/// A dense layer: `W` is row-major [out, in].
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub out_features: usize,
    pub in_features: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// One layer with its weights.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    Sine {
        w0: f32,
        dense: Dense,
    },
    ResidualSine {
        w0: [f32; 2],
        first: Dense,
        second: Dense,
    },
    Linear {
        dense: Dense,
    },
}

/// A loaded, validated residual SIREN.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidualSiren {
    pub inputs: usize,
    pub input_scale: Vec<f64>,
    pub input_shift: Vec<f64>,
    pub layers: Vec<Layer>,
}

impl ResidualSirenMeta {
    /// Parses the `"model"` object.
    pub fn from_value(v: &serde_json::Value) -> Result<Self> {
        serde_json::from_value(v.clone())
            .map_err(|e| Error::Invalid(format!("residual_siren model: {e}")))
    }

    /// Every section the weights live in.
    pub fn sections_used(&self) -> Vec<u32> {
        let mut s: Vec<u32> = self.tensors().iter().flat_map(|t| t.sections()).collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    fn tensors(&self) -> Vec<&TensorRef> {
        layer_tensors(&self.layers)
    }
}

/// Every tensor of `layers`, in order.
pub fn layer_tensors(layers: &[LayerMeta]) -> Vec<&TensorRef> {
    layers
        .iter()
        .flat_map(|l| match l {
            LayerMeta::Sine { weight, bias, .. } | LayerMeta::Linear { weight, bias } => {
                vec![weight, bias]
            }
            LayerMeta::ResidualSine {
                weight1,
                bias1,
                weight2,
                bias2,
                ..
            } => vec![weight1, bias1, weight2, bias2],
        })
        .collect()
}

impl Dense {
    /// The stored shape of the weight, `[out, in]`.
    pub fn weight_shape(&self) -> [u64; 2] {
        [self.out_features as u64, self.in_features as u64]
    }

    pub(crate) fn load<'a>(
        weight: &TensorRef,
        bias: &TensorRef,
        section: &dyn Fn(u32) -> Result<&'a [u8]>,
    ) -> Result<Dense> {
        let (out_f, in_f) = match weight.shape[..] {
            [o, i]
                if o >= 1 && i >= 1 && o <= limits::MAX_FEATURES && i <= limits::MAX_FEATURES =>
            {
                (o, i)
            }
            _ => {
                return Err(Error::Shape(format!(
                    "weight of shape {:?} (expected [out, in])",
                    weight.shape
                )))
            }
        };
        if bias.shape != [out_f] {
            return Err(Error::Shape(format!(
                "bias of shape {:?} for {out_f} outputs",
                bias.shape
            )));
        }
        let dense = Dense {
            out_features: out_f as usize,
            in_features: in_f as usize,
            weight: weight.decode(section)?,
            bias: bias.decode(section)?,
        };
        if dense
            .weight
            .iter()
            .chain(&dense.bias)
            .any(|v| !v.is_finite())
        {
            return Err(Error::Invalid("non-finite weight".into()));
        }
        Ok(dense)
    }

    fn parameter_count(&self) -> u64 {
        (self.weight.len() + self.bias.len()) as u64
    }
}

impl Layer {
    /// Number of parameters.
    pub fn parameter_count(&self) -> u64 {
        match self {
            Layer::Sine { dense, .. } | Layer::Linear { dense } => dense.parameter_count(),
            Layer::ResidualSine { first, second, .. } => {
                first.parameter_count() + second.parameter_count()
            }
        }
    }

    /// (inputs, outputs) of the layer.
    pub fn features(&self) -> (usize, usize) {
        match self {
            Layer::Sine { dense, .. } | Layer::Linear { dense } => {
                (dense.in_features, dense.out_features)
            }
            Layer::ResidualSine { first, .. } => (first.in_features, first.in_features),
        }
    }
}

impl ResidualSiren {
    /// Loads the weights and checks that the layers chain.
    pub fn load<'a>(
        meta: &ResidualSirenMeta,
        section: &dyn Fn(u32) -> Result<&'a [u8]>,
    ) -> Result<Self> {
        if !(meta.inputs == 3 || meta.inputs == 4)
            || meta.input_scale.len() != meta.inputs as usize
            || meta.input_shift.len() != meta.inputs as usize
        {
            return Err(Error::Shape(format!(
                "{} inputs with {} scales and {} shifts (3 or 4 inputs expected)",
                meta.inputs,
                meta.input_scale.len(),
                meta.input_shift.len()
            )));
        }
        super::normalization::check_finite(&meta.input_scale, &meta.input_shift)?;
        if meta.layers.is_empty() || meta.layers.len() > limits::MAX_LAYERS {
            return Err(Error::Invalid(format!(
                "{} layers (must be 1..={})",
                meta.layers.len(),
                limits::MAX_LAYERS
            )));
        }
        let total: u64 = meta
            .tensors()
            .iter()
            .map(|t| t.numel())
            .sum::<Result<u64>>()?;
        if total > limits::MAX_PARAMETERS {
            return Err(Error::LimitExceeded(format!(
                "{total} parameters, limit {}",
                limits::MAX_PARAMETERS
            )));
        }
        let layers = meta
            .layers
            .iter()
            .map(|l| load_layer(l, section))
            .collect::<Result<Vec<_>>>()?;
        let model = ResidualSiren {
            inputs: meta.inputs as usize,
            input_scale: meta.input_scale.clone(),
            input_shift: meta.input_shift.clone(),
            layers,
        };
        model.check_chain()?;
        Ok(model)
    }

    fn check_chain(&self) -> Result<()> {
        let mut width = self.inputs;
        for (i, layer) in self.layers.iter().enumerate() {
            let (inp, out) = layer.features();
            if inp != width {
                return Err(Error::Shape(format!(
                    "layer {i} takes {inp} inputs, previous layer gives {width}"
                )));
            }
            if let Layer::ResidualSine { first, second, .. } = layer {
                // features() reports only the first layer's inputs: all four
                // sides of the block must equal the width it keeps.
                if first.out_features != inp
                    || second.in_features != inp
                    || second.out_features != inp
                {
                    return Err(Error::Shape(format!("residual block {i} is not square")));
                }
            }
            let last = i + 1 == self.layers.len();
            if matches!(layer, Layer::Linear { .. }) != last {
                return Err(Error::Invalid(
                    "the last layer, and only it, must be linear".into(),
                ));
            }
            width = out;
        }
        Ok(())
    }

    /// Checks that the head has one output per variable component.
    pub fn check_outputs(&self, meta: &Metadata) -> Result<()> {
        let want = meta.total_components();
        if self.outputs() != want {
            return Err(Error::Shape(format!(
                "the network has {} outputs, the variables have {want} components",
                self.outputs()
            )));
        }
        let has_time = meta.time.is_some();
        if self.inputs == 4 && !has_time {
            return Err(Error::Invalid(
                "a 4-input (x, y, z, t) model without a time axis".into(),
            ));
        }
        Ok(())
    }

    /// Number of network outputs.
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.features().1)
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> u64 {
        self.layers.iter().map(Layer::parameter_count).sum()
    }

    /// Adds the weights to a file being written and returns the `"model"` value.
    pub fn write(
        &self,
        builder: &mut FileBuilder,
        section: u32,
        encoding: WeightEncoding,
    ) -> Result<serde_json::Value> {
        let layers = write_layers(builder, section, &self.layers, encoding)?;
        let meta = ResidualSirenMeta {
            inputs: self.inputs as u32,
            input_scale: self.input_scale.clone(),
            input_shift: self.input_shift.clone(),
            layers,
        };
        let mut v = serde_json::to_value(meta).map_err(|e| Error::Invalid(e.to_string()))?;
        v["family"] = serde_json::Value::from(super::FAMILY_RESIDUAL_SIREN);
        Ok(v)
    }
}

/// Adds the weights of `layers` to `section` of a file being written and
/// returns their metadata: codebooks (or f32) as `encoding` asks, except
/// where a codebook would be larger than the values (small tensors).
pub(crate) fn write_layers(
    builder: &mut FileBuilder,
    section: u32,
    layers: &[Layer],
    encoding: WeightEncoding,
) -> Result<Vec<LayerMeta>> {
    let bias_encoding = bias_encoding(encoding);
    layer_metas(layers, &mut |_, d| {
        let w = builder.push_tensor(
            section,
            &d.weight,
            &d.weight_shape(),
            encoding_for(&d.weight, encoding),
        )?;
        let b = builder.push_tensor(
            section,
            &d.bias,
            &[d.out_features as u64],
            encoding_for(&d.bias, bias_encoding),
        )?;
        Ok((w, b))
    })
}

/// The encoding `values` get when `e` is asked. Values already on at most
/// 2^bits levels (the encoder's quantized tensors, each with as many levels
/// as its budget gave it) are stored as a table of just those levels and
/// indices of just enough bits; others go through k-means to 2^bits levels.
/// Either only where the codebook is smaller than the f32 values (not small
/// tensors: biases, the first layer, the head).
pub(crate) fn encoding_for(values: &[f32], e: WeightEncoding) -> WeightEncoding {
    match e {
        WeightEncoding::Codebook {
            bits,
            prune_zeros: false,
        } => match distinct_levels(values, 1 << bits) {
            Some(levels) if levels_pay(values.len(), levels) => WeightEncoding::Codebook {
                bits: index_bits(levels),
                prune_zeros: false,
            },
            None if codebook_pays(values.len(), bits) => e,
            _ => WeightEncoding::F32,
        },
        e => e,
    }
}

/// The encoding of biases when `encoding` is asked for weights: biases are
/// few and sensitive (ECNR keeps first-layer biases unpruned), so never
/// pruned, quantized only as asked.
pub(crate) fn bias_encoding(encoding: WeightEncoding) -> WeightEncoding {
    match encoding {
        WeightEncoding::Codebook { bits, .. } => WeightEncoding::Codebook {
            bits,
            prune_zeros: false,
        },
        e => e,
    }
}

/// Stores one dense part's (weight, bias), told the layer's position.
pub(crate) type PushDense<'a> = dyn FnMut(usize, &Dense) -> Result<(TensorRef, TensorRef)> + 'a;

/// The metadata of `layers`, each dense part's (weight, bias) stored by
/// `push`, which is told the layer's position in `layers`.
pub(crate) fn layer_metas(layers: &[Layer], push: &mut PushDense) -> Result<Vec<LayerMeta>> {
    layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            Ok(match l {
                Layer::Sine { w0, dense } => {
                    let (weight, bias) = push(i, dense)?;
                    LayerMeta::Sine {
                        w0: *w0 as f64,
                        weight,
                        bias,
                    }
                }
                Layer::ResidualSine { w0, first, second } => {
                    let (weight1, bias1) = push(i, first)?;
                    let (weight2, bias2) = push(i, second)?;
                    LayerMeta::ResidualSine {
                        w0: [w0[0] as f64, w0[1] as f64],
                        weight1,
                        bias1,
                        weight2,
                        bias2,
                    }
                }
                Layer::Linear { dense } => {
                    let (weight, bias) = push(i, dense)?;
                    LayerMeta::Linear { weight, bias }
                }
            })
        })
        .collect()
}

/// A sine frequency as stored: finite with `|w0| < 10^6` (section 10.1).
pub(crate) fn w0(w: f64) -> Result<f32> {
    if w.is_finite() && w.abs() < 1e6 {
        Ok(w as f32)
    } else {
        Err(Error::Invalid(format!("w0 = {w}")))
    }
}

/// Loads one layer's weights from the decoded sections.
pub(crate) fn load_layer<'a>(
    l: &LayerMeta,
    section: &dyn Fn(u32) -> Result<&'a [u8]>,
) -> Result<Layer> {
    Ok(match l {
        LayerMeta::Sine {
            w0: w,
            weight,
            bias,
        } => Layer::Sine {
            w0: w0(*w)?,
            dense: Dense::load(weight, bias, section)?,
        },
        LayerMeta::ResidualSine {
            w0: w,
            weight1,
            bias1,
            weight2,
            bias2,
        } => Layer::ResidualSine {
            w0: [w0(w[0])?, w0(w[1])?],
            first: Dense::load(weight1, bias1, section)?,
            second: Dense::load(weight2, bias2, section)?,
        },
        LayerMeta::Linear { weight, bias } => Layer::Linear {
            dense: Dense::load(weight, bias, section)?,
        },
    })
}

impl ResidualSiren {
    /// Loads and validates the residual SIREN of an open file.
    pub fn from_file(file: &InrFile) -> Result<ResidualSiren> {
        let (m, sections) = model_parts(
            file,
            ResidualSirenMeta::from_value,
            ResidualSirenMeta::sections_used,
        )?;
        let model = ResidualSiren::load(&m, &|i| sections.get(i))?;
        model.check_outputs(file.metadata())?;
        Ok(model)
    }
}
