//! Decoding a clustered (MC-INR) model: every point is routed to its
//! cluster's network (and, near a border with blending, to the network
//! across it), the points are grouped by network so that each network runs
//! on contiguous tiles, and the results are put back in point order.
//!
//! Work goes in chunks of [`CHUNK`] points, so that the routes and the
//! grouped results take memory bounded by the chunk, whatever the request.

use crate::decode::parallel::{self, DecodeOptions, Progress};
use crate::decode::Affine;
use crate::error::Result;
use crate::kernels::mlp::{Plan, TILE};
use crate::model::mc_inr::Route;
use crate::model::McInr;

/// Points per chunk.
pub const CHUNK: usize = 1 << 18;

/// Runs `work(start, len, options)` on the chunks of `n` points, with each
/// chunk's progress scaled into its share of the whole.
pub(crate) fn for_chunks(
    n: usize,
    options: &DecodeOptions,
    mut work: impl FnMut(usize, usize, &DecodeOptions) -> Result<()>,
) -> Result<()> {
    let mut start = 0;
    while start < n {
        let len = CHUNK.min(n - start);
        let scaled = parallel::scaled_progress(
            options.progress,
            start as f64 / n as f64,
            len as f64 / n as f64,
        );
        let chunk_options = DecodeOptions {
            threads: options.threads,
            progress: options.progress.map(|_| &scaled as Progress),
        };
        work(start, len, &chunk_options)?;
        start += len;
    }
    Ok(())
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
pub(crate) fn eval(
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
        threads: options.threads,
        progress: None,
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
