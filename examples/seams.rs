//! The error of an MC-INR file near its cluster borders and away from them,
//! where seams would show: at the mesh's nodes and at the points of a
//! regular grid inside the mesh (a resampled image), against the source
//! data (at grid points, its linear interpolation in the tetrahedron that
//! holds the point, which is what VTK's probe filter gives).
//!
//! A point is *near a border* when, at some level of its route down the
//! cluster tree, the second nearest sibling centroid is less than BAND
//! farther than the nearest (the band of a blend of width BAND). Run it on
//! files encoded with and without `--blend-width` at the same ratio, with
//! the same BAND, to compare the seam error. It also prints each cluster's
//! MSE at the nodes routed to it, in the encoder's scaled units (each
//! component's range mapped to 2), to set beside the report's
//! `cluster_mse` before quantization: where the file's error is.
//!
//! Usage: cargo run --release --example seams -- FILE.inr SOURCE.vtu|.pvd BAND [GRID]
//! (GRID points along each axis of the grid over the mesh bounds, default
//! 64). Point variables only; grid points are located in tetrahedra only.

use std::path::Path;

use inr::decode::{DecodeOptions, Decoder};
use inr::mesh::locate::CellLocator;
use inr::mesh::Mesh;
use inr::model::mc_inr::ClusterTree;
use inr::model::McInr;
use inr::PointTimes;
use inr_vtk::vtkxml::{self, Dataset};

const VTK_TETRA: u8 = 10;

fn main() -> inr::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: seams FILE.inr SOURCE.vtu|.pvd BAND [GRID]");
        std::process::exit(2);
    }
    let d = Decoder::open(&args[0])?;
    let band: f64 = args[2].parse().expect("BAND is a number");
    let grid: usize = args
        .get(3)
        .map_or(64, |s| s.parse().expect("GRID is a count"));
    let Some(model) = d.model().get::<McInr>() else {
        eprintln!("{}: not an MC-INR file", args[0]);
        std::process::exit(2);
    };
    let steps = source_steps(Path::new(&args[1]))?;
    let mesh = d.mesh()?.clone();
    let meta = d.metadata().clone();
    let opts = DecodeOptions {
        threads: 0,
        ..Default::default()
    };
    let vars: Vec<usize> = (0..meta.variables.len()).collect();
    let comps = meta.total_components();
    let ranges: Vec<f64> = meta
        .variables
        .iter()
        .map(|v| {
            let lo = v.range.iter().map(|r| r[0]).fold(f64::INFINITY, f64::min);
            let hi = v
                .range
                .iter()
                .map(|r| r[1])
                .fold(f64::NEG_INFINITY, f64::max);
            hi - lo
        })
        .collect();

    // The points: the nodes, then the grid points inside the mesh.
    let nodes = mesh.points.clone();
    let (grid_points, grid_cells) = grid_inside(&mesh, grid);
    let near = |pts: &[f64]| -> Vec<bool> {
        pts.chunks_exact(3)
            .map(|p| border_gap(&model.tree, [p[0], p[1], p[2]]) < band)
            .collect()
    };
    let node_near = near(&nodes);
    let grid_near = near(&grid_points);
    println!(
        "{}: {} clusters, blend width {}; band {band}: {} of {} nodes and {} of {} grid points ({grid}^3, inside) near borders",
        args[0],
        model.leaves.len(),
        model.blend_width,
        node_near.iter().filter(|&&b| b).count(),
        node_near.len(),
        grid_near.iter().filter(|&&b| b).count(),
        grid_near.len(),
    );

    let node_leaf: Vec<u32> = nodes
        .chunks_exact(3)
        .map(|p| model.tree.leaf_of([p[0], p[1], p[2]]))
        .collect();
    let mut per_leaf = vec![(0f64, 0f64); model.leaves.len()];
    let mut node_err = Errors::new(vars.len());
    let mut grid_err = Errors::new(vars.len());
    for (t, data) in &steps {
        let time = meta.time.as_ref().map(|_| *t);
        let truth = node_truth(data, &meta.variables)?;
        let mut out = vec![0f32; nodes.len() / 3 * comps];
        d.evaluate(&nodes, PointTimes::Fixed(time), &vars, &mut out, &opts)?;
        node_err.add(&out, &truth, &node_near, &meta.variables);
        add_per_leaf(
            &mut per_leaf,
            &node_leaf,
            &out,
            &truth,
            &meta.variables,
            &ranges,
        );
        let gtruth = interpolate(&mesh, &truth, comps, &grid_points, &grid_cells);
        let mut gout = vec![0f32; grid_points.len() / 3 * comps];
        d.evaluate(
            &grid_points,
            PointTimes::Fixed(time),
            &vars,
            &mut gout,
            &opts,
        )?;
        grid_err.add(&gout, &gtruth, &grid_near, &meta.variables);
    }
    for (what, e) in [("nodes", &node_err), ("grid", &grid_err)] {
        if what == "grid" && grid_near.is_empty() {
            println!("grid: no grid point lies in a tetrahedron");
            continue;
        }
        let (near, far) = e.mean_psnr(&ranges);
        println!(
            "{what}: mean PSNR near borders {near:.2} dB, away from them {far:.2} dB (near - away {:+.2} dB)",
            near - far
        );
    }
    print_per_leaf(&per_leaf);
    Ok(())
}

/// Adds each node's squared error, in the encoder's scaled units (each
/// component's range mapped to 2), to its leaf's sum.
fn add_per_leaf(
    per_leaf: &mut [(f64, f64)],
    leaf: &[u32],
    out: &[f32],
    truth: &[f64],
    variables: &[inr::format::Variable],
    ranges: &[f64],
) {
    let comps: usize = variables.iter().map(|v| v.components as usize).sum();
    for (p, &l) in leaf.iter().enumerate() {
        let mut col = 0;
        for (v, var) in variables.iter().enumerate() {
            for k in 0..var.components as usize {
                let e = 2.0 * (out[p * comps + col + k] as f64 - truth[p * comps + col + k])
                    / ranges[v];
                per_leaf[l as usize].0 += e * e;
                per_leaf[l as usize].1 += 1.0;
            }
            col += var.components as usize;
        }
    }
}

/// Each leaf's MSE at the nodes routed to it, and its share of the total
/// squared error: where the error of the file is.
fn print_per_leaf(per_leaf: &[(f64, f64)]) {
    let total: f64 = per_leaf.iter().map(|l| l.0).sum();
    println!("per cluster, at the nodes routed to it (scaled units): values, MSE, share of the squared error");
    for (i, &(sum, n)) in per_leaf.iter().enumerate() {
        println!(
            "  #{i}: {n:.0} values, MSE {:.3e}, {:.1} %",
            sum / n.max(1.0),
            100.0 * sum / total.max(f64::MIN_POSITIVE)
        );
    }
}

/// Each step of the source (time, dataset); one step for a `.vtu`.
fn source_steps(path: &Path) -> inr::Result<Vec<(f64, Dataset)>> {
    if path.extension().is_some_and(|e| e == "pvd") {
        Ok(vtkxml::read_series(path)?.steps)
    } else {
        Ok(vec![(0.0, vtkxml::read(path)?)])
    }
}

/// The smallest gap, over the levels of `p`'s route, between the nearest
/// and the second nearest sibling centroid (infinite for a lone cluster).
fn border_gap(tree: &ClusterTree, p: [f64; 3]) -> f64 {
    let dist = |n: u32| {
        let c = tree.centroids[n as usize];
        ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2)).sqrt()
    };
    let mut gap = f64::INFINITY;
    let mut level: &[u32] = &tree.roots;
    loop {
        let mut d: Vec<(f64, u32)> = level.iter().map(|&n| (dist(n), n)).collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if d.len() > 1 {
            gap = gap.min(d[1].0 - d[0].0);
        }
        let next = &tree.children[d[0].1 as usize];
        if next.is_empty() {
            return gap;
        }
        level = next;
    }
}

/// The source's node values of the file's variables, interleaved per node.
fn node_truth(data: &Dataset, variables: &[inr::format::Variable]) -> inr::Result<Vec<f64>> {
    let n = data.grid.num_points();
    let comps: usize = variables.iter().map(|v| v.components as usize).sum();
    let mut out = vec![0f64; n * comps];
    let mut col = 0;
    for v in variables {
        let a = data
            .array(&v.name)
            .filter(|a| a.values.len() == n * a.components)
            .ok_or_else(|| {
                inr::Error::InvalidArgument(format!("no point array {} in the source", v.name))
            })?;
        for i in 0..n {
            for k in 0..a.components {
                out[i * comps + col + k] = a.values[i * a.components + k];
            }
        }
        col += a.components;
    }
    Ok(out)
}

/// The points of a `n`^3 grid over the mesh bounds that lie in a
/// tetrahedron, and that tetrahedron.
fn grid_inside(mesh: &Mesh, n: usize) -> (Vec<f64>, Vec<usize>) {
    let b = mesh.bounds();
    let locator = CellLocator::new(mesh);
    let (mut pts, mut cells) = (Vec::new(), Vec::new());
    let at = |a: usize, i: usize| b[2 * a] + (b[2 * a + 1] - b[2 * a]) * i as f64 / (n - 1) as f64;
    for k in 0..n {
        for j in 0..n {
            for i in 0..n {
                let p = [at(0, i), at(1, j), at(2, k)];
                if let Some(c) = locator.find_cell(mesh, p) {
                    if mesh.types[c] == VTK_TETRA {
                        pts.extend(p);
                        cells.push(c);
                    }
                }
            }
        }
    }
    (pts, cells)
}

/// Linear interpolation of the node values in each point's tetrahedron.
fn interpolate(
    mesh: &Mesh,
    values: &[f64],
    comps: usize,
    pts: &[f64],
    cells: &[usize],
) -> Vec<f64> {
    let mut out = vec![0f64; cells.len() * comps];
    for (q, (&c, p)) in cells.iter().zip(pts.chunks_exact(3)).enumerate() {
        let ids = &mesh.connectivity[mesh.offsets[c] as usize..mesh.offsets[c + 1] as usize];
        let x = |i: usize| {
            let o = 3 * ids[i] as usize;
            [mesh.points[o], mesh.points[o + 1], mesh.points[o + 2]]
        };
        let w = barycentric([x(0), x(1), x(2), x(3)], [p[0], p[1], p[2]]);
        for (i, &wi) in w.iter().enumerate() {
            let node = ids[i] as usize;
            for k in 0..comps {
                out[q * comps + k] += wi * values[node * comps + k];
            }
        }
    }
    out
}

fn barycentric(v: [[f64; 3]; 4], p: [f64; 3]) -> [f64; 4] {
    let sub = |a: [f64; 3], b: [f64; 3]| [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    let det = |a: [f64; 3], b: [f64; 3], c: [f64; 3]| {
        a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
            + a[2] * (b[0] * c[1] - b[1] * c[0])
    };
    let (e1, e2, e3, r) = (
        sub(v[1], v[0]),
        sub(v[2], v[0]),
        sub(v[3], v[0]),
        sub(p, v[0]),
    );
    let vol = det(e1, e2, e3);
    let l1 = det(r, e2, e3) / vol;
    let l2 = det(e1, r, e3) / vol;
    let l3 = det(e1, e2, r) / vol;
    [1.0 - l1 - l2 - l3, l1, l2, l3]
}

/// Squared errors per variable, near borders and away from them.
struct Errors {
    sum: Vec<[f64; 2]>,
    count: Vec<[f64; 2]>,
}

impl Errors {
    fn new(vars: usize) -> Errors {
        Errors {
            sum: vec![[0.0; 2]; vars],
            count: vec![[0.0; 2]; vars],
        }
    }

    fn add(
        &mut self,
        out: &[f32],
        truth: &[f64],
        near: &[bool],
        variables: &[inr::format::Variable],
    ) {
        let comps: usize = variables.iter().map(|v| v.components as usize).sum();
        for (p, &is_near) in near.iter().enumerate() {
            let side = usize::from(!is_near);
            let mut col = 0;
            for (v, var) in variables.iter().enumerate() {
                for k in 0..var.components as usize {
                    let e = out[p * comps + col + k] as f64 - truth[p * comps + col + k];
                    self.sum[v][side] += e * e;
                    self.count[v][side] += 1.0;
                }
                col += var.components as usize;
            }
        }
    }

    /// Mean over the variables of the PSNR near borders and away from them.
    fn mean_psnr(&self, ranges: &[f64]) -> (f64, f64) {
        let mut psnr = [0.0; 2];
        for (v, r) in ranges.iter().enumerate() {
            for (side, p) in psnr.iter_mut().enumerate() {
                let mse = self.sum[v][side] / self.count[v][side].max(1.0);
                *p += 20.0 * r.log10() - 10.0 * mse.log10();
            }
        }
        let n = ranges.len() as f64;
        (psnr[0] / n, psnr[1] / n)
    }
}
