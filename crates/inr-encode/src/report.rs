//! What an encode produced, for every family: the file, its sizes, the
//! three quality measures, and the family's own account of its network and
//! training (`details`). [`finish`] is the shared end of every encode.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tch::Device;

use inr_core::error::Result;
use inr_core::format::WeightEncoding;

use super::data::Samples;
use super::export::{self, WriteWeights};
use super::quality::VariableQuality;

/// What an encode produced.
#[derive(Debug)]
pub struct EncodeReport<D> {
    /// The `.inr` file.
    pub bytes: Vec<u8>,
    /// The data as float32, the reference of the compression ratio.
    pub raw_bytes: u64,
    /// The file's bytes less its mesh sections (all of them for grids).
    pub model_bytes: u64,
    /// The trained network (libtorch, f32 weights), at every site.
    pub network_quality: Vec<VariableQuality>,
    /// The encoder's final estimate: the network with the weights the file
    /// stores (quantized, fine-tuned), evaluated by libtorch at every site.
    pub encoder_quality: Vec<VariableQuality>,
    /// The written file through the pure-Rust decoder, at every site.
    pub file_quality: Vec<VariableQuality>,
    pub device: Device,
    pub elapsed: Duration,
    /// The corrections of an error-bounded file.
    pub corrections: Option<crate::bound::CorrectionReport>,
    /// The family's own account.
    pub details: D,
}

impl<D> EncodeReport<D> {
    /// Raw float32 bytes over file bytes.
    pub fn ratio(&self) -> f64 {
        self.raw_bytes as f64 / self.bytes.len() as f64
    }

    /// Raw float32 bytes over the model's bytes (the file less its mesh,
    /// the ratio papers on meshes state); the file's ratio for grids.
    pub fn model_ratio(&self) -> f64 {
        self.raw_bytes as f64 / self.model_bytes as f64
    }
}

/// A family's account of its network and training, as reports show it.
pub trait Details {
    /// The text report's lines between the sizes and the quality table,
    /// each ending in a newline; `device` as [`device_name`] gives it.
    fn text(&self, device: &str) -> String;
    /// The JSON report's family fields (`method`, `network`, `training`,
    /// `finetune`).
    fn json(&self) -> serde_json::Map<String, serde_json::Value>;
}

/// The libtorch device, for people: `cpu (2 threads)`, `cuda:0`.
pub fn device_name(d: Device) -> String {
    match d {
        Device::Cpu => format!("cpu ({} threads)", tch::get_num_threads()),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}"),
    }
}

/// What every encode ends with, whatever the family.
pub struct Finish<'a> {
    pub samples: &'a Samples,
    pub weights: &'a dyn WriteWeights,
    pub encoding: WeightEncoding,
    /// The file's `encoder` attribute: how the model was made.
    pub description: String,
    pub network_quality: Vec<VariableQuality>,
    pub encoder_quality: Vec<VariableQuality>,
    pub device: Device,
    pub start: Instant,
}

/// The shared end of every encode: the file written from the weights,
/// measured through the pure-Rust decoder, and the report.
pub fn finish<D>(f: Finish, details: D) -> Result<EncodeReport<D>> {
    let attributes = BTreeMap::from([("encoder".to_string(), f.description)]);
    let bytes = export::file_bytes(f.samples, f.weights, f.encoding, attributes)?;
    let file_quality = export::decoder_quality(f.samples, &bytes)?;
    Ok(EncodeReport {
        model_bytes: export::model_bytes(&bytes)?,
        bytes,
        raw_bytes: f.samples.raw_f32_bytes(),
        network_quality: f.network_quality,
        encoder_quality: f.encoder_quality,
        file_quality,
        device: f.device,
        elapsed: f.start.elapsed(),
        corrections: None,
        details,
    })
}
