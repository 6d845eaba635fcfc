//! inr: scientific data stored as implicit neural representations.

pub mod bench;
pub mod capi;
pub mod cli;
pub mod decode;
pub mod error;
pub mod format;
pub mod kernels;
pub mod mesh;
pub mod model;
pub mod quantize;
pub mod sampling;
pub mod synthetic;
pub mod vti;
pub mod vtkxml;

pub use decode::{DecodeOptions, Decoder, GridRequest, PointTimes};
pub use error::{Error, Result};
