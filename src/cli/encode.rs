//! `inr encode`: train a network on a VTK data set and write it as `.inr`
//! (only with the cargo feature `encoder`, which links libtorch).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use tch::Device;

use crate::encode::{self, EncodeOptions, Samples, Size, TrainOptions, VariableQuality};
use crate::error::{Error, Result};
use crate::format::writer::write_atomically;

pub const ABOUT: &str =
    "Train a network on a VTK data set (.vti, .vtr, .pvd) and write it as an .inr file";

pub const LONG_ABOUT: &str = "\
Train a network on a VTK data set (.vti, .vtr, or a .pvd series of them) and
write it as an .inr file.

The network is a residual SIREN (w0 = 30) that maps (x, y, z[, t]) to every
component of the chosen variables; time becomes the fourth input when the
series has more than one step. Point arrays are learned at the grid points,
cell arrays at the cell centers. Its size follows --ratio (the data's float32
bytes over the file's bytes; the widest network that fits) or --width and
--blocks. Training is Adam on random minibatches with a cosine learning rate
over --steps or --max-minutes, whichever ends first, and stops early when the
loss stops improving.

After writing, the file is decoded with the pure-Rust decoder at every data
site and the report gives, per variable, the PSNR (20 log10(max - min) -
10 log10(MSE), over the data's range) and the largest absolute error, then
the file size and compression ratio.

Example:
  inr encode data.vti -o data.inr --ratio 50 --max-minutes 5
  inr encode series.pvd -o series.inr --width 64 --blocks 3 --bits 0";

/// Where to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    /// CUDA when available, else the CPU.
    Auto,
    Cpu,
    Cuda,
}

/// Arguments of `inr encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// The data: .vti, .vtr, or a .pvd collection of them.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// The .inr file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Target compression ratio (float32 data bytes / file bytes).
    #[arg(long, default_value_t = 50.0, conflicts_with = "width")]
    pub ratio: f64,
    /// Network width (hidden features); with --blocks, instead of --ratio.
    #[arg(long)]
    pub width: Option<usize>,
    /// Residual blocks.
    #[arg(long, default_value_t = 3)]
    pub blocks: usize,
    /// Most optimizer steps.
    #[arg(long, default_value_t = 20_000)]
    pub steps: usize,
    /// Wall-clock limit of the training, in minutes.
    #[arg(long, value_name = "M")]
    pub max_minutes: Option<f64>,
    /// Sites per minibatch.
    #[arg(long, default_value_t = 16_384)]
    pub batch: usize,
    /// Initial learning rate (Adam; cosine decay to 1 % of it).
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,
    /// Checks of the loss (every 100 steps) without improvement before
    /// stopping early; 0 never stops early.
    #[arg(long, default_value_t = 20)]
    pub patience: usize,
    /// Codebook bits per weight (k-means, 2^bits shared values); 0 stores
    /// f32 weights.
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u8).range(0..=16))]
    pub bits: u8,
    /// Seed of the initialization and of the minibatches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Variables to encode (comma-separated array names; default: all).
    #[arg(long, value_delimiter = ',')]
    pub vars: Vec<String>,
    /// Use only the first N time steps of a series.
    #[arg(long, value_name = "N")]
    pub time_steps: Option<usize>,
}

/// Runs `inr encode`.
pub fn run(args: &EncodeArgs) -> Result<()> {
    let start = Instant::now();
    let device = match args.device {
        DeviceChoice::Auto => Device::cuda_if_available(),
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Cuda if tch::Cuda::is_available() => Device::Cuda(0),
        DeviceChoice::Cuda => {
            return Err(Error::InvalidArgument(
                "--device cuda: libtorch sees no CUDA device".into(),
            ))
        }
    };
    let size = match args.width {
        Some(width) => Size::Explicit {
            width,
            blocks: args.blocks,
        },
        None => Size::Ratio {
            ratio: args.ratio,
            blocks: args.blocks,
        },
    };
    let opts = EncodeOptions {
        size,
        bits: args.bits,
        train: TrainOptions {
            steps: args.steps,
            max_time: args
                .max_minutes
                .map(|m| Duration::from_secs_f64((m * 60.0).max(0.0))),
            batch: args.batch,
            lr: args.lr,
            patience: args.patience,
            ..TrainOptions::default()
        },
        seed: args.seed,
        device,
    };

    let mut series = crate::vtkxml::read_series(&args.input)?;
    if let Some(n) = args.time_steps {
        series.steps.truncate(n.max(1));
    }
    let samples = Samples::from_series(&series, &args.vars)?;
    let shape = encode::choose_shape(&samples, &opts)?;
    super::note(&format!(
        "inr: {} sites, {} steps, {} variables ({} components); network width {} blocks {} ({} parameters); training on {}\n",
        samples.num_sites(),
        samples.times.len(),
        samples.variables.len(),
        samples.outputs(),
        shape.width,
        shape.blocks,
        shape.parameters(),
        device_name(device),
    ));

    let terminal = std::io::stderr().is_terminal();
    let mut last_line = Instant::now();
    let mut progress = |p: &encode::Progress| {
        let line = format!(
            "step {:>6}/{} loss {:.3e} psnr ~{:.1} dB lr {:.1e} {:.0} s",
            p.step,
            p.steps,
            p.loss,
            p.psnr_estimate,
            p.lr,
            p.elapsed.as_secs_f64()
        );
        if terminal {
            super::note(&format!("\r{line}   "));
        } else if last_line.elapsed() >= Duration::from_secs(10) || p.step == p.steps {
            super::note(&format!("inr: {line}\n"));
            last_line = Instant::now();
        }
    };
    let report = encode::encode(&samples, &opts, &mut progress)?;
    if terminal {
        super::note("\n");
    }
    write_atomically(&args.output, &report.bytes)?;

    let mut out = String::new();
    out += &format!(
        "wrote {}: {} for {} of float32 data, ratio {:.1}\n",
        args.output.display(),
        super::format_bytes(report.bytes.len() as u128),
        super::format_bytes(report.raw_bytes as u128),
        report.ratio()
    );
    out += &format!(
        "network: width {} blocks {} ({} parameters), {}\n",
        report.shape.width,
        report.shape.blocks,
        report.shape.parameters(),
        match args.bits {
            0 => "f32 weights".to_string(),
            b => format!("{b}-bit codebooks"),
        }
    );
    out += &format!(
        "training: {} steps in {:.1} s on {} ({}), final loss {:.3e}\n",
        report.train.steps,
        report.train.elapsed.as_secs_f64(),
        device_name(report.device),
        match report.train.stop {
            encode::Stop::Steps => "step count reached",
            encode::Stop::Time => "time limit reached",
            encode::Stop::Plateau => "loss stopped improving",
        },
        report.train.final_loss
    );
    out += &quality_table(&report.file_quality, &report.model_quality);
    out += &format!("total time {:.1} s\n", start.elapsed().as_secs_f64());
    super::print_out(&out)
}

/// One line per variable: the file's PSNR and largest error (decoder), and
/// the trained network's PSNR before the weights were stored.
fn quality_table(file: &[VariableQuality], model: &[VariableQuality]) -> String {
    let mut s = format!(
        "{:<20} {:>10} {:>14} {:>12} {:>14}\n",
        "variable", "PSNR (dB)", "max abs error", "range", "network PSNR"
    );
    for (f, m) in file.iter().zip(model) {
        s += &format!(
            "{:<20} {:>10.2} {:>14.4e} {:>12.4e} {:>14.2}\n",
            f.name, f.psnr, f.max_abs_error, f.range, m.psnr
        );
    }
    s += &format!(
        "{:<20} {:>10.2} {:>14} {:>12} {:>14.2}\n",
        "mean",
        encode::quality::mean_psnr(file),
        "",
        "",
        encode::quality::mean_psnr(model)
    );
    s
}

fn device_name(d: Device) -> String {
    match d {
        Device::Cpu => format!("cpu ({} threads)", tch::get_num_threads()),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}"),
    }
}
