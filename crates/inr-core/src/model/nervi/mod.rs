//! The NeRVI family (Gu et al.): one image-wise network for a collection of
//! rendered images. An MLP on the positionally encoded `(t, p_1 .. p_P)`
//! gives a small feature map that upscale blocks (convolution, pixel shuffle,
//! GELU) grow to the image size; a convolution head gives the color and the
//! mask (docs/format.md, section 10.6). `decode::image` evaluates it.

pub mod meta;
pub mod write;

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::metadata::{Association, Domain, Metadata};
use crate::format::InrFile;
use crate::kernels::conv::Conv;
use crate::model::residual_siren::{w0, Dense};
use crate::model::stacked::finite;
use crate::model::SectionCache;

pub use meta::{
    CompositeMeta, ConvMeta, EncodingMeta, MlpLayerMeta, NerviMeta, OutputActivation, UpscaleMeta,
};
pub use write::NerviParts;

/// Largest kernel size of a convolution (section 10.8).
pub const MAX_KERNEL: usize = 7;
/// Largest pixel-shuffle factor (section 10.8).
pub const MAX_FACTOR: u32 = 16;
/// Most values of one feature map a decoder holds (1 GiB of f32).
pub const MAX_FEATURE_MAP_VALUES: u64 = 1 << 28;
/// Most positional-encoding levels.
pub const MAX_LEVELS: u32 = 32;

/// One MLP layer with its weights.
#[derive(Clone, Debug, PartialEq)]
pub enum MlpLayer {
    /// `h' = sin(w0 (W h + b))`.
    Sine { w0: f32, dense: Dense },
    /// `g = sin(w0[0] (W1 h + b1))`, `h' = 0.5 (skip(h) + sin(w0[1] (W2 g + b2)))`
    /// where `skip` is the identity or the `shortcut` dense layer.
    Residual {
        w0: [f32; 2],
        first: Dense,
        second: Dense,
        shortcut: Option<Dense>,
    },
}

/// A convolution with its weights (`[cout, cin, k, k]`, `[cout]`).
#[derive(Clone, Debug, PartialEq)]
pub struct ConvLayer {
    pub shape: Conv,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// An upscale block: `conv` to `C r²` channels, pixel shuffle by `factor`,
/// GELU.
#[derive(Clone, Debug, PartialEq)]
pub struct Upscale {
    pub factor: usize,
    pub conv: ConvLayer,
}

/// The Fourier positional encoding (section 10.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fourier {
    pub base: f64,
    pub levels: usize,
    pub include_input: bool,
}

/// How outputs become one picture: variables by index.
#[derive(Clone, Debug, PartialEq)]
pub struct Composite {
    pub color: usize,
    pub mask: usize,
    pub background: Vec<f32>,
}

/// A loaded, validated NeRVI model.
#[derive(Clone, Debug, PartialEq)]
pub struct Nervi {
    /// `c = (t, p_1 .. p_P)`: P + 1 with a time axis, P without.
    pub inputs: usize,
    pub input_scale: Vec<f64>,
    pub input_shift: Vec<f64>,
    pub encoding: Option<Fourier>,
    pub mlp: Vec<MlpLayer>,
    /// `[C0, H0, W0]`.
    pub reshape: [usize; 3],
    pub upscale: Vec<Upscale>,
    pub head: ConvLayer,
    pub tanh: bool,
    pub composite: Option<Composite>,
}

impl Nervi {
    /// Loads and validates the NeRVI model of an open file: the JSON's
    /// counts and shapes first, then the tensors.
    pub fn from_file(file: &InrFile) -> Result<Nervi> {
        let meta = NerviMeta::from_value(&file.metadata().model)?;
        let (width, height, parameters) = match &file.metadata().domain {
            Domain::Images {
                width,
                height,
                parameters,
                ..
            } => (*width, *height, parameters.len()),
            d => {
                return Err(Error::Invalid(format!(
                    "a nervi model needs an images domain, not {}",
                    d.kind_name()
                )))
            }
        };
        check_json(&meta, file.metadata(), parameters)?;
        let sections = SectionCache::load(file, &meta.sections_used())?;
        let section = |i| sections.get(i);
        let mlp = (meta.mlp.iter())
            .map(|l| load_mlp_layer(l, &section))
            .collect::<Result<Vec<_>>>()?;
        let upscale = (meta.upscale.iter())
            .map(|u| {
                Ok(Upscale {
                    factor: u.factor as usize,
                    conv: load_conv(&u.weight, &u.bias, &section)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let model = Nervi {
            inputs: meta.inputs as usize,
            input_scale: meta.input_scale.clone(),
            input_shift: meta.input_shift.clone(),
            encoding: meta.encoding.as_ref().map(fourier).transpose()?,
            mlp,
            reshape: meta.reshape.map(|v| v as usize),
            upscale,
            head: load_conv(&meta.head.weight, &meta.head.bias, &section)?,
            tanh: meta.output_activation == Some(OutputActivation::Tanh),
            composite: meta
                .composite
                .as_ref()
                .map(|c| composite(c, file.metadata()))
                .transpose()?,
        };
        model.check_chain([width as usize, height as usize], file.metadata())?;
        Ok(model)
    }

    /// Width of the encoded input vector.
    pub fn encoded_inputs(&self) -> usize {
        match self.encoding {
            Some(f) => self.inputs * (2 * f.levels + usize::from(f.include_input)),
            None => self.inputs,
        }
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> u64 {
        let dense = |d: &Dense| (d.weight.len() + d.bias.len()) as u64;
        let conv = |c: &ConvLayer| (c.weight.len() + c.bias.len()) as u64;
        let mlp: u64 = (self.mlp.iter())
            .map(|l| match l {
                MlpLayer::Sine { dense: d, .. } => dense(d),
                MlpLayer::Residual {
                    first,
                    second,
                    shortcut,
                    ..
                } => dense(first) + dense(second) + shortcut.as_ref().map_or(0, dense),
            })
            .sum();
        let up: u64 = self.upscale.iter().map(|u| conv(&u.conv)).sum();
        mlp + up + conv(&self.head)
    }

    /// Channels of the head's output: every variable's components.
    pub fn outputs(&self) -> usize {
        self.head.shape.cout
    }

    /// The layers chain: the MLP's widths, its last width the reshaped map,
    /// each convolution's input channels, the image size, the outputs, and
    /// every feature map within [`MAX_FEATURE_MAP_VALUES`].
    fn check_chain(&self, [width, height]: [usize; 2], meta: &Metadata) -> Result<()> {
        let mut n = self.encoded_inputs();
        for (i, l) in self.mlp.iter().enumerate() {
            n = mlp_layer_width(l, n)
                .ok_or_else(|| Error::Shape(format!("mlp layer {i} does not take {n} features")))?;
        }
        let [c0, h0, w0] = self.reshape;
        if n != c0 * h0 * w0 {
            return Err(Error::Shape(format!(
                "the mlp gives {n} features, the reshape {:?} takes {}",
                self.reshape,
                c0 * h0 * w0
            )));
        }
        let (mut c, mut h, mut w) = (c0, h0, w0);
        for (i, u) in self.upscale.iter().enumerate() {
            let Conv { cin, cout, .. } = u.conv.shape;
            let r2 = u.factor * u.factor;
            if cin != c || cout % r2 != 0 {
                return Err(Error::Shape(format!(
                    "upscale block {i}: convolution {cin} -> {cout} channels after {c} channels, \
                     factor {} (the output must be a multiple of {r2})",
                    u.factor
                )));
            }
            check_map(cin + cout, h, w)?;
            (c, h, w) = (cout / r2, h * u.factor, w * u.factor);
        }
        if (h, w) != (height, width) {
            return Err(Error::Shape(format!(
                "the network makes {w} x {h} images, the domain is {width} x {height}"
            )));
        }
        let head = self.head.shape;
        check_map(head.cin + head.cout, h, w)?;
        if head.cin != c || head.cout != meta.total_components() {
            return Err(Error::Shape(format!(
                "head convolution {} -> {} channels after {c} channels, for {} components",
                head.cin,
                head.cout,
                meta.total_components()
            )));
        }
        Ok(())
    }
}

/// The width after `l` of an input `n` wide, if `l` takes `n`.
fn mlp_layer_width(l: &MlpLayer, n: usize) -> Option<usize> {
    match l {
        MlpLayer::Sine { dense, .. } => (dense.in_features == n).then_some(dense.out_features),
        MlpLayer::Residual {
            first,
            second,
            shortcut,
            ..
        } => {
            let out = first.out_features;
            let skip = match shortcut {
                Some(s) => s.in_features == n && s.out_features == out,
                None => out == n,
            };
            (first.in_features == n
                && second.in_features == out
                && second.out_features == out
                && skip)
                .then_some(out)
        }
    }
}

/// A feature map of `c` channels of `h x w` within the decoder's limit.
fn check_map(c: usize, h: usize, w: usize) -> Result<()> {
    let values = (c as u64).saturating_mul(h as u64).saturating_mul(w as u64);
    if values > MAX_FEATURE_MAP_VALUES {
        return Err(Error::LimitExceeded(format!(
            "a feature map of {c} channels of {w} x {h} pixels (limit {MAX_FEATURE_MAP_VALUES} values)"
        )));
    }
    Ok(())
}

/// The JSON's counts, before any tensor is read.
fn check_json(meta: &NerviMeta, file: &Metadata, parameters: usize) -> Result<()> {
    let want = parameters + usize::from(file.time.is_some());
    let n = meta.inputs as usize;
    if n != want || meta.input_scale.len() != n || meta.input_shift.len() != n {
        return Err(Error::Shape(format!(
            "{n} inputs with {} scales and {} shifts ({want} expected: {parameters} view \
             parameters{})",
            meta.input_scale.len(),
            meta.input_shift.len(),
            if file.time.is_some() { " and time" } else { "" }
        )));
    }
    super::normalization::check_finite(&meta.input_scale, &meta.input_shift)?;
    if meta.mlp.is_empty() || meta.mlp.len() + meta.upscale.len() > limits::MAX_LAYERS {
        return Err(Error::Invalid(format!(
            "{} mlp layers and {} upscale blocks (1..={} layers)",
            meta.mlp.len(),
            meta.upscale.len(),
            limits::MAX_LAYERS
        )));
    }
    if meta
        .reshape
        .iter()
        .any(|&d| d == 0 || d > limits::MAX_FEATURES)
    {
        return Err(Error::Shape(format!(
            "reshape {:?} (each 1..={})",
            meta.reshape,
            limits::MAX_FEATURES
        )));
    }
    if let Some(u) = meta
        .upscale
        .iter()
        .find(|u| !(1..=MAX_FACTOR).contains(&u.factor))
    {
        return Err(Error::Invalid(format!(
            "upscale factor {} (1..={MAX_FACTOR})",
            u.factor
        )));
    }
    if let Some(v) = file
        .variables
        .iter()
        .find(|v| v.association != Association::Point)
    {
        return Err(Error::Invalid(format!(
            "variable {:?}: image variables are point data",
            v.name
        )));
    }
    let total: u64 = (meta.tensors().iter())
        .map(|t| t.numel())
        .sum::<Result<u64>>()?;
    if total > limits::MAX_PARAMETERS {
        return Err(Error::LimitExceeded(format!(
            "{total} parameters, limit {}",
            limits::MAX_PARAMETERS
        )));
    }
    Ok(())
}

fn fourier(e: &EncodingMeta) -> Result<Fourier> {
    let EncodingMeta::Fourier {
        base,
        levels,
        include_input,
    } = *e;
    // The highest frequency must stay finite and meaningful in f32.
    let base_ok = base.is_finite() && base > 0.0 && base.powf(levels as f64) <= 1e12;
    if !(base_ok && (1..=MAX_LEVELS).contains(&levels)) {
        return Err(Error::Invalid(format!(
            "fourier encoding of base {base}, {levels} levels (1..={MAX_LEVELS} levels, 0 < base^levels <= 1e12)"
        )));
    }
    Ok(Fourier {
        base,
        levels: levels as usize,
        include_input,
    })
}

fn composite(c: &CompositeMeta, meta: &Metadata) -> Result<Composite> {
    let find = |name: &str| {
        meta.variable_index(name)
            .ok_or_else(|| Error::Invalid(format!("composite: no variable {name:?}")))
    };
    let (color, mask) = (find(&c.color)?, find(&c.mask)?);
    let components = meta.variables[color].components as usize;
    if meta.variables[mask].components != 1
        || !(components == 1 || components == 3)
        || c.background.len() != components
        || c.background.iter().any(|v| !v.is_finite())
    {
        return Err(Error::Invalid(format!(
            "composite: the color {:?} must have 1 or 3 components, the mask {:?} 1, and the \
             background {:?} one finite value per color component",
            c.color, c.mask, c.background
        )));
    }
    Ok(Composite {
        color,
        mask,
        background: c.background.iter().map(|&v| v as f32).collect(),
    })
}

fn load_mlp_layer<'a>(
    l: &MlpLayerMeta,
    section: &dyn Fn(u32) -> Result<&'a [u8]>,
) -> Result<MlpLayer> {
    let dense = |w, b| Dense::load(w, b, section);
    Ok(match l {
        MlpLayerMeta::Sine {
            w0: w,
            weight,
            bias,
        } => MlpLayer::Sine {
            w0: w0(*w)?,
            dense: dense(weight, bias)?,
        },
        MlpLayerMeta::ResidualSine {
            w0: w,
            weight1,
            bias1,
            weight2,
            bias2,
        } => MlpLayer::Residual {
            w0: [w0(w[0])?, w0(w[1])?],
            first: dense(weight1, bias1)?,
            second: dense(weight2, bias2)?,
            shortcut: None,
        },
        MlpLayerMeta::ResidualSineProjected {
            w0: w,
            weight1,
            bias1,
            weight2,
            bias2,
            shortcut_weight,
            shortcut_bias,
        } => MlpLayer::Residual {
            w0: [w0(w[0])?, w0(w[1])?],
            first: dense(weight1, bias1)?,
            second: dense(weight2, bias2)?,
            shortcut: Some(dense(shortcut_weight, shortcut_bias)?),
        },
    })
}

/// A convolution's weights, its shape checked before they are decoded.
fn load_conv<'a>(
    weight: &crate::format::tensor::TensorRef,
    bias: &crate::format::tensor::TensorRef,
    section: &dyn Fn(u32) -> Result<&'a [u8]>,
) -> Result<ConvLayer> {
    let channels = |c: u64| (1..=limits::MAX_FEATURES).contains(&c);
    let shape = match weight.shape[..] {
        [o, i, k1, k2]
            if channels(o) && channels(i) && k1 == k2 && k1 % 2 == 1 && k1 <= MAX_KERNEL as u64 =>
        {
            Conv {
                cin: i as usize,
                cout: o as usize,
                k: k1 as usize,
            }
        }
        _ => {
            return Err(Error::Shape(format!(
            "convolution weight of shape {:?} (expected [out, in, k, k], odd k 1..={MAX_KERNEL})",
            weight.shape
        )))
        }
    };
    if bias.shape != [shape.cout as u64] {
        return Err(Error::Shape(format!(
            "convolution bias of shape {:?} for {} outputs",
            bias.shape, shape.cout
        )));
    }
    Ok(ConvLayer {
        shape,
        weight: finite(weight, section)?,
        bias: finite(bias, section)?,
    })
}
