//! The library's error type. Every fallible call returns `Result<T, Error>`; the
//! variants name what went wrong so that callers (the CLI, the C API, ParaView)
//! can show a one-line message without guessing.

use std::path::PathBuf;

/// Everything that can go wrong when reading, writing or decoding a `.inr` file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system I/O error, with the file it concerned.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file ends before a structure it declares.
    #[error("truncated file: {0}")]
    Truncated(String),
    /// The first bytes are not the `.inr` magic.
    #[error("not an .inr file (bad magic bytes)")]
    BadMagic,
    /// A major version this reader does not know.
    #[error("unsupported .inr format version {major}.{minor} (this reader supports major version {supported})")]
    UnsupportedVersion {
        major: u16,
        minor: u16,
        supported: u16,
    },
    /// A stored checksum does not match the bytes.
    #[error("checksum mismatch in {what}: stored {stored:#010x}, computed {computed:#010x}")]
    ChecksumMismatch {
        what: String,
        stored: u32,
        computed: u32,
    },
    /// A section or array reaches outside the file or its section.
    #[error("out of bounds: {0}")]
    OutOfBounds(String),
    /// A declared size exceeds the reader's limits (see `format::limits`).
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The metadata is malformed or contradicts itself or the data.
    #[error("invalid file: {0}")]
    Invalid(String),
    /// Shapes of tensors, variables or outputs do not agree.
    #[error("inconsistent shapes: {0}")]
    Shape(String),
    /// A feature the file uses that this build does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A caller passed an argument that cannot be honoured.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A long operation was cancelled by its progress callback.
    #[error("cancelled")]
    Cancelled,
    /// The encoder's training failed (a loss that is no longer finite).
    #[error("training failed: {0}")]
    Training(String),
    /// The encoder's tensor library (libtorch) reported an error.
    #[error("libtorch: {0}")]
    Libtorch(String),
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error with the path it concerned.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
