//! The ECNR family in the decoder: per point, its continuous native index,
//! then per scale (the coarsest `detail` ones) the multilinear
//! interpolation of the samples around it, whose values come from whole
//! blocks evaluated on demand (`blocks`); the scales' sum mapped to
//! physical units. Points go in tiles, in parallel.
//!
//! The interpolation is separable: along a row of points that share
//! `(y, z, t)` (a grid's rows along x), each x sample's interpolation in
//! (y, z, t) is computed once, when a point first needs it, and kept
//! (`Rows`); each point then interpolates one or two of them in x. Per
//! point and scale that is a few operations instead of up to 16 block
//! lookups, and the values are the same whatever the order of the points.

mod blocks;
mod interp;

pub use blocks::local_coordinate;

use std::any::Any;
use std::sync::OnceLock;

use crate::decode::family::{Evaluator, Family, OutputRequest, Outputs};
use crate::decode::parallel::{self, DecodeOptions};
use crate::decode::plan::OutputMap;
use crate::error::Result;
use crate::kernels::mlp::{Scratch, TILE};
use crate::model::ecnr::{Ecnr, Scale};

use blocks::{ScaleBlocks, Work};
use interp::{Corner, Plane};

impl Family for Ecnr {
    fn parameter_count(&self) -> u64 {
        Ecnr::parameter_count(self)
    }

    fn describe(&self) -> String {
        let [bx, by, bz] = self.block;
        let mlps: usize = self.scales.iter().map(Scale::mlps).sum();
        let widths = span(self.scales.iter().map(|s| s.layers[0].out_features));
        let sines = span(self.scales.iter().map(|s| s.layers.len() - 1));
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {bx}x{by}x{bz} blocks, latent {}, {} of width {widths} ({sines} sine layers), {}",
            plural(self.scales.len(), "scale"),
            self.latent_dim,
            plural(mlps, "MLP"),
            plural(self.outputs, "output")
        )
    }

    fn prepare<'a>(&'a self, request: &OutputRequest) -> Result<Box<dyn Evaluator + 'a>> {
        Ok(Box::new(self.evaluator(request)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `24`, or `16..32` when the values differ.
fn span(values: impl Iterator<Item = usize>) -> String {
    let v: Vec<usize> = values.collect();
    let (lo, hi) = (v.iter().min(), v.iter().max());
    match (lo, hi) {
        (Some(lo), Some(hi)) if lo != hi => format!("{lo}..{hi}"),
        (Some(lo), _) => lo.to_string(),
        _ => "0".into(),
    }
}

impl Ecnr {
    /// The model prepared for the variables of `request`; its blocks are
    /// evaluated as the points it is asked for need them.
    pub fn evaluator<'a>(&'a self, request: &OutputRequest) -> EcnrEvaluator<'a> {
        let maps: Vec<OutputMap> = request.output_maps(false).into_iter().flatten().collect();
        // Every layer's outputs (each next layer's inputs); the first layer
        // takes 3 inputs, its latent part being folded into the bias.
        let width = self
            .scales
            .iter()
            .flat_map(|s| &s.layers)
            .map(|l| l.out_features)
            .chain([maps.len(), 3])
            .max()
            .unwrap_or(3);
        EcnrEvaluator {
            model: self,
            scales: self.scales.iter().map(|_| OnceLock::new()).collect(),
            maps,
            width,
        }
    }
}

/// An ECNR model prepared for one request: its scales' block values as far
/// as they were needed.
pub struct EcnrEvaluator<'a> {
    model: &'a Ecnr,
    /// Per requested output: the MLP output and its physical mapping.
    maps: Vec<OutputMap>,
    /// Per scale, made when a point first needs it.
    scales: Vec<OnceLock<ScaleBlocks<'a>>>,
    /// Widest layer or output count: the scratch space of a block.
    width: usize,
}

impl<'a> EcnrEvaluator<'a> {
    /// Blocks evaluated so far, per scale (coarsest first).
    pub fn blocks_evaluated(&self) -> Vec<usize> {
        self.scales
            .iter()
            .map(|s| s.get().map_or(0, ScaleBlocks::evaluated))
            .collect()
    }

    fn scale(&self, s: usize) -> &ScaleBlocks<'a> {
        self.scales[s].get_or_init(|| ScaleBlocks::new(&self.model.scales[s], &self.maps))
    }

    /// The normalized outputs at the point of position `xyz` and time `t`,
    /// summed over the coarsest `scales` scales, into `acc`: per scale, the
    /// one or two x samples around the point, each interpolated in
    /// (y, z, t) unless `rows` still holds it from a point of the same row.
    /// The values do not depend on what `rows` held.
    fn value_at<'e>(
        &'e self,
        xyz: [f64; 3],
        t: f64,
        scales: usize,
        acc: &mut [f64],
        work: &mut Work,
        rows: &mut Rows<'e>,
    ) {
        let key = [xyz[1], xyz[2], t].map(f64::to_bits);
        if rows.key != Some(key) {
            rows.key = Some(key);
            let p = self.model.axes.index(xyz, t);
            for (row, scale) in rows.scales[..scales].iter_mut().zip(&self.model.scales) {
                row.plane = Plane::locate(p, scale);
                row.tags = [NONE; SLOTS];
                row.bx = NONE;
            }
        }
        let p_x = self.model.axes.space[0].index(xyz[0]);
        let c = acc.len();
        // One output (the common case) summed in a register; the same
        // operations in the same order as for several.
        if let [a] = acc {
            *a = 0.0;
            for s in 0..scales {
                let row = &mut rows.scales[s];
                let (slot, w, n) = self.around_x(s, p_x, row, c, work);
                let v = &row.values;
                *a += if n == 2 {
                    w[0] * v[slot[0]] + w[1] * v[slot[1]]
                } else {
                    v[slot[0]]
                };
            }
            return;
        }
        acc.fill(0.0);
        for s in 0..scales {
            let row = &mut rows.scales[s];
            let (slot, w, n) = self.around_x(s, p_x, row, c, work);
            let v0 = &row.values[slot[0]..slot[0] + c];
            if n == 2 {
                let v1 = &row.values[slot[1]..slot[1] + c];
                for ((a, &v0), &v1) in acc.iter_mut().zip(v0).zip(v1) {
                    *a += w[0] * v0 + w[1] * v1;
                }
            } else {
                acc.iter_mut().zip(v0).for_each(|(a, &v)| *a += v);
            }
        }
    }

    /// The one or two x samples of scale `s` around continuous index `p_x`
    /// in `row`, filled there if they were not yet: their offsets in
    /// `row.values`, weights and count.
    #[inline(always)]
    fn around_x<'e>(
        &'e self,
        s: usize,
        p_x: f64,
        row: &mut Row<'e>,
        c: usize,
        work: &mut Work,
    ) -> ([usize; 2], [f64; 2], usize) {
        // `p / f` (exactly: `f` is a power of two).
        let n = self.model.scales[s].dims[0];
        let x = Corner::below(p_x * row.inverse_factor, n, row.last_x);
        let mut slots = [0; 2];
        for (offset, &jx) in slots.iter_mut().zip(&x.index).take(x.count) {
            let slot = jx % SLOTS;
            if row.tags[slot] != jx {
                row.tags[slot] = jx;
                self.fill(s, jx, row, slot, c, work);
            }
            *offset = slot * c;
        }
        (slots, x.weight, x.count)
    }

    /// Slot `slot` of `row` (scale `s`): x sample `jx` interpolated in
    /// (y, z, t), from the blocks of its x block.
    fn fill<'e>(
        &'e self,
        s: usize,
        jx: usize,
        row: &mut Row<'e>,
        slot: usize,
        c: usize,
        work: &mut Work,
    ) {
        let scale = &self.model.scales[s];
        let (bx, lx, extent) = interp::split_x(jx, scale);
        let plane = &row.plane.samples[..row.plane.len];
        if row.bx != bx {
            row.bx = bx;
            let blocks = self.scale(s);
            for (v, sample) in row.blocks.iter_mut().zip(plane) {
                *v = blocks.block(bx + scale.blocks[0] * sample.block, work);
            }
        }
        let values = &mut row.values[slot * c..(slot + 1) * c];
        values.fill(0.0);
        for (v, sample) in row.blocks.iter().zip(plane) {
            if let Some(v) = v {
                let offset = lx + extent * sample.local;
                let w = sample.weight;
                let v = &v[offset * c..(offset + 1) * c];
                values
                    .iter_mut()
                    .zip(v)
                    .for_each(|(a, &v)| *a += w * v as f64);
            }
        }
    }

    fn worker(&self) -> Worker<'_> {
        let c = self.maps.len();
        Worker {
            work: Work {
                scratch: Scratch::for_width(self.width),
                input: vec![0.0; TILE * 3],
            },
            acc: vec![0.0; c],
            result: vec![0.0; TILE * c],
            rows: Rows {
                key: None,
                scales: (self.model.scales.iter())
                    .map(|s| Row {
                        plane: Plane::default(),
                        inverse_factor: 1.0 / s.factor as f64,
                        last_x: (s.dims[0] - 1) as f64,
                        bx: NONE,
                        blocks: [None; 8],
                        tags: [NONE; SLOTS],
                        values: vec![0.0; SLOTS * c],
                    })
                    .collect(),
            },
        }
    }
}

/// A thread's buffers and caches.
struct Worker<'e> {
    work: Work,
    /// A point's normalized outputs.
    acc: Vec<f64>,
    /// A tile's outputs.
    result: Vec<f32>,
    rows: Rows<'e>,
}

/// Per thread, the row of points being decoded: points sharing `(y, z, t)`
/// (so `(p_y, p_z, p_t)`) share each x sample's (y, z, t) interpolation, kept per scale for
/// the last few x samples needed. Only what a point needs is filled, so a
/// point query still evaluates only the blocks around it; any point order
/// is correct (a point of another row starts a new one).
struct Rows<'e> {
    /// The bits of the row's `(y, z, t)`.
    key: Option<[u64; 3]>,
    scales: Vec<Row<'e>>,
}

/// Slots of a [`Row`]: x sample `jx` goes in slot `jx % SLOTS`, so the two
/// samples around a point and its neighbours' never evict each other.
const SLOTS: usize = 4;
/// An empty slot's tag.
const NONE: usize = usize::MAX;

/// One scale's part of [`Rows`].
struct Row<'e> {
    /// The row's samples in (y, z, t).
    plane: Plane,
    /// `1 / factor` of the scale.
    inverse_factor: f64,
    /// Its last x index.
    last_x: f64,
    /// The x block of `blocks` ([`NONE`]: none yet).
    bx: usize,
    /// Per sample of `plane`, its block's values at x block `bx` (`None`:
    /// an empty block).
    blocks: [Option<&'e [f32]>; 8],
    /// Per slot, the x sample it holds.
    tags: [usize; SLOTS],
    /// `SLOTS x outputs` (y, z, t)-interpolated values.
    values: Vec<f64>,
}

impl Evaluator for EcnrEvaluator<'_> {
    fn outputs(&self) -> usize {
        self.maps.len()
    }

    /// Per native sample of a full decode: each scale's MLP once per sample
    /// of the scale, the scales' samples in proportion to their density.
    fn flops_per_point(&self) -> u64 {
        let native: f64 = self.model.scales.last().map_or(1.0, spatial_samples);
        let c = self.maps.len();
        let total: f64 = self
            .model
            .scales
            .iter()
            .map(|s| {
                let layers = &s.layers[..s.layers.len() - 1];
                let hidden: usize = layers
                    .iter()
                    .enumerate()
                    .map(|(k, l)| l.out_features * if k == 0 { 3 } else { l.in_features })
                    .sum();
                let head = c * s.layers[s.layers.len() - 1].in_features;
                2.0 * (hidden + head) as f64 * spatial_samples(s) / native
            })
            .sum();
        total.round() as u64
    }

    fn eval(
        &self,
        n: usize,
        coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
        time_of: &(dyn Fn(usize) -> f64 + Sync),
        out: Outputs,
        options: &DecodeOptions,
    ) -> Result<()> {
        let scales = self.model.scales_for(options.detail);
        let c = self.maps.len();
        let jobs = out.tiles();
        parallel::run(
            jobs,
            options,
            || self.worker(),
            |w, (start, mut o)| {
                let len = TILE.min(n - start);
                for i in 0..len {
                    let q = start + i;
                    let (acc, work, rows) = (&mut w.acc, &mut w.work, &mut w.rows);
                    self.value_at(coords(q), time_of(q), scales, acc, work, rows);
                    for (k, m) in self.maps.iter().enumerate() {
                        w.result[i * c + k] = (m.offset + m.scale * w.acc[k]) as f32;
                    }
                }
                o.put(0, len, &w.result);
            },
        )
    }
}

/// Spatial samples of a scale.
fn spatial_samples(s: &Scale) -> f64 {
    s.dims[..3].iter().map(|&d| d as f64).product()
}
