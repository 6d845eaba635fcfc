//! The ECNR family in the decoder: per point, its continuous native index,
//! then per scale (the coarsest `detail` ones) the multilinear
//! interpolation of the samples around it, whose values come from whole
//! blocks evaluated on demand (`blocks`); the scales' sum mapped to
//! physical units. Points go in tiles, in parallel.

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

    fn prepare<'a>(&'a self, request: &OutputRequest) -> Box<dyn Evaluator + 'a> {
        Box::new(self.evaluator(request))
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

    /// The normalized outputs at continuous native index `p`, summed over
    /// the coarsest `scales` scales, into `acc`.
    fn value_at(&self, p: [f64; 4], scales: usize, acc: &mut [f64], work: &mut Work) {
        acc.fill(0.0);
        let c = acc.len();
        for s in 0..scales {
            let scale = &self.model.scales[s];
            let blocks = self.scale(s);
            let around = interp::locate(p, scale);
            interp::for_each_sample(&around, scale.blocks, |b, offset, w| {
                if let Some(v) = blocks.block(b, work) {
                    let v = &v[offset * c..(offset + 1) * c];
                    acc.iter_mut().zip(v).for_each(|(a, &v)| *a += w * v as f64);
                }
            });
        }
    }

    fn work(&self) -> Work {
        Work {
            scratch: Scratch::for_width(self.width),
            input: vec![0.0; TILE * 3],
        }
    }
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
        let jobs: Vec<(usize, Outputs)> = out
            .split(TILE)
            .into_iter()
            .enumerate()
            .map(|(t, o)| (t * TILE, o))
            .collect();
        parallel::run(
            jobs,
            options,
            || (self.work(), vec![0f64; c], vec![0f32; TILE * c]),
            |(work, acc, result), (start, mut o)| {
                let len = TILE.min(n - start);
                for i in 0..len {
                    let q = start + i;
                    let p = self.model.axes.index(coords(q), time_of(q));
                    self.value_at(p, scales, acc, work);
                    for (k, m) in self.maps.iter().enumerate() {
                        result[i * c + k] = (m.offset + m.scale * acc[k]) as f32;
                    }
                }
                o.put(0, len, result);
            },
        )
    }
}

/// Spatial samples of a scale.
fn spatial_samples(s: &Scale) -> f64 {
    s.dims[..3].iter().map(|&d| d as f64).product()
}
