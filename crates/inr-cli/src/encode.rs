//! `inr encode`: train a network on a VTK data set and write it as `.inr`
//! (only with the cargo feature `encoder`, which links libtorch).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tch::Device;

use inr_core::error::{Error, Result};
use inr_core::format::writer::write_atomically;
use inr_encode::bound::{self, ErrorBound};
use inr_encode::{
    self as encode, device_name, Details, EncodeOptions, EncodeReport, Samples, Size, TrainOptions,
};

pub const ABOUT: &str =
    "Train a network on a VTK data set (.vti, .vtr, .vtu, .pvd) and write it as an .inr file";

pub const LONG_ABOUT: &str = "\
Train a network on a VTK data set (.vti, .vtr, .vtu, or a .pvd series of
them) and write it as an .inr file.

The network is a residual SIREN (w0 = 30) that maps (x, y, z[, t]) to every
component of the chosen variables; time becomes the fourth input when the
series has more than one step. Point arrays are learned at the grid points
(mesh nodes), cell arrays at the cell centers (centroids). An unstructured
mesh is stored in the file exactly, once for the whole series. Its size
follows --ratio (the data's float32 bytes over the file's bytes; over the
model's bytes, the file less its mesh, for a mesh) or --size (the same
bytes): the widest network that fits; or --width and --blocks. Training is Adam on random minibatches with a cosine
learning rate over --steps or --max-minutes, whichever ends first, halved
whenever the loss stops improving (--patience), and stops early after five
halvings; the best weights seen are kept, and restored at once when the
loss jumps to 10 times the best (then at half the rate).

The weights are then quantized (deep compression): per tensor, k-means to
2^bits shared values, stored as a codebook and bit-packed indices (with
--ratio or --size, tensors too small for a 2^bits codebook get one of 128 or
more levels, as many as fill the budget); the codebook values are fine-tuned with the assignment fixed, and kept when that
lowers the error. (MC-INR's clusters share one codebook per kind of weight;
there each weight is fine-tuned too, as its nearest entry.) Ctrl-C (or the time limit) ends training early and still
writes the best model so far; a second Ctrl-C aborts. The file is written
atomically: there is never a partial output.

--method ecnr fits grids (all point or all cell data) as ECNR does: a
Laplacian pyramid over space and time (--scales), each scale cut into blocks
(--block), the blocks whose residual is worth their bytes each given a
latent code and one of many tiny sine MLPs (--mlp-width, --latent-dim,
--blocks-per-mlp), all MLPs of a scale trained at once with block-guided
pruning rounds, then quantized to tables shared by the scale and fine-tuned.

--method stsr fits grids (all point or all cell data) as STSR-INR does: one
network for all variables, each a latent vector (--latent-length) that a
modulator network turns into modulations of a synthesis network (w0 = 5,
--stsr-blocks residual blocks each), one head per sub-volume (--heads).
--train-stride SPACE,TIME trains on a coarser grid and fewer steps; the file
still covers every sample, and the report compares the network with
trilinear + linear interpolation at the held-out samples.

--method nervi encodes rendered images as NeRVI does: INPUT is a Cinema
database (data.csv with parameter columns and FILE, RGBA PNGs whose alpha
is the foreground mask; scripts/render_sweep.py writes one) holding every
combination of its time steps (column `time`, if any) and views (the other
columns; `theta` is an azimuth in degrees, periodic). One network maps the
Fourier features of (t, view) through two SIREN residual blocks to a small
feature map that upscale blocks (convolution, pixel shuffle, GELU) grow to
the image, with a color and a mask head, trained on the paper's loss (L1
on the foreground and the mask, SSIM), then quantized (--bits, min-max).
--ratio counts the images as 4 bytes per pixel; --width sets the
convolutions' channels instead. The report gives PSNR and SSIM of the
composite (mask x color over --background) at every stored image.

--max-error ABS (or --max-rel-error R, a fraction of each variable's range)
makes the file error-bounded: every stored site (grid point or cell, mesh
node or cell, at every stored time step; every pixel of every stored image
for NeRVI) that the network misses by more gets a stored correction, and the
encoder checks the bound on the written file. Decodes at stored sites and
steps (native grid, stored mesh or its pieces) add them; elsewhere the value
is the network's. Without --ratio, --size or --width the network size is
searched: ratios 100, 200, 400, 800 (or 50, 25), each with a quarter of
--max-minutes, keeping the smallest file.

After writing, the file is decoded with the pure-Rust decoder at every data
site. The report gives, per variable, PSNR (20 log10(max - min) - 10
log10(MSE), over the data's range), NRMSE (RMSE / range), the largest
absolute error and R^2, next to the PSNR of the trained network before
quantization and the encoder's own estimate for the stored weights; then the
file size, compression ratio, time and device. --report-json writes it as
JSON too.

Example:
  inr encode data.vti -o data.inr --ratio 50 --max-minutes 5
  inr encode series.pvd -o series.inr --size 200 --blocks 2
  inr encode data.vtr -o data.inr --width 64 --blocks 3 --bits 0
  inr encode series.pvd -o series.inr --method ecnr --ratio 500 --max-minutes 3
  inr encode series.pvd -o series.inr --method stsr --train-stride 2,2 --max-minutes 3
  inr encode isabel.cdb -o isabel-views.inr --method nervi --ratio 100 --max-minutes 5
  inr encode series.pvd -o series.inr --max-rel-error 1e-3 --max-minutes 8";

/// Which model family to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// One residual SIREN for the whole domain (MVNet).
    ResidualSiren,
    /// Clustered branched networks (MC-INR): k-means clusters, a
    /// meta-learned initialization, re-clustering, blending at borders.
    McInr,
    /// Multiscale blocks of tiny MLPs (ECNR): a Laplacian pyramid over
    /// space and time, latent codes per block, pruning, shared tables.
    Ecnr,
    /// Variables as latent vectors of one modulated network with a head
    /// per sub-volume (STSR-INR); --train-stride trains on a coarser grid
    /// for spatiotemporal super-resolution.
    Stsr,
    /// Rendered images (NeRVI): INPUT is a Cinema database of images by
    /// time and view (scripts/render_sweep.py); one network gives each
    /// whole image and its mask.
    Nervi,
}

/// What MC-INR's k-means counts per site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClusterWeights {
    /// Every site the same.
    Uniform,
    /// The variation of the point arrays around the site.
    Variation,
}

/// How MC-INR's learning rate falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LrSchedule {
    /// Times --lr-decay every --decay-every epochs (the paper).
    Step,
    /// A cosine to 1 % over each phase's share of --max-minutes (or over
    /// --max-epochs), as the residual SIREN's.
    Cosine,
}

/// Where to train: `auto` (the first GPU when libtorch sees one, else the
/// CPU), `cpu`, `cuda` (the first GPU) or `cuda:N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    Auto,
    Cpu,
    Cuda(usize),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| format!("{s:?}: expected auto, cpu, cuda or cuda:N")),
        }
    }
}

/// The compression ratio when none is asked for.
pub const DEFAULT_RATIO: f64 = 50.0;

/// Codebook bits of the residual SIREN and MC-INR.
pub const DEFAULT_BITS: u8 = 9;

/// Arguments of `inr encode`.
#[derive(Clone, Debug, Args)]
pub struct EncodeArgs {
    /// The data: .vti, .vtr, .vtu, or a .pvd collection of them.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// The .inr file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Target compression ratio (float32 data bytes / file bytes; / model
    /// bytes for a mesh) [default: 50, or searched with an error bound].
    #[arg(long, conflicts_with_all = ["width", "size"])]
    pub ratio: Option<f64>,
    /// Largest absolute error at every stored site (grid point or cell,
    /// mesh node or cell, every time step), in the variables' units:
    /// sites the network misses by more get stored corrections. Without
    /// --ratio, --size or --width, the network size giving the smallest
    /// file is searched for.
    #[arg(long, value_name = "ABS", conflicts_with = "max_rel_error")]
    pub max_error: Option<f64>,
    /// As --max-error, a fraction of each variable's range (max - min over
    /// its components and steps), e.g. 1e-3.
    #[arg(long, value_name = "R")]
    pub max_rel_error: Option<f64>,
    /// Target file size in kilobytes (1000 bytes; the model's, for a mesh),
    /// instead of --ratio.
    #[arg(long, value_name = "KB", conflicts_with = "width")]
    pub size: Option<f64>,
    /// Network width (hidden features); with --blocks, instead of --ratio.
    #[arg(long)]
    pub width: Option<usize>,
    /// Residual blocks.
    #[arg(long, default_value_t = 3)]
    pub blocks: usize,
    /// Most optimizer steps.
    #[arg(long, default_value_t = 20_000)]
    pub steps: usize,
    /// Wall-clock limit of training and fine-tuning, in minutes.
    #[arg(long, value_name = "M")]
    pub max_minutes: Option<f64>,
    /// Sites per minibatch.
    #[arg(long, default_value_t = 16_384)]
    pub batch: usize,
    /// Initial learning rate (Adam; cosine decay to 1 % of it) [default:
    /// 2e-3 up to width 32, 2e-3 * 32 / width above].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Checks of the loss (every 100 steps) without improvement before the
    /// learning rate halves; the fifth halving stops training early. 0:
    /// neither.
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    /// Frequency of the first sine layer along the spatial axes over the
    /// domain (SIREN's omega_0; the papers' 30). Smooth fields often fit
    /// better with less: try 7.5. The file stores it in the input
    /// normalization (time keeps 30).
    #[arg(long, default_value_t = 30.0)]
    pub omega: f64,
    /// Codebook bits per weight (k-means, 2^bits shared values); 0 stores
    /// f32 weights [default: 9; 8 for ecnr].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=16))]
    pub bits: Option<u8>,
    /// Steps of codebook fine-tuning after quantization [default: a tenth
    /// of --steps]; 0 skips it.
    #[arg(long, value_name = "N")]
    pub finetune_steps: Option<usize>,
    /// Initial learning rate of the fine-tuning [default: --lr / 10].
    #[arg(long)]
    pub finetune_lr: Option<f64>,
    /// Seed of the initialization and of the minibatches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to train: auto (a GPU when libtorch sees one), cpu, cuda, cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Variables to encode (comma-separated array names; default: all).
    #[arg(long, value_delimiter = ',')]
    pub vars: Vec<String>,
    /// Use only the first N time steps of a series.
    #[arg(long, value_name = "N")]
    pub time_steps: Option<usize>,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// The model family.
    #[arg(long, value_enum, default_value_t = Method::ResidualSiren)]
    pub method: Method,
    #[command(flatten)]
    pub mc: McArgs,
    #[command(flatten)]
    pub ecnr: EcnrArgs,
    #[command(flatten)]
    pub stsr: StsrArgs,
    #[command(flatten)]
    pub nervi: NerviArgs,
}

/// Options of `--method nervi`; --width sets the convolutions' channels
/// (the paper's c2) instead of --ratio.
#[derive(Clone, Debug, Args)]
pub struct NerviArgs {
    /// Width of the first residual block of the MLP (the paper's c1).
    #[arg(long, default_value_t = 64, help_heading = "NeRVI")]
    pub nervi_mlp_width: usize,
    /// Fourier levels per parameter (the paper's L).
    #[arg(long, default_value_t = 4, help_heading = "NeRVI")]
    pub levels: usize,
    /// Images per minibatch.
    #[arg(long, default_value_t = 4, help_heading = "NeRVI")]
    pub images_per_batch: usize,
    /// Background of the composite (mask x color over it), R,G,B in [0, 1].
    #[arg(long, value_delimiter = ',', value_name = "R,G,B", default_values_t = [1.0, 1.0, 1.0], help_heading = "NeRVI")]
    pub background: Vec<f64>,
}

/// Options of `--method stsr` (the paper's defaults but for the rate: the
/// residual SIREN's --lr default for the width, cosine over --steps or
/// --max-minutes). --blocks, --omega and --latent-dim are other families'.
#[derive(Clone, Debug, Args)]
pub struct StsrArgs {
    /// Heads along x, y, z; each must divide the training samples of its
    /// axis [default: 2 where that number is even, else 1].
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "X,Y,Z",
        help_heading = "STSR-INR"
    )]
    pub heads: Option<Vec<usize>>,
    /// Train on every SPACE-th sample along each axis and every TIME-th
    /// time step (and the last); the file still covers the full grid and
    /// time axis, and the report compares the held-out samples with
    /// trilinear + linear interpolation.
    #[arg(long, value_delimiter = ',', value_name = "SPACE,TIME", default_values_t = [1, 1], help_heading = "STSR-INR")]
    pub train_stride: Vec<usize>,
    /// Length of each variable's latent vector.
    #[arg(long, default_value_t = 64, help_heading = "STSR-INR")]
    pub latent_length: usize,
    /// Residual blocks of the synthesis and of the modulator network.
    #[arg(long, default_value_t = 5, help_heading = "STSR-INR")]
    pub stsr_blocks: usize,
    /// Train the latents as the paper's variational auto-decoder (each
    /// drawn as μ + σ ε, a KLD loss on μ) instead of a plain auto-decoder:
    /// smoother latent blends, but it fits much worse in a CPU budget.
    #[arg(long, help_heading = "STSR-INR")]
    pub vad: bool,
    /// With --vad: log σ² of the latents' noise.
    #[arg(
        long,
        default_value_t = 1e-3,
        requires = "vad",
        help_heading = "STSR-INR"
    )]
    pub vad_log_var: f64,
    /// With --vad: weight of the KLD loss.
    #[arg(
        long,
        default_value_t = 1e-3,
        requires = "vad",
        help_heading = "STSR-INR"
    )]
    pub kld_weight: f64,
}

/// Options of `--method ecnr` (the paper's defaults). --width sets the
/// MLPs' width and keeps every block that is not negligible instead of a
/// size target; --lr defaults to 3e-3, --bits to 8.
#[derive(Clone, Debug, Args)]
pub struct EcnrArgs {
    /// Scales of the Laplacian pyramid over space and time.
    #[arg(long, default_value_t = 3, help_heading = "ECNR")]
    pub scales: usize,
    /// Block size in samples, X,Y,Z [default: about an eighth of each axis,
    /// a power of two from 2 to 16].
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "X,Y,Z",
        help_heading = "ECNR"
    )]
    pub block: Option<Vec<usize>>,
    /// Length of each block's latent code.
    #[arg(long, default_value_t = 8, help_heading = "ECNR")]
    pub latent_dim: usize,
    /// Hidden width of the MLPs under a size target (narrowed, down to 8,
    /// when the budget cannot hold the coarsest scale at it).
    #[arg(long, default_value_t = 24, help_heading = "ECNR")]
    pub mlp_width: usize,
    /// Blocks per MLP, coarsest scale first, comma-separated (the last
    /// repeats) [default: 8,16,32 for a time series, 1,2,4 for one step].
    #[arg(long, value_delimiter = ',', help_heading = "ECNR")]
    pub blocks_per_mlp: Option<Vec<usize>>,
    /// Epochs of each scale (every sample of its blocks once), at most.
    #[arg(long, default_value_t = 500, help_heading = "ECNR")]
    pub epochs: usize,
    /// Skip block-guided pruning (the paper's ablation).
    #[arg(long, help_heading = "ECNR")]
    pub no_prune: bool,
}

/// Options of `--method mc-inr` (the paper's defaults).
#[derive(Clone, Debug, Args)]
pub struct McArgs {
    /// Clusters of the initial k-means over the sites.
    #[arg(long, default_value_t = 20, help_heading = "MC-INR")]
    pub clusters: usize,
    /// What the k-means of the sites counts: every site the same, as the
    /// paper, or each by how much the point arrays vary around it (smaller
    /// clusters where the data changes, larger where it hardly does).
    #[arg(long, value_enum, default_value_t = ClusterWeights::Uniform, help_heading = "MC-INR")]
    pub cluster_weights: ClusterWeights,
    /// Residual blocks of the shared trunk (global feature extractor).
    #[arg(long, default_value_t = 5, help_heading = "MC-INR")]
    pub trunk_blocks: usize,
    /// Residual blocks of each variable's branch (local feature extractor).
    #[arg(long, default_value_t = 6, help_heading = "MC-INR")]
    pub branch_blocks: usize,
    /// With --width, a cluster whose MSE (in [-1, 1] units) is above this
    /// after training splits in two (2-means), both children starting from
    /// its weights. With a size target, the room reserved for splits is
    /// used: the worst clusters split, up to --max-splits.
    #[arg(long, default_value_t = 5e-4, help_heading = "MC-INR")]
    pub split_threshold: f64,
    /// Most splits in all (the size target reserves room for them; with a
    /// time budget the main training takes 70 % of it and the split rounds
    /// the rest).
    #[arg(long, default_value_t = 10, help_heading = "MC-INR")]
    pub max_splits: usize,
    /// Rounds of re-clustering (0: none).
    #[arg(long, default_value_t = 1, help_heading = "MC-INR")]
    pub split_rounds: usize,
    /// In each re-clustering round the clusters that do not split train on
    /// too (the paper trains every cluster to convergence before splitting;
    /// with --max-minutes they have not converged).
    #[arg(long, help_heading = "MC-INR")]
    pub train_unsplit: bool,
    /// Outer steps of the meta-learned initialization (Reptile; 0: none).
    #[arg(long, default_value_t = 100, help_heading = "MC-INR")]
    pub meta_steps: usize,
    /// Width of the blending band across cluster borders, in domain units
    /// (0: none); clusters also train on the points of their bands.
    #[arg(long, default_value_t = 0.0, help_heading = "MC-INR")]
    pub blend_width: f64,
    /// Share of a cluster's points sampled per epoch.
    #[arg(long, default_value_t = 0.3, help_heading = "MC-INR")]
    pub sample_fraction: f64,
    /// How the learning rate falls in each training phase. With
    /// --max-minutes, cosine ends each phase at a low rate; the paper's
    /// step decay is tuned to converge, not to a budget.
    #[arg(long, value_enum, default_value_t = LrSchedule::Step, help_heading = "MC-INR")]
    pub lr_schedule: LrSchedule,
    /// Learning rate factor every --decay-every epochs (--lr-schedule step).
    #[arg(long, default_value_t = 0.92, help_heading = "MC-INR")]
    pub lr_decay: f64,
    #[arg(long, default_value_t = 30, help_heading = "MC-INR")]
    pub decay_every: usize,
    /// Epochs without improvement after which a cluster is done.
    #[arg(long, default_value_t = 30, help_heading = "MC-INR")]
    pub epoch_patience: usize,
    /// Most epochs of each training phase.
    #[arg(long, default_value_t = 10_000, help_heading = "MC-INR")]
    pub max_epochs: usize,
    /// Most points per cluster and step (fewer where 30 % of the largest
    /// cluster is fewer).
    #[arg(long, default_value_t = 4096, help_heading = "MC-INR")]
    pub cluster_batch: usize,
}

impl EncodeArgs {
    pub(super) fn device(&self) -> Result<Device> {
        match self.device {
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(n) => match tch::Cuda::device_count() {
                0 => Err(Error::InvalidArgument(
                    "--device cuda: libtorch sees no CUDA device".into(),
                )),
                count if n as i64 >= count => Err(Error::InvalidArgument(format!(
                    "--device cuda:{n}: libtorch sees {count} CUDA device(s), cuda:0 to cuda:{}",
                    count - 1
                ))),
                _ => Ok(Device::Cuda(n)),
            },
        }
    }

    /// The time budget of --max-minutes.
    pub(super) fn max_time(&self) -> Option<Duration> {
        (self.max_minutes).map(|m| Duration::from_secs_f64((m * 60.0).max(0.0)))
    }

    /// The size asked for: --width, --size (kB) or --ratio, for every family.
    pub(super) fn size(&self) -> Result<Size> {
        Ok(match (self.width, self.size) {
            (Some(width), _) => Size::Width(width),
            (None, Some(kb)) if kb.is_finite() && kb > 0.0 => Size::Bytes((kb * 1000.0) as u64),
            (None, Some(kb)) => {
                return Err(Error::InvalidArgument(format!(
                    "--size {kb} (must be above 0)"
                )))
            }
            (None, None) => Size::Ratio(self.ratio.unwrap_or(DEFAULT_RATIO)),
        })
    }

    /// The error bound asked for, if any.
    pub fn bound(&self) -> Result<Option<ErrorBound>> {
        let bound = match (self.max_error, self.max_rel_error) {
            (Some(a), _) => ErrorBound::Absolute(a),
            (None, Some(r)) => ErrorBound::Relative(r),
            (None, None) => return Ok(None),
        };
        bound.check().map(Some)
    }

    /// Whether the network's size was asked for (else a bound searches it).
    fn size_given(&self) -> bool {
        self.ratio.is_some() || self.size.is_some() || self.width.is_some()
    }

    /// The options for `samples`: the network's shape resolved (the
    /// default learning rate depends on its width).
    fn options(&self, samples: &Samples, interrupt: Arc<AtomicBool>) -> Result<EncodeOptions> {
        let mut opts = EncodeOptions {
            size: self.size()?,
            blocks: self.blocks,
            bits: self.bits.unwrap_or(DEFAULT_BITS),
            omega: self.omega,
            train: TrainOptions {
                steps: self.steps,
                max_time: self.max_time(),
                batch: self.batch,
                patience: self.patience,
                interrupt: Some(interrupt),
                ..TrainOptions::default()
            },
            finetune_steps: self.finetune_steps.unwrap_or(self.steps / 10),
            seed: self.seed,
            device: self.device()?,
            ..EncodeOptions::default()
        };
        // The size target stays: quantization fills it (the pipeline's size
        // search finds this width again).
        let shape = encode::choose_shape(samples, &opts)?;
        opts.train.lr = self.lr.unwrap_or(encode::default_lr(shape.width));
        opts.finetune_lr = self.finetune_lr.unwrap_or(opts.train.lr / 10.0);
        Ok(opts)
    }
}

/// The first Ctrl-C sets the flag: training ends and the best model so far
/// is written. A second one exits at once; the output is written atomically,
/// so that leaves no partial file.
pub(super) fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            eprintln!("\ninr: interrupted again; nothing written");
            std::process::exit(130);
        }
        eprintln!("\ninr: interrupted; writing the best model so far (Ctrl-C again to abort)");
    });
    if let Err(e) = installed {
        log::warn!("no Ctrl-C handler: {e}");
    }
    flag
}

/// Runs `inr encode`.
pub fn run(args: &EncodeArgs) -> Result<()> {
    let start = Instant::now();
    if args.method == Method::Nervi {
        return super::encode_nervi::run(args, start, interrupt_flag());
    }
    let mut series = inr_vtk::vtkxml::read_series(&args.input)?;
    if let Some(n) = args.time_steps {
        series.steps.truncate(n.max(1));
    }
    let samples = Samples::from_series(&series, &args.vars)?;
    let run = Run {
        args,
        samples: &samples,
        start,
    };
    match args.method {
        Method::McInr => return super::encode_mc::run(&run, interrupt_flag()),
        Method::Ecnr => return super::encode_ecnr::run(&run, interrupt_flag()),
        Method::Stsr => return super::encode_stsr::run(&run, interrupt_flag()),
        Method::ResidualSiren | Method::Nervi => {}
    }
    let interrupt = interrupt_flag();
    let opts = args.options(&samples, interrupt.clone())?;
    let shape = encode::choose_shape(&samples, &opts)?;
    let what = format!(
        "network width {} blocks {} ({} parameters), learning rate {:.1e}",
        shape.width,
        shape.blocks,
        shape.parameters(),
        opts.train.lr
    );
    run.encode(&what, |args, progress| {
        let opts = args.options(&samples, interrupt.clone())?;
        encode::encode(&samples, &opts, progress)
    })
}

/// One encode of `samples` as the command line asked for it.
pub(super) struct Run<'a> {
    pub args: &'a EncodeArgs,
    pub samples: &'a Samples,
    pub start: Instant,
}

impl Run<'_> {
    /// Says what is encoded (`what`: the family and its settings), runs
    /// `encode` with a progress bar, writes the file and the reports.
    pub(super) fn encode<D: Details>(
        &self,
        what: &str,
        encode: impl Fn(&EncodeArgs, &mut dyn FnMut(&encode::Progress)) -> Result<EncodeReport<D>>,
    ) -> Result<()> {
        let samples = self.samples;
        log::info!(
            "{} sites, {} steps, {} variables ({} components); {what}; training on {}",
            samples.num_sites(),
            samples.times.len(),
            samples.variables.len(),
            samples.outputs(),
            device_name(self.args.device()?),
        );
        let mut bar = ProgressView::new(self.args.max_time());
        let mut progress = |p: &encode::Progress| bar.update(p);
        let report = match self.args.bound()? {
            None => encode(self.args, &mut progress)?,
            Some(b) if self.args.size_given() => {
                let mut report = encode(self.args, &mut progress)?;
                bound::correct(samples, &mut report, b)?;
                report
            }
            Some(b) => super::encode_bound::smallest(self, b, &encode, &mut progress)?,
        };
        bar.finish();
        write_outputs(self.args, &report, self.start)
    }
}

/// Writes the file (atomically), then the JSON report if asked, then
/// prints the text report; both reports get the seconds since `start`.
pub(super) fn write_outputs<D: Details>(
    args: &EncodeArgs,
    report: &EncodeReport<D>,
    start: Instant,
) -> Result<()> {
    let seconds = start.elapsed().as_secs_f64();
    let json = report_json(args, report, seconds);
    write_outputs_with(args, &report.bytes, json, start, |s| {
        report_text(args, report, s)
    })
}

/// Writes `bytes` (atomically), then `json` if a JSON report was asked for
/// (with the seconds since `start`), then prints `text(seconds)`.
pub(super) fn write_outputs_with(
    args: &EncodeArgs,
    bytes: &[u8],
    mut json: serde_json::Value,
    start: Instant,
    text: impl FnOnce(f64) -> String,
) -> Result<()> {
    write_atomically(&args.output, bytes)?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(path) = &args.report_json {
        json["seconds"] = seconds.into();
        write_atomically(path, format!("{json:#}\n").as_bytes())?;
    }
    super::print_out(&text(seconds))
}

/// The progress bar of training and fine-tuning: step, loss, the PSNR the
/// loss means, learning rate, time left. Plain lines every 10 s when stderr
/// is not a terminal.
pub(super) struct ProgressView {
    bar: Option<ProgressBar>,
    phase: Option<encode::Phase>,
    max_time: Option<Duration>,
    started: Instant,
    terminal: bool,
    last_line: Option<Instant>,
}

impl ProgressView {
    pub(super) fn new(max_time: Option<Duration>) -> Self {
        ProgressView {
            bar: None,
            phase: None,
            max_time,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            last_line: None,
        }
    }

    pub(super) fn update(&mut self, p: &encode::Progress) {
        let name = p.phase.name();
        if self.phase != Some(p.phase) {
            self.finish();
            self.phase = Some(p.phase);
            let bar = ProgressBar::new(p.steps as u64);
            bar.set_style(
                ProgressStyle::with_template("{prefix:>11} [{bar:30}] {pos}/{len} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(name.clone());
            if !super::chatty() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            self.bar = Some(bar);
        }
        // Time left: the step rate's estimate, capped by the time limit.
        let per_step = p.elapsed.as_secs_f64() / p.step.max(1) as f64;
        let mut left = per_step * p.steps.saturating_sub(p.step) as f64;
        if let Some(t) = self.max_time {
            left = left.min((t.as_secs_f64() - self.started.elapsed().as_secs_f64()).max(0.0));
        }
        let msg = format!(
            "loss {:.3e} psnr ~{:.1} dB lr {:.1e} eta {:.0} s",
            p.loss, p.psnr_estimate, p.lr, left
        );
        if let Some(bar) = &self.bar {
            bar.set_position(p.step as u64);
            bar.set_message(msg.clone());
        }
        let due = self
            .last_line
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10));
        if !self.terminal && due {
            log::info!("{name} step {}/{} {msg}", p.step, p.steps);
            self.last_line = Some(Instant::now());
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

/// `wrote out.inr: 12 kB for 1.2 MB of float32 data, ratio 100.0`, and for
/// a mesh the mesh's and the model's bytes and the model-only ratio.
pub(super) fn size_lines(output: &Path, file: u64, model: u64, raw: u64) -> String {
    let mut out = format!(
        "wrote {}: {} for {} of float32 data, ratio {:.1}\n",
        output.display(),
        super::format_bytes(file as u128),
        super::format_bytes(raw as u128),
        raw as f64 / file as f64
    );
    if file > model {
        out += &format!(
            "mesh {} (stored exactly), model {}: model-only ratio {:.1}\n",
            super::format_bytes((file - model) as u128),
            super::format_bytes(model as u128),
            raw as f64 / model as f64
        );
    }
    out
}

/// The report printed at the end: sizes, the family's account, quality.
fn report_text<D: Details>(args: &EncodeArgs, report: &EncodeReport<D>, seconds: f64) -> String {
    let mut out = size_lines(
        &args.output,
        report.bytes.len() as u64,
        report.model_bytes,
        report.raw_bytes,
    );
    if let Some(c) = &report.corrections {
        out += &bound_text(c);
    }
    out += &report.details.text(&device_name(report.device));
    out += &quality_rows(
        &report.file_quality,
        &report.network_quality,
        &report.encoder_quality,
    );
    out += &format!("total time {seconds:.1} s\n");
    out
}

/// The error bound's lines: what it guarantees, what the corrections cost,
/// the sizes searched.
fn bound_text(c: &bound::CorrectionReport) -> String {
    let bounds: Vec<String> = c.bounds.iter().map(|b| format!("{b:.4e}")).collect();
    let mut out = format!(
        "error bound {} per variable at every stored site; corrections {} \
         ({} of {} values, {:.2} %)\n",
        bounds.join(", "),
        super::format_bytes(c.bytes as u128),
        c.corrected,
        c.values,
        100.0 * c.corrected as f64 / c.values.max(1) as f64
    );
    out += &format!(
        "network alone: mean PSNR {:.2} dB, largest error {:.4e}\n",
        encode::quality::mean_psnr(&c.network_quality),
        c.network_quality
            .iter()
            .map(|q| q.max_abs_error)
            .fold(0.0, f64::max)
    );
    if !c.searched.is_empty() {
        let tried: Vec<String> = c
            .searched
            .iter()
            .map(|(r, b)| match b {
                0 => format!("ratio {r} -> no network fits"),
                b => format!("ratio {r} -> {}", super::format_bytes(*b as u128)),
            })
            .collect();
        out += &format!("network sizes tried: {}\n", tried.join(", "));
    }
    out
}

/// One line per variable: the file through the pure-Rust decoder (PSNR,
/// NRMSE, largest error, R^2), then the PSNR of the trained network before
/// quantization and the encoder's own estimate for the stored weights.
pub(super) fn quality_rows(
    file_quality: &[encode::VariableQuality],
    network_quality: &[encode::VariableQuality],
    encoder_quality: &[encode::VariableQuality],
) -> String {
    let name = file_quality
        .iter()
        .map(|q| q.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut s = format!(
        "{:<name$} {:>9} {:>10} {:>13} {:>10} {:>11} {:>12} {:>12}\n",
        "variable", "PSNR dB", "NRMSE", "max abs err", "R^2", "range", "network dB", "encoder dB"
    );
    let rows = file_quality
        .iter()
        .zip(network_quality)
        .zip(encoder_quality);
    for ((f, n), e) in rows {
        s += &format!(
            "{:<name$} {:>9.2} {:>10.3e} {:>13.4e} {:>10.6} {:>11.4e} {:>12.2} {:>12.2}\n",
            f.name, f.psnr, f.nrmse, f.max_abs_error, f.r2, f.range, n.psnr, e.psnr
        );
    }
    let mean = encode::quality::mean_psnr;
    s += &format!(
        "{:<name$} {:>9.2} {:>10} {:>13} {:>10} {:>11} {:>12.2} {:>12.2}\n",
        "mean",
        mean(file_quality),
        "",
        "",
        "",
        "",
        mean(network_quality),
        mean(encoder_quality)
    );
    s
}

/// The report as JSON (`--report-json`), for scripts: the shared fields
/// and the family's (`network`, `training`, `finetune`).
fn report_json<D: Details>(
    args: &EncodeArgs,
    report: &EncodeReport<D>,
    seconds: f64,
) -> serde_json::Value {
    let mut value = json!({
        "input": args.input.display().to_string(),
        "output": args.output.display().to_string(),
        "file_bytes": report.bytes.len(),
        "raw_f32_bytes": report.raw_bytes,
        "ratio": report.ratio(),
        "model_bytes": report.model_bytes,
        "model_ratio": report.model_ratio(),
        "device": device_name(report.device),
        "variables": variables_json(
            &report.file_quality,
            &report.network_quality,
            &report.encoder_quality,
        ),
        "mean_psnr": encode::quality::mean_psnr(&report.file_quality),
        "seconds": seconds,
    });
    if let Some(c) = &report.corrections {
        value["error_bound"] = json!({
            "bounds": c.bounds,
            "corrections_bytes": c.bytes,
            "corrected_values": c.corrected,
            "values": c.values,
            "network_mean_psnr": encode::quality::mean_psnr(&c.network_quality),
            "searched": c.searched,
        });
    }
    if let serde_json::Value::Object(m) = &mut value {
        m.extend(report.details.json());
    }
    value
}

/// Per variable: the file's measures and the network's and encoder's PSNR.
pub(super) fn variables_json(
    file_quality: &[encode::VariableQuality],
    network_quality: &[encode::VariableQuality],
    encoder_quality: &[encode::VariableQuality],
) -> Vec<serde_json::Value> {
    file_quality
        .iter()
        .zip(network_quality)
        .zip(encoder_quality)
        .map(|((f, n), e)| {
            json!({
                "name": f.name, "psnr": f.psnr, "nrmse": f.nrmse, "max_abs_error": f.max_abs_error,
                "r2": f.r2, "range": f.range, "network_psnr": n.psnr, "encoder_psnr": e.psnr,
            })
        })
        .collect()
}
