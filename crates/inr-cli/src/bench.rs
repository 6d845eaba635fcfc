//! `inr bench`: decoder throughput on this machine, next to its SGEMM
//! throughput measured in the same run (see [`crate::decode_bench`]).

use clap::builder::RangedU64ValueParser;
use clap::Args;

use crate::decode_bench::{self, BenchOptions};
use inr_core::error::Result;

pub const ABOUT: &str = "Measure grid decode speed against this machine's SGEMM speed";

pub const LONG_ABOUT: &str = "\
Measure grid decode speed against this machine's SGEMM speed.

Builds a synthetic residual SIREN of the given shape in memory, decodes n^3
grids with it and reports seconds, points per second and GEMM GFLOP/s, next
to the GFLOP/s of a square SGEMM run with the same library and threads.
Absolute times vary between machines and runs; the percentage of SGEMM and
the time ratio between grid sizes are what to compare. The best of --repeat
runs counts.

Example:
  inr bench --width 64 --blocks 5 --grids 128,256 --threads 8";

/// Arguments of `inr bench`; the defaults are [`BenchOptions::default`]'s.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Neurons per hidden layer.
    #[arg(long, default_value_t = 64, value_parser = RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub width: usize,
    /// Residual blocks (two sine layers each).
    #[arg(long, default_value_t = 5, value_parser = RangedU64ValueParser::<usize>::new().range(0..=256))]
    pub blocks: usize,
    /// Network outputs (scalar variables).
    #[arg(long, default_value_t = 4, value_parser = RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub outputs: usize,
    /// Grid edges to decode, each an n^3 grid.
    #[arg(long, value_delimiter = ',', value_name = "N,...", default_value = "128,256",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub grids: Vec<usize>,
    /// Threads for decoding and SGEMM; 0: one per core.
    #[arg(long, default_value_t = 2, value_parser = RangedU64ValueParser::<usize>::new().range(0..=1024))]
    pub threads: usize,
    /// Edge of the square SGEMM baseline.
    #[arg(long, default_value_t = 2048, value_parser = RangedU64ValueParser::<usize>::new().range(1..=16384))]
    pub sgemm: usize,
    /// Runs of each measurement; the fastest counts.
    #[arg(long, default_value_t = 3, value_parser = RangedU64ValueParser::<usize>::new().range(1..=1000))]
    pub repeat: usize,
}

/// Runs the benchmark and prints its report.
pub fn run(args: &BenchArgs) -> Result<()> {
    let report = decode_bench::run(&options(args))?;
    super::print_out(&report.to_string())
}

/// The library's options; 0 threads resolves to the core count here
/// because the SGEMM baseline needs a definite number.
fn options(args: &BenchArgs) -> BenchOptions {
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    BenchOptions {
        width: args.width,
        blocks: args.blocks,
        outputs: args.outputs,
        grids: args.grids.clone(),
        threads,
        sgemm_size: args.sgemm,
        repeat: args.repeat,
    }
}
