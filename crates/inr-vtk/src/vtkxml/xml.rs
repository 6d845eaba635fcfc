//! The XML structure of a VTK XML data file, parsed with quick-xml.
//!
//! Only the markup is parsed as XML. Parsing stops at the start tag of
//! `<AppendedData>`: what follows its `_` marker may be raw binary bytes
//! (`encoding="raw"`), which are not text, so only their position is kept.
//!
//! The structure recorded is what the dataset readers need:
//!
//! ```text
//! VTKFile (type, byte_order, header_type, compressor)
//!   <dataset element> (ImageData / RectilinearGrid / UnstructuredGrid attributes)
//!     FieldData            (ignored)
//!     Piece (attributes)
//!       PointData | CellData | Points | Coordinates | Cells
//!         DataArray (attributes, inline text)
//!   AppendedData (encoding)   _<data>
//! ```

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::Ctx;
use inr_core::error::Result;

/// Attributes of one element, unescaped, in file order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attrs(Vec<(String, String)>);

impl Attrs {
    /// The value of attribute `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One `<DataArray>` element: its attributes and, for inline formats, the
/// text directly inside it (child elements such as `<InformationKey>` are
/// skipped).
#[derive(Clone, Debug, Default)]
pub(crate) struct ArrayMarkup {
    pub attrs: Attrs,
    pub text: Vec<u8>,
}

impl ArrayMarkup {
    /// The `Name` attribute, or `""` for an unnamed array (VTK allows them,
    /// e.g. the coordinate arrays of a rectilinear grid).
    pub(crate) fn name(&self) -> &str {
        self.attrs.get("Name").unwrap_or("")
    }
}

/// One `<Piece>` with its data arrays grouped by the section holding them.
#[derive(Clone, Debug, Default)]
pub(crate) struct PieceMarkup {
    pub attrs: Attrs,
    pub point_data: Vec<ArrayMarkup>,
    pub cell_data: Vec<ArrayMarkup>,
    pub points: Vec<ArrayMarkup>,
    pub coordinates: Vec<ArrayMarkup>,
    pub cells: Vec<ArrayMarkup>,
}

/// How the bytes after `<AppendedData ...>_` are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppendedEncoding {
    Raw,
    Base64,
}

/// Where the appended data begins: the byte just after the `_` marker.
/// Array offsets count from there (bytes for raw, characters for base64).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Appended {
    pub encoding: AppendedEncoding,
    pub start: usize,
}

/// Everything the readers need from the markup of one file.
#[derive(Clone, Debug, Default)]
pub(crate) struct Markup {
    /// Attributes of `<VTKFile>`.
    pub file: Attrs,
    /// The `type` attribute of `<VTKFile>`.
    pub file_type: String,
    /// Attributes of the dataset element (e.g. `<ImageData>`).
    pub dataset: Attrs,
    pub pieces: Vec<PieceMarkup>,
    pub appended: Option<Appended>,
}

/// Which section of a piece an array belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    PointData,
    CellData,
    Points,
    Coordinates,
    Cells,
}

impl Section {
    fn from_name(name: &[u8]) -> Option<Section> {
        Some(match name {
            b"PointData" => Section::PointData,
            b"CellData" => Section::CellData,
            b"Points" => Section::Points,
            b"Coordinates" => Section::Coordinates,
            b"Cells" => Section::Cells,
            _ => return None,
        })
    }

    fn arrays(self, piece: &mut PieceMarkup) -> &mut Vec<ArrayMarkup> {
        match self {
            Section::PointData => &mut piece.point_data,
            Section::CellData => &mut piece.cell_data,
            Section::Points => &mut piece.points,
            Section::Coordinates => &mut piece.coordinates,
            Section::Cells => &mut piece.cells,
        }
    }
}

/// What an open element is, as far as this parser cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    VtkFile,
    Dataset,
    Piece,
    Section(Section),
    /// A `<DataArray>` of a section, being filled.
    Array,
    /// Anything else (FieldData, InformationKey, unknown elements).
    Other,
}

/// Parses the markup of a VTK XML file held in `bytes`.
pub(crate) fn parse(ctx: &Ctx, bytes: &[u8]) -> Result<Markup> {
    let mut reader = Reader::from_reader(bytes);
    let mut markup = Markup::default();
    let mut stack: Vec<(Open, Vec<u8>)> = Vec::new();
    let mut current: Option<(Section, ArrayMarkup)> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            ctx.invalid(format!(
                "malformed XML near byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::Start(e) => {
                let name = e.name().as_ref().to_vec();
                if stack.len() == 1 && name == b"AppendedData" {
                    let encoding = appended_encoding(ctx, &e)?;
                    let after_tag = position(ctx, reader.buffer_position())?;
                    let start = find_marker(ctx, bytes, after_tag)?;
                    markup.appended = Some(Appended { encoding, start });
                    return Ok(markup);
                }
                let open = open_element(ctx, &mut markup, &stack, &e, &mut current)?;
                stack.push((open, name));
            }
            Event::Empty(e) => {
                if stack.len() == 1 && e.name().as_ref() == b"AppendedData" {
                    // No data at all: any array that refers to it is truncated.
                    let encoding = appended_encoding(ctx, &e)?;
                    let start = position(ctx, reader.buffer_position())?;
                    markup.appended = Some(Appended { encoding, start });
                    continue;
                }
                let open = open_element(ctx, &mut markup, &stack, &e, &mut current)?;
                close_element(&mut markup, open, &mut current);
            }
            Event::End(e) => {
                let Some((open, name)) = stack.pop() else {
                    return Err(ctx.invalid("malformed XML: a closing tag without an opening one"));
                };
                if name != e.name().as_ref() {
                    return Err(ctx.invalid(format!(
                        "malformed XML: <{}> closed by </{}>",
                        String::from_utf8_lossy(&name),
                        String::from_utf8_lossy(e.name().as_ref())
                    )));
                }
                close_element(&mut markup, open, &mut current);
            }
            Event::Text(t) => {
                if let (Some((Open::Array, _)), Some((_, array))) = (stack.last(), &mut current) {
                    array.text.extend_from_slice(&t);
                }
            }
            Event::CData(t) => {
                if let (Some((Open::Array, _)), Some((_, array))) = (stack.last(), &mut current) {
                    array.text.extend_from_slice(&t);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some((_, name)) = stack.last() {
        return Err(ctx.truncated(format!(
            "the file ends inside <{}>",
            String::from_utf8_lossy(name)
        )));
    }
    if markup.file_type.is_empty() {
        return Err(ctx.invalid("no <VTKFile> element with a type attribute"));
    }
    Ok(markup)
}

/// Records an opening element and says what it is.
fn open_element(
    ctx: &Ctx,
    markup: &mut Markup,
    stack: &[(Open, Vec<u8>)],
    e: &BytesStart,
    current: &mut Option<(Section, ArrayMarkup)>,
) -> Result<Open> {
    let name = e.name();
    let name = name.as_ref();
    let parent = stack.last().map(|(open, _)| *open);
    Ok(match parent {
        None => {
            if name != b"VTKFile" {
                return Err(ctx.invalid(format!(
                    "the root element is <{}>, not <VTKFile>",
                    String::from_utf8_lossy(name)
                )));
            }
            if !markup.file_type.is_empty() {
                return Err(ctx.invalid("more than one <VTKFile> element"));
            }
            markup.file = attributes(ctx, e)?;
            markup.file_type = markup
                .file
                .get("type")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ctx.invalid("<VTKFile> has no type attribute"))?
                .to_string();
            Open::VtkFile
        }
        Some(Open::VtkFile) if name == markup.file_type.as_bytes() => {
            markup.dataset = attributes(ctx, e)?;
            Open::Dataset
        }
        Some(Open::Dataset) if name == b"Piece" => {
            markup.pieces.push(PieceMarkup {
                attrs: attributes(ctx, e)?,
                ..PieceMarkup::default()
            });
            Open::Piece
        }
        Some(Open::Piece) => match Section::from_name(name) {
            Some(section) => Open::Section(section),
            None => Open::Other,
        },
        Some(Open::Section(section)) if name == b"DataArray" => {
            *current = Some((
                section,
                ArrayMarkup {
                    attrs: attributes(ctx, e)?,
                    text: Vec::new(),
                },
            ));
            Open::Array
        }
        _ => Open::Other,
    })
}

/// Files a finished `<DataArray>` under its piece's section.
fn close_element(markup: &mut Markup, open: Open, current: &mut Option<(Section, ArrayMarkup)>) {
    if open != Open::Array {
        return;
    }
    if let (Some((section, array)), Some(piece)) = (current.take(), markup.pieces.last_mut()) {
        section.arrays(piece).push(array);
    }
}

fn attributes(ctx: &Ctx, e: &BytesStart) -> Result<Attrs> {
    let element = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let bad = |why: String| ctx.invalid(format!("attributes of <{element}>: {why}"));
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| bad(err.to_string()))?;
        let key = std::str::from_utf8(attr.key.as_ref())
            .map_err(|_| bad("a name is not UTF-8".into()))?
            .to_string();
        let value: Cow<str> = attr.unescape_value().map_err(|err| bad(err.to_string()))?;
        out.push((key, value.into_owned()));
    }
    Ok(Attrs(out))
}

fn appended_encoding(ctx: &Ctx, e: &BytesStart) -> Result<AppendedEncoding> {
    let attrs = attributes(ctx, e)?;
    match attrs.get("encoding") {
        Some("raw") => Ok(AppendedEncoding::Raw),
        Some("base64") => Ok(AppendedEncoding::Base64),
        Some(other) => Err(ctx.unsupported(format!(
            "<AppendedData> encoding {other:?} (only \"raw\" and \"base64\" exist)"
        ))),
        None => Err(ctx.invalid("<AppendedData> has no encoding attribute")),
    }
}

fn position(ctx: &Ctx, pos: u64) -> Result<usize> {
    usize::try_from(pos).map_err(|_| ctx.invalid("XML position beyond the address space"))
}

/// The byte after the `_` that starts appended data, skipping whitespace
/// after the `<AppendedData>` tag as VTK does.
fn find_marker(ctx: &Ctx, bytes: &[u8], from: usize) -> Result<usize> {
    let rest = bytes.get(from..).unwrap_or_default();
    match rest.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) if rest[i] == b'_' => Ok(from + i + 1),
        Some(_) => Err(ctx.invalid("<AppendedData> content does not start with '_'")),
        None => Err(ctx.truncated("the file ends before the '_' of <AppendedData>")),
    }
}
