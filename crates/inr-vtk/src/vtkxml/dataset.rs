//! Building a [`Grid`] and its arrays from the parsed markup of one file.

use std::path::Path;

use super::binary::{self, AppendedSection, Encoding, HeaderType, ScalarType, Values};
use super::xml::{self, ArrayMarkup, Attrs, Markup, PieceMarkup};
use super::{Array, Association, Ctx, Grid, MAX_VALUES};
use inr_core::error::Result;
use inr_core::mesh::Mesh;

/// The dataset kinds this module reads, one per file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Image,
    Rectilinear,
    Unstructured,
}

impl Kind {
    pub(crate) fn from_path(path: &Path) -> Option<Kind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "vti" => Kind::Image,
            "vtr" => Kind::Rectilinear,
            "vtu" => Kind::Unstructured,
            _ => return None,
        })
    }

    fn type_name(self) -> &'static str {
        match self {
            Kind::Image => "ImageData",
            Kind::Rectilinear => "RectilinearGrid",
            Kind::Unstructured => "UnstructuredGrid",
        }
    }
}

/// VTK's polyhedron cell type, whose faces are stored in extra arrays.
const VTK_POLYHEDRON: u64 = 42;

/// Parses the file held in `bytes` as a dataset of `kind`.
pub(crate) fn build(ctx: &Ctx, bytes: &[u8], kind: Kind) -> Result<(Grid, Vec<Array>)> {
    let markup = xml::parse(ctx, bytes)?;
    if markup.file_type != kind.type_name() {
        return Err(ctx.invalid(format!(
            "VTKFile type is {:?}, expected {:?} for this extension",
            markup.file_type,
            kind.type_name()
        )));
    }
    let decoder = Decoder {
        ctx,
        bytes,
        encoding: file_encoding(ctx, &markup)?,
        appended: markup.appended.map(|a| AppendedSection::new(bytes, a)),
    };
    let piece = single_piece(ctx, &markup)?;
    let grid = match kind {
        Kind::Image => image(ctx, &markup.dataset, piece)?,
        Kind::Rectilinear => rectilinear(&decoder, piece)?,
        Kind::Unstructured => unstructured(&decoder, piece)?,
    };
    let (points, cells) = (grid.num_points(), grid.num_cells());
    let mut arrays = Vec::with_capacity(piece.point_data.len() + piece.cell_data.len());
    for (association, list, tuples) in [
        (Association::Point, &piece.point_data, points),
        (Association::Cell, &piece.cell_data, cells),
    ] {
        for markup in list {
            let (values, components) = decoder.read(markup, tuples)?;
            arrays.push(Array {
                name: markup.name().to_string(),
                components,
                association,
                values: values.to_f64(),
                source_type: values.ty.name().to_string(),
            });
        }
    }
    Ok((grid, arrays))
}

/// `byte_order`, `header_type` and `compressor` of `<VTKFile>`.
fn file_encoding(ctx: &Ctx, markup: &Markup) -> Result<Encoding> {
    match markup.file.get("byte_order") {
        None | Some("LittleEndian") => {}
        Some("BigEndian") => {
            return Err(
                ctx.unsupported("byte_order=\"BigEndian\" (only little-endian files are read)")
            )
        }
        Some(other) => return Err(ctx.invalid(format!("byte_order {other:?}"))),
    }
    let header = match markup.file.get("header_type") {
        None | Some("UInt32") => HeaderType::U32,
        Some("UInt64") => HeaderType::U64,
        Some(other) => {
            return Err(ctx.invalid(format!(
                "header_type {other:?} (VTK writes UInt32 or UInt64)"
            )))
        }
    };
    let zlib = match markup.file.get("compressor") {
        None | Some("") => false,
        Some("vtkZLibDataCompressor") => true,
        Some(other) => {
            return Err(ctx.unsupported(format!(
                "compressor {other:?} (only vtkZLibDataCompressor is read; re-save the \
                 file from ParaView with zlib or no compression)"
            )))
        }
    };
    Ok(Encoding { header, zlib })
}

fn single_piece<'m>(ctx: &Ctx, markup: &'m Markup) -> Result<&'m PieceMarkup> {
    match markup.pieces.as_slice() {
        [piece] => Ok(piece),
        [] => Err(ctx.invalid(format!("no <Piece> inside <{}>", markup.file_type))),
        many => Err(ctx.unsupported(format!(
            "{} pieces; only single-piece files are read (merge the pieces in ParaView \
             with 'Merge Blocks' or save without splitting)",
            many.len()
        ))),
    }
}

/// Decodes arrays of one file.
struct Decoder<'a> {
    ctx: &'a Ctx<'a>,
    bytes: &'a [u8],
    encoding: Encoding,
    appended: Option<AppendedSection>,
}

impl Decoder<'_> {
    /// Decodes an array of `tuples` tuples, returning it with its component
    /// count.
    fn read(&self, array: &ArrayMarkup, tuples: usize) -> Result<(Values, usize)> {
        let ctx = self.ctx;
        let ty = binary::scalar_type(ctx, array)?;
        let components = binary::components(ctx, array)?;
        let what = binary::describe(array);
        if let Some(declared) = array.attrs.get("NumberOfTuples") {
            if declared.trim().parse::<usize>().ok() != Some(tuples) {
                return Err(ctx.invalid(format!(
                    "{what} declares NumberOfTuples={declared:?}, the grid has {tuples}"
                )));
            }
        }
        let count = tuples
            .checked_mul(components)
            .filter(|&n| n <= MAX_VALUES)
            .ok_or_else(|| {
                ctx.limit(format!(
                    "{what} would hold {tuples} tuples of {components} components; at most \
                     {MAX_VALUES} values are read per array"
                ))
            })?;
        let values = binary::decode(
            ctx,
            self.bytes,
            array,
            ty,
            count,
            self.encoding,
            self.appended.as_ref(),
        )?;
        Ok((values, components))
    }

    /// Decodes a one-component array of non-negative integers.
    fn read_ids(&self, array: &ArrayMarkup, count: usize) -> Result<Vec<u64>> {
        let (values, components) = self.read(array, count)?;
        let what = binary::describe(array);
        if components != 1 {
            return Err(self
                .ctx
                .invalid(format!("{what} has {components} components, expected 1")));
        }
        values.to_u64(self.ctx, &what)
    }
}

fn parse_list<const N: usize, T: std::str::FromStr>(
    ctx: &Ctx,
    element: &str,
    attrs: &Attrs,
    key: &str,
) -> Result<Option<[T; N]>> {
    let Some(text) = attrs.get(key) else {
        return Ok(None);
    };
    let bad = || ctx.invalid(format!("<{element}> {key}={text:?} is not {N} numbers"));
    let parsed: Vec<T> = text
        .split_ascii_whitespace()
        .map(|s| s.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    parsed.try_into().map(Some).map_err(|_| bad())
}

/// The inclusive point extent of a structured piece.
fn piece_extent(ctx: &Ctx, piece: &PieceMarkup) -> Result<[i64; 6]> {
    let extent: [i64; 6] = parse_list(ctx, "Piece", &piece.attrs, "Extent")?
        .ok_or_else(|| ctx.invalid("<Piece> has no Extent"))?;
    for axis in 0..3 {
        if extent[2 * axis + 1] < extent[2 * axis] {
            return Err(ctx.invalid(format!("<Piece> Extent {extent:?} is inverted")));
        }
    }
    let points = super::axis_points(&extent)
        .iter()
        .try_fold(1usize, |a, &n| a.checked_mul(n));
    if points.is_none_or(|p| p > MAX_VALUES) {
        return Err(ctx.limit(format!(
            "<Piece> Extent {extent:?} has more than {MAX_VALUES} points"
        )));
    }
    Ok(extent)
}

fn image(ctx: &Ctx, dataset: &Attrs, piece: &PieceMarkup) -> Result<Grid> {
    let extent = piece_extent(ctx, piece)?;
    let origin: [f64; 3] = parse_list(ctx, "ImageData", dataset, "Origin")?.unwrap_or([0.0; 3]);
    let spacing: [f64; 3] = parse_list(ctx, "ImageData", dataset, "Spacing")?.unwrap_or([1.0; 3]);
    if origin.iter().chain(&spacing).any(|v| !v.is_finite()) {
        return Err(ctx.invalid(format!(
            "<ImageData> Origin {origin:?} and Spacing {spacing:?} must be finite"
        )));
    }
    let direction: Option<[f64; 9]> = parse_list(ctx, "ImageData", dataset, "Direction")?;
    let identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    if let Some(d) = direction.filter(|d| *d != identity) {
        return Err(ctx.unsupported(format!(
            "<ImageData> Direction {d:?} is not the identity (rotated images are not read)"
        )));
    }
    Ok(Grid::Image {
        extent,
        origin,
        spacing,
    })
}

fn rectilinear(decoder: &Decoder, piece: &PieceMarkup) -> Result<Grid> {
    let ctx = decoder.ctx;
    let extent = piece_extent(ctx, piece)?;
    let [nx, ny, nz] = super::axis_points(&extent);
    let [x, y, z] = piece.coordinates.as_slice() else {
        return Err(ctx.invalid(format!(
            "<Coordinates> holds {} DataArrays, expected 3",
            piece.coordinates.len()
        )));
    };
    let axis = |name: &str, array: &ArrayMarkup, n: usize| -> Result<Vec<f64>> {
        let (values, components) = decoder.read(array, n)?;
        if components != 1 {
            return Err(ctx.invalid(format!(
                "<Coordinates> {name} array has {components} components, expected 1"
            )));
        }
        Ok(values.to_f64())
    };
    let (x, y, z) = (axis("x", x, nx)?, axis("y", y, ny)?, axis("z", z, nz)?);
    Ok(Grid::Rectilinear { extent, x, y, z })
}

fn count_attr(ctx: &Ctx, piece: &PieceMarkup, key: &str) -> Result<usize> {
    let text = piece
        .attrs
        .get(key)
        .ok_or_else(|| ctx.invalid(format!("<Piece> has no {key}")))?;
    text.trim()
        .parse()
        .map_err(|_| ctx.invalid(format!("<Piece> {key}={text:?} is not a count")))
}

fn unstructured(decoder: &Decoder, piece: &PieceMarkup) -> Result<Grid> {
    let ctx = decoder.ctx;
    let num_points = count_attr(ctx, piece, "NumberOfPoints")?;
    let num_cells = count_attr(ctx, piece, "NumberOfCells")?;

    let [points_markup] = piece.points.as_slice() else {
        return Err(ctx.invalid(format!(
            "<Points> holds {} DataArrays, expected 1",
            piece.points.len()
        )));
    };
    let (values, components) = decoder.read(points_markup, num_points)?;
    if components != 3 {
        return Err(ctx.invalid(format!("<Points> has {components} components, expected 3")));
    }
    let points_f32 = values.ty == ScalarType::F32;
    let points = values.to_f64();

    let cells_array = |name: &str| {
        piece
            .cells
            .iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| ctx.invalid(format!("<Cells> has no DataArray {name:?}")))
    };
    let end_offsets = decoder.read_ids(cells_array("offsets")?, num_cells)?;
    let mut previous = 0;
    for (cell, &end) in end_offsets.iter().enumerate() {
        if end < previous {
            return Err(ctx.invalid(format!(
                "DataArray \"offsets\": cell {cell} ends at {end}, before its start {previous}"
            )));
        }
        previous = end;
    }
    let connectivity_len = usize::try_from(previous)
        .ok()
        .filter(|&n| n <= MAX_VALUES)
        .ok_or_else(|| {
            ctx.limit(format!(
                "DataArray \"offsets\" declares {previous} connectivity entries; at most \
                 {MAX_VALUES} are read"
            ))
        })?;
    let connectivity = decoder.read_ids(cells_array("connectivity")?, connectivity_len)?;
    if let Some((i, id)) = connectivity
        .iter()
        .enumerate()
        .find(|(_, &id)| id >= num_points as u64)
    {
        return Err(ctx.invalid(format!(
            "DataArray \"connectivity\": entry {i} is point {id}, the grid has {num_points} points"
        )));
    }
    let types = decoder.read_ids(cells_array("types")?, num_cells)?;
    if let Some((cell, &t)) = types.iter().enumerate().find(|(_, &t)| t > 255) {
        return Err(ctx.invalid(format!(
            "DataArray \"types\": cell {cell} has type {t}, VTK cell types are below 256"
        )));
    }
    if types.contains(&VTK_POLYHEDRON) {
        return Err(
            ctx.unsupported("polyhedron cells (VTK type 42, with faces arrays) are not read")
        );
    }
    let mut offsets = Vec::with_capacity(num_cells + 1);
    offsets.push(0);
    offsets.extend_from_slice(&end_offsets);
    Ok(Grid::Unstructured(Mesh {
        points,
        points_f32,
        connectivity,
        offsets,
        types: types.into_iter().map(|t| t as u8).collect(),
    }))
}
