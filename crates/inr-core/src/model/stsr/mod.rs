//! The STSR-INR family (Tang and Wang): one network for many variables, each
//! a learned latent vector; a modulator network turns the latent into
//! per-stage modulations of a synthesis SIREN evaluated at local space-time
//! coordinates, and one head per sub-volume of the sample grid gives the
//! values (docs/format.md, section 10.5). `decode::stsr` evaluates it.

pub mod heads;
pub mod meta;
pub mod write;

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::metadata::{Association, Metadata};
use crate::format::InrFile;
use crate::model::residual_siren::{load_layer, Layer, LayerMeta};
use crate::model::sites::{native_samples, SampleAxes};
use crate::model::stacked::{self, StackedLayer, StackedLayerMeta};
use crate::model::SectionCache;

pub use heads::{HeadAxis, HeadGrid, Part};
pub use meta::{StageMeta, StsrMeta};
pub use write::StsrParts;

/// Most heads of a model.
pub const MAX_HEADS: u64 = 4096;
/// Longest latent vector.
pub const MAX_LATENT_DIM: u32 = 1 << 16;

/// One stage: the synthesis layer, then the product with the modulator's.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub synthesis: Layer,
    pub modulator: Layer,
}

/// A loaded, validated STSR-INR model.
#[derive(Clone, Debug, PartialEq)]
pub struct Stsr {
    pub sites: Association,
    /// 4 with time, 3 without.
    pub inputs: usize,
    /// `(time_scale, time_shift)` with 4 inputs.
    pub time: Option<(f64, f64)>,
    pub grid: HeadGrid,
    pub latent_dim: usize,
    /// `variables x latent_dim`, row-major.
    pub latents: Vec<f32>,
    pub stages: Vec<Stage>,
    /// Outputs of each head.
    pub outputs: usize,
    /// The heads: sine layers, then the linear one.
    pub head_layers: Vec<StackedLayer>,
    /// Positions and times to continuous native indices.
    pub axes: SampleAxes,
}

impl Stsr {
    /// Loads and validates the STSR-INR model of an open file: every count
    /// and shape of the JSON first, then the tensors.
    pub fn from_file(file: &InrFile) -> Result<Stsr> {
        let meta = StsrMeta::from_value(&file.metadata().model)?;
        let grid = check(&meta, file.metadata())?;
        let sections = SectionCache::load(file, &meta.sections_used())?;
        let section = |i| sections.get(i);
        let latents = stacked::finite(&meta.latents, &section)?;
        let load = |l: &LayerMeta| load_layer(l, &section);
        let stages = meta
            .stages
            .iter()
            .map(|s| {
                Ok(Stage {
                    synthesis: load(&s.synthesis)?,
                    modulator: load(&s.modulator)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let heads = grid.count() as u64;
        let head_layers = meta
            .head_layers
            .iter()
            .map(|l| StackedLayer::load(l, heads, &section))
            .collect::<Result<Vec<_>>>()?;
        let model = Stsr {
            sites: meta.sites,
            inputs: meta.inputs as usize,
            time: meta.time_scale.zip(meta.time_shift),
            grid,
            latent_dim: meta.latent_dim as usize,
            latents,
            stages,
            outputs: meta.outputs as usize,
            head_layers,
            axes: SampleAxes::new(file.metadata(), meta.sites, file.rectilinear_axes()?)?,
        };
        model.check_chain()?;
        Ok(model)
    }

    /// Number of parameters: latents, stages and heads.
    pub fn parameter_count(&self) -> u64 {
        let stages: u64 = (self.stages.iter())
            .map(|s| s.synthesis.parameter_count() + s.modulator.parameter_count())
            .sum();
        let heads: u64 = self.head_layers.iter().map(|l| l.parameter_count()).sum();
        self.latents.len() as u64 + stages + heads
    }

    /// Width of the synthesis features the heads take.
    pub fn width(&self) -> usize {
        self.stages
            .last()
            .map_or(self.inputs, |s| s.synthesis.features().1)
    }

    /// Variable `v`'s latent vector.
    pub fn latent(&self, v: usize) -> &[f32] {
        &self.latents[v * self.latent_dim..(v + 1) * self.latent_dim]
    }

    /// The layers chain: each takes its predecessor's width, residual blocks
    /// are square, a stage's two layers are equally wide, and the heads end
    /// in `outputs`.
    fn check_chain(&self) -> Result<()> {
        let (mut syn, mut modu) = (self.inputs, self.latent_dim);
        for (i, s) in self.stages.iter().enumerate() {
            let (a, b) = (chain(&s.synthesis, syn), chain(&s.modulator, modu));
            let (Some(a), Some(b)) = (a, b) else {
                return Err(Error::Shape(format!("stage {i}: layers do not chain")));
            };
            if a != b {
                return Err(Error::Shape(format!(
                    "stage {i}: synthesis width {a}, modulator width {b}"
                )));
            }
            (syn, modu) = (a, b);
        }
        for (i, l) in self.head_layers.iter().enumerate() {
            if l.in_features != syn {
                return Err(Error::Shape(format!(
                    "head layer {i} takes {} inputs, previous layer gives {syn}",
                    l.in_features
                )));
            }
            syn = l.out_features;
        }
        if syn != self.outputs {
            return Err(Error::Shape(format!(
                "the heads give {syn} outputs, the model declares {}",
                self.outputs
            )));
        }
        Ok(())
    }
}

/// The width `layer` gives from `width` inputs, if it takes them (a sine
/// or square residual layer).
fn chain(layer: &Layer, width: usize) -> Option<usize> {
    match layer {
        Layer::Sine { dense, .. } if dense.in_features == width => Some(dense.out_features),
        Layer::ResidualSine { first, second, .. }
            if [first.in_features, first.out_features]
                .iter()
                .chain(&[second.in_features, second.out_features])
                .all(|&f| f == width) =>
        {
            Some(width)
        }
        _ => None,
    }
}

/// Everything the JSON says, checked against the file's metadata before a
/// section is read; the head grid it describes.
fn check(meta: &StsrMeta, file: &Metadata) -> Result<HeadGrid> {
    if let Some(v) = file.variables.iter().find(|v| v.association != meta.sites) {
        return Err(Error::Invalid(format!(
            "variable {:?} does not lie on the model's sites ({:?})",
            v.name, meta.sites
        )));
    }
    check_inputs(meta, file)?;
    let grid = head_grid(meta, native_samples(file, meta.sites)?)?;
    if meta.latent_dim == 0 || meta.latent_dim > MAX_LATENT_DIM {
        return Err(Error::Invalid(format!(
            "latent_dim {} (must be 1..={MAX_LATENT_DIM})",
            meta.latent_dim
        )));
    }
    let want = [file.variables.len() as u64, meta.latent_dim as u64];
    if meta.latents.shape != want {
        return Err(Error::Shape(format!(
            "latents of shape {:?} (expected {want:?})",
            meta.latents.shape
        )));
    }
    check_layers(meta, grid.count() as u64)?;
    let widest = file.variables.iter().map(|v| v.components).max();
    if widest != Some(meta.outputs) {
        return Err(Error::Shape(format!(
            "{} outputs per head, the widest variable has {} components",
            meta.outputs,
            widest.unwrap_or(0)
        )));
    }
    let total = (meta.tensors().iter())
        .map(|t| t.numel())
        .sum::<Result<u64>>()?;
    if total > limits::MAX_PARAMETERS {
        return Err(Error::LimitExceeded(format!(
            "{total} parameters, limit {}",
            limits::MAX_PARAMETERS
        )));
    }
    Ok(grid)
}

/// 4 inputs with a time axis and its finite normalization, 3 without.
fn check_inputs(meta: &StsrMeta, file: &Metadata) -> Result<()> {
    let timed = file.time.is_some();
    let want = if timed { 4 } else { 3 };
    if meta.inputs != want {
        return Err(Error::Invalid(format!(
            "{} inputs for a file {} a time axis (expected {want})",
            meta.inputs,
            if timed { "with" } else { "without" }
        )));
    }
    match (meta.time_scale, meta.time_shift) {
        (Some(a), Some(b)) if timed && a.is_finite() && b.is_finite() => Ok(()),
        (None, None) if !timed => Ok(()),
        (a, b) => Err(Error::Invalid(format!(
            "time_scale {a:?} and time_shift {b:?} (both finite with 4 inputs, absent with 3)"
        ))),
    }
}

/// The head grid, checked: heads divide the grid's samples, the grid fits
/// in the native samples, at most [`MAX_HEADS`] heads.
fn head_grid(meta: &StsrMeta, native: [u64; 4]) -> Result<HeadGrid> {
    let (h, m, k) = (meta.heads, meta.head_grid, meta.head_stride);
    let count = h.iter().try_fold(1u64, |acc, &x| acc.checked_mul(x));
    if h.contains(&0) || count.is_none_or(|c| c > MAX_HEADS) {
        return Err(Error::LimitExceeded(format!(
            "heads {h:?} (each at least 1, at most {MAX_HEADS} in all)"
        )));
    }
    let axis = |a: usize| -> Result<HeadAxis> {
        let span = (m[a].checked_sub(1)).and_then(|s| s.checked_mul(k[a]));
        let fits = span.is_some_and(|s| s < native[a]);
        if k[a] == 0 || !fits || m[a] % h[a] != 0 {
            return Err(Error::Invalid(format!(
                "head grid {m:?} with stride {k:?} and heads {h:?} on {:?} native samples \
                 (each head count must divide the grid, which must fit the samples)",
                &native[..3]
            )));
        }
        Ok(HeadAxis {
            heads: h[a] as usize,
            per_head: m[a] / h[a],
            stride: k[a],
        })
    };
    Ok(HeadGrid {
        axes: [axis(0)?, axis(1)?, axis(2)?],
    })
}

/// Stage layers are sine or residual sine; the heads are sine layers and a
/// final linear one, of `heads` networks; the whole network has at most
/// [`limits::MAX_LAYERS`] layers.
fn check_layers(meta: &StsrMeta, heads: u64) -> Result<()> {
    let n = meta.stages.len() + meta.head_layers.len();
    if meta.stages.is_empty() || meta.head_layers.is_empty() || n > limits::MAX_LAYERS {
        return Err(Error::Invalid(format!(
            "{} stages and {} head layers (at least one of each, at most {} in all)",
            meta.stages.len(),
            meta.head_layers.len(),
            limits::MAX_LAYERS
        )));
    }
    let linear = |l: &LayerMeta| matches!(l, LayerMeta::Linear { .. });
    if meta
        .stages
        .iter()
        .any(|s| linear(&s.synthesis) || linear(&s.modulator))
    {
        return Err(Error::Invalid("a linear layer in a stage".into()));
    }
    let last = meta.head_layers.len() - 1;
    for (i, l) in meta.head_layers.iter().enumerate() {
        if matches!(l, StackedLayerMeta::Linear { .. }) != (i == last) {
            return Err(Error::Invalid(
                "the last head layer, and only it, must be linear".into(),
            ));
        }
        stacked::shape(l, heads)?;
    }
    Ok(())
}
