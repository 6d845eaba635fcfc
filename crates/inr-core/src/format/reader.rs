//! Opening `.inr` files. The header and metadata are read and verified at open;
//! sections are read on demand with positioned reads, so a caller that wants
//! one variable's network or the mesh does not read the rest. Positioned reads
//! rather than a memory map: a map of a file truncated by another process turns
//! into SIGBUS inside the host (ParaView), a read turns into an error.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::format::header::{Header, HEADER_LEN};
use crate::format::metadata::Metadata;
use crate::format::section::{crc32, decompress};

/// Where the bytes come from.
enum Source {
    File { file: File, path: PathBuf },
    Memory(Arc<[u8]>),
}

impl Source {
    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        match self {
            Source::File { file, path } => {
                let mut buf = Vec::new();
                buf.try_reserve_exact(len as usize)
                    .map_err(|_| Error::LimitExceeded(format!("cannot allocate {len} bytes")))?;
                buf.resize(len as usize, 0);
                file.read_exact_at(&mut buf, offset)
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::UnexpectedEof => Error::Truncated(format!(
                            "{}: bytes {offset}..+{len} lie past the end of the file",
                            path.display()
                        )),
                        _ => Error::io(path, e),
                    })?;
                Ok(buf)
            }
            Source::Memory(bytes) => {
                let end = offset.checked_add(len).filter(|&e| e <= bytes.len() as u64);
                let end = end.ok_or_else(|| {
                    Error::Truncated(format!(
                        "bytes {offset}..+{len} lie past the end of the buffer"
                    ))
                })?;
                Ok(bytes[offset as usize..end as usize].to_vec())
            }
        }
    }
}

/// An open, verified `.inr` file.
pub struct InrFile {
    source: Source,
    header: Header,
    metadata: Metadata,
    file_len: u64,
}

impl InrFile {
    /// Opens and verifies the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<InrFile> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let source = Source::File {
            file,
            path: path.to_path_buf(),
        };
        Self::from_source(source, file_len)
    }

    /// Opens a file held in memory (the C API's "open from buffer").
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<InrFile> {
        let bytes: Arc<[u8]> = bytes.into();
        let len = bytes.len() as u64;
        Self::from_source(Source::Memory(bytes), len)
    }

    fn from_source(source: Source, file_len: u64) -> Result<InrFile> {
        let head = source.read_at(0, (HEADER_LEN as u64).min(file_len))?;
        let header = Header::parse(&head, file_len)?;
        let stored = source.read_at(HEADER_LEN as u64, header.metadata_stored_len)?;
        let computed = crc32(&stored);
        if computed != header.metadata_crc32 {
            return Err(Error::ChecksumMismatch {
                what: "metadata".into(),
                stored: header.metadata_crc32,
                computed,
            });
        }
        let raw = decompress(
            &stored,
            header.metadata_compression,
            header.metadata_len,
            "metadata",
        )?;
        let metadata: Metadata =
            serde_json::from_slice(&raw).map_err(|e| Error::Invalid(format!("metadata: {e}")))?;
        metadata.validate(file_len, HEADER_LEN as u64 + header.metadata_stored_len)?;
        Ok(InrFile {
            source,
            header,
            metadata,
            file_len,
        })
    }

    /// The verified metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The fixed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Size of the whole file in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The stored (possibly compressed) bytes of section `index`, checked
    /// against its CRC.
    pub fn read_stored(&self, index: u32) -> Result<Vec<u8>> {
        let entry = self.metadata.sections.get(index as usize).ok_or_else(|| {
            Error::OutOfBounds(format!(
                "section {index} of {}",
                self.metadata.sections.len()
            ))
        })?;
        let stored = self.source.read_at(entry.offset, entry.stored_length)?;
        let computed = crc32(&stored);
        if computed != entry.crc32 {
            return Err(Error::ChecksumMismatch {
                what: format!("section {index} ({})", entry.name),
                stored: entry.crc32,
                computed,
            });
        }
        Ok(stored)
    }

    /// Reads, verifies and decodes section `index`.
    pub fn read_section(&self, index: u32) -> Result<Vec<u8>> {
        let stored = self.read_stored(index)?;
        let entry = &self.metadata.sections[index as usize];
        let what = format!("section {index} ({})", entry.name);
        decompress(&stored, entry.compression, entry.length, &what)
    }
}
