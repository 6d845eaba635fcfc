//! Reading VTK XML data files as ParaView and VTK write them.
//!
//! vtkio 0.6.3 cannot read what ParaView writes by default (raw appended
//! binary data, zlib compression), so this module reads the files itself:
//! quick-xml for the markup (`xml.rs`), its own base64 and payload decoder
//! (`base64.rs`, `binary.rs`), flate2 for zlib blocks, and one file per
//! dataset concept (`dataset.rs` for the grids, `pvd.rs` for collections).
//!
//! Supported:
//! - `.vti` (ImageData), `.vtr` (RectilinearGrid), `.vtu` (UnstructuredGrid),
//!   one piece per file; `.pvd` collections of those ([`read_series`]).
//! - `DataArray` formats `ascii`, `binary` (inline base64) and `appended`
//!   (`<AppendedData encoding="raw">` or `"base64"`).
//! - `header_type` `UInt32` (the default when absent) or `UInt64`;
//!   `compressor="vtkZLibDataCompressor"` or none.
//! - Element types Int8..Int64, UInt8..UInt64, Float32, Float64, all
//!   converted to `f64`; `byte_order="LittleEndian"`.
//! - `PointData` and `CellData` arrays; `FieldData` is ignored.
//!
//! Not supported, each an [`Error::Unsupported`] naming the file and the
//! feature: big-endian files, other compressors (LZ4, LZMA), files with more
//! than one piece, parallel (`.pvti`, ...) and other dataset files
//! (`.vtp`, `.vts`), image data with a non-identity `Direction`, polyhedron
//! cells, multi-part collections.
//!
//! Limits, so that a corrupt or hostile file gives an error, never a panic
//! or an unbounded allocation:
//! - every size the file declares is checked against the bytes really
//!   present before memory is allocated for it;
//! - zlib output is bounded by the declared block sizes, and a block may not
//!   claim more than deflate's maximum ratio (1032:1) over its compressed size;
//! - an array holds at most 2^31 values (tuples times components);
//! - the arrays of a file together read at most the bytes of its
//!   `<AppendedData>` section (arrays pointing at the same bytes are an
//!   error), so the decoded total is bounded by the file size.

mod base64;
mod binary;
mod dataset;
mod pvd;
mod xml;

use std::fmt::Display;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use inr_core::error::{Error, Result};
pub use inr_core::format::Association;
use inr_core::mesh::Mesh;

/// The most values (tuples times components) one array may hold.
/// (Crate-private: cbindgen would export a public constant into `inr.h`.)
pub(crate) const MAX_VALUES: usize = 1 << 31;

/// The geometry and topology of a dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum Grid {
    /// Uniform grid: point `(i, j, k)` of the inclusive point extent
    /// `[i0, i1, j0, j1, k0, k1]` is at `origin + (i, j, k) * spacing`.
    Image {
        extent: [i64; 6],
        origin: [f64; 3],
        spacing: [f64; 3],
    },
    /// Axis-aligned grid with explicit coordinates, one per point along each
    /// axis of the inclusive point extent.
    Rectilinear {
        extent: [i64; 6],
        x: Vec<f64>,
        y: Vec<f64>,
        z: Vec<f64>,
    },
    /// Arbitrary cells, in VTK's layout ([`Mesh`]: VTK stores only the end
    /// offsets; the leading 0 is added here). `points_f32` tells whether the
    /// file stored the points as `Float32`.
    Unstructured(Mesh),
}

impl Grid {
    /// Number of points.
    pub fn num_points(&self) -> usize {
        match self {
            Grid::Image { extent, .. } | Grid::Rectilinear { extent, .. } => axis_points(extent)
                .iter()
                .fold(1, |a, &n| a.saturating_mul(n)),
            Grid::Unstructured(mesh) => mesh.num_points(),
        }
    }

    /// Number of cells. Structured grids count `max(points - 1, 1)` cells
    /// per axis, as VTK does (a flat axis still holds one layer of cells).
    pub fn num_cells(&self) -> usize {
        match self {
            Grid::Image { extent, .. } | Grid::Rectilinear { extent, .. } => axis_points(extent)
                .iter()
                .fold(1, |a, &n| a.saturating_mul(n.saturating_sub(1).max(1))),
            Grid::Unstructured(mesh) => mesh.num_cells(),
        }
    }
}

/// Points along each axis of an inclusive extent (0 for an inverted axis).
fn axis_points(extent: &[i64; 6]) -> [usize; 3] {
    [0, 1, 2].map(|a| {
        let n = i128::from(extent[2 * a + 1]) - i128::from(extent[2 * a]) + 1;
        usize::try_from(n.max(0)).unwrap_or(usize::MAX)
    })
}

/// One data array, converted to `f64`.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The `Name` attribute (`""` if the file gives none).
    pub name: String,
    pub components: usize,
    pub association: Association,
    /// `components` interleaved values per tuple, tuples in VTK order (for
    /// structured grids x fastest, then y, then z).
    pub values: Vec<f64>,
    /// The element type in the file, e.g. `"Float32"`.
    pub source_type: String,
}

/// One dataset file.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub grid: Grid,
    /// Point arrays, then cell arrays, each in file order.
    pub arrays: Vec<Array>,
    /// The file it was read from.
    pub path: PathBuf,
}

impl Dataset {
    /// The first array named `name`.
    pub fn array(&self, name: &str) -> Option<&Array> {
        self.arrays.iter().find(|a| a.name == name)
    }
}

/// Time steps of a dataset, by increasing time.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub steps: Vec<(f64, Dataset)>,
}

impl Series {
    /// The time of each step.
    pub fn times(&self) -> Vec<f64> {
        self.steps.iter().map(|(t, _)| *t).collect()
    }
}

/// Reads one `.vti`, `.vtr` or `.vtu` file (chosen by extension; the
/// file's `VTKFile type` must agree).
pub fn read(path: &Path) -> Result<Dataset> {
    read_kind(path, kind_of(path)?)
}

/// Parses the contents of a `.vti`, `.vtr` or `.vtu` file already in
/// memory. `path` is not opened: its extension gives the kind, and it names
/// the file in errors and in [`Dataset::path`].
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    let kind = kind_of(path)?;
    let (grid, arrays) = dataset::build(&Ctx { path }, bytes, kind)?;
    Ok(Dataset {
        grid,
        arrays,
        path: path.to_path_buf(),
    })
}

fn kind_of(path: &Path) -> Result<dataset::Kind> {
    dataset::Kind::from_path(path).ok_or_else(|| {
        Ctx { path }.unsupported(
            "only .vti (ImageData), .vtr (RectilinearGrid) and .vtu (UnstructuredGrid) \
             files are read",
        )
    })
}

/// Reads `path` as ImageData whatever its extension (for
/// [`crate::vti::read_image_data`]).
pub(crate) fn read_image(path: &Path) -> Result<Dataset> {
    read_kind(path, dataset::Kind::Image)
}

fn read_kind(path: &Path, kind: dataset::Kind) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (grid, arrays) = dataset::build(&Ctx { path }, &bytes, kind)?;
    Ok(Dataset {
        grid,
        arrays,
        path: path.to_path_buf(),
    })
}

/// Reads a `.pvd` collection (its `DataSet` files resolved relative to the
/// `.pvd`'s folder, sorted by timestep), or a single dataset file as a
/// one-step series at time 0.
pub fn read_series(path: &Path) -> Result<Series> {
    if !pvd::is_pvd(path) {
        return Ok(Series {
            steps: vec![(0.0, read(path)?)],
        });
    }
    let ctx = Ctx { path };
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let entries = pvd::parse(&ctx, &bytes)?;
    let steps = entries
        .into_par_iter()
        .map(|(time, file)| read(&file).map(|d| (time, d)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Series { steps })
}

/// The file being read, for error messages: every message starts with it.
pub(crate) struct Ctx<'a> {
    pub path: &'a Path,
}

impl Ctx<'_> {
    fn message(&self, msg: impl Display) -> String {
        format!("{}: {msg}", self.path.display())
    }

    pub(crate) fn invalid(&self, msg: impl Display) -> Error {
        Error::Invalid(self.message(msg))
    }

    pub(crate) fn truncated(&self, msg: impl Display) -> Error {
        Error::Truncated(self.message(msg))
    }

    pub(crate) fn unsupported(&self, msg: impl Display) -> Error {
        Error::Unsupported(self.message(msg))
    }

    pub(crate) fn limit(&self, msg: impl Display) -> Error {
        Error::LimitExceeded(self.message(msg))
    }
}
