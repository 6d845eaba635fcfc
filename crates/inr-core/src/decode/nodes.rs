//! Decoding an unstructured file at a mesh (the stored one, a piece of it,
//! a refined one): point variables at the nodes, cell variables at the cell
//! centroids.

use crate::decode::parallel::DecodeOptions;
use crate::decode::{Decoder, Sites};
use crate::error::{Error, Result};
use crate::format::Association;
use crate::mesh::extract::{extract, MeshRequest, MeshView};
use crate::mesh::Mesh;

impl Decoder {
    /// The stored mesh, read and validated on first use; an error for
    /// structured files.
    pub fn mesh(&self) -> Result<&Mesh> {
        if self.native_grid().is_some() {
            return Err(Error::InvalidArgument(
                "the file has no unstructured mesh".into(),
            ));
        }
        self.mesh.get_or_try_init(|| Mesh::load(self.file()))
    }

    /// A piece of the stored mesh, refined: see [`MeshRequest`].
    pub fn mesh_view(&self, request: &MeshRequest) -> Result<MeshView> {
        extract(self.mesh()?, request)
    }

    /// Number of values of `variable` at the stored mesh: nodes (point
    /// data) or cells (cell data) times components.
    pub fn node_value_count(&self, variable: usize) -> Result<usize> {
        self.mesh_value_count(self.mesh()?, variable)
    }

    /// Number of values of `variable` at `mesh`'s nodes (point data) or
    /// cells (cell data), times components.
    pub fn mesh_value_count(&self, mesh: &Mesh, variable: usize) -> Result<usize> {
        self.mesh()?;
        let var = self.metadata().variables.get(variable).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "variable index {variable} of {}",
                self.metadata().variables.len()
            ))
        })?;
        let tuples = match var.association {
            Association::Point => mesh.num_points(),
            Association::Cell => mesh.num_cells(),
        };
        Ok(tuples * var.components as usize)
    }

    /// Decodes `variables` at the stored mesh into one buffer per variable,
    /// each of [`Decoder::node_value_count`] values.
    pub fn decode_nodes_into(
        &self,
        variables: &[usize],
        time: Option<f64>,
        outs: &mut [&mut [f32]],
        options: &DecodeOptions,
    ) -> Result<()> {
        self.decode_mesh_into(self.mesh()?, variables, time, outs, options)
    }

    /// Decodes `variables` at `view`'s mesh into one buffer per variable,
    /// each of [`Decoder::mesh_value_count`] values; the file's corrections
    /// apply at the stored points and (unrefined) cells the view holds.
    pub fn decode_view_into(
        &self,
        view: &MeshView,
        variables: &[usize],
        time: Option<f64>,
        outs: &mut [&mut [f32]],
        options: &DecodeOptions,
    ) -> Result<()> {
        let t = self.effective_time(time)?;
        let fixes = self.mesh_fixes(view, variables, t, options)?;
        self.decode_mesh_into(&view.mesh, variables, time, outs, options)?;
        fixes.apply(outs);
        Ok(())
    }

    /// Decodes `variables` at `mesh` (the stored mesh or one made from it)
    /// into one buffer per variable, each of [`Decoder::mesh_value_count`]
    /// values. Corrections apply only when `mesh` is the stored mesh itself
    /// ([`Decoder::mesh`]); [`Decoder::decode_view_into`] maps a view's.
    pub fn decode_mesh_into(
        &self,
        mesh: &Mesh,
        variables: &[usize],
        time: Option<f64>,
        outs: &mut [&mut [f32]],
        options: &DecodeOptions,
    ) -> Result<()> {
        for &v in variables {
            self.mesh_value_count(mesh, v)?;
        }
        let t = self.effective_time(time)?;
        let sites = |assoc: Association| {
            let xyz: std::borrow::Cow<[f64]> = match assoc {
                Association::Point => (&mesh.points[..]).into(),
                Association::Cell => mesh.cell_centers().into(),
            };
            Sites {
                count: xyz.len() / 3,
                coords: Box::new(move |q: usize| [xyz[3 * q], xyz[3 * q + 1], xyz[3 * q + 2]]),
            }
        };
        let fixes = match self.mesh.get() {
            Some(stored) if std::ptr::eq(stored, mesh) => {
                let (p, c) = (mesh.num_points(), mesh.num_cells());
                self.stored_mesh_fixes(p, c, variables, t, options)?
            }
            _ => Default::default(),
        };
        self.decode_passes(variables, outs, t, options, &sites)?;
        fixes.apply(outs);
        Ok(())
    }

    /// Decodes `variables` (empty: all) at the mesh into new buffers.
    pub fn decode_nodes(
        &self,
        variables: &[usize],
        time: Option<f64>,
        options: &DecodeOptions,
    ) -> Result<Vec<Vec<f32>>> {
        let all: Vec<usize> = (0..self.metadata().variables.len()).collect();
        let variables = if variables.is_empty() {
            &all
        } else {
            variables
        };
        let mut bufs: Vec<Vec<f32>> = variables
            .iter()
            .map(|&v| super::grid::zeroed(self.node_value_count(v)?))
            .collect::<Result<_>>()?;
        let mut outs: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        self.decode_nodes_into(variables, time, &mut outs, options)?;
        Ok(bufs)
    }
}
