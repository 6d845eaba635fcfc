//! Codebooks shared by all the clusters of an MC-INR model.
//!
//! A codebook of `2^b` entries costs `4 * 2^b` bytes, more than most tensors
//! of a small cluster network hold (a 16 x 16 weight has 256 values), so
//! per-tensor codebooks would leave small networks in f32 at 4 bytes a
//! parameter. Instead, all clusters share one table per *role* of a tensor,
//! as ECNR shares one per scale: four tables in all, whatever the number of
//! clusters. The roles keep apart value ranges that differ by an order of
//! magnitude (hidden layers, linear heads), so that one table does not
//! spend its levels on a range few values use.
//!
//! The first layer's weights and every bias stay f32, as the residual
//! SIREN's, whose per-tensor codebooks never pay for them: they are few,
//! and w0-folded they are phases (a first-layer weight multiplies
//! coordinates in [-1, 1], a bias adds to the phase directly), so a
//! quantization step there shifts a whole sine (docs/benchmarks.md).

use crate::error::Result;
use crate::format::tensor::{Location, TensorRef};
use crate::format::writer::codebook_pays;
use crate::format::FileBuilder;
use crate::quantize::{self, kmeans_1d};

use super::mc_inr::CoordNetB;
use super::residual_siren::{layer_metas, Dense, LayerMeta};
use super::Layer;

/// What a tensor is in its network; one table per role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The trunk's first weight (from the coordinates).
    First = 0,
    /// Weights of the sine and residual sine layers after it.
    Hidden = 1,
    /// Weights of the linear heads.
    Head = 2,
    /// Every bias.
    Bias = 3,
}

pub const ROLES: usize = 4;

/// One table per role (indexed by `Role as usize`), `None` for a role kept
/// f32.
pub type RoleTables = [Option<Vec<f32>>; ROLES];

/// The role of the weight of layer `position` of the trunk (`trunk`) or of
/// a branch.
fn weight_role(trunk: bool, position: usize, layer: &Layer) -> Role {
    match layer {
        Layer::Linear { .. } => Role::Head,
        _ if trunk && position == 0 => Role::First,
        _ => Role::Hidden,
    }
}

/// Every (role, values) of a network: weights and biases.
pub fn tensors(net: &CoordNetB) -> Vec<(Role, &Vec<f32>)> {
    let mut out = Vec::new();
    let lists = std::iter::once((true, &net.trunk)).chain(net.branches.iter().map(|b| (false, b)));
    for (trunk, layers) in lists {
        for (i, l) in layers.iter().enumerate() {
            for d in denses(l) {
                out.push((weight_role(trunk, i, l), &d.weight));
                out.push((Role::Bias, &d.bias));
            }
        }
    }
    out
}

fn denses(l: &Layer) -> Vec<&Dense> {
    match l {
        Layer::Sine { dense, .. } | Layer::Linear { dense } => vec![dense],
        Layer::ResidualSine { first, second, .. } => vec![first, second],
    }
}

fn denses_mut(l: &mut Layer) -> Vec<&mut Dense> {
    match l {
        Layer::Sine { dense, .. } | Layer::Linear { dense } => vec![dense],
        Layer::ResidualSine { first, second, .. } => vec![first, second],
    }
}

/// The table of each role over all `nets` (k-means, `2^bits` levels at
/// most), or `None` for the roles kept f32 and where a table would take
/// more bytes than the values.
pub fn tables(nets: &[CoordNetB], bits: u8) -> RoleTables {
    let mut values: [Vec<f32>; ROLES] = Default::default();
    for net in nets {
        for (role, v) in tensors(net) {
            values[role as usize].extend_from_slice(v);
        }
    }
    let mut role = 0;
    values.map(|v| {
        role += 1;
        let shared = role - 1 == Role::Hidden as usize || role - 1 == Role::Head as usize;
        (shared && codebook_pays(v.len(), bits)).then(|| levels(&v, bits))
    })
}

/// The `2^bits` levels of a role's values: exactly its distinct values
/// when they are that few (quantized values, as the file writes them, even
/// where a subsample would miss a level), else k-means on a subsample.
fn levels(v: &[f32], bits: u8) -> Vec<f32> {
    let mut distinct: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    distinct.sort_by(f32::total_cmp);
    distinct.dedup();
    if !distinct.is_empty() && distinct.len() <= 1 << bits {
        return distinct;
    }
    kmeans_1d(&subsample(v), 1 << bits).codebook
}

/// Most values k-means sees per table: an evenly strided subsample of a
/// larger role gives the same levels to within what matters, at a cost
/// that does not grow with the model (the size search probes large ones).
const KMEANS_SAMPLE: usize = 1 << 16;

fn subsample(v: &[f32]) -> Vec<f32> {
    if v.len() <= KMEANS_SAMPLE {
        return v.to_vec();
    }
    let step = v.len() as f64 / KMEANS_SAMPLE as f64;
    (0..KMEANS_SAMPLE)
        .map(|i| v[(i as f64 * step) as usize])
        .collect()
}

/// Replaces every value by its nearest entry of its role's table: the
/// encoder's quantization, after which the file stores the values exactly.
/// Returns the tables, whose levels the snapped values now are.
pub fn snap(nets: &mut [CoordNetB], bits: u8) -> RoleTables {
    let tables = tables(nets, bits);
    for net in nets {
        let trunk = std::iter::once((true, &mut net.trunk));
        for (is_trunk, layers) in trunk.chain(net.branches.iter_mut().map(|b| (false, b))) {
            for (i, l) in layers.iter_mut().enumerate() {
                let role = weight_role(is_trunk, i, l);
                for d in denses_mut(l) {
                    snap_values(&mut d.weight, tables[role as usize].as_deref());
                    snap_values(&mut d.bias, tables[Role::Bias as usize].as_deref());
                }
            }
        }
    }
    tables
}

fn snap_values(values: &mut [f32], table: Option<&[f32]>) {
    if let Some(t) = table {
        for v in values {
            *v = t[quantize::nearest(t, *v) as usize];
        }
    }
}

/// The shared tables of a file being written, and where they are.
pub struct SharedTables {
    bits: u8,
    tables: [Option<(Location, Vec<f32>)>; ROLES],
}

impl SharedTables {
    /// Computes the tables of `nets` and appends them to `section`.
    pub fn write(
        builder: &mut FileBuilder,
        section: u32,
        nets: &[CoordNetB],
        bits: u8,
    ) -> SharedTables {
        let tables = tables(nets, bits).map(|t| t.map(|t| (builder.push_table(section, &t), t)));
        SharedTables { bits, tables }
    }

    /// Writes the layers of a trunk (`trunk`) or a branch: indices into the
    /// shared tables, or f32 for a role without one.
    pub fn write_layers(
        &self,
        builder: &mut FileBuilder,
        section: u32,
        layers: &[Layer],
        trunk: bool,
    ) -> Result<Vec<LayerMeta>> {
        layer_metas(layers, &mut |i, d| {
            let role = weight_role(trunk, i, &layers[i]);
            let w = self.push(builder, section, &d.weight, &d.weight_shape(), role)?;
            let b = self.push(
                builder,
                section,
                &d.bias,
                &[d.out_features as u64],
                Role::Bias,
            )?;
            Ok((w, b))
        })
    }

    fn push(
        &self,
        builder: &mut FileBuilder,
        section: u32,
        values: &[f32],
        shape: &[u64],
        role: Role,
    ) -> Result<TensorRef> {
        match &self.tables[role as usize] {
            Some((at, table)) => {
                builder.push_indexed(section, values, shape, self.bits, (*at, table))
            }
            None => builder.push_tensor(section, values, shape, crate::format::WeightEncoding::F32),
        }
    }
}
