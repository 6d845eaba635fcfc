//! The NeRVI encoder (Gu et al., seed 004): a Cinema database of rendered
//! images into one image-wise network. [`nervi::data`](data) orders the
//! images by time and view, [`nervi::shape`](shape) sizes the network for a
//! ratio, [`nervi::net`](net) is the network, [`nervi::fit`](fit) its
//! training, [`nervi::file`](file) the written file and its measured quality.

pub mod bound;
pub mod data;
pub mod file;
pub mod fit;
pub mod net;
pub mod shape;
pub mod ssim;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tch::nn::VarStore;
use tch::Device;

use inr_core::error::{Error, Result};

use crate::bound::ErrorBound;
use crate::clock::Clock;
use crate::progress::Progress;
use crate::size::Size;
use crate::train::TrainReport;
use crate::{check_lr, cinema};

pub use file::{ImageQuality, NerviReport};
pub use shape::NerviShape;

/// Settings of a NeRVI encode.
#[derive(Clone, Debug)]
pub struct NerviOptions {
    /// `Size::Width` gives the convolution channels (the paper's c2);
    /// a ratio or byte size picks the largest that fits. The ratio counts
    /// the collection as 4 bytes per pixel (RGB and mask, 8 bits each).
    pub size: Size,
    /// Width of the first residual block (the paper's c1).
    pub mlp_width: usize,
    /// Fourier levels per input.
    pub levels: usize,
    pub lr: f64,
    pub steps: usize,
    pub batch: usize,
    pub patience: usize,
    /// Quantization bits per weight (0: f32).
    pub bits: u8,
    /// Composite background, one value per color channel in [0, 1].
    pub background: [f64; 3],
    pub seed: u64,
    pub device: Device,
    pub max_time: Option<Duration>,
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Every stored pixel within this bound (section 10.9), if given.
    pub bound: Option<ErrorBound>,
}

impl Default for NerviOptions {
    fn default() -> Self {
        NerviOptions {
            size: Size::Ratio(100.0),
            mlp_width: 64,
            levels: 4,
            lr: 2e-4,
            steps: 20_000,
            batch: 4,
            patience: 10,
            bits: 9,
            background: [1.0; 3],
            seed: 0,
            device: Device::Cpu,
            max_time: None,
            interrupt: None,
            bound: None,
        }
    }
}

/// Encodes the Cinema database in `dir`.
pub fn encode(
    dir: &Path,
    opts: &NerviOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<NerviReport> {
    let start = Instant::now();
    check_options(opts)?;
    let collection = cinema::read(dir, cinema::MAX_PIXEL_BYTES)?;
    let set = data::ImageSet::new(&collection, opts.device)?;
    let raw_bytes = (set.len() * set.width * set.height * 4) as u64;
    let shape = choose_shape(&set, opts, raw_bytes)?;
    tch::manual_seed(opts.seed as i64);
    let vs = VarStore::new(opts.device);
    let net = net::NerviNet::new(&vs, shape);
    let fit_opts = fit::FitOptions {
        lr: opts.lr,
        steps: opts.steps,
        batch: opts.batch,
        patience: opts.patience,
        background: opts.background,
    };
    let clock = Clock::new(opts.max_time, opts.interrupt.clone());
    let trained = fit::fit(&vs, &net, &set, &fit_opts, &clock, progress)?;
    let network = file::network_quality(&net, &set, opts.background)?;
    if opts.bits > 0 {
        net::quantize(&vs, opts.bits);
    }
    let model = net.export(set.input_scale.clone(), set.input_shift.clone())?;
    let mut bytes = file::write(&set, model, opts)?;
    let mut corrections = None;
    if let Some(b) = opts.bound {
        let (fixed, c) = bound::correct(&bytes, &set, opts.background, b)?;
        (bytes, corrections) = (fixed, Some(c));
    }
    let quality = file::file_quality(&bytes, &set, opts.background)?;
    Ok(NerviReport {
        raw_bytes,
        database_bytes: file::database_bytes(dir),
        images: set.len(),
        size: [set.width, set.height],
        shape: net.shape.clone(),
        train: trained.report,
        bits: opts.bits,
        network,
        file: quality,
        corrections,
        elapsed: start.elapsed(),
        bytes,
    })
}

/// The network for the size asked.
fn choose_shape(set: &data::ImageSet, opts: &NerviOptions, raw_bytes: u64) -> Result<NerviShape> {
    let size = [set.width, set.height];
    let inputs = set.input_scale.len();
    let bits = if opts.bits == 0 { 32 } else { opts.bits as u64 };
    let budget = |bytes: u64| {
        NerviShape::fitting(size, inputs, opts.levels, opts.mlp_width, bytes * 8 / bits)
    };
    match opts.size {
        Size::Width(c) => NerviShape::new(size, inputs, opts.levels, opts.mlp_width, c),
        Size::Bytes(b) => budget(b),
        Size::Ratio(r) if r.is_finite() && r > 0.0 => budget((raw_bytes as f64 / r) as u64),
        Size::Ratio(r) => Err(Error::InvalidArgument(format!(
            "--ratio {r} (must be above 0)"
        ))),
    }
}

fn check_options(opts: &NerviOptions) -> Result<()> {
    check_lr("--lr", opts.lr)?;
    if !(1..=16).contains(&opts.levels) || opts.mlp_width == 0 || opts.batch == 0 {
        return Err(Error::InvalidArgument(format!(
            "--levels {} (1 to 16), MLP width {} and batch {} (at least 1)",
            opts.levels, opts.mlp_width, opts.batch
        )));
    }
    if opts.background.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(Error::InvalidArgument(format!(
            "--background {:?}: three values in [0, 1]",
            opts.background
        )));
    }
    Ok(())
}

/// What training did, for the report.
pub fn train_line(t: &TrainReport) -> String {
    format!(
        "{} steps in {:.1} s ({}), learning rate {:.1e}",
        t.steps,
        t.elapsed.as_secs_f64(),
        t.stop.describe(),
        t.lr
    )
}
