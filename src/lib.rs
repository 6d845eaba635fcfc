//! inr: scientific data stored as implicit neural representations.

pub mod error;
pub mod vti;

pub use error::{Error, Result};
