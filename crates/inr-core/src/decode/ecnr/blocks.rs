//! The sample values of one ECNR scale, block by block: a block's samples
//! go through its MLP as one batch the first time one of them is needed,
//! and stay for the rest of the request. A point query thus evaluates only
//! the blocks around it, a grid decode each block it touches once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::decode::plan::{self, BranchRequest, OutputMap};
use crate::kernels::mlp::{Plan, Scratch, TILE};
use crate::model::ecnr::{Scale, StackedLayer};
use crate::model::{Dense, Layer};

/// Per-thread buffers for evaluating blocks.
pub(super) struct Work {
    pub scratch: Scratch,
    /// A tile's local coordinates, `TILE x 3`.
    pub input: Vec<f32>,
}

/// One scale's MLPs and block values, made on first use.
pub(super) struct ScaleBlocks<'a> {
    scale: &'a Scale,
    /// The requested MLP outputs, in request order (normalized values).
    outputs: Vec<OutputMap>,
    plans: Vec<OnceLock<Plan>>,
    values: Vec<OnceLock<Box<[f32]>>>,
    evaluated: AtomicUsize,
}

impl<'a> ScaleBlocks<'a> {
    /// Nothing evaluated yet; memory for one slot per MLP and per block.
    /// `maps` are the request's outputs (only their indices matter here:
    /// the values stay normalized).
    pub fn new(scale: &'a Scale, maps: &[OutputMap]) -> ScaleBlocks<'a> {
        let outputs = maps
            .iter()
            .map(|m| OutputMap {
                index: m.index,
                scale: 1.0,
                offset: 0.0,
            })
            .collect();
        ScaleBlocks {
            scale,
            outputs,
            plans: (0..scale.mlps()).map(|_| OnceLock::new()).collect(),
            values: (0..scale.assignment.len())
                .map(|_| OnceLock::new())
                .collect(),
            evaluated: AtomicUsize::new(0),
        }
    }

    /// Blocks evaluated so far.
    pub fn evaluated(&self) -> usize {
        self.evaluated.load(Ordering::Relaxed)
    }

    /// The requested outputs of every sample of block `b` (x fastest),
    /// evaluated now if they were not yet; `None` for an empty block.
    pub fn block(&self, b: usize, work: &mut Work) -> Option<&[f32]> {
        let q = self.scale.mlp_of(b)?;
        Some(self.values[b].get_or_init(|| self.evaluate(b, q, work)))
    }

    /// Every sample of block `b` through MLP `q`, in tiles: `samples x
    /// outputs` values, x fastest.
    fn evaluate(&self, b: usize, q: usize, work: &mut Work) -> Box<[f32]> {
        let s = self.scale;
        let ext = s.block_extent(b);
        let n = ext.iter().product::<usize>();
        let c = self.outputs.len();
        let plan = self.plans[q].get_or_init(|| self.plan(q));
        let bias = first_bias(&s.layers[0], q, s.latent(b));
        let mut values = vec![0f32; n * c].into_boxed_slice();
        for start in (0..n).step_by(TILE) {
            let len = TILE.min(n - start);
            for i in 0..len {
                let l = start + i;
                let local = [l % ext[0], l / ext[0] % ext[1], l / (ext[0] * ext[1])];
                for (a, &l) in local.iter().enumerate() {
                    work.input[3 * i + a] = local_coordinate(l, s.block[a]);
                }
            }
            let out = &mut values[start * c..(start + len) * c];
            plan.eval_tile_with_bias(len, &work.input, out, &mut work.scratch, Some(&bias));
        }
        self.evaluated.fetch_add(1, Ordering::Relaxed);
        values
    }

    /// MLP `q` as a plan of 3 inputs (the local coordinates; the latent
    /// code enters through the first layer's bias) giving the requested
    /// outputs.
    fn plan(&self, q: usize) -> Plan {
        let layers: Vec<Layer> = self
            .scale
            .layers
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let dense = dense(l, q, if k == 0 { 3 } else { l.in_features });
                match l.w0 {
                    Some(w0) => Layer::Sine { w0, dense },
                    None => Layer::Linear { dense },
                }
            })
            .collect();
        let head = BranchRequest {
            layers: &[],
            outputs: &self.outputs,
        };
        plan::branched(3, &layers, &[head])
    }
}

/// MLP `q`'s part of a stacked layer, its first `columns` inputs only.
fn dense(l: &StackedLayer, q: usize, columns: usize) -> Dense {
    let (w, b) = l.mlp(q);
    Dense {
        out_features: l.out_features,
        in_features: columns,
        weight: w
            .chunks_exact(l.in_features)
            .flat_map(|row| &row[..columns])
            .copied()
            .collect(),
        bias: b.to_vec(),
    }
}

/// The first layer's bias for a block with latent code `z`, `w0` folded in:
/// `w0 (b + W[:, 3..] z)`.
fn first_bias(l: &StackedLayer, q: usize, z: &[f32]) -> Vec<f32> {
    let (w, b) = l.mlp(q);
    let w0 = l.w0.unwrap_or(1.0) as f64;
    w.chunks_exact(l.in_features)
        .zip(b)
        .map(|(row, &bias)| {
            let dot: f64 = row[3..]
                .iter()
                .zip(z)
                .map(|(&w, &z)| w as f64 * z as f64)
                .sum();
            (w0 * (bias as f64 + dot)) as f32
        })
        .collect()
}

/// `-1 + 2 l / (b - 1)` (0 when `b = 1`), in binary64 rounded to binary32.
pub fn local_coordinate(l: usize, b: usize) -> f32 {
    if b <= 1 {
        0.0
    } else {
        (-1.0 + 2.0 * l as f64 / (b - 1) as f64) as f32
    }
}
