//! Decoding the payload of one `<DataArray>` into little-endian values.
//!
//! Formats, as VTK writes them:
//! - `format="ascii"`: whitespace-separated numbers inside the element.
//! - `format="binary"`: base64 inside the element, starting with a header.
//! - `format="appended"`: the payload is at `offset` in `<AppendedData>`,
//!   raw bytes or base64, starting with the same header.
//!
//! The header is made of words of `header_type` (`UInt32` or `UInt64`):
//! uncompressed, one word holding the payload's byte count; compressed with
//! `vtkZLibDataCompressor`, `[nblocks, blocksize, last_blocksize,
//! compressed_size_0, ..., compressed_size_{nblocks-1}]` followed by the
//! blocks, each an independent zlib stream inflating to `blocksize` bytes
//! (the last to `last_blocksize`, or `blocksize` when that is 0).
//!
//! Every size read from the file is checked against the bytes really
//! present before anything is allocated, and inflation is bounded by the
//! declared sizes, so a corrupt or hostile file gives an error, not a huge
//! allocation.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::Read;

use flate2::bufread::ZlibDecoder;

use super::base64::{Base64Error, Base64Reader};
use super::xml::{Appended, AppendedEncoding, ArrayMarkup};
use super::{Ctx, MAX_VALUES};
use inr_core::error::Result;

/// The element type of a data array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarType {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl ScalarType {
    pub(crate) fn parse(name: &str) -> Option<ScalarType> {
        Some(match name {
            "Int8" | "Char" => ScalarType::I8,
            "UInt8" => ScalarType::U8,
            "Int16" => ScalarType::I16,
            "UInt16" => ScalarType::U16,
            "Int32" => ScalarType::I32,
            "UInt32" => ScalarType::U32,
            "Int64" => ScalarType::I64,
            "UInt64" => ScalarType::U64,
            "Float32" => ScalarType::F32,
            "Float64" => ScalarType::F64,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            ScalarType::I8 => "Int8",
            ScalarType::U8 => "UInt8",
            ScalarType::I16 => "Int16",
            ScalarType::U16 => "UInt16",
            ScalarType::I32 => "Int32",
            ScalarType::U32 => "UInt32",
            ScalarType::I64 => "Int64",
            ScalarType::U64 => "UInt64",
            ScalarType::F32 => "Float32",
            ScalarType::F64 => "Float64",
        }
    }

    pub(crate) fn size(self) -> usize {
        match self {
            ScalarType::I8 | ScalarType::U8 => 1,
            ScalarType::I16 | ScalarType::U16 => 2,
            ScalarType::I32 | ScalarType::U32 | ScalarType::F32 => 4,
            ScalarType::I64 | ScalarType::U64 | ScalarType::F64 => 8,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, ScalarType::F32 | ScalarType::F64)
    }
}

/// The word size of binary headers (`header_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderType {
    U32,
    U64,
}

impl HeaderType {
    fn size(self) -> usize {
        match self {
            HeaderType::U32 => 4,
            HeaderType::U64 => 8,
        }
    }
}

/// File-wide settings of the binary encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Encoding {
    pub header: HeaderType,
    /// `compressor="vtkZLibDataCompressor"`.
    pub zlib: bool,
}

/// Decoded values: `count` elements of `ty`, little-endian.
pub(crate) struct Values {
    pub ty: ScalarType,
    pub bytes: Vec<u8>,
}

impl Values {
    /// Every value converted to `f64` (exact except for 64-bit integers
    /// beyond 2^53, which round).
    pub(crate) fn to_f64(&self) -> Vec<f64> {
        fn conv<const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> f64) -> Vec<f64> {
            bytes
                .chunks_exact(N)
                .map(|c| f(c.try_into().unwrap_or([0; N])))
                .collect()
        }
        let b = &self.bytes;
        match self.ty {
            ScalarType::I8 => conv(b, |c: [u8; 1]| f64::from(i8::from_le_bytes(c))),
            ScalarType::U8 => conv(b, |c: [u8; 1]| f64::from(c[0])),
            ScalarType::I16 => conv(b, |c| f64::from(i16::from_le_bytes(c))),
            ScalarType::U16 => conv(b, |c| f64::from(u16::from_le_bytes(c))),
            ScalarType::I32 => conv(b, |c| f64::from(i32::from_le_bytes(c))),
            ScalarType::U32 => conv(b, |c| f64::from(u32::from_le_bytes(c))),
            ScalarType::I64 => conv(b, |c| i64::from_le_bytes(c) as f64),
            ScalarType::U64 => conv(b, |c| u64::from_le_bytes(c) as f64),
            ScalarType::F32 => conv(b, |c| f64::from(f32::from_le_bytes(c))),
            ScalarType::F64 => conv(b, f64::from_le_bytes),
        }
    }

    /// Every value as a non-negative integer (ids, offsets, cell types);
    /// `what` names the array in the error for a negative or fractional value.
    pub(crate) fn to_u64(&self, ctx: &Ctx, what: &str) -> Result<Vec<u64>> {
        let bad = |i: usize, v: String| {
            ctx.invalid(format!(
                "{what}: value {v} at index {i} is not a non-negative integer"
            ))
        };
        let b = &self.bytes;
        let signed = |i: usize, v: i64| u64::try_from(v).map_err(|_| bad(i, v.to_string()));
        let float = |i: usize, v: f64| {
            if v >= 0.0 && v.fract() == 0.0 && v < 18_446_744_073_709_551_616.0 {
                Ok(v as u64)
            } else {
                Err(bad(i, v.to_string()))
            }
        };
        fn each<const N: usize>(
            bytes: &[u8],
            f: impl Fn(usize, [u8; N]) -> Result<u64>,
        ) -> Result<Vec<u64>> {
            bytes
                .chunks_exact(N)
                .enumerate()
                .map(|(i, c)| f(i, c.try_into().unwrap_or([0; N])))
                .collect()
        }
        match self.ty {
            ScalarType::I8 => each(b, |i, c: [u8; 1]| signed(i, i64::from(c[0] as i8))),
            ScalarType::U8 => each(b, |_, c: [u8; 1]| Ok(u64::from(c[0]))),
            ScalarType::I16 => each(b, |i, c| signed(i, i64::from(i16::from_le_bytes(c)))),
            ScalarType::U16 => each(b, |_, c| Ok(u64::from(u16::from_le_bytes(c)))),
            ScalarType::I32 => each(b, |i, c| signed(i, i64::from(i32::from_le_bytes(c)))),
            ScalarType::U32 => each(b, |_, c| Ok(u64::from(u32::from_le_bytes(c)))),
            ScalarType::I64 => each(b, |i, c| signed(i, i64::from_le_bytes(c))),
            ScalarType::U64 => each(b, |_, c| Ok(u64::from_le_bytes(c))),
            ScalarType::F32 => each(b, |i, c| float(i, f64::from(f32::from_le_bytes(c)))),
            ScalarType::F64 => each(b, |i, c| float(i, f64::from_le_bytes(c))),
        }
    }
}

/// The element type and format of one array, read from its attributes.
pub(crate) fn scalar_type(ctx: &Ctx, array: &ArrayMarkup) -> Result<ScalarType> {
    let what = describe(array);
    let name = array
        .attrs
        .get("type")
        .ok_or_else(|| ctx.invalid(format!("{what} has no type attribute")))?;
    ScalarType::parse(name)
        .ok_or_else(|| ctx.unsupported(format!("{what} has element type {name:?}")))
}

/// The number of components (`NumberOfComponents`, default 1).
pub(crate) fn components(ctx: &Ctx, array: &ArrayMarkup) -> Result<usize> {
    match array.attrs.get("NumberOfComponents") {
        None => Ok(1),
        Some(s) => match s.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_VALUES).contains(&n) => Ok(n),
            _ => Err(ctx.invalid(format!("{} has NumberOfComponents {s:?}", describe(array)))),
        },
    }
}

/// `DataArray "name"` for messages.
pub(crate) fn describe(array: &ArrayMarkup) -> String {
    format!("DataArray {:?}", array.name())
}

/// The `<AppendedData>` section of a file, and how many bytes the arrays
/// may still read from it.
///
/// Arrays give their own offsets, so a hostile file could point many
/// arrays at one region and have each inflate it again; a legitimate file
/// reads each byte once. Charging every array's reads to one budget, the
/// section's length, keeps the total decoded bytes proportional to the file.
pub(crate) struct AppendedSection {
    pub info: Appended,
    budget: Cell<usize>,
}

impl AppendedSection {
    pub(crate) fn new(file: &[u8], info: Appended) -> Self {
        AppendedSection {
            info,
            budget: Cell::new(file.len().saturating_sub(info.start)),
        }
    }
}

/// Decodes `array`, which must hold exactly `count` values of `ty`.
///
/// `count` comes from the grid (points or cells times components); every
/// size the payload declares is checked against it and against the bytes in
/// the file.
pub(crate) fn decode(
    ctx: &Ctx,
    file: &[u8],
    array: &ArrayMarkup,
    ty: ScalarType,
    count: usize,
    encoding: Encoding,
    appended: Option<&AppendedSection>,
) -> Result<Values> {
    let what = describe(array);
    if count > MAX_VALUES {
        return Err(ctx.limit(format!(
            "{what} would hold {count} values; at most {MAX_VALUES} are read per array"
        )));
    }
    // count <= 2^31 and sizes <= 8: no overflow.
    let nbytes = count * ty.size();
    let format = array.attrs.get("format").unwrap_or("ascii");
    let bytes = match format {
        "ascii" => parse_ascii(ctx, &what, &array.text, ty, count)?,
        "binary" => {
            let mut source = Source {
                kind: SourceKind::Base64(Base64Reader::new(&array.text)),
                budget: None,
            };
            read_payload(ctx, &what, &mut source, nbytes, encoding)?
        }
        "appended" => {
            let appended = appended.ok_or_else(|| {
                ctx.invalid(format!(
                    "{what} is appended but the file has no <AppendedData>"
                ))
            })?;
            let offset = array
                .attrs
                .get("offset")
                .ok_or_else(|| ctx.invalid(format!("{what} is appended but has no offset")))?;
            let offset: usize = offset
                .trim()
                .parse()
                .map_err(|_| ctx.invalid(format!("{what} has offset {offset:?}")))?;
            let region = appended
                .info
                .start
                .checked_add(offset)
                .and_then(|at| file.get(at..))
                .ok_or_else(|| {
                    ctx.truncated(format!(
                        "{what} starts at appended offset {offset}, past the end of the file"
                    ))
                })?;
            let kind = match appended.info.encoding {
                AppendedEncoding::Raw => SourceKind::Raw(region),
                AppendedEncoding::Base64 => SourceKind::Base64(Base64Reader::new(region)),
            };
            let mut source = Source {
                kind,
                budget: Some(&appended.budget),
            };
            read_payload(ctx, &what, &mut source, nbytes, encoding)?
        }
        other => {
            return Err(ctx.unsupported(format!("{what} has format {other:?}")));
        }
    };
    debug_assert_eq!(bytes.len(), nbytes);
    Ok(Values { ty, bytes })
}

/// Where binary bytes come from: raw appended bytes or base64 text.
enum SourceKind<'a> {
    Raw(&'a [u8]),
    Base64(Base64Reader<'a>),
}

/// A byte source, with the budget of the section it reads from (appended
/// data only: inline text belongs to one array).
struct Source<'a, 'b> {
    kind: SourceKind<'a>,
    budget: Option<&'b Cell<usize>>,
}

impl<'a> Source<'a, '_> {
    /// An upper bound on the bytes left.
    fn bound(&self) -> usize {
        match &self.kind {
            SourceKind::Raw(rest) => rest.len(),
            SourceKind::Base64(r) => r.bound(),
        }
    }

    /// Exactly `n` bytes; `part` names them in errors.
    fn take(&mut self, ctx: &Ctx, what: &str, part: &str, n: usize) -> Result<Cow<'a, [u8]>> {
        let short = || {
            ctx.truncated(format!(
                "{what}: {part} needs {n} bytes, the file ends first"
            ))
        };
        if n > self.bound() {
            return Err(short());
        }
        if let Some(budget) = self.budget {
            let left = budget.get().checked_sub(n).ok_or_else(|| {
                ctx.limit(format!(
                    "{what}: {part} ({n} bytes) would make the arrays read more than \
                     <AppendedData> holds; arrays overlap"
                ))
            })?;
            budget.set(left);
        }
        match &mut self.kind {
            SourceKind::Raw(rest) => {
                let (head, tail) = rest.split_at(n);
                *rest = tail;
                Ok(Cow::Borrowed(head))
            }
            SourceKind::Base64(r) => r.read(n).map(Cow::Owned).map_err(|e| match e {
                Base64Error::End => short(),
                Base64Error::BadChar(_) => {
                    ctx.invalid(format!("{what}: {part} has a character that is not base64"))
                }
                Base64Error::BadPadding(_) => {
                    ctx.invalid(format!("{what}: {part} has misplaced base64 padding"))
                }
            }),
        }
    }

    /// Header words of the given width.
    fn words(
        &mut self,
        ctx: &Ctx,
        what: &str,
        part: &str,
        header: HeaderType,
        n: usize,
    ) -> Result<Vec<u64>> {
        let size = header.size();
        let nbytes = n.checked_mul(size).ok_or_else(|| {
            ctx.invalid(format!("{what}: {part} of {n} words cannot be addressed"))
        })?;
        let bytes = self.take(ctx, what, part, nbytes)?;
        Ok(bytes
            .chunks_exact(size)
            .map(|c| match header {
                HeaderType::U32 => u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                HeaderType::U64 => {
                    u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                }
            })
            .collect())
    }
}

/// zlib cannot expand data more than about 1032 times (deflate's longest
/// match, 258 bytes, costs at least 2 bits); a block claiming more than this
/// per compressed byte is corrupt, whatever its header says.
const MAX_INFLATE_RATIO: u64 = 1032;

/// Reads a header and the `nbytes` of data it must declare.
fn read_payload(
    ctx: &Ctx,
    what: &str,
    source: &mut Source,
    nbytes: usize,
    encoding: Encoding,
) -> Result<Vec<u8>> {
    if !encoding.zlib {
        let header = source.words(ctx, what, "the size header", encoding.header, 1)?;
        let declared = header.first().copied().unwrap_or(0);
        if declared != nbytes as u64 {
            return Err(ctx.invalid(format!(
                "{what}: the header declares {declared} bytes, the grid needs {nbytes}"
            )));
        }
        return Ok(source.take(ctx, what, "the data", nbytes)?.into_owned());
    }

    let head = source.words(ctx, what, "the compression header", encoding.header, 3)?;
    let (nblocks, block_size, last_size) = (head[0], head[1], head[2]);
    // Each block needs at least its size word: check before allocating them.
    let word = encoding.header.size() as u64;
    if nblocks.saturating_mul(word) > source.bound() as u64 {
        return Err(ctx.truncated(format!(
            "{what}: the compression header declares {nblocks} blocks, more than the file holds"
        )));
    }
    let nblocks = nblocks as usize; // bounded by the file size just above
    let sizes = source.words(ctx, what, "the block sizes", encoding.header, nblocks)?;
    if last_size > block_size {
        return Err(ctx.invalid(format!(
            "{what}: last block size {last_size} exceeds the block size {block_size}"
        )));
    }
    let last = if last_size == 0 {
        block_size
    } else {
        last_size
    };
    let total = match nblocks {
        0 => Some(0),
        n => (n as u64 - 1)
            .checked_mul(block_size)
            .and_then(|t| t.checked_add(last)),
    };
    if total != Some(nbytes as u64) {
        return Err(ctx.invalid(format!(
            "{what}: the compression header declares {nblocks} blocks of {block_size} bytes \
             (last {last_size}), the grid needs {nbytes} bytes"
        )));
    }
    let compressed: u64 = sizes
        .iter()
        .try_fold(0u64, |a, &s| a.checked_add(s))
        .unwrap_or(u64::MAX);
    if compressed > source.bound() as u64 {
        return Err(ctx.truncated(format!(
            "{what}: the blocks declare {compressed} compressed bytes, more than the file holds"
        )));
    }
    for (i, &size) in sizes.iter().enumerate() {
        let inflated = if i + 1 == nblocks { last } else { block_size };
        if inflated > size.saturating_mul(MAX_INFLATE_RATIO) {
            return Err(ctx.invalid(format!(
                "{what}: block {i} of {size} compressed bytes cannot inflate to {inflated}"
            )));
        }
    }
    // nbytes is now backed by compressed bytes present in the file, and so
    // is `compressed` (checked against the bytes left above).
    let data = source.take(ctx, what, "the compressed blocks", compressed as usize)?;
    let mut out = Vec::with_capacity(nbytes);
    // One decoder, reset for each block: its state is large to set up.
    let mut decoder = ZlibDecoder::new(&data[..0]);
    let mut at = 0usize;
    for (i, &size) in sizes.iter().enumerate() {
        let inflated = if i + 1 == nblocks { last } else { block_size };
        // Sizes sum to `compressed`, the length of `data`.
        let block = &data[at..at + size as usize];
        at += size as usize;
        decoder.reset(block);
        let before = out.len();
        (&mut decoder)
            .take(inflated)
            .read_to_end(&mut out)
            .map_err(|e| ctx.invalid(format!("{what}: block {i} does not inflate: {e}")))?;
        let got = (out.len() - before) as u64;
        if got != inflated {
            return Err(ctx.invalid(format!(
                "{what}: block {i} inflates to {got} bytes, the header declares {inflated}"
            )));
        }
    }
    Ok(out)
}

/// Parses `count` whitespace-separated numbers into little-endian bytes.
fn parse_ascii(
    ctx: &Ctx,
    what: &str,
    text: &[u8],
    ty: ScalarType,
    count: usize,
) -> Result<Vec<u8>> {
    let text = std::str::from_utf8(text)
        .map_err(|_| ctx.invalid(format!("{what}: ASCII data is not text")))?;
    // Each value takes at least two characters (a digit and a separator),
    // so the text bounds the allocation.
    let mut out = Vec::with_capacity(count.min(text.len() / 2 + 1) * ty.size());
    let mut n = 0usize;
    for token in text.split_ascii_whitespace() {
        if n == count {
            return Err(ctx.invalid(format!("{what}: more than the {count} values expected")));
        }
        let bad = || ctx.invalid(format!("{what}: {token:?} is not a {} value", ty.name()));
        if ty.is_float() {
            // Parsed at the declared precision, as VTK does, so that an
            // ASCII Float32 array reads the same as its binary form.
            if ty == ScalarType::F32 {
                let v: f32 = token.parse().map_err(|_| bad())?;
                out.extend_from_slice(&v.to_le_bytes());
            } else {
                let v: f64 = token.parse().map_err(|_| bad())?;
                out.extend_from_slice(&v.to_le_bytes());
            }
        } else if ty == ScalarType::U64 {
            let v: u64 = token.parse().map_err(|_| bad())?;
            out.extend_from_slice(&v.to_le_bytes());
        } else {
            let v: i64 = token.parse().map_err(|_| bad())?;
            let fits = match ty {
                ScalarType::I8 => i8::try_from(v).is_ok(),
                ScalarType::U8 => u8::try_from(v).is_ok(),
                ScalarType::I16 => i16::try_from(v).is_ok(),
                ScalarType::U16 => u16::try_from(v).is_ok(),
                ScalarType::I32 => i32::try_from(v).is_ok(),
                ScalarType::U32 => u32::try_from(v).is_ok(),
                _ => true,
            };
            if !fits {
                return Err(bad());
            }
            out.extend_from_slice(&v.to_le_bytes()[..ty.size()]);
        }
        n += 1;
    }
    if n != count {
        return Err(ctx.truncated(format!("{what}: {n} ASCII values, the grid needs {count}")));
    }
    Ok(out)
}
