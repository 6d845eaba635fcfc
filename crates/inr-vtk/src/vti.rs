//! Writing and reading VTK XML ImageData (`.vti`) files, and writing
//! RectilinearGrid (`.vtr`) files (a rectilinear domain at its stored,
//! non-uniform coordinates) and UnstructuredGrid (`.vtu`) files (a mesh).
//!
//! Decoded grids leave the library as `.vti` because that is the format ParaView
//! (and every VTK-based tool) opens without a plugin. Encoding is delegated to
//! [`vtkio`] 0.6.3 so that the XML structure is produced by a maintained
//! serializer rather than by hand-written string formatting.
//!
//! What vtkio writes, and why ParaView 5.11 reads it:
//! `<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">`,
//! one `<Piece>` covering the whole extent, and every array as an inline
//! `format="binary"` `DataArray` with `NumberOfComponents`: base64 of a
//! `UInt64` byte count followed by the little-endian values, in one base64
//! stream. That is VTK's own layout for uncompressed inline binary data.
//! vtkio also puts `NumberOfPoints="0"` and other PolyData counts on the
//! `Piece`; VTK's ImageData reader ignores them (checked with VTK 9.2, the
//! version ParaView 5.11 is built on, which reads these files exactly).
//!
//! Limits inherited from vtkio 0.6.3, each checked here so none is silent:
//! - `Origin` and `Spacing` are stored as `f32`; the `f64` arguments are rounded.
//! - Extents are `i32`.
//!
//! Reading does not use vtkio, which cannot decode compressed files or raw
//! appended data (ParaView's default) and drops cell arrays of grids flat
//! along an axis: [`read_image_data`] delegates to [`crate::vtkxml`].

use std::io::{self, BufWriter, Write};
use std::path::Path;

use num_traits::FromPrimitive;
use vtkio::model::{
    Attribute, Attributes, ByteOrder, CellType, Cells, Coordinates, DataArray, DataSet,
    ElementType, Extent, IOBuffer, ImageDataPiece, Piece, RectilinearGridPiece,
    UnstructuredGridPiece, Version, VertexNumbers, Vtk,
};

use inr_core::error::{Error, Result};
use inr_core::format::writer::write_atomically_with;
use inr_core::mesh::Mesh;

/// Where a data array lives: `PointData` or `CellData`.
pub use inr_core::format::Association;

/// One named array to write.
///
/// `values` holds `components` interleaved values per tuple, tuples in VTK
/// order (x fastest, then y, then z; or mesh order), so a decoder's output
/// buffer can be passed without reshuffling.
#[derive(Clone, Copy, Debug)]
pub struct VtiArray<'a> {
    pub name: &'a str,
    pub components: usize,
    pub association: Association,
    pub values: Values<'a>,
}

/// The values of an array: decoded data, or a mask (VTK's
/// `vtkValidPointMask` is an unsigned char array).
#[derive(Clone, Copy, Debug)]
pub enum Values<'a> {
    F32(&'a [f32]),
    U8(&'a [u8]),
}

impl Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::U8(v) => v.len(),
        }
    }

    fn buffer(&self) -> IOBuffer {
        match self {
            Values::F32(v) => IOBuffer::F32(v.to_vec()),
            Values::U8(v) => IOBuffer::U8(v.to_vec()),
        }
    }
}

/// What [`read_image_data`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct VtiImage {
    /// Inclusive point extent `[x0, x1, y0, y1, z0, z1]` of the data.
    pub extent: [i64; 6],
    pub origin: [f64; 3],
    pub spacing: [f64; 3],
    /// Point arrays first, then cell arrays, each in file order.
    pub arrays: Vec<VtiOwnedArray>,
}

/// One array read from a `.vti` file, widened to `f64` so that files storing
/// any numeric type can be compared with one code path.
#[derive(Clone, Debug, PartialEq)]
pub struct VtiOwnedArray {
    pub name: String,
    pub components: usize,
    pub association: Association,
    pub values: Vec<f64>,
}

/// Writes image data with the VTK point extent `extent` (inclusive, as VTK's
/// `WholeExtent`), `origin` and `spacing`.
///
/// Every array must hold exactly (points or cells) × `components` values,
/// where cells per axis are `max(points - 1, 1)` as in VTK; anything else is
/// [`Error::InvalidArgument`], because a mis-sized array would make ParaView
/// reject or misplace the data. Spacing must be positive. `origin` and
/// `spacing` are stored as `f32` (a vtkio limit). The file is written to a
/// temporary file in the same directory and renamed over `path`, so readers
/// never see a half-written file and a failure leaves any previous file
/// untouched.
pub fn write_image_data(
    path: &Path,
    extent: [i64; 6],
    origin: [f64; 3],
    spacing: [f64; 3],
    arrays: &[VtiArray],
) -> Result<()> {
    let grid = Grid::new(extent)?;
    let (origin, spacing) = (to_f32("origin", origin)?, to_f32("spacing", spacing)?);
    if spacing.iter().any(|s| *s <= 0.0) {
        return Err(Error::InvalidArgument(format!(
            "spacing {spacing:?} must be positive"
        )));
    }
    check_arrays(&grid, arrays)?;
    let vtk = image_model(&grid, origin, spacing, arrays);
    write_atomically_with(path, |file| {
        // Straight into the file: the encoded text is the largest copy.
        let mut out = BufWriter::new(file);
        vtk.write_xml(&mut out).map_err(io::Error::from)?;
        out.flush()
    })
}

/// Writes a rectilinear grid (`.vtr`) with the VTK point extent `extent`
/// and the point coordinates along each axis (`f64`, stored exactly; one
/// per point of the extent, strictly increasing). Arrays, validation and the
/// atomic write are as for [`write_image_data`].
pub fn write_rectilinear_grid(
    path: &Path,
    extent: [i64; 6],
    axes: [&[f64]; 3],
    arrays: &[VtiArray],
) -> Result<()> {
    let grid = Grid::new(extent)?;
    for (a, axis) in axes.iter().enumerate() {
        let n = (extent[2 * a + 1] - extent[2 * a] + 1) as usize;
        let increasing = axis.windows(2).all(|w| w[0] < w[1]);
        if axis.len() != n || !increasing || axis.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "axis {a}: {} coordinates for {n} points, or not finite and increasing",
                axis.len()
            )));
        }
    }
    check_arrays(&grid, arrays)?;
    let coords = Coordinates {
        x: IOBuffer::F64(axes[0].to_vec()),
        y: IOBuffer::F64(axes[1].to_vec()),
        z: IOBuffer::F64(axes[2].to_vec()),
    };
    let piece = RectilinearGridPiece {
        extent: grid.model_extent(),
        coords,
        data: attributes(arrays),
    };
    let vtk = Vtk {
        version: Version::new((1, 0)),
        title: String::new(),
        byte_order: ByteOrder::LittleEndian,
        file_path: None,
        data: DataSet::RectilinearGrid {
            extent: grid.model_extent(),
            meta: None,
            pieces: vec![Piece::Inline(Box::new(piece))],
        },
    };
    write_atomically_with(path, |file| {
        let mut out = BufWriter::new(file);
        vtk.write_xml(&mut out).map_err(io::Error::from)?;
        out.flush()
    })
}

/// Writes an unstructured grid (`.vtu`): the mesh's points (as `Float32`
/// when the mesh came from `Float32` points, else `Float64`: exact either
/// way), its cells in VTK's layout, and arrays of one tuple per point or per
/// cell. Validation and the atomic write are as for [`write_image_data`].
pub fn write_unstructured_grid(path: &Path, mesh: &Mesh, arrays: &[VtiArray]) -> Result<()> {
    let counts = Grid {
        extent: [0; 6],
        points: mesh.num_points(),
        cells: mesh.num_cells(),
    };
    check_arrays(&counts, arrays)?;
    let types = mesh
        .types
        .iter()
        .map(|&t| {
            cell_type(t).ok_or_else(|| {
                Error::InvalidArgument(format!("VTK cell type {t} cannot be written"))
            })
        })
        .collect::<Result<Vec<CellType>>>()?;
    let points = if mesh.points_f32 {
        IOBuffer::F32(mesh.points.iter().map(|&v| v as f32).collect())
    } else {
        IOBuffer::F64(mesh.points.clone())
    };
    let piece = UnstructuredGridPiece {
        points,
        cells: Cells {
            // vtkio takes VTK's end offsets, without the leading 0.
            cell_verts: VertexNumbers::XML {
                connectivity: mesh.connectivity.clone(),
                offsets: mesh.offsets[1..].to_vec(),
            },
            types,
        },
        data: attributes(arrays),
    };
    let vtk = Vtk {
        version: Version::new((1, 0)),
        title: String::new(),
        byte_order: ByteOrder::LittleEndian,
        file_path: None,
        data: DataSet::UnstructuredGrid {
            meta: None,
            pieces: vec![Piece::Inline(Box::new(piece))],
        },
    };
    write_atomically_with(path, |file| {
        let mut out = BufWriter::new(file);
        vtk.write_xml(&mut out).map_err(io::Error::from)?;
        out.flush()
    })
}

/// vtkio's name of a VTK cell type a stored mesh may hold (vtkio numbers
/// its cell types as VTK does).
fn cell_type(t: u8) -> Option<CellType> {
    inr_core::mesh::CellType::from_code(t)?;
    CellType::from_u8(t)
}

/// Reads a `.vti` file into `f64` arrays.
///
/// Delegates to [`crate::vtkxml`], so it reads this module's output and what
/// VTK and ParaView write: inline ASCII or base64 data, appended raw or
/// base64 data, zlib-compressed or not, `UInt32` or `UInt64` headers, any
/// numeric element type. The file must hold `ImageData` in one piece,
/// whatever its extension. Arrays come back point arrays first, then cell
/// arrays, each in file order; `FieldData` is skipped.
///
/// `origin` and `spacing` are rounded to `f32` (then widened), as this
/// function returned them when vtkio read the files: a file written by
/// [`write_image_data`] gives back exactly the `f32` values it stored, and
/// callers compare against `value as f32 as f64`. [`crate::vtkxml::read`]
/// keeps the file's full `f64` text.
pub fn read_image_data(path: &Path) -> Result<VtiImage> {
    let dataset = crate::vtkxml::read_image(path)?;
    let crate::vtkxml::Grid::Image {
        extent,
        origin,
        spacing,
    } = dataset.grid
    else {
        return Err(Error::Invalid(format!("{}: not ImageData", path.display())));
    };
    let arrays = dataset
        .arrays
        .into_iter()
        .map(|a| VtiOwnedArray {
            name: a.name,
            components: a.components,
            association: match a.association {
                inr_core::format::Association::Point => Association::Point,
                inr_core::format::Association::Cell => Association::Cell,
            },
            values: a.values,
        })
        .collect();
    let f32_precision = |v: [f64; 3]| v.map(|x| f64::from(x as f32));
    Ok(VtiImage {
        extent,
        origin: f32_precision(origin),
        spacing: f32_precision(spacing),
        arrays,
    })
}

/// A validated extent with its point and cell counts.
struct Grid {
    extent: [i32; 6],
    points: usize,
    cells: usize,
}

impl Grid {
    /// Checks the extent against what VTK and vtkio can represent (`i32`,
    /// non-empty axes) and counts points and cells without overflow.
    fn new(extent: [i64; 6]) -> Result<Grid> {
        let bad = |why: &str| Error::InvalidArgument(format!("extent {extent:?}: {why}"));
        let mut narrow = [0i32; 6];
        for (n, e) in narrow.iter_mut().zip(extent) {
            *n = i32::try_from(e).map_err(|_| bad("bounds must fit in i32"))?;
        }
        let (mut points, mut cells) = (1usize, 1usize);
        for axis in 0..3 {
            let (lo, hi) = (extent[2 * axis], extent[2 * axis + 1]);
            if hi < lo {
                return Err(bad("each upper bound must be >= its lower bound"));
            }
            let n = usize::try_from(hi - lo + 1).map_err(|_| bad("too many points"))?;
            points = points
                .checked_mul(n)
                .ok_or_else(|| bad("too many points"))?;
            cells = cells
                .checked_mul((n - 1).max(1))
                .ok_or_else(|| bad("too many cells"))?;
        }
        Ok(Grid {
            extent: narrow,
            points,
            cells,
        })
    }

    fn tuples(&self, association: Association) -> usize {
        match association {
            Association::Point => self.points,
            Association::Cell => self.cells,
        }
    }

    fn model_extent(&self) -> Extent {
        let e = self.extent;
        Extent::Ranges([e[0]..=e[1], e[2]..=e[3], e[4]..=e[5]])
    }
}

/// Rounds a geometry vector to the `f32` vtkio stores, rejecting values that
/// would become infinite or NaN in the file.
fn to_f32(what: &str, v: [f64; 3]) -> Result<[f32; 3]> {
    let narrow = v.map(|x| x as f32);
    if narrow.iter().all(|x| x.is_finite()) {
        Ok(narrow)
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} {v:?} must be finite and within f32 range"
        )))
    }
}

/// Validates every array before anything is encoded, so no file is touched
/// when one of them is wrong.
fn check_arrays(grid: &Grid, arrays: &[VtiArray]) -> Result<()> {
    for (i, a) in arrays.iter().enumerate() {
        check_array(grid, a)?;
        let clash = arrays[..i]
            .iter()
            .any(|b| b.name == a.name && b.association == a.association);
        if clash {
            return Err(Error::InvalidArgument(format!(
                "two {:?} arrays are named {:?}; ParaView could show only one",
                a.association, a.name
            )));
        }
    }
    Ok(())
}

fn check_array(grid: &Grid, a: &VtiArray) -> Result<()> {
    let bad = |why: String| Error::InvalidArgument(format!("array {:?}: {why}", a.name));
    if a.name.is_empty() || a.name.chars().any(char::is_control) {
        return Err(bad(
            "name must be non-empty, without control characters".into()
        ));
    }
    if a.components == 0 || u32::try_from(a.components).is_err() {
        return Err(bad(format!("{} components is not allowed", a.components)));
    }
    let tuples = grid.tuples(a.association);
    let expected = tuples.checked_mul(a.components);
    if expected != Some(a.values.len()) {
        return Err(bad(format!(
            "expected {tuples} {:?} tuples x {} components, got {} values",
            a.association,
            a.components,
            a.values.len()
        )));
    }
    Ok(())
}

/// Builds vtkio's in-memory model of a single-piece image.
///
/// Version 1.0 is what ParaView writes alongside `header_type="UInt64"`,
/// which vtkio always emits; little-endian avoids byte swaps on every
/// machine ParaView runs on.
fn image_model(grid: &Grid, origin: [f32; 3], spacing: [f32; 3], arrays: &[VtiArray]) -> Vtk {
    let piece = ImageDataPiece {
        extent: grid.model_extent(),
        data: attributes(arrays),
    };
    Vtk {
        version: Version::new((1, 0)),
        title: String::new(),
        byte_order: ByteOrder::LittleEndian,
        file_path: None,
        data: DataSet::ImageData {
            extent: grid.model_extent(),
            origin,
            spacing,
            meta: None,
            pieces: vec![Piece::Inline(Box::new(piece))],
        },
    }
}

/// The arrays as vtkio's point and cell attributes.
fn attributes(arrays: &[VtiArray]) -> Attributes {
    let mut data = Attributes::new();
    for a in arrays {
        let target = match a.association {
            Association::Point => &mut data.point,
            Association::Cell => &mut data.cell,
        };
        target.push(model_attribute(a));
    }
    data
}

/// Tags 1- and 3-component arrays as scalars and vectors so ParaView picks
/// the first of each as the active attribute (colouring, glyphs) by default.
fn model_attribute(a: &VtiArray) -> Attribute {
    // check_array has bounded the component count to u32.
    let num_comp = u32::try_from(a.components).unwrap_or(u32::MAX);
    let elem = match num_comp {
        // A mask is never the array to colour by.
        _ if matches!(a.values, Values::U8(_)) => ElementType::Generic(num_comp),
        1 => ElementType::Scalars {
            num_comp,
            lookup_table: None,
        },
        3 => ElementType::Vectors,
        n => ElementType::Generic(n),
    };
    Attribute::DataArray(DataArray {
        name: a.name.to_string(),
        elem,
        data: a.values.buffer(),
    })
}
