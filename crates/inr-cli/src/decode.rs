//! `inr decode`: a grid decode written as a VTK `.vti` file (`.vtr` for a
//! rectilinear grid at its stored coordinates), the format ParaView and
//! every VTK tool open without a plugin; unstructured files go to
//! [`super::decode_mesh`].

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::builder::RangedU64ValueParser;
use clap::Args;

use inr_core::decode::{Blend, DecodeOptions, DecodedGrid, Decoder, GridRequest, Progress};
use inr_core::error::{Error, Result};
use inr_core::sampling::{extent_len, Extent, SamplingGrid};
use inr_vtk::vti::{self, Values, VtiArray};

pub const ABOUT: &str =
    "Decode an .inr file onto a grid or its mesh and write it as a VTK file (.vti, .vtr, .vtu)";

pub const LONG_ABOUT: &str = "\
Decode an .inr file onto a grid and write it as a VTK image data (.vti) file,
or onto its mesh as an unstructured grid (.vtu).

By default the file's own grid is decoded; --dims resamples the domain's
bounding box uniformly with any number of points per axis (the network is
defined everywhere). --extent decodes only a block of that grid, given as
inclusive point indices; the .vti keeps the indices, so the block lands in
its place in ParaView. Point variables are evaluated at the grid points and
written as point data, cell variables at the cell centers as cell data.
Times between stored steps are interpolated by the network; times outside
them are clamped to the first or last step. --detail K decodes a multiscale
(ECNR) file from its coarsest K scales only: a quicker, smoother preview.
--latent A,B,ALPHA decodes, from a file whose model embeds variables
(STSR-INR), variable A with its latent vector and range blended toward
variable B's by ALPHA (0: A, 1: B): the paper's latent-space interpolation,
written as one array named A~B@ALPHA.

Image files (NeRVI, rendered images by time and view): --params picks the
time and view, e.g. --params t=2,theta=30,phi=0 (parameters not given take
the first stored view's values; values between the stored ones are decoded
too, values beyond them clamped). The composite (mask x color over the
background) is written as an RGBA .png, or with -o NAME.vti the variables
(--vars) as a 2-D VTK image.

Unstructured files: by default the stored mesh is written (.vtu) with point
variables at its nodes and cell variables at the cell centroids; --refine L
refines every cell L times first (a tetrahedron into 8, a hexahedron into 8,
...) for a smooth close-up. --dims instead resamples the mesh's bounding box
onto a uniform grid (.vti): points inside the mesh get the decoded values,
points outside get --outside (default 0) and the point array
vtkValidPointMask tells which is which (1 inside, 0 outside), as VTK's probe
filter does; every variable is point data there.

A one-line summary (size, time, points per second) goes to stderr, with a
progress percentage while decoding when stderr is a terminal.

Example:
  inr decode run42.inr --dims 256,256,128 --vars pressure,velocity --time 0.5 -o p.vti
  inr decode mesh.inr --refine 2 -o fine.vtu
  inr decode views.inr --params t=2,theta=30,phi=0 -o view.png";

/// Arguments of `inr decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The .inr file.
    pub file: PathBuf,
    /// Points per axis of a uniform grid over the domain's bounds [default:
    /// the file's grid].
    #[arg(long, value_delimiter = ',', value_name = "X,Y,Z")]
    pub dims: Option<Vec<usize>>,
    /// Decode only this inclusive block of point indices of the grid.
    #[arg(long, value_delimiter = ',', value_name = "X0,X1,Y0,Y1,Z0,Z1")]
    pub extent: Option<Vec<usize>>,
    /// Variables to decode [default: all].
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub vars: Vec<String>,
    /// Time to decode [default: the first step].
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub time: Option<f64>,
    /// Unstructured files: refine every cell this many times.
    #[arg(long, value_name = "L", conflicts_with_all = ["dims", "extent"])]
    pub refine: Option<u32>,
    /// Unstructured files with --dims: the value of points outside the mesh.
    #[arg(
        long,
        value_name = "VALUE",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub outside: f32,
    /// Worker threads; 0: one per core.
    #[arg(long, default_value_t = 0, value_parser = RangedU64ValueParser::<usize>::new().range(0..=1024))]
    pub threads: usize,
    /// Multiscale (ECNR) files: sum only the coarsest K scales, a quicker
    /// preview; 0: all scales. Other files ignore it.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub detail: u32,
    /// Variable-embedding (STSR-INR) files: decode variable A blended toward
    /// variable B by ALPHA instead of --vars.
    #[arg(long, value_name = "A,B,ALPHA", conflicts_with = "vars")]
    pub latent: Option<String>,
    /// Image files (NeRVI): the time and view to decode, e.g.
    /// t=2,theta=30,phi=0 [default: the first stored view].
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAME=VALUE,...",
        allow_hyphen_values = true
    )]
    pub params: Vec<String>,
    /// Output file [default: FILE with the extension .vti, .vtr, .vtu or .png].
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Checks every argument, decodes, writes, reports.
pub fn run(args: &DecodeArgs) -> Result<()> {
    let decoder = Decoder::open(&args.file)?;
    if let Some(set) = decoder.image_set() {
        return super::decode_image::run(&decoder, set, args);
    }
    if !args.params.is_empty() {
        return Err(Error::InvalidArgument(
            "--params: this file holds a field, not images (use --time and --dims)".into(),
        ));
    }
    if decoder.native_grid().is_none() {
        if args.latent.is_some() {
            return Err(Error::Unsupported(
                "--latent: this file's model does not embed variables".into(),
            ));
        }
        return super::decode_mesh::run(&decoder, args);
    }
    if args.refine.is_some() {
        return Err(Error::InvalidArgument(
            "--refine: the file holds a grid, not a mesh (give --dims to resample it)".into(),
        ));
    }
    let request = request(&decoder, args)?;
    let grid = decoder.sampling_grid(request.dims)?;
    let extension = if grid.uniform.is_some() { "vti" } else { "vtr" };
    let output = output_path(args, extension)?;
    let start = Instant::now();
    let mut decoded = decode_with_progress(&decoder, &request, args)?;
    if let (Some(latent), Some(array)) = (&args.latent, decoded.arrays.first_mut()) {
        array.name = latent_name(latent);
    }
    let decoding = start.elapsed().as_secs_f64();
    let written = write(&output, &decoded, &grid)?;
    let writing = start.elapsed().as_secs_f64() - decoding;
    let time = super::time_description(&decoder, request.time)?;
    log::info!(
        "{}",
        summary(&decoded, &written, &time, [decoding, writing], &output)
    );
    Ok(())
}

/// The grid request, with every option checked before the decode starts.
pub(super) fn request(decoder: &Decoder, args: &DecodeArgs) -> Result<GridRequest> {
    let dims = args.dims.as_deref().map(super::dims3).transpose()?;
    let extent = args.extent.as_deref().map(extent6).transpose()?;
    let variables = match latent_blend(decoder, args)? {
        Some((a, _)) => vec![a],
        None => super::variable_indices(decoder, &args.vars)?,
    };
    decoder.effective_time(args.time)?;
    let grid = decoder.sampling_grid(dims)?;
    if let Some(e) = &extent {
        grid.check_extent(e)?;
    }
    Ok(GridRequest {
        dims,
        extent,
        variables,
        time: args.time,
    })
}

fn extent6(values: &[usize]) -> Result<Extent> {
    values.try_into().map_err(|_| {
        Error::InvalidArgument(format!(
            "--extent {}: give six point indices x0,x1,y0,y1,z0,z1",
            super::join(values, ",")
        ))
    })
}

/// `-o`, or the input with `extension` (`vti` for a uniform grid, `vtr`
/// for a rectilinear grid at its stored coordinates, `vtu` for a mesh);
/// never the input itself, nor another of these extensions. The directory
/// must exist: better to learn that before a long decode.
pub(super) fn output_path(args: &DecodeArgs, extension: &str) -> Result<PathBuf> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.file.with_extension(extension));
    let same = |a: &Path, b: &Path| {
        a.canonicalize()
            .ok()
            .is_some_and(|a| b.canonicalize().ok() == Some(a))
    };
    let bad = |why: &str| {
        Err(Error::InvalidArgument(format!(
            "-o {}: {why}",
            output.display()
        )))
    };
    if output.file_name().is_none() || output.is_dir() {
        return bad("not a file name");
    }
    if same(&output, &args.file) {
        return bad("that is the input file");
    }
    let given = output.extension().and_then(|e| e.to_str()).unwrap_or("");
    if given != extension && ["vti", "vtr", "vtu", "png"].contains(&given) {
        return bad(match extension {
            "vti" => "a uniform grid is written as .vti",
            "png" => "an image's composite is written as .png (its variables as .vti)",
            "vtr" => "the stored grid of a rectilinear file is written as .vtr (or give --dims to resample it uniformly as .vti)",
            _ => "a mesh is written as .vtu (or give --dims to resample it as .vti)",
        });
    }
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        let why = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the output directory does not exist",
        );
        return Err(Error::io(dir, why));
    }
    Ok(output)
}

/// Decodes, showing `decoding  42%` on stderr when a person watches it.
fn decode_with_progress(
    decoder: &Decoder,
    request: &GridRequest,
    args: &DecodeArgs,
) -> Result<DecodedGrid> {
    let blend = latent_blend(decoder, args)?.map(|(_, b)| b);
    with_progress(args, blend, |options| decoder.decode_grid(request, options))
}

/// `--latent A,B,ALPHA` as variable A and its blend toward B.
fn latent_blend(decoder: &Decoder, args: &DecodeArgs) -> Result<Option<(usize, Blend)>> {
    let Some(latent) = &args.latent else {
        return Ok(None);
    };
    let bad = || Error::InvalidArgument(format!("--latent {latent:?}: expected A,B,ALPHA"));
    let parts: Vec<&str> = latent.split(',').collect();
    let [a, b, alpha] = parts[..] else {
        return Err(bad());
    };
    let alpha: f64 = alpha.trim().parse().map_err(|_| bad())?;
    let v = super::variable_indices(decoder, &[a.trim().to_string(), b.trim().to_string()])?;
    Ok(Some((v[0], Blend { with: v[1], alpha })))
}

/// The array name of a blend: `A~B@ALPHA`.
fn latent_name(latent: &str) -> String {
    let parts: Vec<&str> = latent.split(',').map(str::trim).collect();
    format!("{}~{}@{}", parts[0], parts[1], parts[2])
}

/// Runs `decode` with the threads and level of detail of `args`, and
/// progress that shows `decoding  42%` on stderr when a person watches it.
pub(super) fn with_progress<T>(
    args: &DecodeArgs,
    blend: Option<Blend>,
    decode: impl FnOnce(&DecodeOptions) -> Result<T>,
) -> Result<T> {
    let show = std::io::stderr().is_terminal() && super::chatty();
    let bar = |fraction: f64| {
        super::note(&format!("\rdecoding {:3.0}%", 100.0 * fraction));
        true
    };
    let progress: Option<Progress> = if show { Some(&bar) } else { None };
    let result = decode(&DecodeOptions {
        threads: args.threads,
        progress,
        detail: args.detail,
        blend,
    });
    if show {
        super::note("\r             \r");
    }
    result
}

/// Writes the arrays that have values; returns the names written. A cell
/// variable has none on an extent one point thick along an axis with cells
/// (VTK would want one cell there that the grid does not have), so it is
/// left out with a note rather than failing the whole decode.
fn write(path: &Path, decoded: &DecodedGrid, grid: &SamplingGrid) -> Result<Vec<String>> {
    let mut arrays = Vec::new();
    for a in &decoded.arrays {
        if a.values.is_empty() {
            log::info!(
                "note: cell variable {} left out: the extent is one point thick, so it has no cells",
                a.name
            );
            continue;
        }
        let association = a.association;
        arrays.push(VtiArray {
            name: &a.name,
            components: a.components,
            association,
            values: Values::F32(&a.values),
        });
    }
    if arrays.is_empty() {
        return Err(Error::InvalidArgument(
            "nothing to write: no variable has values on this extent".into(),
        ));
    }
    let extent = decoded.extent.map(|v| v as i64);
    match grid.uniform {
        Some((origin, spacing)) => vti::write_image_data(path, extent, origin, spacing, &arrays)?,
        None => {
            let e = decoded.extent;
            let axes = [0, 1, 2].map(|a| &grid.axes[a][e[2 * a]..=e[2 * a + 1]]);
            vti::write_rectilinear_grid(path, extent, axes, &arrays)?
        }
    }
    Ok(arrays.iter().map(|a| a.name.to_string()).collect())
}

/// `decoded pressure, velocity on 24 x 20 x 16 (7680 points), t = 0, in
/// 0.004 s (1.9e6 points/s); wrote out.vti in 0.002 s`: the decoder's speed
/// apart from the file's.
fn summary(
    decoded: &DecodedGrid,
    names: &[String],
    time: &str,
    [decoding, writing]: [f64; 2],
    output: &Path,
) -> String {
    let e = &decoded.extent;
    let dims = [e[1] - e[0] + 1, e[3] - e[2] + 1, e[5] - e[4] + 1];
    let points = extent_len(e);
    format!(
        "decoded {} on {} ({points} points), {time}, in {decoding:.3} s ({:.3e} points/s); \
         wrote {} in {writing:.3} s",
        names.join(", "),
        super::format_dims(&dims),
        points as f64 / decoding.max(1e-9),
        output.display()
    )
}
