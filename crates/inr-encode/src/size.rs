//! Choosing the network's size for a byte budget (a compression ratio or a
//! file size).
//!
//! A formula for the file size misses the metadata, the domain (rectilinear
//! axes), zstd and the writer's choice between codebook and f32 per tensor;
//! at small sizes those dominate. So the size of a candidate network is
//! measured: the real file is written in memory, with random weights that
//! take at most `2^bits` distinct values per tensor, as trained and quantized
//! weights do, so the writer's codebooks cost what the trained ones will
//! (random indices are what zstd compresses least: the estimate errs small).
//! The width is the largest whose file fits. The stand-ins are the family's
//! own networks as the encoder initializes them (libtorch's generator: the
//! encoders seed it after the size search).
//!
//! For an unstructured mesh the budget is the model's alone: the mesh is
//! stored exactly and costs the same at any network size, so ratios are
//! counted on the model, as the papers do (the whole file's ratio is
//! reported next to it).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use inr_core::error::{Error, Result};
use inr_core::format::{limits, WeightEncoding};
use inr_core::model::mc_inr::ClusterTree;
use inr_core::model::{shared_codebook, Layer, McInr, ResidualSiren};
use tch::nn::VarStore;
use tch::Device;

use super::coordnet::{CoordShape, GroupedNet};
use super::data::Samples;
use super::export;
use super::levels::Levels;
use super::siren::{Shape, Siren, W0};

/// The narrowest network the encoder makes.
pub const MIN_WIDTH: usize = 4;

/// How large a network to train, for every family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Size {
    /// Raw float32 bytes over the bytes a target counts (the file less a
    /// mesh's sections); the width is the largest that fits.
    Ratio(f64),
    /// The bytes a target counts.
    Bytes(u64),
    /// An explicit width.
    Width(usize),
}

impl Size {
    /// The width this size asks of `model`, on data of `raw_bytes` float32
    /// bytes.
    pub fn width(self, raw_bytes: u64, model: &dyn SizeModel) -> Result<usize> {
        match (self.target(raw_bytes)?, self) {
            (Some(target), _) => width_for_bytes(target, model),
            (None, Size::Width(w)) => Ok(w),
            (None, _) => unreachable!("only an explicit width has no target"),
        }
    }

    /// The bytes this size asks for on data of `raw_bytes` float32 bytes
    /// (none for an explicit width).
    pub fn target(self, raw_bytes: u64) -> Result<Option<u64>> {
        match self {
            Size::Width(0) => Err(Error::InvalidArgument("width 0".into())),
            Size::Width(_) => Ok(None),
            Size::Ratio(r) if !(r.is_finite() && r > 0.0) => Err(Error::InvalidArgument(format!(
                "ratio {r} (must be above 0)"
            ))),
            Size::Ratio(r) => Ok(Some((raw_bytes as f64 / r) as u64)),
            Size::Bytes(b) => Ok(Some(b)),
        }
    }
}

/// What a file may take of a `target`: zstd does a little better or worse
/// on trained weights than on the stand-ins, so 1 % is kept in hand.
pub fn within(target: u64) -> u64 {
    target - target / 100
}

/// What the size search knows of a family: how many parameters and how
/// many file bytes a network of a given width makes.
pub trait SizeModel {
    /// The narrowest width the family makes.
    fn min_width(&self) -> usize;
    /// Parameters at `width` (the format limits them).
    fn parameters(&self, width: usize) -> u64;
    /// The bytes a size target counts (the file less a mesh's sections) of
    /// a stand-in network of `width`.
    fn bytes(&self, width: usize) -> Result<u64>;
    /// The network, for the message when no width fits: `a network of 3
    /// blocks`.
    fn describe(&self) -> String;
}

/// The widest network of `model` whose file (its model, for a mesh) fits
/// in `target` bytes.
pub fn width_for_bytes(target: u64, model: &dyn SizeModel) -> Result<usize> {
    let bytes = |w: usize| {
        let b = model.bytes(w)?;
        log::trace!("size search: width {w} makes {b} bytes against a target of {target}");
        Ok(b)
    };
    let budget = within(target);
    let fits = |w: usize| -> Result<bool> {
        Ok(model.parameters(w) <= limits::MAX_PARAMETERS && bytes(w)? <= budget)
    };
    let min = model.min_width();
    if !fits(min)? {
        return Err(Error::InvalidArgument(format!(
            "a target of {target} bytes is too small for {} (width {min} makes {} bytes): \
             ask for a lower ratio, a larger size or a smaller network",
            model.describe(),
            bytes(min)?
        )));
    }
    largest_fitting(min, &fits)
}

/// The residual SIREN's size model: `blocks` residual blocks on `samples`.
pub struct SirenSize<'a> {
    pub samples: &'a Samples,
    pub blocks: usize,
    pub encoding: WeightEncoding,
}

impl SirenSize<'_> {
    fn shape(&self, width: usize) -> Shape {
        Shape {
            inputs: self.samples.inputs(),
            width,
            blocks: self.blocks,
            outputs: self.samples.outputs(),
        }
    }

    /// The fewest levels of a network of `shape` (none without codebooks).
    fn floor(&self, shape: Shape) -> Levels {
        let sizes = shape.tensor_sizes();
        match self.encoding {
            WeightEncoding::Codebook { bits, .. } => Levels::floor(&sizes, bits),
            _ => Levels(vec![None; sizes.len()]),
        }
    }

    /// The bytes of `model`, a network of `shape`, with its tensors on
    /// `levels` levels: each drawn from that many of its own values, as
    /// incompressible as a trained codebook and its indices.
    pub fn bytes_of(&self, shape: Shape, model: &ResidualSiren, levels: &Levels) -> Result<u64> {
        let mut model = model.clone();
        snap_layers(model.layers.iter_mut(), levels);
        // The encoder's own description of the network, at its longest.
        let description = format!(
            "residual siren width {} blocks {} omega 30.123456789, 1000000 steps, batch 16384, \
             lr 0.0018823529411764706, seed 18446744073709551615, 16-bit codebooks, \
             codebooks fine-tuned 100000 steps",
            shape.width, shape.blocks
        );
        let attributes = BTreeMap::from([("encoder".to_string(), description)]);
        export::model_bytes_of(self.samples, &model, self.encoding, attributes)
    }
}

impl SizeModel for SirenSize<'_> {
    fn min_width(&self) -> usize {
        MIN_WIDTH
    }

    fn parameters(&self, width: usize) -> u64 {
        self.shape(width).parameters()
    }

    /// At the fewest levels the budget may give ([`Levels::floor`]).
    fn bytes(&self, width: usize) -> Result<u64> {
        let shape = self.shape(width);
        let (scale, shift) = self.samples.input_affine(W0);
        let model = Siren::new(&VarStore::new(Device::Cpu), shape).export(scale, shift)?;
        self.bytes_of(shape, &model, &self.floor(shape))
    }

    fn describe(&self) -> String {
        format!("a network of {} blocks", self.blocks)
    }
}

/// Replaces each tensor with levels in `levels` (in the file's order) by
/// draws from that many of its own values: a codebook of exactly that many
/// entries. (The others stay random f32, which zstd cannot shrink either,
/// like trained weights.)
fn snap_layers<'a>(layers: impl Iterator<Item = &'a mut Layer>, levels: &Levels) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut plan = levels.0.iter();
    let mut snap = |values: &mut Vec<f32>| {
        let Some(&Some(levels)) = plan.next() else {
            return;
        };
        if values.len() <= levels {
            return;
        }
        // Every table value used (as k-means uses every centroid), then
        // random draws.
        let table = values[..levels].to_vec();
        for v in values[levels..].iter_mut() {
            *v = table[rng.gen_range(0..levels)];
        }
    };
    for layer in layers {
        let denses = match layer {
            Layer::Sine { dense, .. } | Layer::Linear { dense } => vec![dense],
            Layer::ResidualSine { first, second, .. } => vec![first, second],
        };
        for d in denses {
            snap(&mut d.weight);
            snap(&mut d.bias);
        }
    }
}

/// MC-INR's size model: `leaves` CoordNetB networks of `shape` (its width
/// aside) on `samples`.
pub struct McInrSize<'a> {
    pub samples: &'a Samples,
    pub shape: CoordShape,
    pub leaves: usize,
    pub blend_width: f64,
    pub encoding: WeightEncoding,
}

impl McInrSize<'_> {
    fn shape(&self, width: usize) -> CoordShape {
        CoordShape {
            width,
            ..self.shape.clone()
        }
    }
}

impl SizeModel for McInrSize<'_> {
    fn min_width(&self) -> usize {
        1
    }

    fn parameters(&self, width: usize) -> u64 {
        self.shape(width).parameters() * self.leaves as u64
    }

    fn bytes(&self, width: usize) -> Result<u64> {
        let shape = self.shape(width);
        let mut model = mc_inr_stand_in(self.samples, &shape, self.leaves, self.blend_width)?;
        // Snapped as the encoder snaps (tables shared by all clusters), so
        // the file holds the tables and indices it will hold.
        if let WeightEncoding::Codebook { bits, .. } = self.encoding {
            shared_codebook::snap(&mut model.leaves, bits);
        }
        let description = format!(
            "mc-inr {} clusters width {} trunk {} branch {} omega 30.123456789, 1000000 epochs, batch 16384, lr 0.00005, seed 18446744073709551615, 16-bit codebooks, meta 100000 steps, 100000 splits",
            self.leaves, shape.width, shape.trunk_blocks, shape.branch_blocks
        );
        let attributes = BTreeMap::from([("encoder".to_string(), description)]);
        export::model_bytes_of(self.samples, &model, self.encoding, attributes)
    }

    fn describe(&self) -> String {
        format!(
            "{} clusters of networks with {} trunk and {} branch blocks (fewer clusters fit more)",
            self.leaves, self.shape.trunk_blocks, self.shape.branch_blocks
        )
    }
}

/// `leaves` clusters side by side (no splits), at random centroids, each
/// with a CoordNetB as the encoder initializes it.
fn mc_inr_stand_in(
    samples: &Samples,
    shape: &CoordShape,
    leaves: usize,
    blend_width: f64,
) -> Result<McInr> {
    let nets = GroupedNet::new(&VarStore::new(Device::Cpu), leaves, shape);
    let (scale, shift) = samples.input_affine(W0);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let centroids = (0..leaves)
        .map(|_| {
            std::array::from_fn(|a| rng.gen_range(samples.bounds[a][0]..=samples.bounds[a][1]))
        })
        .collect();
    let ids = 0..leaves as u32;
    Ok(McInr {
        inputs: samples.inputs(),
        blend_width,
        tree: ClusterTree {
            centroids,
            children: vec![Vec::new(); leaves],
            roots: ids.clone().collect(),
            leaf: ids.map(Some).collect(),
        },
        leaves: (0..leaves)
            .map(|i| nets.export(i, scale.clone(), shift.clone()))
            .collect::<Result<_>>()?,
    })
}

/// The largest width from `min` (which fits) up to the format's limit for
/// which `fits` holds: bytes grow with the width, so bracket by doubling,
/// then bisect.
fn largest_fitting(min: usize, fits: &dyn Fn(usize) -> Result<bool>) -> Result<usize> {
    let max = limits::MAX_FEATURES as usize;
    let (mut lo, mut hi) = (min, min);
    while fits(hi)? {
        lo = hi;
        if hi == max {
            return Ok(hi);
        }
        hi = (hi * 2).min(max);
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}
