//! Model families' weights. Each family parses its part of the metadata,
//! loads its weights from the file's sections and validates every shape
//! before the decoder sees it (`decode::family` registers them). The
//! residual SIREN, MC-INR, ECNR, STSR-INR and NeRVI families are implemented
//! (see docs/format.md).

pub mod ecnr;
pub mod mc_inr;
pub mod nervi;
pub mod normalization;
pub mod residual_siren;
pub mod shared_codebook;
pub mod sites;
pub mod stacked;
pub mod stsr;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::format::InrFile;

pub use ecnr::{Ecnr, EcnrMeta};
pub use mc_inr::{CoordNetB, McInr, McInrMeta};
pub use nervi::{Nervi, NerviMeta};
pub use residual_siren::{Dense, Layer, ResidualSiren, ResidualSirenMeta};
pub use stsr::{Stsr, StsrMeta};

/// Family names as written in the metadata.
pub const FAMILY_RESIDUAL_SIREN: &str = "residual_siren";
pub const FAMILY_MC_INR: &str = "mc_inr";
pub const FAMILY_ECNR: &str = "ecnr";
pub const FAMILY_STSR_INR: &str = "stsr_inr";
pub const FAMILY_NERVI: &str = "nervi";
/// Families the format describes; this build decodes all of them.
pub const KNOWN_FAMILIES: [&str; 5] = ["residual_siren", "mc_inr", "ecnr", "stsr_inr", "nervi"];

/// The file's `"model"` object as a family's metadata (`parse`), and the
/// sections its tensors use (`used`), read.
pub(crate) fn model_parts<M>(
    file: &InrFile,
    parse: fn(&serde_json::Value) -> Result<M>,
    used: fn(&M) -> Vec<u32>,
) -> Result<(M, SectionCache)> {
    let meta = parse(&file.metadata().model)?;
    let sections = SectionCache::load(file, &used(&meta))?;
    Ok((meta, sections))
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
