//! The `inr` command line tool: inspect, decode and probe `.inr` files,
//! benchmark the decoder, write synthetic test files.
//!
//! Each subcommand lives in its own module with its arguments and help text.
//! Everything returns [`crate::Result`]; [`main`] turns an error into one
//! `inr: <message>` line on stderr and exit status 1, so scripts can tell a
//! failed run (1) from a usage error (clap's 2). Data goes to stdout, status
//! lines to stderr, so `inr info f.inr > f.txt` captures only the report.

pub mod bench;
pub mod decode;
pub mod decode_bench;
pub mod decode_image;
pub mod decode_mesh;
#[cfg(feature = "encoder")]
pub mod encode;
#[cfg(feature = "encoder")]
pub mod encode_bound;
#[cfg(feature = "encoder")]
pub mod encode_ecnr;
#[cfg(feature = "encoder")]
pub mod encode_mc;
#[cfg(feature = "encoder")]
pub mod encode_nervi;
#[cfg(feature = "encoder")]
pub mod encode_stsr;
pub mod info;
pub mod probe;
pub mod synthetic;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use inr_core::decode::Decoder;
use inr_core::error::{Error, Result};
use inr_core::format::limits;

const ABOUT: &str = "Scientific data stored as neural networks (.inr files)";

const LONG_ABOUT: &str = "\
Scientific data stored as neural networks (.inr files).

An .inr file holds a network that maps (x, y, z[, t]) to the values of the
data set's variables. This tool inspects such files, decodes them onto grids
of any resolution (written as VTK .vti files that ParaView opens), evaluates
them at single points, and benchmarks the decoder.

Example:
  inr synthetic -o demo.inr
  inr info demo.inr
  inr decode demo.inr --dims 64,64,64 -o demo.vti";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "inr", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More status messages on stderr (-v: the encoder's steps, -vv: all).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Errors and warnings only on stderr: no status lines, no progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(about = info::ABOUT, long_about = info::LONG_ABOUT)]
    Info(info::InfoArgs),
    #[command(about = decode::ABOUT, long_about = decode::LONG_ABOUT)]
    Decode(decode::DecodeArgs),
    #[cfg(feature = "encoder")]
    #[command(about = encode::ABOUT, long_about = encode::LONG_ABOUT)]
    Encode(Box<encode::EncodeArgs>),
    #[command(about = probe::ABOUT, long_about = probe::LONG_ABOUT)]
    Probe(probe::ProbeArgs),
    #[command(about = bench::ABOUT, long_about = bench::LONG_ABOUT)]
    Bench(bench::BenchArgs),
    #[command(about = synthetic::ABOUT, long_about = synthetic::LONG_ABOUT)]
    Synthetic(synthetic::SyntheticArgs),
}

/// Parses the process arguments, runs the command and maps the outcome to
/// the exit status. Usage errors, `--help` and `--version` exit inside clap.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    install_logger(&cli);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info(a) => info::run(&a),
        Command::Decode(a) => decode::run(&a),
        #[cfg(feature = "encoder")]
        Command::Encode(a) => encode::run(&a),
        Command::Probe(a) => probe::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Synthetic(a) => synthetic::run(&a),
    }
}

/// Status messages of the tool and the library go through `log`: to stderr
/// as `inr: <message>` (`inr: warning: ...`), at the level -q/-v ask for.
fn install_logger(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => log::LevelFilter::Warn,
        (false, 0) => log::LevelFilter::Info,
        (false, 1) => log::LevelFilter::Debug,
        (false, _) => log::LevelFilter::Trace,
    };
    let _ = env_logger::Builder::new()
        .filter_level(level)
        .format(|out, record| {
            let kind = match record.level() {
                log::Level::Error => "error: ",
                log::Level::Warn => "warning: ",
                _ => "",
            };
            writeln!(out, "inr: {kind}{}", record.args())
        })
        .try_init();
}

/// Whether status lines and progress are wanted (not under -q).
fn chatty() -> bool {
    log::log_enabled!(log::Level::Info)
}

/// Prints `inr: <message>` as a single line (messages that embed other
/// tools' text may contain newlines) and returns exit status 1. A closed
/// stdout (`inr info f.inr | head -1`) is not worth a message.
fn report(e: &Error) -> ExitCode {
    let broken_pipe =
        matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe);
    if !broken_pipe {
        let message = e.to_string().replace(['\n', '\r'], " ");
        note(&format!("inr: {message}\n"));
    }
    ExitCode::from(1)
}

/// Writes a command's output to stdout. `println!` would panic when stdout
/// is closed; this returns the error instead.
fn print_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}

/// Writes a status message to stderr, ignoring failure: losing a progress
/// line is no reason to abort a decode.
fn note(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Checks a `--dims` list: three axes of 1 or more points within the
/// library's limits. Checked here, before any work, so the message names the
/// option rather than blaming a file.
fn dims3(values: &[usize]) -> Result<[usize; 3]> {
    let bad = |why: &str| Error::InvalidArgument(format!("--dims {}: {why}", join(values, ",")));
    let dims: [usize; 3] = values
        .try_into()
        .map_err(|_| bad("give three point counts, e.g. 64,64,32"))?;
    if dims
        .iter()
        .any(|&d| d == 0 || d as u64 > limits::MAX_AXIS_POINTS)
    {
        return Err(bad(&format!(
            "each axis needs 1 to {} points",
            limits::MAX_AXIS_POINTS
        )));
    }
    let total = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    if total.is_none_or(|t| t > limits::MAX_GRID_POINTS) {
        return Err(bad(&format!(
            "more than {} points",
            limits::MAX_GRID_POINTS
        )));
    }
    Ok(dims)
}

/// Resolves `--vars` names to variable indices (none given: all variables).
fn variable_indices(decoder: &Decoder, names: &[String]) -> Result<Vec<usize>> {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    decoder.variable_indices(&names)
}

/// The time a request is decoded at, for status lines: `t = 0.5`, with
/// the remark of [`time_remark`] if any.
fn time_description(decoder: &Decoder, requested: Option<f64>) -> Result<String> {
    let base = match decoder.metadata().time {
        None => "static data".to_string(),
        Some(_) => format!("t = {}", decoder.effective_time(requested)?),
    };
    Ok(match time_remark(decoder, requested)? {
        Some(remark) => format!("{base} ({remark})"),
        None => base,
    })
}

/// Why the decoded time differs from the requested one, if it does: the
/// network is only trusted within the stored steps, so the decoder clamps.
fn time_remark(decoder: &Decoder, requested: Option<f64>) -> Result<Option<String>> {
    let t = decoder.effective_time(requested)?;
    Ok(match (&decoder.metadata().time, requested) {
        (None, Some(r)) => Some(format!("time {r} ignored")),
        (Some(_), Some(r)) if r != t => Some(format!("time {r} clamped to the stored range")),
        _ => None,
    })
}

/// `24 x 20 x 16`.
fn format_dims<T: std::fmt::Display>(dims: &[T]) -> String {
    join(dims, " x ")
}

fn join<T: std::fmt::Display>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(separator)
}

/// A byte count with a binary-prefixed approximation: `123456 bytes (120.6 KiB)`.
fn format_bytes(bytes: u128) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = None;
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = Some(u);
    }
    match unit {
        Some(u) => format!("{bytes} bytes ({value:.1} {u})"),
        None => format!("{bytes} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dims_are_checked() {
        assert_eq!(dims3(&[2, 3, 4]).unwrap(), [2, 3, 4]);
        assert!(dims3(&[0, 1, 1]).is_err());
        assert!(dims3(&[1, 1]).is_err());
        assert!(dims3(&[1 << 20, 1 << 20, 1 << 20]).is_err());
    }

    #[test]
    fn bytes_are_readable() {
        assert_eq!(format_bytes(10), "10 bytes");
        assert_eq!(format_bytes(2048), "2048 bytes (2.0 KiB)");
    }
}
