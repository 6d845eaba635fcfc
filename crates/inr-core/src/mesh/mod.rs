//! Unstructured meshes stored in `.inr` files: points, cells in VTK's layout
//! (offsets + connectivity) and VTK cell type codes, read and validated.

use crate::error::{Error, Result};
use crate::format::metadata::{ArrayRef, DType, Domain};
use crate::format::section::Compression;
use crate::format::{FileBuilder, InrFile};

pub mod cell_type;
pub mod extract;
pub mod generate;
pub mod locate;
pub mod refine;
#[cfg(test)]
mod test_cells;

pub use cell_type::CellType;

/// Most points or cells of a stored mesh.
pub const MAX_MESH_ITEMS: u64 = 1 << 32;

/// A mesh with VTK semantics: cell `c` uses point ids
/// `connectivity[offsets[c]..offsets[c + 1]]` and has type `types[c]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mesh {
    /// x, y, z per point.
    pub points: Vec<f64>,
    /// `num_cells + 1` offsets, starting at 0.
    pub offsets: Vec<u64>,
    pub connectivity: Vec<u64>,
    pub types: Vec<u8>,
    /// Whether the file stores the points as f32 (they are exact in f64).
    pub points_f32: bool,
}

/// The point count of a VTK cell type this version reads (`Some(None)`:
/// any), `None` for other codes.
pub fn cell_points(vtk_type: u8) -> Option<Option<usize>> {
    CellType::from_code(vtk_type).map(CellType::points)
}

impl Mesh {
    /// Appends a cell of type `t` on the points `ids`.
    pub fn push_cell(&mut self, t: CellType, ids: &[u64]) {
        self.connectivity.extend_from_slice(ids);
        self.offsets.push(self.connectivity.len() as u64);
        self.types.push(t.code());
    }

    /// Number of points.
    pub fn num_points(&self) -> usize {
        self.points.len() / 3
    }

    /// Number of cells.
    pub fn num_cells(&self) -> usize {
        self.types.len()
    }

    /// Reads and validates the mesh of an unstructured file.
    pub fn load(file: &InrFile) -> Result<Mesh> {
        let Domain::Unstructured {
            num_points,
            num_cells,
            points,
            connectivity,
            offsets,
            types,
            ..
        } = &file.metadata().domain
        else {
            return Err(Error::InvalidArgument(
                "the file has no unstructured mesh".into(),
            ));
        };
        if *num_points > MAX_MESH_ITEMS || *num_cells > MAX_MESH_ITEMS {
            return Err(Error::LimitExceeded(format!(
                "mesh of {num_points} points and {num_cells} cells"
            )));
        }
        let read = |a: &ArrayRef| file.read_section(a.section);
        let mesh = Mesh {
            points: points.read_f64(&read(points)?)?,
            offsets: offsets.read_u64(&read(offsets)?)?,
            connectivity: connectivity.read_u64(&read(connectivity)?)?,
            types: types
                .read_u64(&read(types)?)?
                .into_iter()
                .map(|t| t.min(255) as u8)
                .collect(),
            points_f32: points.dtype == DType::F32,
        };
        mesh.validate(*num_points, *num_cells)?;
        Ok(mesh)
    }

    /// Checks counts, offsets, point ids and cell types.
    pub fn validate(&self, num_points: u64, num_cells: u64) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(format!("mesh: {m}")));
        if self.points.len() as u64 != 3 * num_points || self.types.len() as u64 != num_cells {
            return bad(format!(
                "{} coordinates and {} types for {num_points} points and {num_cells} cells",
                self.points.len(),
                self.types.len()
            ));
        }
        if self.points.iter().any(|p| !p.is_finite()) {
            return bad("non-finite point coordinates".into());
        }
        if self.offsets.len() as u64 != num_cells + 1
            || self.offsets[0] != 0
            || self.offsets.windows(2).any(|w| w[0] > w[1])
            || self.offsets[self.offsets.len() - 1] != self.connectivity.len() as u64
        {
            return bad(
                "offsets must start at 0, not decrease, and end at the connectivity length".into(),
            );
        }
        if self.connectivity.iter().any(|&id| id >= num_points) {
            return bad("a cell refers to a point beyond the point count".into());
        }
        for (c, &t) in self.types.iter().enumerate() {
            let n = (self.offsets[c + 1] - self.offsets[c]) as usize;
            match cell_points(t) {
                None => return bad(format!("cell {c} has unknown VTK cell type {t}")),
                Some(Some(k)) if k != n => {
                    return bad(format!("cell {c} of VTK type {t} has {n} points, not {k}"))
                }
                Some(_) if n == 0 => return bad(format!("cell {c} has no points")),
                _ => {}
            }
        }
        Ok(())
    }

    /// Axis-aligned bounds `[xmin, xmax, ymin, ymax, zmin, zmax]`.
    pub fn bounds(&self) -> [f64; 6] {
        let mut b = [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for p in self.points.chunks_exact(3) {
            for a in 0..3 {
                b[2 * a] = b[2 * a].min(p[a]);
                b[2 * a + 1] = b[2 * a + 1].max(p[a]);
            }
        }
        b
    }

    /// The centroid (mean of the points) of each cell: where cell data is
    /// fitted and decoded.
    pub fn cell_centers(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(3 * self.num_cells());
        for c in 0..self.num_cells() {
            let ids = &self.connectivity[self.offsets[c] as usize..self.offsets[c + 1] as usize];
            for a in 0..3 {
                let sum: f64 = ids.iter().map(|&i| self.points[3 * i as usize + a]).sum();
                out.push(sum / ids.len() as f64);
            }
        }
        out
    }

    /// Adds the mesh to a file being written, in one zstd section, and
    /// returns the `unstructured` domain that describes it: points in f32 or
    /// f64 as given, offsets and connectivity as delta varints, types as u8.
    pub fn write(&self, builder: &mut FileBuilder) -> Domain {
        let section = builder.new_section("mesh", Compression::Zstd);
        let points = if self.points_f32 {
            let b: Vec<u8> = self
                .points
                .iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect();
            builder.push_array(section, &b, self.points.len(), DType::F32)
        } else {
            builder.push_f64_array(section, &self.points)
        };
        let mut varints = |v: &[u64]| {
            let b = crate::format::array::encode_delta_varint(v);
            builder.push_array(section, &b, v.len(), DType::DeltaVarint)
        };
        let offsets = varints(&self.offsets);
        let connectivity = varints(&self.connectivity);
        let types = builder.push_array(section, &self.types, self.types.len(), DType::U8);
        Domain::Unstructured {
            num_points: self.num_points() as u64,
            num_cells: self.num_cells() as u64,
            bounds: self.bounds(),
            points,
            connectivity,
            offsets,
            types,
        }
    }
}
