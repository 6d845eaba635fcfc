//! Corrections that bound the error at the stored sites: per time step, a
//! section of blocks, one per variable, component and view, each the
//! integer multiples of the variable's step to add to the network's value
//! at every stored site (grid point or cell, mesh node or cell, pixel).

pub mod codec;
pub mod write;

use crate::error::{Error, Result};
use crate::format::{Association, CorrectionsMeta, Domain, InrFile, Metadata};

pub use codec::Field;

/// The corrections of an open file and the site lattice of each variable.
#[derive(Clone, Debug)]
pub struct Corrections {
    pub meta: CorrectionsMeta,
    /// Per variable, its sites as a lattice (x fastest).
    lattices: Vec<[usize; 3]>,
    views: usize,
}

impl Corrections {
    /// The corrections of `meta`, if any; `views` is the number of stored
    /// views of an `images` domain (1 otherwise).
    pub fn of(meta: &Metadata, views: usize) -> Result<Option<Corrections>> {
        let Some(c) = &meta.corrections else {
            return Ok(None);
        };
        let lattices = meta
            .variables
            .iter()
            .map(|v| site_lattice(&meta.domain, v.association))
            .collect();
        Ok(Some(Corrections {
            meta: c.clone(),
            lattices,
            views: views.max(1),
        }))
    }

    /// The sites of `variable` as a lattice, x fastest.
    pub fn lattice(&self, variable: usize) -> [usize; 3] {
        self.lattices[variable]
    }

    /// Per component of `variable`, its corrections at time step `step` and
    /// stored view `view`.
    pub fn fields(
        &self,
        file: &InrFile,
        step: usize,
        variable: usize,
        view: usize,
    ) -> Result<Vec<Field>> {
        self.fields_in(&self.section(file, step)?, variable, view)
    }

    /// The decoded section of time step `step`: the blocks of every
    /// variable, for [`Corrections::fields_in`].
    pub fn section(&self, file: &InrFile, step: usize) -> Result<Vec<u8>> {
        let section = *self
            .meta
            .sections
            .get(step)
            .ok_or_else(|| Error::OutOfBounds(format!("corrections of time step {step}")))?;
        file.read_section(section)
    }

    /// Per component of `variable`, its corrections at stored view `view`,
    /// from a time step's decoded `section`.
    pub fn fields_in(&self, section: &[u8], variable: usize, view: usize) -> Result<Vec<Field>> {
        let mut pos = 0;
        let components = self.meta.step[variable].len();
        let before: usize = self.meta.step[..variable].iter().map(Vec::len).sum();
        for _ in 0..(before * self.views + view) {
            codec::skip_block(section, &mut pos)?;
        }
        // Blocks go variable, component, view: a variable's components of
        // one view are `views` blocks apart.
        (0..components)
            .map(|c| {
                let mut at = pos;
                for _ in 0..(c * self.views) {
                    codec::skip_block(section, &mut at)?;
                }
                codec::decode_block(section, &mut at, self.lattices[variable])
            })
            .collect()
    }
}

/// Where the values of one association sit, as a lattice.
pub fn site_lattice(domain: &Domain, association: Association) -> [usize; 3] {
    let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    match (domain, association) {
        (Domain::Image { dims, .. } | Domain::Rectilinear { dims, .. }, a) => {
            let cells = a == Association::Cell;
            dims.map(|d| {
                if cells {
                    n(d.saturating_sub(1).max(1))
                } else {
                    n(d)
                }
            })
        }
        (Domain::Unstructured { num_points, .. }, Association::Point) => [n(*num_points), 1, 1],
        (Domain::Unstructured { num_cells, .. }, Association::Cell) => [n(*num_cells), 1, 1],
        (Domain::Images { width, height, .. }, _) => [n(*width), n(*height), 1],
    }
}
