//! Decode passes: points of one kind (grid points, cell centers, mesh nodes)
//! sent through the network in tiles, in parallel, each tile's outputs
//! scattered into one buffer per variable.

use crate::decode::parallel::{self, DecodeOptions, Progress};
use crate::decode::{Decoder, Outputs};
use crate::error::{Error, Result};
use crate::format::Association;

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
                progress: options.progress.map(|_| &progress as Progress),
                ..*options
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
        let evaluator = self.prepare(sel, options)?;
        let time_of = |_: usize| t;
        evaluator.eval(n, coords, &time_of, Outputs::new(bufs, comps), options)
    }
}
