//! What the decoder asks of a model family, and the families this build
//! decodes. A family loads its weights (`model::<family>`), describes
//! itself, and prepares an [`Evaluator`] for the variables of a request;
//! everything else (grids, pieces, meshes, threads, progress) is the
//! decoder's. Adding a family: its `model` and `decode` modules, and one
//! line in [`FAMILIES`].

use std::any::Any;
use std::fmt::Debug;

use crate::decode::parallel::DecodeOptions;
use crate::decode::plan::OutputMap;
use crate::error::{Error, Result};
use crate::format::{InrFile, Metadata};
use crate::model::{McInr, ResidualSiren, FAMILY_MC_INR, FAMILY_RESIDUAL_SIREN, KNOWN_FAMILIES};

/// Loads a family's model from an open file.
type Loader = fn(&InrFile) -> Result<Box<dyn Family>>;

/// The families this build decodes, by the name the metadata gives.
const FAMILIES: [(&str, Loader); 2] = [
    (FAMILY_RESIDUAL_SIREN, |f| {
        Ok(Box::new(ResidualSiren::from_file(f)?))
    }),
    (FAMILY_MC_INR, |f| Ok(Box::new(McInr::from_file(f)?))),
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
    fn prepare<'a>(&'a self, request: &OutputRequest) -> Box<dyn Evaluator + 'a>;

    /// For [`Model::get`].
    fn as_any(&self) -> &dyn Any;
}

/// A model prepared for one request.
pub trait Evaluator: Sync {
    /// Values per point: the requested variables' components.
    fn outputs(&self) -> usize;

    /// GEMM floating-point operations per point (2 per multiply-add).
    fn flops_per_point(&self) -> u64;

    /// Evaluates the `n` points `coords(q)` at times `time_of(q)` into `out`
    /// (`n x outputs()` values, point-major, physical units), on the threads
    /// of `options`, reporting progress there.
    fn eval(
        &self,
        n: usize,
        coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
        time_of: &(dyn Fn(usize) -> f64 + Sync),
        out: &mut [f32],
        options: &DecodeOptions,
    ) -> Result<()>;
}

/// The variables a request wants, checked against the metadata.
pub struct OutputRequest<'a> {
    pub variables: &'a [usize],
    pub meta: &'a Metadata,
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
