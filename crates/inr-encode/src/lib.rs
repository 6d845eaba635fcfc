//! The encoder: trains a model family's networks on a data set with
//! libtorch and writes them as an `.inr` file. Its own crate, so that the decoder, the C
//! library and the plugin never link libtorch.
//!
//! One concept per file: [`data`] turns a VTK XML series into samples,
//! [`pipeline`] is the one encode of every family, [`train`] the one
//! training loop, [`size`] picks a width for a compression ratio,
//! [`export`] writes the file, [`quality`] holds the error measures;
//! [`residual_siren`] and [`mc_inr`] are the families.

pub mod bound;
pub mod cinema;
pub mod clock;
pub mod cluster;
pub mod coordnet;
pub mod data;
pub mod ecnr;
pub mod export;
pub mod levels;
pub mod mc_inr;
pub mod nervi;
pub(crate) mod param;
pub mod pipeline;
pub mod progress;
pub mod quality;
pub mod report;
pub mod residual_siren;
pub mod siren;
pub mod siren_train;
pub mod size;
pub mod snapshot;
pub mod straight_through;
pub mod stsr;
pub mod train;

use inr_core::error::{Error, Result};

pub use data::Samples;
pub use progress::{Phase, Progress, Stop};
pub use quality::VariableQuality;
pub use report::{device_name, Details, EncodeReport};
pub use residual_siren::{
    choose_shape, encode, weights_name, EncodeOptions, FineTuneReport, SirenDetails,
};
pub use siren::Shape;
pub use siren_train::{default_lr, TrainOptions};
pub use size::Size;
pub use train::TrainReport;

/// A libtorch error as the crate's error.
pub(crate) fn tch_error(e: tch::TchError) -> Error {
    Error::Libtorch(e.to_string())
}

/// A tensor's values on the CPU as f32, flattened.
pub(crate) fn tensor_values(t: &tch::Tensor) -> Result<Vec<f32>> {
    let t = t
        .detach()
        .to_device(tch::Device::Cpu)
        .to_kind(tch::Kind::Float)
        .contiguous();
    Vec::<f32>::try_from(&t.view(-1)).map_err(tch_error)
}

/// `values` as a `[rows, cols]` tensor on `device`.
pub(crate) fn matrix(
    values: &[f32],
    rows: usize,
    cols: usize,
    device: tch::Device,
) -> Result<tch::Tensor> {
    tch::Tensor::f_from_slice(values)
        .and_then(|t| t.f_view([rows as i64, cols as i64]))
        .and_then(|t| t.f_to_device(device))
        .map_err(tch_error)
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
