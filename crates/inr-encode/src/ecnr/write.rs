//! An ECNR model as the file stores it (docs/format.md §10.4): per scale
//! one zstd section with the block assignment, the shared tables, the
//! stacked layers (`[m, out, in]`, pruning masks) and the latent codes of
//! every time sample.

use serde_json::{json, Value};

use inr_core::error::{Error, Result};
use inr_core::format::section::Compression;
use inr_core::format::tensor::Location;
use inr_core::format::writer::index_bits;
use inr_core::format::{Association, DType, FileBuilder, WeightEncoding};

use crate::export::WriteWeights;
use crate::siren::W0;

/// Marks an empty block in the assignment.
pub const EMPTY: u32 = u32::MAX;

/// One stored tensor: values (pruned ones zero) and its mask.
#[derive(Clone, Debug)]
pub struct Stored {
    pub shape: Vec<u64>,
    pub values: Vec<f32>,
    pub keep: Option<Vec<bool>>,
}

/// One stacked layer.
#[derive(Clone, Debug)]
pub struct StoredLayer {
    /// `[m, out, in]`.
    pub weight: Stored,
    /// `[m, out]`.
    pub bias: Stored,
    pub sine: bool,
}

/// One scale of the file.
#[derive(Clone, Debug)]
pub struct ScaleModel {
    pub factor: usize,
    pub dims: [usize; 4],
    /// Per block its MLP or [`EMPTY`].
    pub assignment: Vec<u32>,
    pub mlps: usize,
    /// Per time sample, `[e_s, latent_dim]` row-major.
    pub latents: Vec<Vec<f32>>,
    pub layers: Vec<StoredLayer>,
    /// Weight, bias and latent tables (sorted), when quantized.
    pub tables: Option<[Vec<f32>; 3]>,
}

/// A trained ECNR model.
#[derive(Clone, Debug)]
pub struct EcnrModel {
    pub sites: Association,
    pub block: [usize; 3],
    pub latent_dim: usize,
    pub scales: Vec<ScaleModel>,
}

impl WriteWeights for EcnrModel {
    fn write_weights(&self, builder: &mut FileBuilder, _: WeightEncoding) -> Result<Value> {
        let scales = self
            .scales
            .iter()
            .enumerate()
            .map(|(k, s)| write_scale(builder, k, s, self.latent_dim))
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({
            "family": "ecnr",
            "sites": match self.sites { Association::Point => "point", Association::Cell => "cell" },
            "block": self.block,
            "latent_dim": self.latent_dim,
            "scales": scales,
        }))
    }
}

fn write_scale(builder: &mut FileBuilder, k: usize, s: &ScaleModel, l: usize) -> Result<Value> {
    let section = builder.new_section(&format!("scale {}", k + 1), Compression::Zstd);
    let bytes: Vec<u8> = s.assignment.iter().flat_map(|a| a.to_le_bytes()).collect();
    let assignment = builder.push_array(section, &bytes, s.assignment.len(), DType::U32);
    let tables = s
        .tables
        .as_ref()
        .map(|t| t.clone().map(|t| (builder.push_table(section, &t), t)));
    let role = |i: usize| tables.as_ref().map(|t| &t[i]);
    let mut tensor = |st: &Stored, r: Option<&(Location, Vec<f32>)>| push(builder, section, st, r);
    let layers = s
        .layers
        .iter()
        .map(|layer| -> Result<Value> {
            let weight = tensor(&layer.weight, role(0))?;
            let bias = tensor(&layer.bias, role(1))?;
            Ok(if layer.sine {
                json!({"kind": "sine", "w0": W0, "weight": weight, "bias": bias})
            } else {
                json!({"kind": "linear", "weight": weight, "bias": bias})
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let latents = s
        .latents
        .iter()
        .map(|rows| {
            let st = Stored {
                shape: vec![(rows.len() / l.max(1)) as u64, l as u64],
                values: rows.clone(),
                keep: None,
            };
            tensor(&st, role(2))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "factor": s.factor,
        "dims": s.dims,
        "assignment": assignment,
        "mlps": s.mlps,
        "latents": latents,
        "layers": layers,
    }))
}

/// Appends a tensor: indices into `table` (pruned entries, which are
/// zero, left out under a mask) or f32.
fn push(
    builder: &mut FileBuilder,
    section: u32,
    st: &Stored,
    table: Option<&(Location, Vec<f32>)>,
) -> Result<Value> {
    let t = match table {
        None => builder.push_tensor(section, &st.values, &st.shape, WeightEncoding::F32)?,
        Some((at, table)) => {
            let bits = index_bits(table.len());
            let shared = (*at, table.as_slice());
            match st.keep {
                Some(_) => {
                    builder.push_indexed_pruned(section, &st.values, &st.shape, bits, shared)?
                }
                None => builder.push_indexed(section, &st.values, &st.shape, bits, shared)?,
            }
        }
    };
    serde_json::to_value(t).map_err(|e| Error::Invalid(e.to_string()))
}
