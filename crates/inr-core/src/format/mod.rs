//! The `.inr` v1 container: a fixed header, a JSON metadata block, and binary
//! sections addressed by offset, each with its own compression and checksum.
//! `docs/format.md` is the normative description; this module implements it.

pub mod array;
pub mod bitpack;
pub mod corrections;
pub mod header;
pub mod limits;
pub mod metadata;
pub mod reader;
pub mod rectilinear;
pub mod section;
pub mod tensor;
pub mod writer;

pub use corrections::CorrectionsMeta;
pub use header::{Header, FORMAT_MAJOR, FORMAT_MINOR, MAGIC};
pub use metadata::{
    ArrayRef, Association, DType, Domain, Metadata, SectionEntry, TimeAxis, Variable,
};
pub use reader::InrFile;
pub use section::Compression;
pub use tensor::{TensorEncoding, TensorRef};
pub use writer::{FileBuilder, WeightEncoding};
