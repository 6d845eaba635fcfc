//! Where the data varies: a weight per site for the k-means of MC-INR, so
//! that clusters are small where the fields change and large where they
//! hardly do. Every cluster gets a network of the same width, so equal
//! clusters by point count spend most of a budget on regions a tiny
//! network would fit (docs/benchmarks.md). Not in the MC-INR paper, whose
//! k-means is on positions alone; its re-clustering splits the worst
//! clusters after training, which this does before.

use inr_core::format::Association;

use super::Samples;

/// Share of the mean weight every site keeps, so that flat regions still
/// draw some centroids (their clusters would otherwise grow without bound).
const FLOOR: f64 = 0.05;

/// Per site of `samples` (all parts, in order), the variation of the point
/// arrays around it: for a mesh node the mean over its cells, for a cell
/// centroid its cell's, of the sum over steps and components of the
/// range of the (scaled) values over the cell's nodes; plus a floor.
/// `None` without a mesh or point arrays (every site then weighs the same).
pub fn site_weights(samples: &Samples) -> Option<Vec<f64>> {
    let mesh = samples.mesh()?;
    let cells = mesh.num_cells();
    let mut cell = vec![0f64; cells];
    let mut any = false;
    for part in &samples.parts {
        if part.association != Association::Point || part.len() != mesh.num_points() {
            continue;
        }
        any = true;
        let width = part.width(&samples.variables);
        for (c, v) in cell.iter_mut().enumerate() {
            let ids = &mesh.connectivity[mesh.offsets[c] as usize..mesh.offsets[c + 1] as usize];
            for j in 0..width {
                let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
                for &i in ids {
                    let x = part.targets[i as usize * width + j];
                    if x.is_finite() {
                        lo = lo.min(x);
                        hi = hi.max(x);
                    }
                }
                if hi >= lo {
                    *v += (hi - lo) as f64;
                }
            }
        }
    }
    if !any {
        return None;
    }
    let node = node_means(mesh, &cell);
    let mut out = Vec::with_capacity(samples.num_sites());
    for part in &samples.parts {
        let of = match part.association {
            Association::Point => &node,
            Association::Cell => &cell,
        };
        out.extend((0..part.len()).map(|i| of.get(i).copied().unwrap_or(0.0)));
    }
    let mean = out.iter().sum::<f64>() / out.len().max(1) as f64;
    if !(mean.is_finite() && mean > 0.0) {
        return None;
    }
    Some(out.into_iter().map(|w| w + FLOOR * mean).collect())
}

/// Per mesh node, the mean of `per_cell` over the cells that use it.
fn node_means(mesh: &inr_core::mesh::Mesh, per_cell: &[f64]) -> Vec<f64> {
    let mut sum = vec![0f64; mesh.num_points()];
    let mut count = vec![0u32; mesh.num_points()];
    for (c, &v) in per_cell.iter().enumerate() {
        for &i in &mesh.connectivity[mesh.offsets[c] as usize..mesh.offsets[c + 1] as usize] {
            sum[i as usize] += v;
            count[i as usize] += 1;
        }
    }
    sum.iter()
        .zip(&count)
        .map(|(s, &n)| if n > 0 { s / n as f64 } else { 0.0 })
        .collect()
}
