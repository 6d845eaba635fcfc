//! What the decoder asks of a model family, and the families this build
//! decodes. A family loads its weights (`model::<family>`), describes
//! itself, and prepares an [`Evaluator`] for the variables of a request;
//! everything else (grids, pieces, meshes, threads, progress) is the
//! decoder's. Adding a family: its `model` and `decode` modules, and one
//! line in [`FAMILIES`].

use std::any::Any;
use std::fmt::Debug;

use crate::decode::parallel::{Blend, DecodeOptions};
use crate::decode::plan::OutputMap;
use crate::error::{Error, Result};
use crate::format::{InrFile, Metadata};
use crate::kernels::mlp::TILE;
use crate::model::{
    Ecnr, McInr, Nervi, ResidualSiren, Stsr, FAMILY_ECNR, FAMILY_MC_INR, FAMILY_NERVI,
    FAMILY_RESIDUAL_SIREN, FAMILY_STSR_INR, KNOWN_FAMILIES,
};

/// Loads a family's model from an open file.
type Loader = fn(&InrFile) -> Result<Box<dyn Family>>;

/// The families this build decodes, by the name the metadata gives.
const FAMILIES: [(&str, Loader); 5] = [
    (FAMILY_RESIDUAL_SIREN, |f| {
        Ok(Box::new(ResidualSiren::from_file(f)?))
    }),
    (FAMILY_MC_INR, |f| Ok(Box::new(McInr::from_file(f)?))),
    (FAMILY_ECNR, |f| Ok(Box::new(Ecnr::from_file(f)?))),
    (FAMILY_STSR_INR, |f| Ok(Box::new(Stsr::from_file(f)?))),
    (FAMILY_NERVI, |f| Ok(Box::new(Nervi::from_file(f)?))),
];

/// A loaded model, as the decoder uses it.
pub trait Family: Any + Send + Sync + Debug {
    /// Number of stored parameters.
    fn parameter_count(&self) -> u64;

    /// One line on the network's shape (`inr info`), e.g. `3 inputs, width
    /// 64, 3 residual blocks, 4 outputs`.
    fn describe(&self) -> String;

    /// The model prepared to give the components of the variables of
    /// `request`, in order.
    /// Families that are not point-wise (NeRVI's whole images) refuse.
    fn prepare<'a>(&'a self, request: &OutputRequest) -> Result<Box<dyn Evaluator + 'a>>;

    /// For [`Model::get`].
    fn as_any(&self) -> &dyn Any;

    /// Whether the model embeds variables as latent vectors, so that a
    /// decode may blend them ([`crate::decode::Blend`]).
    fn embeds_variables(&self) -> bool {
        false
    }
}

/// A model prepared for one request.
pub trait Evaluator: Sync {
    /// Values per point: the requested variables' components.
    fn outputs(&self) -> usize;

    /// GEMM floating-point operations per point (2 per multiply-add).
    fn flops_per_point(&self) -> u64;

    /// Evaluates the `n` points `coords(q)` at times `time_of(q)` into `out`
    /// (physical units), on the threads of `options`, reporting progress
    /// there.
    fn eval(
        &self,
        n: usize,
        coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
        time_of: &(dyn Fn(usize) -> f64 + Sync),
        out: Outputs,
        options: &DecodeOptions,
    ) -> Result<()>;
}

/// Where an evaluator's values go: per point, `widths[i]` values to buffer
/// `i` (one buffer per variable, or one buffer of all of them interleaved),
/// the widths adding up to the evaluator's outputs.
pub struct Outputs<'a> {
    bufs: Vec<&'a mut [f32]>,
    widths: Vec<usize>,
}

impl<'a> Outputs<'a> {
    /// Buffers of `widths[i]` values per point each; all hold the same
    /// number of points.
    pub fn new(bufs: Vec<&'a mut [f32]>, widths: Vec<usize>) -> Outputs<'a> {
        debug_assert_eq!(bufs.len(), widths.len());
        Outputs { bufs, widths }
    }

    /// One buffer of `width` values per point.
    pub fn interleaved(buf: &'a mut [f32], width: usize) -> Outputs<'a> {
        Outputs::new(vec![buf], vec![width])
    }

    /// Values per point over all buffers.
    pub fn width(&self) -> usize {
        self.widths.iter().sum()
    }

    /// Consecutive parts of `len` points each (the last may be shorter).
    pub fn split(self, len: usize) -> Vec<Outputs<'a>> {
        let mut parts: Vec<Outputs> = Vec::new();
        for (buf, &w) in self.bufs.into_iter().zip(&self.widths) {
            for (i, chunk) in buf.chunks_mut(len * w.max(1)).enumerate() {
                if i == parts.len() {
                    parts.push(Outputs {
                        bufs: Vec::with_capacity(self.widths.len()),
                        widths: self.widths.clone(),
                    });
                }
                parts[i].bufs.push(chunk);
            }
        }
        parts
    }

    /// Consecutive tiles of [`TILE`] points (the last may be shorter), each
    /// with its first point: the jobs of a tiled evaluation.
    pub fn tiles(self) -> Vec<(usize, Outputs<'a>)> {
        (self.split(TILE).into_iter().enumerate())
            .map(|(t, o)| (t * TILE, o))
            .collect()
    }

    /// Writes `n` points of interleaved `values` (`width()` per point) from
    /// point `start` on.
    pub fn put(&mut self, start: usize, n: usize, values: &[f32]) {
        let stride = self.width();
        let mut first = 0;
        for (buf, &w) in self.bufs.iter_mut().zip(&self.widths) {
            if stride == w {
                buf[start * w..(start + n) * w].copy_from_slice(&values[..n * w]);
            } else {
                for p in 0..n {
                    buf[(start + p) * w..(start + p + 1) * w]
                        .copy_from_slice(&values[p * stride + first..p * stride + first + w]);
                }
            }
            first += w;
        }
    }
}

/// The variables a request wants, checked against the metadata.
pub struct OutputRequest<'a> {
    pub variables: &'a [usize],
    pub meta: &'a Metadata,
    /// A blend of variable embeddings, checked against the model and the
    /// variables (only families that embed variables get one).
    pub blend: Option<Blend>,
}

impl OutputRequest<'_> {
    /// Per variable, per component: the network output it is and its
    /// mapping to physical units. `local` numbers the components within
    /// each variable (a branch's outputs), else within all variables (a
    /// single head's).
    pub fn output_maps(&self, local: bool) -> Vec<Vec<OutputMap>> {
        let vars = &self.meta.variables;
        self.variables
            .iter()
            .map(|&v| {
                let first: usize = if local {
                    0
                } else {
                    vars[..v].iter().map(|w| w.components as usize).sum()
                };
                vars[v]
                    .range
                    .iter()
                    .enumerate()
                    .map(|(c, r)| {
                        let half = 0.5 * (r[1] - r[0]);
                        OutputMap {
                            index: first + c,
                            scale: half,
                            offset: r[0] + half,
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// A loaded model of any family.
#[derive(Debug)]
pub struct Model(Box<dyn Family>);

impl Model {
    /// Loads and validates the model of an open file.
    pub fn load(file: &InrFile) -> Result<Model> {
        let name = file.metadata().model_family();
        match FAMILIES.iter().find(|(n, _)| *n == name) {
            Some((_, load)) => Ok(Model(load(file)?)),
            None if KNOWN_FAMILIES.contains(&name) => Err(Error::Unsupported(format!(
                "model family '{name}' is not implemented by this version of inr"
            ))),
            None => Err(Error::Unsupported(format!("unknown model family '{name}'"))),
        }
    }

    /// The family's model.
    pub fn family(&self) -> &dyn Family {
        self.0.as_ref()
    }

    /// The model as family `T`, if it is one.
    pub fn get<T: Family>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref()
    }

    /// Number of stored parameters.
    pub fn parameter_count(&self) -> u64 {
        self.0.parameter_count()
    }
}
