//! The C ABI of libinr (`include/inr.h` is generated from this module by
//! cbindgen). Conventions, after rustls-ffi:
//!
//! - every function returns an `inr_status`; details of the last failure on
//!   the calling thread are in `inr_last_error_message()`;
//! - output parameters are written only on success;
//! - `inr_model` is an opaque handle from `inr_open*`, freed by `inr_close`;
//!   strings it hands out belong to it and live until it is closed;
//! - a null or invalid argument is an error code, never a crash, and no Rust
//!   panic crosses the boundary (it would abort the host, e.g. ParaView).
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // documented in include/inr.h, per function

mod decode;
mod error;
mod image;
mod info;
mod mesh;
mod mesh_view;
mod model;
mod resample;

pub use decode::*;
pub use error::*;
pub use image::*;
pub use info::*;
pub use mesh::*;
pub use mesh_view::*;
pub use model::*;
pub use resample::*;

/// Major version of the C ABI: changes when a function's signature or
/// meaning changes incompatibly.
pub const INR_ABI_VERSION_MAJOR: u32 = 1;
/// Minor version of the C ABI: grows when functions are added.
pub const INR_ABI_VERSION_MINOR: u32 = 5;
