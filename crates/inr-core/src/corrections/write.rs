//! Writing corrections into a file: one section of blocks per time step.

use crate::error::{Error, Result};
use crate::format::section::Compression;
use crate::format::{CorrectionsMeta, FileBuilder, InrFile};

use super::{codec, site_lattice};

/// The integer corrections of a file: `[step][variable][component]`, each
/// the units at every stored site of the variable's lattice, the lattices
/// of the stored views one after the other (`images` domains).
pub type Units = Vec<Vec<Vec<Vec<i64>>>>;

/// `bytes` with corrections `units` of `step` per unit, guaranteeing
/// `bound` (both per variable and component); replaces any it had.
pub fn add(
    bytes: &[u8],
    bound: Vec<Vec<f64>>,
    step: Vec<Vec<f64>>,
    units: &Units,
) -> Result<Vec<u8>> {
    let file = InrFile::from_bytes(bytes.to_vec())?;
    let (mut builder, mut meta) = FileBuilder::from_file(&file)?;
    let mut sections = Vec::new();
    for (s, per_variable) in units.iter().enumerate() {
        let section = builder.new_section(&format!("corrections {s}"), Compression::Zstd);
        let mut blocks = Vec::new();
        for (v, components) in per_variable.iter().enumerate() {
            let var = meta
                .variables
                .get(v)
                .ok_or_else(|| shape("more variables than the file"))?;
            let lattice = site_lattice(&meta.domain, var.association);
            let sites: usize = lattice.iter().product();
            if components.len() != var.components as usize {
                return Err(shape("components"));
            }
            for u in components {
                if sites == 0 || u.len() % sites != 0 {
                    return Err(shape("units not a whole number of lattices"));
                }
                for view in u.chunks_exact(sites) {
                    codec::encode_block(view, lattice, &mut blocks);
                }
            }
        }
        builder.append(section, &blocks);
        sections.push(section);
    }
    meta.corrections = Some(CorrectionsMeta {
        bound,
        step,
        sections,
    });
    let out = builder.to_bytes(meta)?;
    InrFile::from_bytes(out.clone())?; // checks the corrections' shapes
    Ok(out)
}

fn shape(what: &str) -> Error {
    Error::Shape(format!("corrections to write: {what}"))
}
