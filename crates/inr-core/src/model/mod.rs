//! Model families. Each family parses its part of the metadata, loads its
//! weights from the file's sections and validates every shape before the
//! decoder sees it. The residual SIREN and MC-INR families are implemented;
//! the format reserves the others (see docs/format.md).

pub mod mc_inr;
pub mod normalization;
pub mod residual_siren;
pub mod shared_codebook;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::format::InrFile;

pub use mc_inr::{CoordNetB, McInr, McInrMeta};
pub use residual_siren::{Dense, Layer, ResidualSiren, ResidualSirenMeta};

/// Family names as written in the metadata.
pub const FAMILY_RESIDUAL_SIREN: &str = "residual_siren";
pub const FAMILY_MC_INR: &str = "mc_inr";
/// Families the format describes; this build decodes the first two.
pub const KNOWN_FAMILIES: [&str; 5] = ["residual_siren", "mc_inr", "ecnr", "stsr_inr", "nervi"];

/// A loaded model of any family.
#[derive(Clone, Debug)]
pub enum Model {
    ResidualSiren(ResidualSiren),
    McInr(McInr),
}

impl Model {
    /// Loads and validates the model of an open file.
    pub fn load(file: &InrFile) -> Result<Model> {
        let meta = file.metadata();
        match meta.model_family() {
            FAMILY_RESIDUAL_SIREN => {
                let m = ResidualSirenMeta::from_value(&meta.model)?;
                let sections = SectionCache::load(file, &m.sections_used())?;
                let model = ResidualSiren::load(&m, &|i| sections.get(i))?;
                model.check_outputs(meta)?;
                Ok(Model::ResidualSiren(model))
            }
            FAMILY_MC_INR => {
                let m = McInrMeta::from_value(&meta.model)?;
                let sections = SectionCache::load(file, &m.sections_used())?;
                Ok(Model::McInr(McInr::load(&m, meta, &|i| sections.get(i))?))
            }
            f if KNOWN_FAMILIES.contains(&f) => Err(Error::Unsupported(format!(
                "model family '{f}' is not implemented by this version of inr"
            ))),
            f => Err(Error::Unsupported(format!("unknown model family '{f}'"))),
        }
    }

    /// Number of stored parameters.
    pub fn parameter_count(&self) -> u64 {
        match self {
            Model::ResidualSiren(m) => m.parameter_count(),
            Model::McInr(m) => m.parameter_count(),
        }
    }
}

/// Decoded sections, read once each.
pub struct SectionCache {
    sections: HashMap<u32, Vec<u8>>,
}

impl SectionCache {
    /// Reads the given sections of `file`.
    pub fn load(file: &InrFile, indices: &[u32]) -> Result<SectionCache> {
        let mut sections = HashMap::new();
        for &i in indices {
            if let std::collections::hash_map::Entry::Vacant(e) = sections.entry(i) {
                e.insert(file.read_section(i)?);
            }
        }
        Ok(SectionCache { sections })
    }

    /// The decoded bytes of section `i`, if loaded.
    pub fn get(&self, i: u32) -> Result<&[u8]> {
        self.sections
            .get(&i)
            .map(Vec::as_slice)
            .ok_or_else(|| Error::OutOfBounds(format!("section {i} not loaded")))
    }
}
