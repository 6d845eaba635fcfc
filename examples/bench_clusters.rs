//! What routing costs: decoding a clustered (MC-INR) model at the nodes of
//! the shared disk_out_ref tetrahedral mesh, next to a single residual SIREN
//! on the same mesh, in one run.
//!
//! Two comparisons, both with synthetic weights (the cost does not depend
//! on what they learned):
//! - same file size: 20 clusters whose CoordNetB networks together hold as
//!   many parameters as the single network (the target: within
//!   1.5x of its decode time);
//! - same network per point: every cluster's network as large as the single
//!   one's trunk and head, so the difference is routing, grouping and the
//!   branches' extra layers.
//!
//! Usage: cargo run --release --example bench_clusters [THREADS] (default 2)

use std::path::Path;
use std::time::Instant;

use inr::decode::{DecodeOptions, Decoder, GridRequest};
use inr::format::Association;
use inr_testkit::synthetic::{ClusterSpec, SyntheticSpec};
use inr_vtk::vtkxml::Grid;

const MESH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/disk_out_ref/disk_out_ref_tets.vtu"
);

/// Best of 5 decodes at the mesh nodes, and of 3 on a 96^3 grid over the
/// mesh's bounds (where fixed costs no longer count).
fn best(d: &Decoder, opts: &DecodeOptions) -> inr::Result<(f64, f64)> {
    let time = |n: usize, f: &dyn Fn() -> inr::Result<()>| -> inr::Result<f64> {
        let mut best = f64::INFINITY;
        for _ in 0..n {
            let t = Instant::now();
            f()?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        Ok(best)
    };
    let nodes = time(5, &|| d.decode_nodes(&[], None, opts).map(|_| ()))?;
    let req = GridRequest {
        dims: Some([96; 3]),
        ..Default::default()
    };
    let grid = time(3, &|| d.decode_grid(&req, opts).map(|_| ()))?;
    Ok((nodes, grid))
}

/// `0.0035 s / 0.412 s (grid)`, and the ratios to `base`.
fn show(t: (f64, f64), base: (f64, f64)) -> String {
    format!(
        "nodes {:.4} s ({:.2}x), 96^3 grid {:.3} s ({:.2}x)",
        t.0,
        t.0 / base.0,
        t.1,
        t.1 / base.1
    )
}

fn main() -> inr::Result<()> {
    let threads = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let opts = DecodeOptions {
        threads,
        ..Default::default()
    };
    let series = inr_vtk::vtkxml::read_series(Path::new(MESH))?;
    let Grid::Unstructured(mesh) = &series.steps[0].1.grid else {
        return Err(inr::Error::Invalid("not a mesh".into()));
    };
    // disk_out_ref's variables: Temp, V (3), Pres, AsH3, GaMe3, CH4, H2.
    let mut spec = SyntheticSpec::small(1);
    spec.mesh = Some(mesh.clone());
    spec.times = None;
    spec.variables = ["Temp", "V", "Pres", "AsH3", "GaMe3", "CH4", "H2"]
        .iter()
        .map(|&n| {
            let c = if n == "V" { 3 } else { 1 };
            (
                n.to_string(),
                c,
                Association::Point,
                vec![[0.0, 1.0]; c as usize],
            )
        })
        .collect();
    let open = |bytes: Vec<u8>| Decoder::from_bytes(bytes);
    println!(
        "{} nodes of disk_out_ref_tets; {threads} threads; best of 5",
        mesh.num_points()
    );

    // One residual SIREN, width 64, 3 blocks.
    spec.width = 64;
    spec.blocks = 3;
    let (single_model, bytes) = spec.build()?;
    let single = open(bytes)?;
    let t_single = best(&single, &opts)?;
    let params = single_model.parameter_count();
    println!(
        "single residual SIREN: width 64, 3 blocks, {params} parameters: {}",
        show(t_single, t_single)
    );

    // 20 clusters of CoordNetB (5 trunk blocks, 6-block branches, as the
    // paper), the width the largest whose total fits the single's size.
    let clusters = ClusterSpec {
        clusters: 20,
        splits: 0,
        branch_blocks: 6,
        blend_width: 0.0,
    };
    spec.blocks = 5;
    let count = |w: usize, spec: &mut SyntheticSpec| -> inr::Result<u64> {
        spec.width = w;
        Ok(spec.build_mc_inr(&clusters)?.0.parameter_count())
    };
    let mut w = 2;
    while count(w + 1, &mut spec)? <= params {
        w += 1;
    }
    spec.width = w;
    let (m, bytes) = spec.build_mc_inr(&clusters)?;
    let same_size = open(bytes)?;
    let t_same = best(&same_size, &opts)?;
    println!(
        "MC-INR, same size: 20 clusters of width {w} ({} parameters): {}",
        m.parameter_count(),
        show(t_same, t_single)
    );
    for blend in [0.0, 1.0] {
        let c = ClusterSpec {
            blend_width: blend,
            ..clusters
        };
        spec.width = w;
        let d = open(spec.build_mc_inr(&c)?.1)?;
        let t = best(&d, &opts)?;
        println!(
            "  blend width {blend} (disk radius 5.75): {}",
            show(t, t_single)
        );
    }

    // Same network per point: one trunk block and width 64 per cluster, a
    // head-only branch (0 blocks): the single network's shape, cut in two.
    spec.width = 64;
    spec.blocks = 3;
    let per_point = ClusterSpec {
        branch_blocks: 0,
        ..clusters
    };
    let (m, bytes) = spec.build_mc_inr(&per_point)?;
    let same_net = open(bytes)?;
    let t_net = best(&same_net, &opts)?;
    println!(
        "MC-INR, the single's network in each of 20 clusters ({} parameters): {}",
        m.parameter_count(),
        show(t_net, t_single)
    );
    Ok(())
}
