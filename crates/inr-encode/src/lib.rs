//! The encoder: trains a residual SIREN on a data set with libtorch and
//! writes it as an `.inr` file. Its own crate, so that the decoder, the C
//! library and the plugin never link libtorch.
//!
//! One concept per file: [`data`] turns a VTK XML series into samples,
//! [`siren`] is the network, [`train`] the optimization, [`size`] picks a
//! width for a compression ratio, [`export`] writes the file and measures it
//! through the pure-Rust decoder, [`quality`] holds the error measures.

pub mod cluster;
pub mod coordnet;
pub mod data;
pub mod export;
pub mod mc_inr;
pub mod quality;
pub mod siren;
pub mod size;
pub mod straight_through;
pub mod train;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tch::nn::VarStore;
use tch::Device;

use inr_core::error::{Error, Result};
use inr_core::format::WeightEncoding;

pub use data::Samples;
pub use quality::VariableQuality;
pub use siren::Shape;
pub use size::Size;
pub use train::{default_lr, Phase, Progress, Stop, TrainOptions, TrainReport};

/// A libtorch error as the crate's error.
pub(crate) fn tch_error(e: tch::TchError) -> Error {
    Error::Libtorch(e.to_string())
}

/// Encoder settings.
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    pub size: Size,
    /// Residual blocks.
    pub blocks: usize,
    /// Codebook bits per weight; 0 stores f32 weights.
    pub bits: u8,
    /// Frequency of the first sine layer along the spatial axes (SIREN's
    /// omega_0, [`siren::W0`] by default).
    pub omega: f64,
    pub train: TrainOptions,
    /// Steps of codebook fine-tuning after quantization (0: none).
    pub finetune_steps: usize,
    /// Initial learning rate of the fine-tuning.
    pub finetune_lr: f64,
    /// Seeds libtorch's generator, which is global to the process: encodes
    /// running at the same time in one process are not repeatable.
    pub seed: u64,
    pub device: Device,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        let train = TrainOptions::default();
        EncodeOptions {
            size: Size::Ratio(50.0),
            blocks: 3,
            bits: 9,
            omega: siren::W0,
            finetune_steps: train.steps / 10,
            finetune_lr: train.lr / 10.0,
            train,
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

    /// Whether the codebooks are fine-tuned after quantization.
    fn fine_tunes(&self) -> bool {
        self.bits > 0 && self.finetune_steps > 0
    }
}

/// What the codebook fine-tuning did.
#[derive(Clone, Copy, Debug)]
pub struct FineTuneReport {
    pub train: TrainReport,
    /// MSE over all sites (in [-1, 1] units) of the quantized network
    /// before and after fine-tuning.
    pub loss_before: f64,
    pub loss_after: f64,
    /// Whether the fine-tuned codebooks were kept (they are only when they
    /// lower the loss over all sites).
    pub kept: bool,
}

/// What an encode produced.
#[derive(Debug)]
pub struct EncodeReport {
    /// The `.inr` file.
    pub bytes: Vec<u8>,
    pub shape: Shape,
    /// The data as float32, the reference of the compression ratio.
    pub raw_bytes: u64,
    /// The file's bytes less its mesh sections (all of them for grids).
    pub model_bytes: u64,
    pub train: TrainReport,
    pub finetune: Option<FineTuneReport>,
    /// The trained network (libtorch, f32 weights), at every site.
    pub network_quality: Vec<VariableQuality>,
    /// The encoder's final estimate: the network with the weights the file
    /// stores (quantized, fine-tuned), evaluated by libtorch at every site.
    pub encoder_quality: Vec<VariableQuality>,
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

    /// Raw float32 bytes over the model's bytes (the file less its mesh,
    /// the ratio papers on meshes state); the file's ratio for grids.
    pub fn model_ratio(&self) -> f64 {
        self.raw_bytes as f64 / self.model_bytes as f64
    }
}

/// The network shape `opts` asks for on `samples`.
pub fn choose_shape(samples: &Samples, opts: &EncodeOptions) -> Result<Shape> {
    let model = size::SirenSize {
        samples,
        blocks: opts.blocks,
        encoding: opts.encoding(),
    };
    let width = opts.size.width(samples.raw_f32_bytes(), &model)?;
    Ok(Shape {
        inputs: samples.inputs(),
        width,
        blocks: opts.blocks,
        outputs: samples.outputs(),
    })
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

/// Trains a network on `samples` and writes the file's bytes; `progress`
/// sees the loss at every check of the training and of the fine-tuning.
pub fn encode(
    samples: &Samples,
    opts: &EncodeOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<EncodeReport> {
    let start = Instant::now();
    let shape = choose_shape(samples, opts)?;
    check_omega(opts.omega)?;
    check_lr("--lr", opts.train.lr)?;
    check_lr("--finetune-lr", opts.finetune_lr)?;
    tch::manual_seed(opts.seed as i64);
    let data = train::TrainData::new(samples, opts.omega, opts.device)?;
    let vs = VarStore::new(opts.device);
    let net = siren::Siren::new(&vs, shape);
    // Fine-tuning gets a tenth of a time budget.
    let train_opts = TrainOptions {
        max_time: opts
            .train
            .max_time
            .map(|t| if opts.fine_tunes() { t.mul_f64(0.9) } else { t }),
        ..opts.train.clone()
    };
    let report = train::train(&vs, &net, &data, &train_opts, Phase::Train, progress)?;
    let network_quality = network_quality_of(samples, &net, &data)?;

    let (final_net, finetune, _qvs) = if opts.bits > 0 {
        let qvs = VarStore::new(opts.device);
        let q = net.quantized(&qvs, opts.bits)?;
        let finetune = if opts.fine_tunes() && report.stop != Stop::Interrupted {
            let left = opts
                .train
                .max_time
                .map(|t| t.saturating_sub(start.elapsed()));
            Some(fine_tune(&qvs, &q, &data, opts, left, progress)?)
        } else {
            None
        };
        (q, finetune, Some(qvs))
    } else {
        (net, None, None)
    };
    let encoder_quality = network_quality_of(samples, &final_net, &data)?;

    let (scale, shift) = samples.input_affine(opts.omega);
    let model = final_net.export(scale, shift)?;
    let bytes = export::file_bytes(
        samples,
        &model,
        opts.encoding(),
        attributes(opts, shape, &report, &finetune),
    )?;
    let file_quality = export::decoder_quality(samples, &bytes)?;
    let model_bytes = export::model_bytes(&bytes)?;
    Ok(EncodeReport {
        bytes,
        model_bytes,
        shape,
        raw_bytes: samples.raw_f32_bytes(),
        train: report,
        finetune,
        network_quality,
        encoder_quality,
        file_quality,
        device: opts.device,
        elapsed: start.elapsed(),
    })
}

/// Deep compression's last step: trains the codebook values of the
/// quantized network `q` (the k-means assignment fixed), and keeps the
/// result only when it lowers the loss over all sites.
fn fine_tune(
    qvs: &VarStore,
    q: &siren::Siren,
    data: &train::TrainData,
    opts: &EncodeOptions,
    time_left: Option<Duration>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<FineTuneReport> {
    let before_weights: Vec<tch::Tensor> = qvs
        .trainable_variables()
        .iter()
        .map(|t| t.detach().copy())
        .collect();
    let loss_before = train::full_loss(q, data)?;
    let ft_opts = TrainOptions {
        steps: opts.finetune_steps,
        lr: opts.finetune_lr,
        max_time: time_left.map(|t| t.max(Duration::from_secs(1))),
        ..opts.train.clone()
    };
    let report = train::train(qvs, q, data, &ft_opts, Phase::FineTune, progress)?;
    let loss_after = train::full_loss(q, data)?;
    let kept = loss_after < loss_before;
    if !kept {
        let _guard = tch::no_grad_guard();
        for (mut v, w) in qvs.trainable_variables().into_iter().zip(&before_weights) {
            v.copy_(w);
        }
    }
    Ok(FineTuneReport {
        train: report,
        loss_before,
        loss_after,
        kept,
    })
}

/// The network's quality at every site (libtorch, in the variables' units).
fn network_quality_of(
    samples: &Samples,
    net: &siren::Siren,
    data: &train::TrainData,
) -> Result<Vec<VariableQuality>> {
    let predictions = train::predict(net, data)?;
    let c = net.shape.outputs;
    let mut row = 0;
    quality::measure(samples, |p| {
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
    })
}

/// The file's description of how it was made.
fn attributes(
    opts: &EncodeOptions,
    shape: Shape,
    report: &TrainReport,
    finetune: &Option<FineTuneReport>,
) -> BTreeMap<String, String> {
    let weights = match opts.bits {
        0 => "f32 weights".to_string(),
        b => format!("{b}-bit codebooks"),
    };
    let tuned = match finetune {
        Some(f) if f.kept => format!(", codebooks fine-tuned {} steps", f.train.steps),
        _ => String::new(),
    };
    let text = format!(
        "residual siren width {} blocks {} omega {}, {} steps, batch {}, lr {}, seed {}, {weights}{tuned}",
        shape.width, shape.blocks, opts.omega, report.steps, opts.train.batch, opts.train.lr, opts.seed,
    );
    BTreeMap::from([("encoder".to_string(), text)])
}
