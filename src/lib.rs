//! inr: scientific data stored as implicit neural representations.
//!
//! Every module but `capi` carries `cbindgen:ignore`: the C header is made
//! from the C API alone, whatever the other modules make public.

/// cbindgen:ignore
pub mod bench;
pub mod capi;
/// cbindgen:ignore
pub mod cli;
/// cbindgen:ignore
pub mod cluster;
/// cbindgen:ignore
pub mod decode;
/// cbindgen:ignore
#[cfg(feature = "encoder")]
pub mod encode;
/// cbindgen:ignore
pub mod error;
/// cbindgen:ignore
pub mod format;
/// cbindgen:ignore
pub mod kernels;
/// cbindgen:ignore
pub mod mesh;
/// cbindgen:ignore
pub mod model;
/// cbindgen:ignore
pub mod quantize;
/// cbindgen:ignore
pub mod sampling;
/// cbindgen:ignore
pub mod synthetic;
/// cbindgen:ignore
pub mod vti;
/// cbindgen:ignore
pub mod vtkxml;

pub use decode::{DecodeOptions, Decoder, GridRequest, PointTimes};
pub use error::{Error, Result};
