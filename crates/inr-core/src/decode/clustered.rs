//! Decoding a clustered (MC-INR) model: every point is routed to its
//! cluster's network (and, near a border with blending, to the network
//! across it), the points are grouped by network so that each network runs
//! on contiguous tiles, and the results are put back in point order.
//!
//! Work goes in chunks of [`parallel::CHUNK`] points, so that the routes and
//! the grouped results take memory bounded by the chunk, whatever the
//! request.

use std::any::Any;

use crate::decode::family::{Evaluator, Family, OutputRequest, Outputs};
use crate::decode::parallel::{self, DecodeOptions};
use crate::decode::plan::{self, BranchRequest};
use crate::decode::Affine;
use crate::error::Result;
use crate::kernels::mlp::{Plan, TILE};
use crate::model::mc_inr::Route;
use crate::model::McInr;

impl Family for McInr {
    fn parameter_count(&self) -> u64 {
        McInr::parameter_count(self)
    }

    fn describe(&self) -> String {
        let widths: Vec<usize> = self.leaves.iter().map(|l| l.width()).collect();
        let (lo, hi) = (
            widths.iter().min().copied().unwrap_or(0),
            widths.iter().max().copied().unwrap_or(0),
        );
        let width = if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}..{hi}")
        };
        format!(
            "{} inputs, {} clusters (a tree of {} nodes), trunk width {width}, one branch per variable, blend width {}",
            self.inputs,
            self.leaves.len(),
            self.tree.centroids.len(),
            self.blend_width
        )
    }

    fn prepare<'a>(&'a self, request: &OutputRequest) -> Result<Box<dyn Evaluator + 'a>> {
        let maps = request.output_maps(true);
        let plans = self
            .leaves
            .iter()
            .map(|leaf| {
                let heads: Vec<BranchRequest> = request
                    .variables
                    .iter()
                    .zip(&maps)
                    .map(|(&v, outputs)| BranchRequest {
                        layers: &leaf.branches[v],
                        outputs,
                    })
                    .collect();
                let plan = plan::branched(self.inputs, &leaf.trunk, &heads);
                let affine = Affine::of(self.inputs, &leaf.input_scale, &leaf.input_shift);
                (plan, affine)
            })
            .collect();
        Ok(Box::new(Clustered { model: self, plans }))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One network per cluster leaf (by leaf number), points routed to them.
struct Clustered<'a> {
    model: &'a McInr,
    plans: Vec<(Plan, Affine)>,
}

impl Evaluator for Clustered<'_> {
    fn outputs(&self) -> usize {
        self.plans.first().map_or(0, |(p, _)| p.outputs())
    }

    /// The mean over the clusters (a point is one cluster's, or two near a
    /// border with blending).
    fn flops_per_point(&self) -> u64 {
        let total: u64 = self.plans.iter().map(|(p, _)| p.flops_per_point()).sum();
        total / self.plans.len().max(1) as u64
    }

    fn eval(
        &self,
        n: usize,
        coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
        time_of: &(dyn Fn(usize) -> f64 + Sync),
        mut out: Outputs,
        options: &DecodeOptions,
    ) -> Result<()> {
        let c = self.outputs();
        let mut chunk = vec![0f32; parallel::CHUNK.min(n) * c];
        parallel::for_chunks(n, options, |start, len, opts| {
            let at = |q: usize| coords(start + q);
            let t = |q: usize| time_of(start + q);
            let values = &mut chunk[..len * c];
            eval(self.model, &self.plans, len, &at, &t, values, opts)?;
            out.put(start, len, values);
            Ok(())
        })
    }
}

/// One network's share of a chunk: the entries `range` of the grouped order.
struct Job<'a> {
    leaf: usize,
    entries: std::ops::Range<usize>,
    results: &'a mut [f32],
}

/// Evaluates the `n` points `coords(q)` at times `time_of(q)` into `out`
/// (`n x C` values, point-major, `C` the plans' outputs). Meant for one
/// chunk: memory is a few times `n x C`.
fn eval(
    model: &McInr,
    plans: &[(Plan, Affine)],
    n: usize,
    coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
    time_of: &(dyn Fn(usize) -> f64 + Sync),
    out: &mut [f32],
    options: &DecodeOptions,
) -> Result<()> {
    let c = plans.first().map_or(0, |(p, _)| p.outputs());
    debug_assert_eq!(out.len(), n * c);
    let routes = route_all(model, n, coords, options)?;
    // Group the contributions by network: a counting sort on the leaf.
    let leaves = plans.len();
    let mut count = vec![0usize; leaves + 1];
    for r in &routes {
        for &(leaf, _) in r.parts() {
            count[leaf as usize + 1] += 1;
        }
    }
    for l in 0..leaves {
        count[l + 1] += count[l];
    }
    let starts = count.clone();
    let total = count[leaves];
    // Per entry its point; per point and part, its entry.
    let mut point_of = vec![0u32; total];
    let mut entry_of = Vec::with_capacity(total);
    for (q, r) in routes.iter().enumerate() {
        for &(leaf, _) in r.parts() {
            let e = count[leaf as usize];
            count[leaf as usize] += 1;
            point_of[e] = q as u32;
            entry_of.push(e as u32);
        }
    }
    let mut results = vec![0f32; total * c];
    let jobs = jobs(&starts, &mut results, c);
    let k = model.inputs;
    parallel::run(
        jobs,
        options,
        || {
            let scratch = Plan::shared_scratch(plans.iter().map(|(p, _)| p));
            (scratch, vec![0f32; TILE * k])
        },
        |(s, input), job| {
            let (plan, affine) = &plans[job.leaf];
            let len = job.entries.len();
            for (i, e) in job.entries.clone().enumerate() {
                let q = point_of[e] as usize;
                affine.apply(coords(q), time_of(q), &mut input[i * k..(i + 1) * k]);
            }
            plan.eval_tile(len, input, job.results, s);
        },
    )?;
    // Back in point order: the routed network's values, or near a border the
    // weighted sum of the networks there (in route order).
    let mut next = 0;
    for (q, r) in routes.iter().enumerate() {
        let dst = &mut out[q * c..(q + 1) * c];
        for (i, &(_, w)) in r.parts().iter().enumerate() {
            let e = entry_of[next] as usize;
            next += 1;
            let v = &results[e * c..(e + 1) * c];
            if i == 0 && r.len == 1 {
                dst.copy_from_slice(v);
            } else if i == 0 {
                dst.iter_mut().zip(v).for_each(|(d, &x)| *d = w * x);
            } else {
                dst.iter_mut().zip(v).for_each(|(d, &x)| *d += w * x);
            }
        }
    }
    Ok(())
}

/// The route of every point, computed in parallel.
fn route_all(
    model: &McInr,
    n: usize,
    coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
    options: &DecodeOptions,
) -> Result<Vec<Route>> {
    let mut routes = vec![Route::single(0); n];
    let jobs: Vec<(usize, &mut [Route])> = routes
        .chunks_mut(TILE)
        .enumerate()
        .map(|(t, r)| (t * TILE, r))
        .collect();
    let quiet = DecodeOptions {
        progress: None,
        ..*options
    };
    parallel::run(
        jobs,
        &quiet,
        || (),
        |_, (start, r)| {
            for (i, route) in r.iter_mut().enumerate() {
                *route = model.route(coords(start + i));
            }
        },
    )?;
    Ok(routes)
}

/// Tiles of each network's entries, each with its slice of the results.
fn jobs<'a>(starts: &[usize], results: &'a mut [f32], c: usize) -> Vec<Job<'a>> {
    let mut jobs = Vec::new();
    let mut rest = results;
    for leaf in 0..starts.len() - 1 {
        let mut e = starts[leaf];
        while e < starts[leaf + 1] {
            let len = TILE.min(starts[leaf + 1] - e);
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(len * c);
            rest = tail;
            jobs.push(Job {
                leaf,
                entries: e..e + len,
                results: mine,
            });
            e += len;
        }
    }
    jobs
}
