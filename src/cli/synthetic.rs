//! `inr synthetic`: a complete `.inr` file with a random network, for tests,
//! benchmarks and demos when no trained model is at hand.

use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;
use clap::{Args, ValueEnum};

use crate::error::Result;
use crate::format::writer::write_atomically;
use crate::format::WeightEncoding;
use crate::synthetic::SyntheticSpec;

pub const ABOUT: &str =
    "Write a synthetic model (random residual SIREN) for tests, benchmarks and demos; it has not learned any data";

pub const LONG_ABOUT: &str = "\
Write a synthetic model (random residual SIREN with SIREN initialization) for
tests, benchmarks and demos; it has not learned any data.

The file is complete and valid: an image domain (origin (-1.5, 0.25, 10),
spacing (0.5, 0.25, 2)) with 3 time steps (0, 0.5, 2) and the variables
pressure (point), velocity (3 components, point) and density (cell). Decoding
it costs what decoding a trained network of the same shape costs. The same
seed gives the same file.

Example:
  inr synthetic -o demo.inr --width 64 --blocks 3 --dims 64,64,32 --encoding f16";

/// How the weights are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// 32-bit floats, exact.
    F32,
    /// 16-bit floats.
    F16,
    /// 512 shared values (k-means), 9-bit indices.
    Codebook9,
}

impl From<Encoding> for WeightEncoding {
    fn from(e: Encoding) -> Self {
        match e {
            Encoding::F32 => WeightEncoding::F32,
            Encoding::F16 => WeightEncoding::F16,
            Encoding::Codebook9 => WeightEncoding::Codebook {
                bits: 9,
                prune_zeros: false,
            },
        }
    }
}

/// Arguments of `inr synthetic`.
#[derive(Debug, Args)]
pub struct SyntheticArgs {
    /// The file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Neurons per hidden layer.
    #[arg(long, default_value_t = 16, value_parser = RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub width: usize,
    /// Residual blocks (two sine layers each).
    #[arg(long, default_value_t = 2, value_parser = RangedU64ValueParser::<usize>::new().range(0..=256))]
    pub blocks: usize,
    /// Points per axis of the domain's grid.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "X,Y,Z",
        default_value = "24,20,16"
    )]
    pub dims: Vec<usize>,
    /// Seed of the random weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How the weights are stored.
    #[arg(long, value_enum, default_value_t = Encoding::F32)]
    pub encoding: Encoding,
}

/// Builds the file in memory and writes it atomically.
pub fn run(args: &SyntheticArgs) -> Result<()> {
    let mut spec = SyntheticSpec::small(args.seed);
    spec.dims = super::dims3(&args.dims)?.map(|d| d as u64);
    spec.width = args.width;
    spec.blocks = args.blocks;
    spec.encoding = args.encoding.into();
    let (model, bytes) = spec.build()?;
    write_atomically(&args.output, &bytes)?;
    super::note(&format!(
        "wrote {} ({} bytes): residual SIREN, width {}, {} residual blocks, {} parameters; grid {}, {} time steps\n",
        args.output.display(),
        bytes.len(),
        args.width,
        args.blocks,
        model.parameter_count(),
        super::format_dims(&spec.dims),
        spec.times.as_ref().map_or(1, Vec::len)
    ));
    Ok(())
}
