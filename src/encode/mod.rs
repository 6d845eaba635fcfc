//! The encoder: trains a residual SIREN on a data set with libtorch and
//! writes it as an `.inr` file. Only with the cargo feature `encoder`; the
//! decoder, the C library and the plugin never link libtorch.
//!
//! One concept per file: [`data`] turns a VTK XML series into samples,
//! [`siren`] is the network, [`train`] the optimization, [`size`] picks a
//! width for a compression ratio, [`export`] writes the file and measures it
//! through the pure-Rust decoder, [`quality`] holds the error measures.

pub mod data;
pub mod export;
pub mod quality;
pub mod siren;
pub mod size;
pub mod train;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tch::nn::VarStore;
use tch::Device;

use crate::error::{Error, Result};
use crate::format::WeightEncoding;

pub use data::Samples;
pub use quality::VariableQuality;
pub use siren::Shape;
pub use train::{Progress, Stop, TrainOptions, TrainReport};

/// A libtorch error as the crate's error.
pub(crate) fn tch_error(e: tch::TchError) -> Error {
    Error::Invalid(format!("libtorch: {e}"))
}

/// How large a network to train.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Size {
    /// Target compression ratio against the data's float32 bytes, with this
    /// many residual blocks; the width is the largest that fits.
    Ratio { ratio: f64, blocks: usize },
    /// An explicit shape.
    Explicit { width: usize, blocks: usize },
}

/// Encoder settings.
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    pub size: Size,
    /// Codebook bits per weight; 0 stores f32 weights.
    pub bits: u8,
    pub train: TrainOptions,
    pub seed: u64,
    pub device: Device,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            size: Size::Ratio {
                ratio: 50.0,
                blocks: 3,
            },
            bits: 9,
            train: TrainOptions::default(),
            seed: 0,
            device: Device::cuda_if_available(),
        }
    }
}

impl EncodeOptions {
    /// How the weights are stored.
    pub fn encoding(&self) -> WeightEncoding {
        match self.bits {
            0 => WeightEncoding::F32,
            bits => WeightEncoding::Codebook {
                bits,
                prune_zeros: false,
            },
        }
    }
}

/// What an encode produced.
#[derive(Debug)]
pub struct EncodeReport {
    /// The `.inr` file.
    pub bytes: Vec<u8>,
    pub shape: Shape,
    /// The data as float32, the reference of the compression ratio.
    pub raw_bytes: u64,
    pub train: TrainReport,
    /// The trained network itself (libtorch, f32), at every site.
    pub model_quality: Vec<VariableQuality>,
    /// The written file through the pure-Rust decoder, at every site.
    pub file_quality: Vec<VariableQuality>,
    pub device: Device,
    pub elapsed: Duration,
}

impl EncodeReport {
    /// Raw float32 bytes over file bytes.
    pub fn ratio(&self) -> f64 {
        self.raw_bytes as f64 / self.bytes.len() as f64
    }
}

/// The network shape `opts` asks for on `samples`.
pub fn choose_shape(samples: &Samples, opts: &EncodeOptions) -> Result<Shape> {
    let (inputs, outputs) = (samples.inputs(), samples.outputs());
    let (width, blocks) = match opts.size {
        Size::Explicit { width, blocks } => (width, blocks),
        Size::Ratio { ratio, blocks } => {
            if !(ratio.is_finite() && ratio > 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "ratio {ratio} (must be above 0)"
                )));
            }
            let target = (samples.raw_f32_bytes() as f64 / ratio) as u64;
            let width = size::width_for_bytes(target, inputs, outputs, blocks, opts.bits)?;
            (width, blocks)
        }
    };
    if width == 0 {
        return Err(Error::InvalidArgument("width 0".into()));
    }
    Ok(Shape {
        inputs,
        width,
        blocks,
        outputs,
    })
}

/// Trains a network on `samples` and writes the file's bytes; `progress`
/// sees the training loss at every check.
pub fn encode(
    samples: &Samples,
    opts: &EncodeOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<EncodeReport> {
    let start = Instant::now();
    let shape = choose_shape(samples, opts)?;
    tch::manual_seed(opts.seed as i64);
    let data = train::TrainData::new(samples, opts.device)?;
    let vs = VarStore::new(opts.device);
    let net = siren::Siren::new(&vs, shape);
    let report = train::train(&vs, &net, &data, &opts.train, progress)?;

    // The network's own predictions, before the file quantizes anything.
    let predictions = train::predict(&net, &data)?;
    let c = shape.outputs;
    let mut row = 0;
    let model_quality = quality::measure(samples, |p| {
        let part = &samples.parts[p];
        let mut out = Vec::with_capacity(part.targets.len());
        for r in row..row + part.len() {
            let y = &predictions[r * c..(r + 1) * c];
            for &v in &part.variables {
                let var = &samples.variables[v];
                for k in 0..var.components {
                    out.push(samples.unscale(v, k, y[var.column + k] as f64));
                }
            }
        }
        row += part.len();
        Ok(out)
    })?;

    let (scale, shift) = samples.input_affine();
    let model = net.export(scale, shift)?;
    let mut attributes = BTreeMap::new();
    attributes.insert(
        "encoder".to_string(),
        format!(
            "residual siren width {} blocks {} w0 {}, {} steps, batch {}, lr {}, seed {}, {}",
            shape.width,
            shape.blocks,
            siren::W0,
            report.steps,
            opts.train.batch,
            opts.train.lr,
            opts.seed,
            match opts.bits {
                0 => "f32 weights".to_string(),
                b => format!("{b}-bit codebooks"),
            }
        ),
    );
    let bytes = export::file_bytes(samples, &model, opts.encoding(), attributes)?;
    let file_quality = export::decoder_quality(samples, &bytes)?;
    Ok(EncodeReport {
        bytes,
        shape,
        raw_bytes: samples.raw_f32_bytes(),
        train: report,
        model_quality,
        file_quality,
        device: opts.device,
        elapsed: start.elapsed(),
    })
}
