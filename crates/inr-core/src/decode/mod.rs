//! The CPU decoder: an open file with its model loaded, evaluated at arbitrary
//! points or on sampling grids of any resolution, for any subset of the
//! variables, at any time.

pub mod clustered;
mod correct;
pub mod ecnr;
pub mod family;
pub mod grid;
pub mod image;
pub mod nervi;
pub mod nodes;
pub mod parallel;
pub mod passes;
pub mod plan;
pub mod points;
pub mod resample;
pub mod single;
pub mod stsr;

use std::path::Path;
use std::sync::Arc;

use crate::corrections::Corrections;
use crate::error::{Error, Result};
use crate::format::{Domain, InrFile, Metadata};
use crate::mesh::locate::CellLocator;
use crate::mesh::Mesh;
use crate::sampling::SamplingGrid;
use once_cell::sync::OnceCell;

pub use family::{Evaluator, Family, Model, OutputRequest, Outputs};
pub use grid::{DecodedArray, DecodedGrid, GridRequest};
pub use image::{DecodedImage, ImageRequest, ImageSet};
pub use parallel::{Blend, DecodeOptions, Progress};
pub(crate) use passes::Sites;
pub use points::PointTimes;

/// An open `.inr` file ready to decode. `Sync`: one decoder serves many
/// threads at once (every call takes `&self`).
pub struct Decoder {
    file: InrFile,
    model: Model,
    bounds: [f64; 6],
    native: Option<SamplingGrid>,
    /// The stored mesh of an unstructured file, read on first use.
    mesh: OnceCell<Mesh>,
    /// The spatial index over the mesh's cells, built on the first resample.
    locator: OnceCell<CellLocator>,
    /// The stored views of an `images` file.
    images: Option<ImageSet>,
    /// Residuals that bound the error at the stored sites.
    corrections: Option<Corrections>,
}

impl Decoder {
    /// Opens, verifies and loads the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Decoder> {
        Self::new(InrFile::open(path)?)
    }

    /// Opens a file held in memory.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Decoder> {
        Self::new(InrFile::from_bytes(bytes)?)
    }

    fn new(file: InrFile) -> Result<Decoder> {
        let model = Model::load(&file)?;
        let images = ImageSet::read(&file)?;
        if images.is_some() != model.get::<crate::model::Nervi>().is_some() {
            return Err(Error::Unsupported(format!(
                "a {} model on an {} domain (images domains go with nervi models only)",
                file.metadata().model_family(),
                file.metadata().domain.kind_name()
            )));
        }
        let views = images.as_ref().map_or(1, ImageSet::view_count);
        let corrections = Corrections::of(file.metadata(), views)?;
        let native = native_grid(&file)?;
        let bounds = match (&file.metadata().domain, &native) {
            (_, Some(g)) => {
                let b = |a: usize| (g.axes[a][0], *g.axes[a].last().unwrap_or(&g.axes[a][0]));
                let (x, y, z) = (b(0), b(1), b(2));
                [x.0, x.1, y.0, y.1, z.0, z.1]
            }
            (Domain::Unstructured { bounds, .. }, None) => {
                if (0..3).any(|a| bounds[2 * a] > bounds[2 * a + 1]) {
                    return Err(Error::Invalid(format!(
                        "mesh bounds {bounds:?} have min > max"
                    )));
                }
                *bounds
            }
            (Domain::Images { width, height, .. }, None) => [
                0.0,
                (*width - 1) as f64,
                0.0,
                (*height - 1) as f64,
                0.0,
                0.0,
            ],
            (d, None) => {
                return Err(Error::Unsupported(format!(
                    "decoding {} domains",
                    d.kind_name()
                )))
            }
        };
        Ok(Decoder {
            file,
            model,
            bounds,
            native,
            mesh: OnceCell::new(),
            locator: OnceCell::new(),
            images,
            corrections,
        })
    }

    /// The file's metadata.
    pub fn metadata(&self) -> &Metadata {
        self.file.metadata()
    }

    /// The underlying file.
    pub fn file(&self) -> &InrFile {
        &self.file
    }

    /// The loaded model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Whether the model embeds its variables as latent vectors (STSR-INR),
    /// so that [`DecodeOptions::blend`] applies.
    pub fn embeds_variables(&self) -> bool {
        self.model.family().embeds_variables()
    }

    /// Bounding box `[xmin, xmax, ymin, ymax, zmin, zmax]` of the domain.
    pub fn bounds(&self) -> [f64; 6] {
        self.bounds
    }

    /// The corrections that bound the error at the stored sites, if any.
    pub fn corrections(&self) -> Option<&Corrections> {
        self.corrections.as_ref()
    }

    /// The stored grid of a structured domain.
    pub fn native_grid(&self) -> Option<&SamplingGrid> {
        self.native.as_ref()
    }

    /// The sampling grid of `dims` points over the domain's bounds; `None`
    /// or the native dims give the stored grid itself.
    pub fn sampling_grid(&self, dims: Option<[usize; 3]>) -> Result<SamplingGrid> {
        if self.images.is_some() {
            // The family's own refusal, which names the image calls.
            self.prepare(&[0], &DecodeOptions::default())?;
        }
        match (&self.native, dims) {
            (Some(native), None) => Ok(native.clone()),
            (Some(native), Some(d)) if native.dims() == d => Ok(native.clone()),
            (_, Some(d)) => {
                let b = self.bounds;
                SamplingGrid::over_bounds(d, [b[0], b[2], b[4]], [b[1], b[3], b[5]])
            }
            (None, None) => Err(Error::InvalidArgument(
                "this domain has no native grid: give the dims".into(),
            )),
        }
    }

    /// Resolves variable names to indices; an empty list means all variables.
    pub fn variable_indices(&self, names: &[&str]) -> Result<Vec<usize>> {
        let meta = self.metadata();
        if names.is_empty() {
            return Ok((0..meta.variables.len()).collect());
        }
        names
            .iter()
            .map(|n| {
                meta.variable_index(n).ok_or_else(|| {
                    let known: Vec<&str> = meta.variables.iter().map(|v| v.name.as_str()).collect();
                    Error::InvalidArgument(format!(
                        "no variable {n:?} (the file has {})",
                        known.join(", ")
                    ))
                })
            })
            .collect()
    }

    /// The model prepared to produce the components of `variables`, in
    /// order, with the blend of `options` if any.
    pub(crate) fn prepare(
        &self,
        variables: &[usize],
        options: &DecodeOptions,
    ) -> Result<Box<dyn Evaluator + '_>> {
        let meta = self.metadata();
        if variables.is_empty() {
            return Err(Error::InvalidArgument("no variables requested".into()));
        }
        if let Some(v) = variables.iter().find(|&&v| v >= meta.variables.len()) {
            return Err(Error::InvalidArgument(format!(
                "variable index {v} of {}",
                meta.variables.len()
            )));
        }
        if let Some(b) = options.blend {
            self.check_blend(variables, b)?;
        }
        self.model.family().prepare(&OutputRequest {
            variables,
            meta,
            blend: options.blend,
        })
    }

    /// A blend needs a model that embeds variables, a variable to blend
    /// toward with as many components as each requested one, a finite alpha.
    fn check_blend(&self, variables: &[usize], b: Blend) -> Result<()> {
        let meta = self.metadata();
        if !self.embeds_variables() {
            return Err(Error::Unsupported(format!(
                "blending variables needs a model that embeds them (stsr_inr), not {}",
                meta.model_family()
            )));
        }
        let Some(with) = meta.variables.get(b.with) else {
            return Err(Error::InvalidArgument(format!(
                "blend toward variable {} of {}",
                b.with,
                meta.variables.len()
            )));
        };
        if !b.alpha.is_finite() {
            return Err(Error::InvalidArgument(format!("blend alpha {}", b.alpha)));
        }
        match variables
            .iter()
            .find(|&&v| meta.variables[v].components != with.components)
        {
            Some(&v) => Err(Error::InvalidArgument(format!(
                "cannot blend {:?} ({} components) with {:?} ({})",
                meta.variables[v].name, meta.variables[v].components, with.name, with.components
            ))),
            None => Ok(()),
        }
    }

    /// The time the network is evaluated at for a requested time: clamped to
    /// the stored time range (networks extrapolate poorly); the first step
    /// when none is given; ignored by static files.
    pub fn effective_time(&self, t: Option<f64>) -> Result<f64> {
        let Some(axis) = &self.metadata().time else {
            return Ok(0.0);
        };
        let (lo, hi) = (axis.values[0], axis.values[axis.values.len() - 1]);
        match t {
            None => Ok(lo),
            Some(t) if t.is_nan() => Err(Error::InvalidArgument("time is NaN".into())),
            Some(t) => Ok(t.clamp(lo, hi)),
        }
    }
}

/// The stored grid of a structured domain (rectilinear axes are read here).
fn native_grid(file: &InrFile) -> Result<Option<SamplingGrid>> {
    match &file.metadata().domain {
        Domain::Image {
            dims,
            origin,
            spacing,
        } => Ok(Some(SamplingGrid::uniform(
            dims.map(|d| d as usize),
            *origin,
            *spacing,
        )?)),
        Domain::Rectilinear { .. } => Ok(file.rectilinear_axes()?.map(|axes| SamplingGrid {
            axes,
            uniform: None,
        })),
        _ => Ok(None),
    }
}

impl Decoder {
    /// GEMM floating-point operations per evaluated point for `variables`
    /// (empty: all), 2 per multiply-add: the figure behind GFLOP/s reports.
    /// For a clustered model, the mean over its clusters (a point is one
    /// cluster's, or two near a border with blending).
    pub fn gemm_flops_per_point(&self, variables: &[usize]) -> Result<u64> {
        let all: Vec<usize> = (0..self.metadata().variables.len()).collect();
        let variables = if variables.is_empty() {
            &all
        } else {
            variables
        };
        Ok(self
            .prepare(variables, &DecodeOptions::default())?
            .flops_per_point())
    }
}

/// A network's input normalization: `x_n = scale * x + shift` per input.
#[derive(Clone, Debug)]
pub(crate) struct Affine {
    inputs: usize,
    scale: [f64; 4],
    shift: [f64; 4],
}

impl Affine {
    pub(crate) fn of(inputs: usize, scale: &[f64], shift: &[f64]) -> Affine {
        let mut a = Affine {
            inputs,
            scale: [0.0; 4],
            shift: [0.0; 4],
        };
        a.scale[..inputs].copy_from_slice(&scale[..inputs]);
        a.shift[..inputs].copy_from_slice(&shift[..inputs]);
        a
    }

    /// Writes the `inputs` normalized values of point `xyz` at time `t`.
    pub(crate) fn apply(&self, xyz: [f64; 3], t: f64, dst: &mut [f32]) {
        for a in 0..3 {
            dst[a] = (self.scale[a] * xyz[a] + self.shift[a]) as f32;
        }
        if self.inputs == 4 {
            dst[3] = (self.scale[3] * t + self.shift[3]) as f32;
        }
    }
}
