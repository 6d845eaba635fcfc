//! The ECNR family (Tang and Wang): a Laplacian pyramid over space and
//! time, each scale cut into equal blocks per time sample, each non-empty
//! block a latent code and one of many tiny sine MLPs of its scale
//! (docs/format.md, section 10.4). The value at a position is the sum over
//! the scales of the multilinear interpolation of their sample values; the
//! decoder evaluates whole blocks on demand (`decode::ecnr`).

pub mod meta;
pub mod scale;

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::metadata::{Association, Metadata};
use crate::format::InrFile;
use crate::model::SectionCache;

pub use crate::model::sites::{AxisMap, SampleAxes};
pub use crate::model::stacked::{StackedLayer, StackedLayerMeta};
pub use meta::{EcnrMeta, ScaleMeta};
pub use scale::Scale;

/// The assignment of an empty block.
pub const EMPTY: u32 = u32::MAX;
/// Most scales of a model.
pub const MAX_SCALES: usize = 16;
/// Most MLPs of one scale.
pub const MAX_MLPS: u32 = 1 << 20;
/// Most blocks of one scale (all time samples).
pub const MAX_BLOCKS: u64 = 1 << 40;
/// Largest block side, in samples; also the longest latent code.
pub const MAX_BLOCK_SIDE: u64 = 1 << 16;
/// Most values of one block (its samples within the scale times the
/// outputs): what the decoder holds per evaluated block.
pub const MAX_BLOCK_VALUES: u64 = 1 << 24;

/// A loaded, validated ECNR model.
#[derive(Clone, Debug, PartialEq)]
pub struct Ecnr {
    /// The samples are the domain's points or its cell centers.
    pub sites: Association,
    /// Block size in samples.
    pub block: [usize; 3],
    pub latent_dim: usize,
    /// Outputs of every MLP: the variables' components.
    pub outputs: usize,
    /// Coarsest first; the last has factor 1.
    pub scales: Vec<Scale>,
    /// Positions and times to continuous native indices.
    pub axes: SampleAxes,
}

impl Ecnr {
    /// Loads and validates the ECNR model of an open file: the JSON first
    /// (every count and shape), then the sections, the assignments (bounded
    /// by their sections) and the tensors.
    pub fn from_file(file: &InrFile) -> Result<Ecnr> {
        let meta = EcnrMeta::from_value(&file.metadata().model)?;
        let frame = check(&meta, file.metadata())?;
        let sections = SectionCache::load(file, &meta.sections_used())?;
        let section = |i| sections.get(i);
        let scales = meta
            .scales
            .iter()
            .enumerate()
            .map(|(i, s)| Scale::load(s, i, &frame, &section))
            .collect::<Result<Vec<_>>>()?;
        let axes = SampleAxes::new(file.metadata(), meta.sites, file.rectilinear_axes()?)?;
        Ok(Ecnr {
            sites: meta.sites,
            block: frame.block.map(|b| b as usize),
            latent_dim: frame.latent_dim as usize,
            outputs: frame.outputs as usize,
            scales,
            axes,
        })
    }

    /// Number of parameters: every layer and latent code.
    pub fn parameter_count(&self) -> u64 {
        self.scales.iter().map(Scale::parameter_count).sum()
    }

    /// How many scales a decode at level of detail `detail` sums: 0 (or more
    /// than there are) for all, else the coarsest `detail`.
    pub fn scales_for(&self, detail: u32) -> usize {
        match detail as usize {
            0 => self.scales.len(),
            k => k.min(self.scales.len()),
        }
    }
}

/// Everything the JSON says, checked against the file's metadata before a
/// section is read.
fn check(meta: &EcnrMeta, file: &Metadata) -> Result<scale::Frame> {
    if let Some(v) = file.variables.iter().find(|v| v.association != meta.sites) {
        let name = |a| match a {
            Association::Point => "point",
            Association::Cell => "cell",
        };
        return Err(Error::Invalid(format!(
            "variable {:?} is {} data in an ECNR model of {} sites",
            v.name,
            name(v.association),
            name(meta.sites)
        )));
    }
    if meta.block.iter().any(|&b| b == 0 || b > MAX_BLOCK_SIDE) {
        return Err(Error::Invalid(format!(
            "block {:?} (each side 1..={MAX_BLOCK_SIDE})",
            meta.block
        )));
    }
    if meta.latent_dim as u64 > MAX_BLOCK_SIDE {
        return Err(Error::Invalid(format!(
            "latent_dim {} (at most {MAX_BLOCK_SIDE})",
            meta.latent_dim
        )));
    }
    if meta.scales.is_empty() || meta.scales.len() > MAX_SCALES {
        return Err(Error::Invalid(format!(
            "{} scales (must be 1..={MAX_SCALES})",
            meta.scales.len()
        )));
    }
    let factors: Vec<u64> = meta.scales.iter().map(|s| s.factor).collect();
    if factors.windows(2).any(|w| w[0] <= w[1]) || factors.last() != Some(&1) {
        return Err(Error::Invalid(format!(
            "scale factors {factors:?} (strictly decreasing powers of two, the last 1)"
        )));
    }
    let frame = scale::Frame {
        native: crate::model::sites::native_samples(file, meta.sites)?,
        block: meta.block,
        latent_dim: meta.latent_dim as u64,
        outputs: file.total_components() as u64,
    };
    for (i, s) in meta.scales.iter().enumerate() {
        scale::check(s, i, &frame)?;
    }
    let total = meta
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
    Ok(frame)
}
