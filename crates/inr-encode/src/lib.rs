//! The encoder: trains a residual SIREN on a data set with libtorch and
//! writes it as an `.inr` file. Its own crate, so that the decoder, the C
//! library and the plugin never link libtorch.
//!
//! One concept per file: [`data`] turns a VTK XML series into samples,
//! [`siren`] is the network, [`train`] the optimization, [`size`] picks a
//! width for a compression ratio, [`export`] writes the file and measures it
//! through the pure-Rust decoder, [`quality`] holds the error measures.

pub mod clock;
pub mod cluster;
pub mod coordnet;
pub mod data;
pub mod export;
pub mod mc_inr;
pub mod pipeline;
pub mod quality;
pub mod report;
pub mod residual_siren;
pub mod siren;
pub mod size;
pub mod straight_through;
pub mod train;

use inr_core::error::{Error, Result};

pub use data::Samples;
pub use quality::VariableQuality;
pub use report::{device_name, Details, EncodeReport};
pub use residual_siren::{
    choose_shape, encode, weights_name, EncodeOptions, FineTuneReport, SirenDetails,
};
pub use siren::Shape;
pub use size::Size;
pub use train::{default_lr, Phase, Progress, Stop, TrainOptions, TrainReport};

/// A libtorch error as the crate's error.
pub(crate) fn tch_error(e: tch::TchError) -> Error {
    Error::Libtorch(e.to_string())
}

/// A learning rate must be above 0 and at most 1 (libtorch's optimizer
/// cannot even hold some larger ones; no network here trains above 0.1).
pub(crate) fn check_lr(name: &str, lr: f64) -> Result<()> {
    if lr > 0.0 && lr <= 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{name} {lr} (must be above 0 and at most 1)"
        )))
    }
}

/// A first-layer frequency must be finite and above 0.
pub(crate) fn check_omega(omega: f64) -> Result<()> {
    if omega.is_finite() && omega > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "--omega {omega} (must be above 0)"
        )))
    }
}
