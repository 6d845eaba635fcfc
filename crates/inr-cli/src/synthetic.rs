//! `inr synthetic`: a complete `.inr` file with a random network, for tests,
//! benchmarks and demos when no trained model is at hand.

use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;
use clap::{Args, ValueEnum};

use inr_core::error::{Error, Result};
use inr_core::format::writer::write_atomically;
use inr_core::format::Association;
use inr_core::format::WeightEncoding;
use inr_core::mesh::generate::box_mesh;
use inr_testkit::ecnr::{EcnrEncoding, EcnrSpec};
use inr_testkit::nervi::NerviSpec;
use inr_testkit::stsr::StsrSpec;
use inr_testkit::synthetic::{ClusterSpec, SyntheticSpec};

pub const ABOUT: &str =
    "Write a synthetic model (random residual SIREN, MC-INR, ECNR or STSR-INR) for tests, benchmarks and demos; it has not learned any data";

pub const LONG_ABOUT: &str = "\
Write a synthetic model (random residual SIREN with SIREN initialization) for
tests, benchmarks and demos; it has not learned any data.

The file is complete and valid: an image domain (origin (-1.5, 0.25, 10),
spacing (0.5, 0.25, 2)) with 3 time steps (0, 0.5, 2) and the variables
pressure (point), velocity (3 components, point) and density (cell). Decoding
it costs what decoding a trained network of the same shape costs. The same
seed gives the same file.

With --mesh, the domain is an unstructured mesh instead: the box
[-1, 1] x [0, 0.5] x [2, 3] cut into --mesh-cells hexahedra per axis, each kept
(`hexes`) or split into 6 tetrahedra (`tets`); point data lives at the mesh
nodes and density at the cells. Time steps and variables are as above.

With --clusters K, the model is an MC-INR one instead: K clusters with
random centroids in the domain, the first --splits of them split in two,
each leaf a CoordNetB network (a trunk of --width and --blocks, a branch of
--branch-blocks per variable), blended across borders over --blend-width.

With --ecnr S, the model is a multiscale ECNR one instead (image domains):
S scales of factors 2^(S-1) down to 1, 4x3x2 blocks (a fifth of them
empty) with latent codes of 3 values, 3 MLPs of --width and max(--blocks, 1)
sine layers per scale, and the point variables pressure and velocity only
(ECNR models hold one association); --encoding codebook9 stores each scale's
weights, biases and latents with three shared 9-bit tables, zero weights
pruned.

With --stsr, the model is an STSR-INR one instead (image domains): the
variables temperature, wind (2 components) and pressure at the grid points
as latent vectors of 5 values, the time steps above, a synthesis
and a modulator network of --width and --blocks residual blocks, 3 x 2 x 1
heads over every second sample in x and z; its variables can be blended
(`inr decode --latent`).

With --nervi, the model is a NeRVI one of rendered images instead: 24 x 16
RGB images with a mask over (theta, phi) at 5 stored views and 3 time
steps, an MLP of --blocks residual blocks of --width, upscale blocks x2 and
x4, and a composite on white (`inr decode --params`).

Example:
  inr synthetic -o demo.inr --width 64 --blocks 3 --dims 64,64,32 --encoding f16
  inr synthetic -o mesh.inr --mesh tets --mesh-cells 8,4,4
  inr synthetic -o mc.inr --mesh tets --clusters 6 --splits 2 --blend-width 0.2
  inr synthetic -o ecnr.inr --ecnr 3 --dims 48,40,32
  inr synthetic -o stsr.inr --stsr --width 12
  inr synthetic -o views.inr --nervi --width 16";

/// Low corner of the box of `--mesh`.
const MESH_LO: [f64; 3] = [-1.0, 0.0, 2.0];
/// High corner of the box of `--mesh`.
const MESH_HI: [f64; 3] = [1.0, 0.5, 3.0];
/// Most box cells of `--mesh-cells` (each becomes up to 6 tetrahedra).
const MAX_MESH_BOX_CELLS: usize = 1 << 20;
/// Most blocks per time step of `--ecnr` (each has a random latent code).
const MAX_ECNR_BLOCKS: u64 = 1 << 20;

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

/// The cells of an unstructured synthetic domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MeshCells {
    /// Tetrahedra: each box cell split into 6 (VTK_TETRA).
    Tets,
    /// Hexahedra: one per box cell (VTK_HEXAHEDRON).
    Hexes,
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
    /// Points per axis of the domain's grid (image domains only).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "X,Y,Z",
        default_value = "24,20,16",
        conflicts_with = "mesh"
    )]
    pub dims: Vec<usize>,
    /// Make an unstructured mesh of these cells instead of an image domain.
    #[arg(long, value_enum, value_name = "CELLS")]
    pub mesh: Option<MeshCells>,
    /// Hexahedral box cells per axis of the mesh (with --mesh).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "X,Y,Z",
        default_value = "4,3,2",
        requires = "mesh"
    )]
    pub mesh_cells: Vec<usize>,
    /// Make an MC-INR model of this many clusters (before splits).
    #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub clusters: Option<usize>,
    /// Make an ECNR model of this many scales (image domains).
    #[arg(long, value_name = "S", conflicts_with_all = ["mesh", "clusters"],
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=16))]
    pub ecnr: Option<usize>,
    /// Make an STSR-INR model (image domains).
    #[arg(long, conflicts_with_all = ["mesh", "clusters", "ecnr"])]
    pub stsr: bool,
    /// Make a NeRVI model of rendered images (24 x 16 pixels, views over
    /// theta and phi, 3 time steps).
    #[arg(long, conflicts_with_all = ["mesh", "clusters", "ecnr", "stsr"])]
    pub nervi: bool,
    /// With --clusters: split the first N clusters into two.
    #[arg(long, default_value_t = 0, requires = "clusters")]
    pub splits: usize,
    /// With --clusters: residual blocks of each variable's branch.
    #[arg(long, default_value_t = 1, requires = "clusters", value_parser = RangedU64ValueParser::<usize>::new().range(0..=256))]
    pub branch_blocks: usize,
    /// With --clusters: width of the blending band across cluster borders
    /// (domain units; 0: none).
    #[arg(long, default_value_t = 0.0, requires = "clusters")]
    pub blend_width: f64,
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
    let domain = match args.mesh {
        None if args.nervi => "images".to_string(),
        None => {
            spec.dims = super::dims3(&args.dims)?.map(|d| d as u64);
            format!("grid {}", super::format_dims(&spec.dims))
        }
        Some(kind) => {
            let cells = mesh_cells(&args.mesh_cells)?;
            let mesh = box_mesh(cells, MESH_LO, MESH_HI, kind == MeshCells::Tets);
            let description = format!(
                "mesh of {} points and {} {}",
                mesh.num_points(),
                mesh.num_cells(),
                match kind {
                    MeshCells::Tets => "tetrahedra",
                    MeshCells::Hexes => "hexahedra",
                }
            );
            spec.mesh = Some(mesh);
            description
        }
    };
    spec.width = args.width;
    spec.blocks = args.blocks;
    spec.encoding = args.encoding.into();
    let (family, parameters, bytes) = match args.clusters {
        None if args.ecnr.is_some() => ecnr(&spec, args)?,
        None if args.stsr => stsr(&spec, args)?,
        None if args.nervi => nervi(args)?,
        None => {
            let (model, bytes) = spec.build()?;
            let family = format!(
                "residual SIREN, width {}, {} residual blocks",
                args.width, args.blocks
            );
            (family, model.parameter_count(), bytes)
        }
        Some(clusters) => {
            if !(args.blend_width.is_finite() && args.blend_width >= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "--blend-width {} (must be 0 or more)",
                    args.blend_width
                )));
            }
            let cluster_spec = ClusterSpec {
                clusters,
                splits: args.splits,
                branch_blocks: args.branch_blocks,
                blend_width: args.blend_width,
            };
            let (model, bytes) = spec.build_mc_inr(&cluster_spec)?;
            let family = format!(
                "MC-INR, {} clusters, width {}, {} residual blocks, {}-block branches, blend width {}",
                model.leaves.len(),
                args.width,
                args.blocks,
                args.branch_blocks,
                args.blend_width
            );
            (family, model.parameter_count(), bytes)
        }
    };
    write_atomically(&args.output, &bytes)?;
    log::info!(
        "wrote {} ({} bytes): {family}, {parameters} parameters; {}, {} time steps",
        args.output.display(),
        bytes.len(),
        domain,
        spec.times.as_ref().map_or(1, Vec::len)
    );
    Ok(())
}

/// The STSR-INR model of `--stsr` on the image domain of `spec`: its
/// description, parameters and bytes.
fn stsr(spec: &SyntheticSpec, args: &SyntheticArgs) -> Result<(String, u64, Vec<u8>)> {
    let mut s = StsrSpec::small(args.seed);
    s.dims = spec.dims;
    s.origin = spec.origin;
    s.spacing = spec.spacing;
    s.times = spec.times.clone();
    s.width = args.width;
    s.residual_blocks = args.blocks;
    s.encoding = args.encoding.into();
    described("STSR-INR", s.build()?)
}

/// The NeRVI model of `--nervi`: an MLP of residual blocks --width wide
/// (at least 4), the test kit's upscale blocks.
fn nervi(args: &SyntheticArgs) -> Result<(String, u64, Vec<u8>)> {
    let mut s = NerviSpec::small(args.seed);
    s.mlp = vec![args.width.max(4); args.blocks.max(1)];
    s.encoding = args.encoding.into();
    let (w, h) = s.size();
    let (family, parameters, bytes) = described("NeRVI", s.build()?)?;
    Ok((format!("{family}; {w} x {h} pixels"), parameters, bytes))
}

/// The ECNR model of `--ecnr S` on the image domain, time steps and point
/// variables of `spec`: its description, parameters and bytes.
fn ecnr(spec: &SyntheticSpec, args: &SyntheticArgs) -> Result<(String, u64, Vec<u8>)> {
    let scales = args.ecnr.unwrap_or(1);
    let mut e = EcnrSpec::small(args.seed);
    let blocks: u64 = (0..3).map(|a| spec.dims[a].div_ceil(e.block[a])).product();
    if blocks > MAX_ECNR_BLOCKS {
        return Err(Error::InvalidArgument(format!(
            "--dims {}: more than {MAX_ECNR_BLOCKS} blocks of {:?} for a synthetic ECNR file",
            super::format_dims(&spec.dims),
            e.block
        )));
    }
    e.dims = spec.dims;
    e.origin = spec.origin;
    e.spacing = spec.spacing;
    e.times = spec.times.clone();
    e.variables = spec
        .variables
        .iter()
        .filter(|v| v.2 == Association::Point)
        .map(|v| (v.0.clone(), v.3.clone()))
        .collect();
    e.factors = (0..scales).rev().map(|k| 1u64 << k).collect();
    e.width = args.width;
    e.sine_layers = args.blocks.max(1);
    e.encoding = match args.encoding {
        Encoding::F32 => EcnrEncoding::F32,
        Encoding::Codebook9 => EcnrEncoding::Shared {
            bits: 9,
            prune: true,
        },
        Encoding::F16 => {
            return Err(Error::InvalidArgument(
                "--encoding f16: ECNR files are written f32 or codebook9".into(),
            ))
        }
    };
    described("ECNR", e.build()?)
}

/// The file's `bytes` with the family `name` and its description read back
/// from them, and its parameter count.
fn described(name: &str, bytes: Vec<u8>) -> Result<(String, u64, Vec<u8>)> {
    let model = inr_core::decode::Decoder::from_bytes(bytes.clone())?;
    let family = format!("{name}, {}", model.model().family().describe());
    Ok((family, model.model().parameter_count(), bytes))
}

/// Checks a `--mesh-cells` list: three axes of 1 or more cells, at most
/// [`MAX_MESH_BOX_CELLS`] in all.
fn mesh_cells(values: &[usize]) -> Result<[usize; 3]> {
    let bad = |why: &str| {
        Error::InvalidArgument(format!("--mesh-cells {}: {why}", super::join(values, ",")))
    };
    let cells: [usize; 3] = values
        .try_into()
        .map_err(|_| bad("give three cell counts, e.g. 4,3,2"))?;
    if cells.contains(&0) {
        return Err(bad("each axis needs 1 or more cells"));
    }
    let total = cells.iter().try_fold(1usize, |acc, &c| acc.checked_mul(c));
    if total.is_none_or(|t| t > MAX_MESH_BOX_CELLS) {
        return Err(bad(&format!("more than {MAX_MESH_BOX_CELLS} cells")));
    }
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_cells_are_checked() {
        assert_eq!(mesh_cells(&[4, 3, 2]).unwrap(), [4, 3, 2]);
        assert!(mesh_cells(&[4, 3]).is_err());
        assert!(mesh_cells(&[4, 0, 2]).is_err());
        assert!(mesh_cells(&[1 << 10, 1 << 10, 2]).is_err());
    }

    fn parse(args: &[&str]) -> std::result::Result<SyntheticArgs, clap::Error> {
        use clap::Parser;
        let cli =
            crate::Cli::try_parse_from(["inr", "synthetic", "-o", "x.inr"].iter().chain(args))?;
        match cli.command {
            crate::Command::Synthetic(a) => Ok(a),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn mesh_options_go_together() {
        let a = parse(&["--mesh", "tets"]).unwrap();
        assert_eq!(
            (a.mesh, a.mesh_cells),
            (Some(MeshCells::Tets), vec![4, 3, 2])
        );
        let a = parse(&["--mesh", "hexes", "--mesh-cells", "2,1,5"]).unwrap();
        assert_eq!(
            (a.mesh, a.mesh_cells),
            (Some(MeshCells::Hexes), vec![2, 1, 5])
        );
        assert!(parse(&["--mesh-cells", "2,2,2"]).is_err()); // needs --mesh
        assert!(parse(&["--mesh", "tets", "--dims", "3,3,3"]).is_err()); // image only
        assert!(parse(&["--mesh", "prisms"]).is_err());
    }

    #[test]
    fn mesh_files_hold_the_box() {
        let dir = tempfile::tempdir().unwrap();
        for (kind, cells, types) in [(MeshCells::Tets, 6 * 24, 10), (MeshCells::Hexes, 24, 12)] {
            let output = dir.path().join("m.inr");
            let mut args = parse(&["--mesh", "tets", "--seed", "3"]).unwrap();
            args.output = output.clone();
            args.mesh = Some(kind);
            run(&args).unwrap();
            let decoder = inr_core::decode::Decoder::open(&output).unwrap();
            assert!(decoder.native_grid().is_none());
            assert_eq!(decoder.bounds(), [-1.0, 1.0, 0.0, 0.5, 2.0, 3.0]);
            let mesh = decoder.mesh().unwrap();
            assert_eq!((mesh.num_points(), mesh.num_cells()), (5 * 4 * 3, cells));
            assert!(mesh.types.iter().all(|&t| t == types));
            assert_eq!(decoder.metadata().variables.len(), 3);
            assert_eq!(decoder.metadata().time.as_ref().unwrap().values.len(), 3);
        }
    }

    #[test]
    fn ecnr_files_have_the_scales_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("e.inr");
        for (encoding, scales) in [("f32", 3), ("codebook9", 1)] {
            let mut args = parse(&["--ecnr", &scales.to_string(), "--encoding", encoding]).unwrap();
            args.output = output.clone();
            args.dims = vec![12, 10, 8];
            run(&args).unwrap();
            let decoder = inr_core::decode::Decoder::open(&output).unwrap();
            let model = decoder.model().get::<inr_core::model::Ecnr>().unwrap();
            assert_eq!(model.scales.len(), scales);
            assert_eq!(model.scales[0].factor, 1 << (scales - 1));
            assert_eq!(
                decoder.metadata().variables.len(),
                2,
                "point variables only"
            );
        }
        let mut args = parse(&["--ecnr", "2", "--encoding", "f16"]).unwrap();
        args.output = output.clone();
        assert!(run(&args).is_err());
        assert!(parse(&["--ecnr", "2", "--mesh", "tets"]).is_err());
        assert!(parse(&["--ecnr", "2", "--clusters", "3"]).is_err());
        assert!(parse(&["--ecnr", "17"]).is_err());
    }
}
