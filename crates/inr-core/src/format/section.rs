//! Section payloads: compression codes, checksums, and bounded decompression.

use std::io::Read;

use crate::error::{Error, Result};

/// How a section (or the metadata block) is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Zstd,
}

impl Compression {
    /// The header code of the metadata compression.
    pub fn code(self) -> u32 {
        match self {
            Compression::None => 0,
            Compression::Zstd => 1,
        }
    }

    /// Inverse of [`Compression::code`].
    pub fn from_code(code: u32) -> Result<Self> {
        match code {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Zstd),
            c => Err(Error::Unsupported(format!("compression code {c}"))),
        }
    }
}

/// CRC-32 (ISO-HDLC, the zlib/PNG polynomial) of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Compresses `raw` for storage. zstd level 19: files are written once and
/// read many times, and decompression speed does not depend on the level.
pub fn compress(raw: &[u8], compression: Compression) -> Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(raw.to_vec()),
        Compression::Zstd => zstd::bulk::compress(raw, 19)
            .map_err(|e| Error::Invalid(format!("zstd compression failed: {e}"))),
    }
}

/// Decodes stored bytes into exactly `expected_len` bytes. The output grows only
/// as real data is produced (never pre-sized from the declared length), and
/// decoding stops one byte past `expected_len`, so a lying header cannot make
/// us allocate more than the data really holds, nor more than the limit.
pub fn decompress(
    stored: &[u8],
    compression: Compression,
    expected_len: u64,
    what: &str,
) -> Result<Vec<u8>> {
    let out = match compression {
        Compression::None => stored.to_vec(),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::new(stored)
                .map_err(|e| Error::Invalid(format!("{what}: zstd: {e}")))?;
            let mut out = Vec::new();
            decoder
                .take(expected_len.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(|e| Error::Invalid(format!("{what}: corrupt zstd data: {e}")))?;
            out
        }
    };
    if out.len() as u64 != expected_len {
        return Err(Error::Invalid(format!(
            "{what}: decodes to {} bytes, {} declared",
            out.len(),
            expected_len
        )));
    }
    Ok(out)
}
