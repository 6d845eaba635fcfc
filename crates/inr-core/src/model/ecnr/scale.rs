//! One scale of an ECNR pyramid: its sample grid cut into blocks, each
//! block's MLP (or none: an empty block) and latent code, and the scale's
//! MLPs as stacked layers. Checked first from the JSON alone, then loaded.

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::metadata::DType;

use super::meta::ScaleMeta;
use super::{EMPTY, MAX_BLOCKS, MAX_BLOCK_VALUES, MAX_MLPS};
use crate::model::stacked::{self, StackedLayer, StackedLayerMeta};

/// A loaded, validated scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    /// Subsampling factor: sample `j` sits at native sample `j * factor`.
    pub factor: u64,
    /// Samples along x, y, z and t.
    pub dims: [usize; 4],
    /// Block size in samples (the model's).
    pub block: [usize; 3],
    /// Blocks along x, y and z (one layer of them per time sample).
    pub blocks: [usize; 3],
    /// Per block: its MLP, or [`EMPTY`].
    pub assignment: Vec<u32>,
    /// Per non-empty block: its row in its time sample's latents.
    pub rows: Vec<u32>,
    /// Per time sample: `e_s x latent_dim` latent codes.
    pub latents: Vec<Vec<f32>>,
    pub latent_dim: usize,
    /// Sine layers, then the linear layer.
    pub layers: Vec<StackedLayer>,
}

/// What the model gives every scale to check it against.
pub(super) struct Frame {
    /// Native samples along x, y, z, t.
    pub native: [u64; 4],
    pub block: [u64; 3],
    pub latent_dim: u64,
    /// Outputs of the last layer: the variables' components.
    pub outputs: u64,
}

/// Checks scale `i` from its JSON alone (factor, dims, block count, MLP
/// count, layer kinds and shapes) before any section is read.
pub(super) fn check(s: &ScaleMeta, i: usize, frame: &Frame) -> Result<()> {
    let f = s.factor;
    if !f.is_power_of_two() {
        return Err(Error::Invalid(format!(
            "scale {i}: factor {f} is not a power of two"
        )));
    }
    let want: [u64; 4] = frame.native.map(|n| n.div_ceil(f));
    if s.dims != want {
        return Err(Error::Shape(format!(
            "scale {i}: dims {:?}, the native samples {:?} over factor {f} give {want:?}",
            s.dims, frame.native
        )));
    }
    let count = block_count(s.dims, frame.block)
        .ok_or_else(|| Error::LimitExceeded(format!("scale {i}: more than {MAX_BLOCKS} blocks")))?;
    if s.assignment.dtype != DType::U32 || s.assignment.count != count {
        return Err(Error::Shape(format!(
            "scale {i}: an assignment of {} entries of {} for {count} blocks (u32 expected)",
            s.assignment.count,
            serde_json::to_string(&s.assignment.dtype).unwrap_or_default()
        )));
    }
    if s.mlps == 0 || s.mlps > MAX_MLPS {
        return Err(Error::Invalid(format!(
            "scale {i}: {} MLPs (must be 1..={MAX_MLPS})",
            s.mlps
        )));
    }
    if s.latents.len() as u64 != s.dims[3]
        || s.latents
            .iter()
            .any(|t| t.shape.len() != 2 || t.shape[1] != frame.latent_dim)
    {
        return Err(Error::Shape(format!(
            "scale {i}: latents must be {} tensors of shape [blocks, {}]",
            s.dims[3], frame.latent_dim
        )));
    }
    check_layers(&s.layers, s.mlps as u64, frame).map_err(|e| in_scale(e, i))?;
    let samples: u64 = (0..3).map(|a| frame.block[a].min(s.dims[a])).product();
    if samples.saturating_mul(frame.outputs) > MAX_BLOCK_VALUES {
        return Err(Error::LimitExceeded(format!(
            "scale {i}: a block of {samples} samples of {} outputs exceeds {MAX_BLOCK_VALUES} values",
            frame.outputs
        )));
    }
    Ok(())
}

/// `B_x B_y B_z dims[3]`, if at most [`MAX_BLOCKS`].
fn block_count(dims: [u64; 4], block: [u64; 3]) -> Option<u64> {
    let per_axis = (0..3).map(|a| dims[a].div_ceil(block[a]));
    per_axis
        .chain([dims[3]])
        .try_fold(1u64, |n, b| n.checked_mul(b))
        .filter(|&n| n <= MAX_BLOCKS)
}

/// Sine layers then one linear layer, chaining from `3 + latent_dim`
/// inputs to the outputs.
fn check_layers(layers: &[StackedLayerMeta], mlps: u64, frame: &Frame) -> Result<()> {
    if layers.len() < 2 || layers.len() > limits::MAX_LAYERS {
        return Err(Error::Invalid(format!(
            "{} stacked layers (1..={} sine layers and a linear one expected)",
            layers.len(),
            limits::MAX_LAYERS - 1
        )));
    }
    let mut width = 3 + frame.latent_dim;
    for (k, l) in layers.iter().enumerate() {
        let last = k + 1 == layers.len();
        if matches!(l, StackedLayerMeta::Linear { .. }) != last {
            return Err(Error::Invalid(
                "sine layers, then one linear layer, expected".into(),
            ));
        }
        let (out, inp) = stacked::shape(l, mlps)?;
        if inp != width {
            return Err(Error::Shape(format!(
                "layer {k} takes {inp} inputs, {width} given"
            )));
        }
        width = out;
    }
    if width != frame.outputs {
        return Err(Error::Shape(format!(
            "the MLPs have {width} outputs, the variables {} components",
            frame.outputs
        )));
    }
    Ok(())
}

fn in_scale(e: Error, i: usize) -> Error {
    match e {
        Error::Shape(m) => Error::Shape(format!("scale {i}: {m}")),
        Error::Invalid(m) => Error::Invalid(format!("scale {i}: {m}")),
        e => e,
    }
}

impl Scale {
    /// Loads scale `i`, which [`check`] passed: the assignment (bounded by
    /// its section), the latents of each time sample and the layers.
    pub(super) fn load<'a>(
        s: &ScaleMeta,
        i: usize,
        frame: &Frame,
        section: &dyn Fn(u32) -> Result<&'a [u8]>,
    ) -> Result<Scale> {
        let bytes = s.assignment.bytes_in(section(s.assignment.section)?)?;
        let assignment: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        if let Some(bad) = assignment.iter().find(|&&q| q != EMPTY && q >= s.mlps) {
            return Err(Error::Invalid(format!(
                "scale {i}: a block assigned to MLP {bad} of {}",
                s.mlps
            )));
        }
        let dims = s.dims.map(|d| d as usize);
        let block = frame.block.map(|b| b as usize);
        let blocks: [usize; 3] = std::array::from_fn(|a| dims[a].div_ceil(block[a]));
        let (rows, filled) = rows(&assignment, blocks.iter().product());
        let latents = s
            .latents
            .iter()
            .zip(&filled)
            .map(|(t, &e)| {
                if t.shape[0] != e as u64 {
                    return Err(Error::Shape(format!(
                        "scale {i}: latents of shape {:?} for {e} non-empty blocks",
                        t.shape
                    )));
                }
                stacked::finite(t, section)
            })
            .collect::<Result<Vec<_>>>()?;
        let layers = s
            .layers
            .iter()
            .map(|l| StackedLayer::load(l, s.mlps as u64, section))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| in_scale(e, i))?;
        Ok(Scale {
            factor: s.factor,
            dims,
            block,
            blocks,
            assignment,
            rows,
            latents,
            latent_dim: frame.latent_dim as usize,
            layers,
        })
    }

    /// Blocks of one time sample.
    pub fn blocks_per_sample(&self) -> usize {
        self.blocks.iter().product()
    }

    /// The block holding sample `j = (x, y, z, t)`.
    pub fn block_of(&self, j: [usize; 4]) -> usize {
        let [bx, by, bz] = [0, 1, 2].map(|a| j[a] / self.block[a]);
        bx + self.blocks[0] * (by + self.blocks[1] * (bz + self.blocks[2] * j[3]))
    }

    /// The first sample `(x, y, z, t)` of block `b`.
    pub fn block_origin(&self, b: usize) -> [usize; 4] {
        let [nx, ny, nz] = self.blocks;
        let t = b / (nx * ny * nz);
        let r = b % (nx * ny * nz);
        let [bx, by, bz] = [r % nx, r / nx % ny, r / (nx * ny)];
        [
            bx * self.block[0],
            by * self.block[1],
            bz * self.block[2],
            t,
        ]
    }

    /// Samples of block `b` along x, y and z (fewer than the block size at
    /// the far edges).
    pub fn block_extent(&self, b: usize) -> [usize; 3] {
        let o = self.block_origin(b);
        std::array::from_fn(|a| self.block[a].min(self.dims[a] - o[a]))
    }

    /// The MLP of block `b`, `None` when it is empty.
    pub fn mlp_of(&self, b: usize) -> Option<usize> {
        let q = self.assignment[b];
        (q != EMPTY).then_some(q as usize)
    }

    /// The latent code of non-empty block `b`.
    pub fn latent(&self, b: usize) -> &[f32] {
        let t = b / self.blocks_per_sample();
        let (r, l) = (self.rows[b] as usize, self.latent_dim);
        &self.latents[t][r * l..(r + 1) * l]
    }

    /// Number of MLPs.
    pub fn mlps(&self) -> usize {
        self.layers.first().map_or(0, |l| l.mlps)
    }

    /// Number of parameters: layers and latents.
    pub fn parameter_count(&self) -> u64 {
        let latents: usize = self.latents.iter().map(Vec::len).sum();
        self.layers
            .iter()
            .map(StackedLayer::parameter_count)
            .sum::<u64>()
            + latents as u64
    }
}

/// Per block its row among the non-empty blocks of its time sample (0 for
/// empty ones), and per time sample the number of non-empty blocks.
fn rows(assignment: &[u32], per_sample: usize) -> (Vec<u32>, Vec<usize>) {
    let mut rows = Vec::with_capacity(assignment.len());
    let mut filled = Vec::new();
    for sample in assignment.chunks(per_sample.max(1)) {
        let mut r = 0u32;
        for &q in sample {
            rows.push(r);
            r += (q != EMPTY) as u32;
        }
        filled.push(r as usize);
    }
    (rows, filled)
}
