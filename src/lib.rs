//! inr: scientific data stored as implicit neural representations.
//!
//! This crate is libinr: the C ABI (`capi`, header `include/inr.h`, built as
//! libinr.so and libinr.a) and, for Rust programs, the decoding core
//! (`inr-core`) re-exported under the same paths.

pub mod capi;

/// cbindgen:ignore
pub use inr_core::{corrections, decode, error, format, kernels, mesh, model, quantize, sampling};
/// cbindgen:ignore
pub use inr_core::{DecodeOptions, Decoder, Error, GridRequest, PointTimes, Result};
