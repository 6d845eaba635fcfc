//! What the mesh paths cost next to the plain network evaluation they add
//! to, measured side by side in one run on one `.inr` mesh file:
//!
//! - decode at the stored nodes, against `Decoder::evaluate` at the same
//!   points (the baseline: the network alone);
//! - a resample onto a grid (locating every grid point in the mesh, then
//!   evaluating the inside ones), against evaluating the network at every
//!   grid point without locating anything (`decode_grid` over the bounds);
//! - building the cell locator; refining the mesh once and twice, and
//!   decoding at the refined nodes.
//!
//! Usage: cargo run --release --example bench_mesh -- FILE.inr [GRID] [THREADS]
//! (GRID points per axis of the resampling grid, default 128; THREADS 0 =
//! all cores, default 2). Best of 3 for every figure.

use std::time::Instant;

use inr::decode::{DecodeOptions, Decoder, GridRequest};
use inr::mesh::extract::MeshRequest;
use inr::mesh::locate::CellLocator;
use inr::PointTimes;

fn best<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = None;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("ran"))
}

fn main() -> inr::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: bench_mesh FILE.inr [GRID] [THREADS]");
        std::process::exit(2);
    };
    let n: usize = args.get(1).map_or(Ok(128), |s| s.parse()).unwrap_or(128);
    let threads: usize = args.get(2).map_or(Ok(2), |s| s.parse()).unwrap_or(2);
    let opts = DecodeOptions {
        threads,
        ..Default::default()
    };
    let d = Decoder::open(path)?;
    let mesh = d.mesh()?.clone();
    let vars = d.variable_indices(&[])?;
    let comps: usize = vars
        .iter()
        .map(|&v| d.metadata().variables[v].components as usize)
        .sum();
    println!(
        "{path}: {} nodes, {} cells, {} outputs; {threads} threads, best of 3",
        mesh.num_points(),
        mesh.num_cells(),
        comps
    );

    let (t_nodes, _) = best(|| d.decode_nodes(&vars, None, &opts));
    let mut out = vec![0f32; mesh.num_points() * comps];
    let (t_eval, _) = best(|| {
        d.evaluate(
            &mesh.points,
            PointTimes::Fixed(None),
            &vars,
            &mut out,
            &opts,
        )
    });
    println!(
        "nodes:     decode_nodes {t_nodes:.4} s, evaluate at the same points {t_eval:.4} s: ratio {:.2}",
        t_nodes / t_eval
    );

    let (t_locator, _) = best(|| CellLocator::new(&mesh));
    println!("locator:   built in {t_locator:.4} s");

    let grid = d.sampling_grid(Some([n; 3]))?;
    let extent = grid.whole_extent();
    let (t_plain, _) = best(|| {
        d.decode_grid(
            &GridRequest {
                dims: Some([n; 3]),
                ..Default::default()
            },
            &opts,
        )
    });
    let mut mask = vec![0u8; n * n * n];
    let (t_mask, _) = best(|| d.inside_mask(&grid, &extent, &mut mask, &opts));
    let inside = mask.iter().filter(|&&m| m == 1).count();
    let mut bufs: Vec<Vec<f32>> = vars
        .iter()
        .map(|&v| vec![0f32; d.resample_value_count(&extent, v).unwrap_or(0)])
        .collect();
    let (t_resample, _) = best(|| {
        let mut outs: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        d.resample_into(&grid, &extent, &vars, None, 0.0, &mut outs, None, &opts)
    });
    println!(
        "resample:  {n}^3 ({inside} inside, {:.1} %): inside mask {t_mask:.3} s ({:.3e} points/s), \
         resample {t_resample:.3} s; the network at every point {t_plain:.3} s: ratio {:.2}",
        100.0 * inside as f64 / mask.len() as f64,
        mask.len() as f64 / t_mask,
        t_resample / t_plain
    );

    for level in [1, 2] {
        let req = MeshRequest {
            level,
            ..MeshRequest::default()
        };
        let (t_refine, view) = best(|| d.mesh_view(&req));
        let view = view?;
        let mut bufs: Vec<Vec<f32>> = vars
            .iter()
            .map(|&v| vec![0f32; d.mesh_value_count(&view.mesh, v).unwrap_or(0)])
            .collect();
        let (t_decode, _) = best(|| {
            let mut outs: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
            d.decode_mesh_into(&view.mesh, &vars, None, &mut outs, &opts)
        });
        println!(
            "refine {level}:  {} nodes, {} cells: refined in {t_refine:.3} s, decoded in {t_decode:.3} s ({:.3e} nodes/s)",
            view.mesh.num_points(),
            view.mesh.num_cells(),
            view.mesh.num_points() as f64 / t_decode
        );
    }
    Ok(())
}
