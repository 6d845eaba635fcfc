//! Writing `.inr` files. The encoder and the tests build a file by appending
//! tensors and arrays to sections, then hand over the metadata; the builder
//! fills in the section table, compresses, checksums and writes atomically.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::format::bitpack;
use crate::format::header::{Header, FORMAT_MAJOR, FORMAT_MINOR, HEADER_LEN};
use crate::format::metadata::{ArrayRef, DType, Metadata, SectionEntry};
use crate::format::section::{compress, crc32, Compression};
use crate::format::tensor::{Location, TensorEncoding, TensorRef};
use crate::format::InrFile;
use crate::quantize;

/// Sections start at multiples of this (arrays inside a section are packed
/// and need not be aligned).
const SECTION_ALIGN: u64 = 8;

/// How to store a weight tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightEncoding {
    F32,
    F16,
    /// k-means quantization to `2^bits` shared values; with `prune_zeros`,
    /// exact zeros are pruned (stored in a mask, not indexed).
    Codebook {
        bits: u8,
        prune_zeros: bool,
    },
}

/// Whether a codebook of `2^bits` f32 values plus `bits`-bit indices takes
/// fewer bytes than `n` f32 values. Models asked to store codebooks store a
/// tensor for which it does not as f32 (see `ResidualSiren::write`), and the
/// encoder quantizes exactly the tensors for which it does.
pub fn codebook_pays(n: usize, bits: u8) -> bool {
    let n = n as u64;
    let codebook = 4 * n.min(1 << bits) + (n * bits as u64).div_ceil(8);
    codebook < 4 * n
}

/// The fewest index bits that address `levels` table entries (at least 1,
/// as the format asks).
pub fn index_bits(levels: usize) -> u8 {
    (usize::BITS - (levels.max(2) - 1).leading_zeros()) as u8
}

/// Bytes of a codebook of `levels` f32 entries and `n` indices of
/// [`index_bits`] bits each.
pub fn codebook_bytes(n: usize, levels: usize) -> u64 {
    4 * levels as u64 + (n as u64 * index_bits(levels) as u64).div_ceil(8)
}

/// Whether `n` values on `levels` levels take fewer bytes as a codebook
/// (of just those levels) than as f32.
pub fn levels_pay(n: usize, levels: usize) -> bool {
    codebook_bytes(n, levels) < 4 * n as u64
}

/// How many distinct values `values` holds, if at most `max`.
pub fn distinct_levels(values: &[f32], max: usize) -> Option<usize> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted.dedup();
    (sorted.len() <= max).then_some(sorted.len())
}

struct PendingSection {
    name: String,
    bytes: Vec<u8>,
    compression: Compression,
    /// A section copied from a file: its stored bytes and decoded length.
    stored: Option<(Vec<u8>, u64)>,
}

/// Accumulates sections, then writes a complete file.
#[derive(Default)]
pub struct FileBuilder {
    sections: Vec<PendingSection>,
    /// Store the metadata zstd-compressed (default) or as plain JSON text.
    pub compress_metadata: bool,
}

impl FileBuilder {
    /// A builder that compresses the metadata.
    pub fn new() -> Self {
        FileBuilder {
            sections: Vec::new(),
            compress_metadata: true,
        }
    }

    /// Starts a section and returns its index.
    pub fn new_section(&mut self, name: &str, compression: Compression) -> u32 {
        self.sections.push(PendingSection {
            name: name.to_string(),
            bytes: Vec::new(),
            compression,
            stored: None,
        });
        (self.sections.len() - 1) as u32
    }

    /// A builder holding every section of `file` as stored (checksums
    /// verified, not recompressed), and the file's metadata: to add
    /// sections to a file.
    pub fn from_file(file: &InrFile) -> Result<(FileBuilder, Metadata)> {
        let mut builder = FileBuilder::new();
        for (i, e) in file.metadata().sections.iter().enumerate() {
            builder.sections.push(PendingSection {
                name: e.name.clone(),
                bytes: Vec::new(),
                compression: e.compression,
                stored: Some((file.read_stored(i as u32)?, e.length)),
            });
        }
        Ok((builder, file.metadata().clone()))
    }

    /// Appends bytes to a section, returning where they start.
    pub fn append(&mut self, section: u32, bytes: &[u8]) -> Location {
        let s = &mut self.sections[section as usize];
        let offset = s.bytes.len() as u64;
        s.bytes.extend_from_slice(bytes);
        Location { section, offset }
    }

    /// Appends an array already encoded as `dtype` (`count` elements in
    /// `bytes`). Variable-length encodings record their byte length.
    pub fn push_array(
        &mut self,
        section: u32,
        bytes: &[u8],
        count: usize,
        dtype: DType,
    ) -> ArrayRef {
        let at = self.append(section, bytes);
        ArrayRef {
            section,
            offset: at.offset,
            count: count as u64,
            dtype,
            bytes: dtype.size().is_none().then_some(bytes.len() as u64),
        }
    }

    /// Appends an f64 array (e.g. rectilinear coordinates).
    pub fn push_f64_array(&mut self, section: u32, values: &[f64]) -> ArrayRef {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.push_array(section, &bytes, values.len(), DType::F64)
    }

    /// Appends a weight tensor with the chosen encoding.
    pub fn push_tensor(
        &mut self,
        section: u32,
        values: &[f32],
        shape: &[u64],
        encoding: WeightEncoding,
    ) -> Result<TensorRef> {
        let numel: u64 = shape.iter().product();
        if numel != values.len() as u64 {
            return Err(Error::Shape(format!(
                "{} values for a tensor of shape {shape:?}",
                values.len()
            )));
        }
        let encoding = match encoding {
            WeightEncoding::F32 => {
                let b: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                TensorEncoding::F32 {
                    at: self.append(section, &b),
                }
            }
            WeightEncoding::F16 => {
                let b: Vec<u8> = values
                    .iter()
                    .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                    .collect();
                TensorEncoding::F16 {
                    at: self.append(section, &b),
                }
            }
            WeightEncoding::Codebook { bits, prune_zeros } => {
                self.push_codebook(section, values, bits, prune_zeros)?
            }
        };
        Ok(TensorRef {
            shape: shape.to_vec(),
            encoding,
        })
    }

    fn push_codebook(
        &mut self,
        section: u32,
        values: &[f32],
        bits: u8,
        prune_zeros: bool,
    ) -> Result<TensorEncoding> {
        if !(1..=crate::format::limits::MAX_CODEBOOK_BITS).contains(&bits) {
            return Err(Error::InvalidArgument(format!(
                "codebook with {bits}-bit indices"
            )));
        }
        let keep: Vec<bool> = values.iter().map(|&v| !(prune_zeros && v == 0.0)).collect();
        let kept: Vec<f32> = values
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(&v, _)| v)
            .collect();
        let q = quantize::kmeans_1d(&kept, 1usize << bits);
        let table: Vec<u8> = q.codebook.iter().flat_map(|v| v.to_le_bytes()).collect();
        let codebook = self.append(section, &table);
        let indices = self.append(section, &bitpack::pack(&q.indices, bits));
        let mask = prune_zeros.then(|| self.append(section, &bitpack::pack_mask(&keep)));
        Ok(TensorEncoding::Codebook {
            bits,
            codebook,
            codebook_len: q.codebook.len() as u64,
            indices,
            mask,
        })
    }

    /// Appends a codebook table that several tensors will index
    /// ([`FileBuilder::push_indexed`]); `table` sorted ascending.
    pub fn push_table(&mut self, section: u32, table: &[f32]) -> Location {
        let bytes: Vec<u8> = table.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.append(section, &bytes)
    }

    /// Appends a tensor as `bits`-bit indices into a table already in the
    /// file at `table_at` (each value goes to its nearest entry).
    pub fn push_indexed(
        &mut self,
        section: u32,
        values: &[f32],
        shape: &[u64],
        bits: u8,
        table: (Location, &[f32]),
    ) -> Result<TensorRef> {
        self.push_shared(section, values, shape, bits, table, false)
    }

    /// As [`FileBuilder::push_indexed`], with exact zeros pruned: a mask
    /// marks the kept elements and only they are indexed (ECNR's pruned
    /// weights, all indexing their scale's one table).
    pub fn push_indexed_pruned(
        &mut self,
        section: u32,
        values: &[f32],
        shape: &[u64],
        bits: u8,
        table: (Location, &[f32]),
    ) -> Result<TensorRef> {
        self.push_shared(section, values, shape, bits, table, true)
    }

    fn push_shared(
        &mut self,
        section: u32,
        values: &[f32],
        shape: &[u64],
        bits: u8,
        (table_at, table): (Location, &[f32]),
        prune_zeros: bool,
    ) -> Result<TensorRef> {
        let numel: u64 = shape.iter().product();
        if numel != values.len() as u64
            || table.is_empty()
            || table.len() > 1usize << bits.min(crate::format::limits::MAX_CODEBOOK_BITS)
        {
            return Err(Error::Shape(format!(
                "{} values for a tensor of shape {shape:?} with a table of {} entries for \
                 {bits}-bit indices",
                values.len(),
                table.len()
            )));
        }
        let keep: Vec<bool> = values.iter().map(|&v| !(prune_zeros && v == 0.0)).collect();
        let idx: Vec<u32> = values
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(&v, _)| quantize::nearest(table, v))
            .collect();
        let indices = self.append(section, &bitpack::pack(&idx, bits));
        let mask = prune_zeros.then(|| self.append(section, &bitpack::pack_mask(&keep)));
        Ok(TensorRef {
            shape: shape.to_vec(),
            encoding: TensorEncoding::Codebook {
                bits,
                codebook: table_at,
                codebook_len: table.len() as u64,
                indices,
                mask,
            },
        })
    }

    /// Serializes the file. `metadata.sections` is replaced by the real table.
    pub fn to_bytes(self, mut metadata: Metadata) -> Result<Vec<u8>> {
        let compress_metadata = self.compress_metadata;
        let stored: Vec<(Vec<u8>, SectionEntry)> = self
            .sections
            .into_iter()
            .map(|s| {
                let (data, length) = match s.stored {
                    Some(stored) => stored,
                    None => (compress(&s.bytes, s.compression)?, s.bytes.len() as u64),
                };
                let entry = SectionEntry {
                    name: s.name,
                    offset: 0,
                    stored_length: data.len() as u64,
                    length,
                    compression: s.compression,
                    crc32: crc32(&data),
                };
                Ok((data, entry))
            })
            .collect::<Result<_>>()?;
        // Section offsets depend on the metadata length, which depends on the
        // offsets' digits: iterate until the metadata fits in front of the
        // sections (2-3 rounds). The data start only grows, so the loop ends
        // even where the compressed length would oscillate; a shorter
        // metadata than the room left for it is followed by zero padding.
        let meta_compression = if compress_metadata {
            Compression::Zstd
        } else {
            Compression::None
        };
        let mut data_start = align(HEADER_LEN as u64);
        let mut layout = None;
        for _ in 0..64 {
            let mut offset = data_start;
            metadata.sections = stored
                .iter()
                .map(|(data, e)| {
                    let entry = SectionEntry {
                        offset,
                        ..e.clone()
                    };
                    offset = align(offset + data.len() as u64);
                    entry
                })
                .collect();
            let json = serde_json::to_vec(&metadata)
                .map_err(|e| Error::Invalid(format!("metadata serialization: {e}")))?;
            let next = compress(&json, meta_compression)?;
            let end = HEADER_LEN as u64 + next.len() as u64;
            if end <= data_start {
                layout = Some((next, json.len() as u64));
                break;
            }
            data_start = align(end);
        }
        let (meta_stored, meta_len) =
            layout.ok_or_else(|| Error::Invalid("metadata layout did not converge".into()))?;
        let header = Header {
            major: FORMAT_MAJOR,
            // 1.1 adds the optional corrections; plainer files stay 1.0.
            minor: if metadata.corrections.is_some() {
                FORMAT_MINOR
            } else {
                0
            },
            metadata_compression: meta_compression,
            metadata_stored_len: meta_stored.len() as u64,
            metadata_len: meta_len,
            metadata_crc32: crc32(&meta_stored),
        };
        let mut out = header.to_bytes().to_vec();
        out.extend_from_slice(&meta_stored);
        for ((data, _), entry) in stored.iter().zip(&metadata.sections) {
            out.resize(entry.offset as usize, 0);
            out.extend_from_slice(data);
        }
        Ok(out)
    }

    /// Writes the file atomically: a temporary file in the target directory,
    /// flushed, then renamed over `path`. A crash leaves the old file or none.
    pub fn write(self, metadata: Metadata, path: &Path) -> Result<()> {
        let bytes = self.to_bytes(metadata)?;
        write_atomically(path, &bytes)
    }
}

fn align(offset: u64) -> u64 {
    offset.div_ceil(SECTION_ALIGN) * SECTION_ALIGN
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with(path, |f| f.write_all(bytes))
}

/// Lets `write` fill a temporary file beside `path`, flushes it to disk and
/// renames it over `path`. The rename is atomic within one filesystem, and
/// on any earlier failure the temporary file is deleted when it is dropped.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let name = path.file_name().ok_or_else(|| {
        Error::InvalidArgument(format!("{} does not name a file", path.display()))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // NamedTempFile defaults to mode 0600; ask for what File::create gives
    // (0666 less the umask) so the result is as readable as any other output.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    write(tmp.as_file_mut())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
