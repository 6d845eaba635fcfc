//! Decode passes: points of one kind (grid points, cell centers, mesh nodes)
//! sent through the network in tiles, in parallel, each tile's outputs
//! scattered into one buffer per variable.

use crate::decode::parallel::{self, DecodeOptions, Progress};
use crate::decode::{clustered, Affine, Decoder, Prepared};
use crate::error::{Error, Result};
use crate::format::Association;
use crate::kernels::mlp::Plan;
use crate::kernels::mlp::TILE;
use crate::model::McInr;

/// Where a tile's outputs go: one chunk per variable of one association.
struct TileJob<'a> {
    start: usize,
    len: usize,
    outs: Vec<&'a mut [f32]>,
}

/// Where one decode pass evaluates: `count` sites, site `q` at `coords(q)`.
pub(crate) struct Sites<'a> {
    pub count: usize,
    pub coords: Box<dyn Fn(usize) -> [f64; 3] + Sync + 'a>,
}

impl Decoder {
    /// Decodes point variables at the point sites and cell variables at the
    /// cell sites given by `sites`: one network pass per association present,
    /// with progress spanning the passes in proportion to their sizes.
    pub(crate) fn decode_passes<'s>(
        &self,
        variables: &[usize],
        outs: &mut [&mut [f32]],
        t: f64,
        options: &DecodeOptions,
        sites: &dyn Fn(Association) -> Sites<'s>,
    ) -> Result<()> {
        let meta = self.metadata();
        if outs.len() != variables.len() {
            return Err(Error::InvalidArgument(format!(
                "{} buffers for {} variables",
                outs.len(),
                variables.len()
            )));
        }
        let passes: Vec<(Association, Sites)> = [Association::Point, Association::Cell]
            .into_iter()
            .filter(|&a| {
                variables
                    .iter()
                    .any(|&v| meta.variables[v].association == a)
            })
            .map(|a| (a, sites(a)))
            .collect();
        // All lengths before any pass: outputs are written only on success.
        for (&v, out) in variables.iter().zip(outs.iter()) {
            let var = &meta.variables[v];
            let count = passes
                .iter()
                .find(|(a, _)| *a == var.association)
                .map_or(0, |(_, s)| s.count);
            let need = count * var.components as usize;
            if out.len() != need {
                return Err(Error::InvalidArgument(format!(
                    "the output of {:?} holds {} values, {need} needed",
                    var.name,
                    out.len()
                )));
            }
        }
        let total = passes.iter().map(|(_, s)| s.count).sum::<usize>().max(1) as f64;
        let mut offset = 0.0;
        for (i, (assoc, site)) in passes.iter().enumerate() {
            let (sel, bufs): (Vec<usize>, Vec<&mut [f32]>) = variables
                .iter()
                .zip(outs.iter_mut())
                .filter(|(&v, _)| meta.variables[v].association == *assoc)
                .map(|(&v, b)| (v, &mut **b))
                .unzip();
            let share = if i + 1 == passes.len() {
                1.0 - offset
            } else {
                site.count as f64 / total
            };
            let progress = parallel::scaled_progress(options.progress, offset, share);
            let pass = DecodeOptions {
                threads: options.threads,
                progress: options.progress.map(|_| &progress as Progress),
            };
            self.decode_block(site.count, &*site.coords, &sel, t, bufs, &pass)?;
            offset += share;
        }
        Ok(())
    }

    /// Decodes `n` points, point `q` at `coords(q)`, for variables `sel`
    /// into one buffer per variable (`n x components` values each).
    pub(crate) fn decode_block(
        &self,
        n: usize,
        coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
        sel: &[usize],
        t: f64,
        bufs: Vec<&mut [f32]>,
        options: &DecodeOptions,
    ) -> Result<()> {
        let meta = self.metadata();
        let comps: Vec<usize> = sel
            .iter()
            .map(|&v| meta.variables[v].components as usize)
            .collect();
        for (b, c) in bufs.iter().zip(&comps) {
            if b.len() != n * c {
                return Err(Error::InvalidArgument(format!(
                    "output buffer holds {} values, {} needed",
                    b.len(),
                    n * c
                )));
            }
        }
        if n == 0 {
            return Ok(());
        }
        let (plan, affine) = match self.prepare(sel)? {
            Prepared::Single { plan, affine } => (plan, affine),
            Prepared::Clustered { model, plans } => {
                return decode_clustered(model, &plans, n, coords, t, bufs, &comps, options)
            }
        };
        let jobs = split_jobs(n, bufs, &comps);
        let (k, c_all) = (plan.inputs(), plan.outputs());
        parallel::run(
            jobs,
            options,
            || {
                (
                    plan.scratch(),
                    vec![0f32; TILE * k],
                    vec![0f32; TILE * c_all],
                )
            },
            |(scratch, input, result), job| {
                for p in 0..job.len {
                    affine.apply(coords(job.start + p), t, &mut input[p * k..(p + 1) * k]);
                }
                plan.eval_tile(job.len, input, result, scratch);
                scatter(job, result, &comps, c_all);
            },
        )
    }
}

/// [`Decoder::decode_block`] for a clustered model: chunk by chunk, the
/// interleaved results split into the variables' buffers.
#[allow(clippy::too_many_arguments)]
fn decode_clustered(
    model: &McInr,
    plans: &[(Plan, Affine)],
    n: usize,
    coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
    t: f64,
    mut bufs: Vec<&mut [f32]>,
    comps: &[usize],
    options: &DecodeOptions,
) -> Result<()> {
    let c_all: usize = comps.iter().sum();
    let mut chunk = vec![0f32; clustered::CHUNK.min(n) * c_all];
    clustered::for_chunks(n, options, |start, len, opts| {
        let values = &mut chunk[..len * c_all];
        let at = |q: usize| coords(start + q);
        clustered::eval(model, plans, len, &at, &|_| t, values, opts)?;
        let mut first = 0;
        for (buf, &c) in bufs.iter_mut().zip(comps) {
            for q in 0..len {
                buf[(start + q) * c..(start + q + 1) * c]
                    .copy_from_slice(&values[q * c_all + first..q * c_all + first + c]);
            }
            first += c;
        }
        Ok(())
    })
}

/// Cuts every output buffer into per-tile chunks and groups them by tile.
fn split_jobs<'a>(n: usize, bufs: Vec<&'a mut [f32]>, comps: &[usize]) -> Vec<TileJob<'a>> {
    let tiles = n.div_ceil(TILE);
    let mut jobs: Vec<TileJob> = (0..tiles)
        .map(|t| TileJob {
            start: t * TILE,
            len: TILE.min(n - t * TILE),
            outs: Vec::with_capacity(bufs.len()),
        })
        .collect();
    for (buf, &c) in bufs.into_iter().zip(comps) {
        for (job, chunk) in jobs.iter_mut().zip(buf.chunks_mut(TILE * c)) {
            job.outs.push(chunk);
        }
    }
    jobs
}

/// Copies a tile's interleaved results (`c_all` per point) into the variables' chunks.
fn scatter(job: TileJob, result: &[f32], comps: &[usize], c_all: usize) {
    let mut first = 0;
    for (out, &c) in job.outs.into_iter().zip(comps) {
        for p in 0..job.len {
            out[p * c..(p + 1) * c]
                .copy_from_slice(&result[p * c_all + first..p * c_all + first + c]);
        }
        first += c;
    }
}
