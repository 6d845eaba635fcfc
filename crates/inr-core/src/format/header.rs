//! The fixed 40-byte header at offset 0.
//!
//! ```text
//! offset size field
//!  0      8   magic  89 49 4E 52 0D 0A 1A 0A  ("\x89INR\r\n\x1a\n", PNG-style:
//!             catches 7-bit transfers and CRLF conversions)
//!  8      2   major version (u16)
//! 10      2   minor version (u16)
//! 12      4   metadata compression (u32: 0 none, 1 zstd)
//! 16      8   metadata stored length in bytes (u64)
//! 24      8   metadata decoded length in bytes (u64)
//! 32      4   CRC-32 of the stored metadata bytes
//! 36      4   CRC-32 of header bytes 0..36
//! ```
//! All integers little-endian. The metadata block follows at offset 40.

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::section::{crc32, Compression};

/// File signature.
pub const MAGIC: [u8; 8] = [0x89, b'I', b'N', b'R', b'\r', b'\n', 0x1A, b'\n'];
/// Major version written and read by this library. A reader rejects other majors.
pub const FORMAT_MAJOR: u16 = 1;
/// Minor version written. Readers accept any minor of their major: a newer minor
/// only adds optional metadata fields that older readers ignore.
pub const FORMAT_MINOR: u16 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 40;

/// The decoded fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub major: u16,
    pub minor: u16,
    pub metadata_compression: Compression,
    pub metadata_stored_len: u64,
    pub metadata_len: u64,
    pub metadata_crc32: u32,
}

impl Header {
    /// Serializes the header, computing its own checksum.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&self.major.to_le_bytes());
        b[10..12].copy_from_slice(&self.minor.to_le_bytes());
        b[12..16].copy_from_slice(&self.metadata_compression.code().to_le_bytes());
        b[16..24].copy_from_slice(&self.metadata_stored_len.to_le_bytes());
        b[24..32].copy_from_slice(&self.metadata_len.to_le_bytes());
        b[32..36].copy_from_slice(&self.metadata_crc32.to_le_bytes());
        let crc = crc32(&b[0..36]);
        b[36..40].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses and checks the header: magic first (so that a random file gets
    /// "not an .inr file"), then the version, then the checksum and limits.
    pub fn parse(b: &[u8], file_len: u64) -> Result<Header> {
        if b.len() < MAGIC.len() || b[0..8] != MAGIC {
            if b.len() < MAGIC.len() && MAGIC.starts_with(b) {
                return Err(Error::Truncated(format!(
                    "file is {} bytes, shorter than the {HEADER_LEN}-byte header",
                    b.len()
                )));
            }
            return Err(Error::BadMagic);
        }
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated(format!(
                "file is {} bytes, shorter than the {HEADER_LEN}-byte header",
                b.len()
            )));
        }
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        // The version before the checksum: a later major may lay out its
        // header differently, and its user should hear "unsupported version".
        let (major, minor) = (u16_at(8), u16_at(10));
        if major != FORMAT_MAJOR {
            return Err(Error::UnsupportedVersion {
                major,
                minor,
                supported: FORMAT_MAJOR,
            });
        }
        let stored = u32_at(36);
        let computed = crc32(&b[0..36]);
        if stored != computed {
            return Err(Error::ChecksumMismatch {
                what: "header".into(),
                stored,
                computed,
            });
        }
        let header = Header {
            major,
            minor,
            metadata_compression: Compression::from_code(u32_at(12))?,
            metadata_stored_len: u64_at(16),
            metadata_len: u64_at(24),
            metadata_crc32: u32_at(32),
        };
        header.check_sizes(file_len)?;
        Ok(header)
    }

    fn check_sizes(&self, file_len: u64) -> Result<()> {
        if self.metadata_len > limits::MAX_METADATA_BYTES
            || self.metadata_stored_len > limits::MAX_METADATA_BYTES
        {
            return Err(Error::LimitExceeded(format!(
                "metadata declares {} bytes (stored {}), limit {}",
                self.metadata_len,
                self.metadata_stored_len,
                limits::MAX_METADATA_BYTES
            )));
        }
        let end = HEADER_LEN as u64 + self.metadata_stored_len;
        if end > file_len {
            return Err(Error::Truncated(format!(
                "metadata ends at byte {end} but the file has {file_len} bytes"
            )));
        }
        if self.metadata_compression == Compression::None
            && self.metadata_len != self.metadata_stored_len
        {
            return Err(Error::Invalid(
                "uncompressed metadata with differing stored and decoded lengths".into(),
            ));
        }
        Ok(())
    }
}
