//! Resampling an unstructured file onto a regular grid over the mesh's
//! bounds: the network is evaluated only at the grid points that lie inside
//! the mesh; the others are marked outside (VTK's `vtkValidPointMask`: 1
//! inside, 0 outside) and given a fill value. Every variable, point or cell,
//! becomes point data at the grid points, as VTK's probe filter makes it.

use crate::decode::grid::zeroed;
use crate::decode::parallel::{self, DecodeOptions, Progress};
use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::kernels::mlp::TILE;
use crate::mesh::locate::CellLocator;
use crate::sampling::{extent_len, Extent, SamplingGrid};

/// Share of a resample's progress that finding the inside points takes.
const MASK_SHARE: f64 = 0.1;

/// Most points of one resample request: the inside points are listed as
/// u32 (decode larger grids in pieces).
pub const MAX_RESAMPLE_POINTS: usize = u32::MAX as usize;

impl Decoder {
    /// The point locator of the stored mesh, built on first use.
    fn locator(&self) -> Result<&CellLocator> {
        let mesh = self.mesh()?;
        Ok(self.locator.get_or_init(|| CellLocator::new(mesh)))
    }

    /// Values per variable of a resample over `extent`: its points times
    /// the variable's components (all variables are point data there).
    pub fn resample_value_count(&self, extent: &Extent, variable: usize) -> Result<usize> {
        let var = self.metadata().variables.get(variable).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "variable index {variable} of {}",
                self.metadata().variables.len()
            ))
        })?;
        Ok(extent_len(extent) * var.components as usize)
    }

    /// For each point of `extent` of `grid` (x fastest), 1 when it lies in a
    /// cell of the stored mesh, 0 when not.
    pub fn inside_mask(
        &self,
        grid: &SamplingGrid,
        extent: &Extent,
        mask: &mut [u8],
        options: &DecodeOptions,
    ) -> Result<()> {
        grid.check_extent(extent)?;
        let n = extent_len(extent);
        if mask.len() != n {
            return Err(Error::InvalidArgument(format!(
                "the mask holds {} values, {n} needed",
                mask.len()
            )));
        }
        let (mesh, locator) = (self.mesh()?, self.locator()?);
        let coords = grid_coords(grid, extent);
        let jobs: Vec<(usize, &mut [u8])> = mask
            .chunks_mut(TILE)
            .enumerate()
            .map(|(t, m)| (t * TILE, m))
            .collect();
        parallel::run(
            jobs,
            options,
            || (),
            |_, (start, m)| {
                for (i, v) in m.iter_mut().enumerate() {
                    *v = u8::from(locator.contains(mesh, coords(start + i)));
                }
            },
        )
    }

    /// Decodes `variables` at the points of `extent` of `grid` that lie in
    /// the mesh, into one buffer per variable of
    /// [`Decoder::resample_value_count`] values; points outside get
    /// `outside` in every component. `mask`, when given, receives the
    /// inside mask ([`Decoder::inside_mask`]).
    #[allow(clippy::too_many_arguments)]
    pub fn resample_into(
        &self,
        grid: &SamplingGrid,
        extent: &Extent,
        variables: &[usize],
        time: Option<f64>,
        outside: f32,
        outs: &mut [&mut [f32]],
        mask: Option<&mut [u8]>,
        options: &DecodeOptions,
    ) -> Result<()> {
        grid.check_extent(extent)?;
        let t = self.effective_time(time)?;
        if outs.len() != variables.len() {
            return Err(Error::InvalidArgument(format!(
                "{} buffers for {} variables",
                outs.len(),
                variables.len()
            )));
        }
        let comps = variables
            .iter()
            .map(|&v| {
                let need = self.resample_value_count(extent, v)?;
                Ok(need / extent_len(extent))
            })
            .collect::<Result<Vec<usize>>>()?;
        for (out, &c) in outs.iter().zip(&comps) {
            if out.len() != extent_len(extent) * c {
                return Err(Error::InvalidArgument(format!(
                    "an output holds {} values, {} needed",
                    out.len(),
                    extent_len(extent) * c
                )));
            }
        }
        let n = extent_len(extent);
        if n > MAX_RESAMPLE_POINTS {
            return Err(Error::LimitExceeded(format!(
                "a resample of {n} points; at most {MAX_RESAMPLE_POINTS} per request (decode it in pieces)"
            )));
        }
        let mut own_mask: Vec<u8>;
        let mask = match mask {
            Some(m) => m,
            None => {
                own_mask = zeroed(n)?;
                &mut own_mask[..]
            }
        };
        let mask_progress = parallel::scaled_progress(options.progress, 0.0, MASK_SHARE);
        let pass = DecodeOptions {
            progress: options.progress.map(|_| &mask_progress as Progress),
            ..*options
        };
        self.inside_mask(grid, extent, mask, &pass)?;
        let count = mask.iter().filter(|&&m| m == 1).count();
        let mut inside: Vec<u32> = Vec::new();
        inside
            .try_reserve_exact(count)
            .map_err(|_| Error::LimitExceeded(format!("cannot list the {count} inside points")))?;
        inside.extend((0..n as u32).filter(|&i| mask[i as usize] == 1));
        let coords = grid_coords(grid, extent);
        let decode_progress =
            parallel::scaled_progress(options.progress, MASK_SHARE, 1.0 - MASK_SHARE);
        let pass = DecodeOptions {
            progress: options.progress.map(|_| &decode_progress as Progress),
            ..*options
        };
        // The inside points decode into the front of each buffer, then move
        // out to their grid positions (never to a lower index: in place).
        let bufs: Vec<&mut [f32]> = outs
            .iter_mut()
            .zip(&comps)
            .map(|(o, &c)| &mut o[..inside.len() * c])
            .collect();
        let at = |q: usize| coords(inside[q] as usize);
        self.decode_block(inside.len(), &at, variables, t, bufs, &pass)?;
        for (out, &c) in outs.iter_mut().zip(&comps) {
            spread(out, &inside, c, outside);
        }
        Ok(())
    }
}

/// The coordinates of point `q` of `extent` (x fastest).
fn grid_coords<'a>(grid: &'a SamplingGrid, e: &Extent) -> impl Fn(usize) -> [f64; 3] + Sync + 'a {
    let e = *e;
    let (nx, ny) = (e[1] - e[0] + 1, e[3] - e[2] + 1);
    move |q: usize| {
        let (i, j, k) = (q % nx + e[0], (q / nx) % ny + e[2], q / (nx * ny) + e[4]);
        [grid.axes[0][i], grid.axes[1][j], grid.axes[2][k]]
    }
}

/// Moves the packed values of the `inside` points (increasing indices) from
/// the front of `out` to their places, and fills the rest with `fill`.
fn spread(out: &mut [f32], inside: &[u32], c: usize, fill: f32) {
    let mut next = out.len() / c; // every point from here up is placed
    for (q, &i) in inside.iter().enumerate().rev() {
        let i = i as usize;
        out[(i + 1) * c..next * c].fill(fill);
        out.copy_within(q * c..(q + 1) * c, i * c);
        next = i;
    }
    out[..next * c].fill(fill);
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn spread_places_values_and_fills_the_gaps() {
        let mut out = vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        spread(&mut out, &[1, 3], 2, -1.0);
        assert_eq!(
            out,
            [-1.0, -1.0, 1.0, 2.0, -1.0, -1.0, 3.0, 4.0, -1.0, -1.0]
        );
        let mut out = vec![5.0, 6.0, 7.0];
        spread(&mut out, &[0, 1, 2], 1, 0.0);
        assert_eq!(out, [5.0, 6.0, 7.0]);
        let mut out = vec![9.0; 3];
        spread(&mut out, &[], 1, f32::NAN);
        assert!(out.iter().all(|v| v.is_nan()));
    }
}
