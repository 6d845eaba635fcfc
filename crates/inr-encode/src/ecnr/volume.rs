//! The data as ECNR sees it: one dense 4-D array of samples (x fastest, then
//! y, z, time step) with every variable's scaled components per sample, on
//! the grid's points or on its cell centers (every variable must sit on the
//! same ones).

use inr_core::error::{Error, Result};
use inr_core::format::Association;

use crate::data::{Samples, Sites};

/// A dense time series of samples.
#[derive(Clone, Debug)]
pub struct Volume {
    /// Samples along x, y, z and time.
    pub dims: [usize; 4],
    /// Components per sample (all variables').
    pub channels: usize,
    pub association: Association,
    /// `dims` product × `channels` values, channels fastest.
    pub values: Vec<f32>,
}

impl Volume {
    /// The samples of a structured series, checked for what ECNR stores.
    pub fn of(samples: &Samples) -> Result<Volume> {
        let association = single_association(samples)?;
        let parts: Vec<_> = samples
            .parts
            .iter()
            .filter(|p| p.association == association)
            .collect();
        let Some(Sites::Axes(axes)) = parts.first().map(|p| &p.sites) else {
            return Err(Error::Unsupported(
                "ECNR encodes image data and rectilinear grids, not meshes".into(),
            ));
        };
        let spatial = [axes[0].len(), axes[1].len(), axes[2].len()];
        let channels = samples.outputs();
        let mut values =
            Vec::with_capacity(parts.len() * spatial.iter().product::<usize>() * channels);
        for p in &parts {
            values.extend_from_slice(&p.targets);
        }
        Ok(Volume {
            dims: [spatial[0], spatial[1], spatial[2], parts.len()],
            channels,
            association,
            values,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// True without samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Linear index of sample `(x, y, z, t)`.
    pub fn index(&self, j: [usize; 4]) -> usize {
        linear(self.dims, j)
    }
}

/// Linear index of `j` in an array of `dims`, x fastest.
pub fn linear(dims: [usize; 4], j: [usize; 4]) -> usize {
    j[0] + dims[0] * (j[1] + dims[1] * (j[2] + dims[2] * j[3]))
}

/// The association all variables share: ECNR has one sample grid.
fn single_association(samples: &Samples) -> Result<Association> {
    let first = samples
        .variables
        .first()
        .ok_or_else(|| Error::InvalidArgument("no variables".into()))?
        .association;
    if samples.variables.iter().any(|v| v.association != first) {
        return Err(Error::Unsupported(
            "ECNR stores variables of one association (all point or all cell data); \
             encode the point and the cell arrays into separate files (--vars)"
                .into(),
        ));
    }
    Ok(first)
}
