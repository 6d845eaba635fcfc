//! Decoding onto sampling grids: the whole grid or a sub-extent (a parallel
//! piece), for any subset of the variables, at one time. Point variables are
//! evaluated at the grid points, cell variables at the cell centers; at the
//! native grid and a stored time, the file's corrections are added.

use crate::decode::parallel::DecodeOptions;
use crate::decode::{Decoder, Sites};
use crate::error::{Error, Result};
use crate::format::Association;
use crate::sampling::{cell_extent, extent_len, Extent, SamplingGrid};

/// What to decode.
#[derive(Clone, Debug, Default)]
pub struct GridRequest {
    /// Points per axis over the domain's bounds; `None`: the native grid.
    pub dims: Option<[usize; 3]>,
    /// Point extent to decode; `None`: the whole grid.
    pub extent: Option<Extent>,
    /// Variable indices; empty: all variables.
    pub variables: Vec<usize>,
    /// Time; `None`: the first step.
    pub time: Option<f64>,
}

/// One decoded variable.
#[derive(Clone, Debug)]
pub struct DecodedArray {
    pub variable: usize,
    pub name: String,
    pub components: usize,
    pub association: Association,
    /// Tuples in VTK order over the extent (points) or its cells, components
    /// interleaved.
    pub values: Vec<f32>,
}

/// The result of a grid decode.
#[derive(Clone, Debug)]
pub struct DecodedGrid {
    /// The whole sampling grid the extent refers to.
    pub grid: SamplingGrid,
    /// The decoded point extent.
    pub extent: Extent,
    pub arrays: Vec<DecodedArray>,
}

impl Decoder {
    /// Decodes a grid into newly allocated arrays.
    pub fn decode_grid(&self, req: &GridRequest, options: &DecodeOptions) -> Result<DecodedGrid> {
        let grid = self.sampling_grid(req.dims)?;
        let extent = req.extent.unwrap_or_else(|| grid.whole_extent());
        grid.check_extent(&extent)?;
        let variables = self.requested(&req.variables)?;
        let meta = self.metadata();
        let mut arrays: Vec<DecodedArray> = variables
            .iter()
            .map(|&v| {
                let var = &meta.variables[v];
                let tuples = self.tuples(&grid, &extent, var.association);
                Ok(DecodedArray {
                    variable: v,
                    name: var.name.clone(),
                    components: var.components as usize,
                    association: var.association,
                    values: zeroed(tuples * var.components as usize)?,
                })
            })
            .collect::<Result<_>>()?;
        {
            let mut outs: Vec<&mut [f32]> =
                arrays.iter_mut().map(|a| a.values.as_mut_slice()).collect();
            self.decode_grid_into(&grid, &extent, &variables, req.time, &mut outs, options)?;
        }
        Ok(DecodedGrid {
            grid,
            extent,
            arrays,
        })
    }

    /// Number of tuples a variable of `association` has over `extent`.
    pub fn tuples(&self, grid: &SamplingGrid, extent: &Extent, association: Association) -> usize {
        match association {
            Association::Point => extent_len(extent),
            Association::Cell => cell_extent(extent, grid.dims()).map_or(0, |e| extent_len(&e)),
        }
    }

    /// The requested variable indices, checked; empty means all.
    pub(crate) fn requested(&self, variables: &[usize]) -> Result<Vec<usize>> {
        let n = self.metadata().variables.len();
        if let Some(&bad) = variables.iter().find(|&&v| v >= n) {
            return Err(Error::InvalidArgument(format!(
                "variable index {bad} of {n}"
            )));
        }
        Ok(if variables.is_empty() {
            (0..n).collect()
        } else {
            variables.to_vec()
        })
    }

    /// Decodes into caller buffers, one per entry of `variables`, each sized by
    /// [`Decoder::tuples`] times the variable's components.
    pub fn decode_grid_into(
        &self,
        grid: &SamplingGrid,
        extent: &Extent,
        variables: &[usize],
        time: Option<f64>,
        outs: &mut [&mut [f32]],
        options: &DecodeOptions,
    ) -> Result<()> {
        grid.check_extent(extent)?;
        self.requested(variables)?;
        let t = self.effective_time(time)?;
        let sites = |assoc: Association| {
            let (g, e) = match assoc {
                Association::Point => (grid.clone(), *extent),
                Association::Cell => match cell_extent(extent, grid.dims()) {
                    Some(e) => (grid.cell_centers(), e),
                    None => (grid.clone(), *extent), // no cells: buffers must be empty
                },
            };
            let (nx, ny) = (e[1] - e[0] + 1, e[3] - e[2] + 1);
            Sites {
                count: self.tuples(grid, extent, assoc),
                coords: Box::new(move |q: usize| {
                    let (i, j, l) = (q % nx + e[0], (q / nx) % ny + e[2], q / (nx * ny) + e[4]);
                    [g.axes[0][i], g.axes[1][j], g.axes[2][l]]
                }),
            }
        };
        let fixes = self.grid_fixes(grid, extent, variables, t, options)?;
        self.decode_passes(variables, outs, t, options, &sites)?;
        fixes.apply(outs);
        Ok(())
    }
}

/// A buffer of `n` default values, or an error instead of an abort when
/// memory runs out (a caller may ask for any grid).
pub fn zeroed<T: Clone + Default>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::LimitExceeded(format!("cannot allocate {n} values for the decoded data"))
    })?;
    v.resize(n, T::default());
    Ok(v)
}
