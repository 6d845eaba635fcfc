//! `inr probe`: the variables' values at one point, for spot checks and
//! scripts.

use std::path::PathBuf;

use clap::Args;

use inr_core::decode::{DecodeOptions, Decoder, PointTimes};
use inr_core::error::{Error, Result};

pub const ABOUT: &str = "Print the variables' values at one point (and time)";

pub const LONG_ABOUT: &str = "\
Print the variables' values at one point (and time), one line per variable:
`name = v` for scalars, `name = (v1, v2, v3)` for vectors. Values are printed
with the fewest digits that read back as the same float32.

Coordinates are in the domain's units. The network is defined everywhere, but
away from the domain's bounds it extrapolates (a warning says so); times
outside the stored steps are clamped to the first or last step. Without T,
the first step is used. --detail K evaluates a multiscale (ECNR) file from
its coarsest K scales only.

Example:
  inr probe run42.inr 0.5 -1.25 3 0.75 --vars pressure,velocity";

/// Arguments of `inr probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The .inr file.
    pub file: PathBuf,
    /// x coordinate.
    #[arg(allow_negative_numbers = true)]
    pub x: f64,
    /// y coordinate.
    #[arg(allow_negative_numbers = true)]
    pub y: f64,
    /// z coordinate.
    #[arg(allow_negative_numbers = true)]
    pub z: f64,
    /// Time [default: the first step].
    #[arg(allow_negative_numbers = true)]
    pub t: Option<f64>,
    /// Variables to print [default: all].
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub vars: Vec<String>,
    /// Multiscale (ECNR) files: sum only the coarsest K scales; 0: all.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub detail: u32,
}

/// Evaluates the point and prints one line per variable.
pub fn run(args: &ProbeArgs) -> Result<()> {
    let point = [args.x, args.y, args.z];
    if point.iter().any(|c| !c.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "point {point:?} is not finite"
        )));
    }
    let decoder = Decoder::open(&args.file)?;
    let variables = super::variable_indices(&decoder, &args.vars)?;
    warn_if_extrapolating(&decoder, point, args.t)?;
    let values = evaluate(&decoder, point, args, &variables)?;
    super::print_out(&format_values(&decoder, &variables, &values))
}

/// All components of `variables` at the point, in request order.
fn evaluate(
    decoder: &Decoder,
    point: [f64; 3],
    args: &ProbeArgs,
    variables: &[usize],
) -> Result<Vec<f32>> {
    let meta = decoder.metadata();
    let n: usize = variables
        .iter()
        .map(|&v| meta.variables[v].components as usize)
        .sum();
    let mut out = vec![0f32; n];
    let options = DecodeOptions {
        threads: 1,
        detail: args.detail,
        ..Default::default()
    };
    let t = PointTimes::Fixed(args.t);
    decoder.evaluate(&point, t, variables, &mut out, &options)?;
    Ok(out)
}

/// Tells on stderr when the answer is not an interpolation of the data: the
/// point lies outside the bounds, or the time was clamped or ignored.
fn warn_if_extrapolating(decoder: &Decoder, point: [f64; 3], t: Option<f64>) -> Result<()> {
    let b = decoder.bounds();
    if (0..3).any(|a| point[a] < b[2 * a] || point[a] > b[2 * a + 1]) {
        log::warn!(
            "the point lies outside the domain's bounds x [{}, {}], y [{}, {}], z [{}, {}]; \
             the network extrapolates there",
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            b[5]
        );
    }
    if let Some(remark) = super::time_remark(decoder, t)? {
        log::warn!("{remark}");
    }
    Ok(())
}

/// `name = v` or `name = (v1, v2, v3)`; `{}` of an f32 is the shortest text
/// that parses back to the same value.
fn format_values(decoder: &Decoder, variables: &[usize], values: &[f32]) -> String {
    let meta = decoder.metadata();
    let mut text = String::new();
    let mut rest = values;
    for &v in variables {
        let var = &meta.variables[v];
        let (mine, others) = rest.split_at(var.components as usize);
        rest = others;
        let shown = match mine {
            [single] => single.to_string(),
            many => format!("({})", super::join(many, ", ")),
        };
        text.push_str(&format!("{} = {shown}\n", var.name));
    }
    text
}
