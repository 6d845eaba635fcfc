//! The decoding core of inr: the `.inr` file format, the model families,
//! unstructured meshes, the evaluation kernels and the decoder. No command
//! line, no VTK files, no libtorch: the C library and ParaView plugin are
//! built on this alone.

pub mod corrections;
pub mod decode;
pub mod error;
pub mod format;
pub mod kernels;
pub mod mesh;
pub mod model;
pub mod quantize;
pub mod sampling;

pub use decode::{DecodeOptions, Decoder, GridRequest, PointTimes};
pub use error::{Error, Result};
