//! k-means over 3-D points: the spatial clusters of MC-INR (k clusters of a
//! mesh's points, then 2-means inside a cluster that re-clustering splits).
//!
//! k-means++ seeding from a seeded generator, then Lloyd's iterations until
//! no point changes cluster (or an iteration limit). The assignment of a
//! point is its nearest centroid with ties to the lower index, the same rule
//! as the decoder's routing (docs/format.md, section 10.3), so the clusters
//! the encoder trains are the clusters the decoder routes to.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Lloyd's iterations at most.
const MAX_ITERATIONS: usize = 100;

/// The result of a clustering.
#[derive(Clone, Debug, PartialEq)]
pub struct Clusters {
    pub centroids: Vec<[f64; 3]>,
    /// The cluster of each point.
    pub assignment: Vec<u32>,
}

impl Clusters {
    /// Points per cluster.
    pub fn sizes(&self) -> Vec<usize> {
        let mut n = vec![0; self.centroids.len()];
        for &a in &self.assignment {
            n[a as usize] += 1;
        }
        n
    }
}

/// The nearest of `centroids` to `p` (ties to the lower index).
pub fn nearest(centroids: &[[f64; 3]], p: [f64; 3]) -> u32 {
    let mut best = (0u32, f64::INFINITY);
    for (i, c) in centroids.iter().enumerate() {
        let d: f64 = (0..3).map(|a| (p[a] - c[a]) * (p[a] - c[a])).sum();
        if d < best.1 {
            best = (i as u32, d);
        }
    }
    best.0
}

/// Clusters `points` (x, y, z triples) into at most `k` clusters (fewer
/// when there are fewer distinct points; every cluster holds at least one).
pub fn kmeans(points: &[f64], k: usize, seed: u64) -> Clusters {
    weighted_kmeans(points, None, k, seed)
}

/// k-means of points that count `weights` each (all 1 when `None`): the
/// seeding draws and the centroids average by weight, so centroids gather
/// where the weight is, and clusters there are smaller.
pub fn weighted_kmeans(points: &[f64], weights: Option<&[f64]>, k: usize, seed: u64) -> Clusters {
    let pts: Vec<[f64; 3]> = points.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    let ones;
    let w = match weights {
        Some(w) if w.len() == pts.len() => w,
        _ => {
            ones = vec![1.0; pts.len()];
            &ones
        }
    };
    let mut centroids = seeds(&pts, w, k, seed);
    let mut assignment = assign(&pts, &centroids);
    for _ in 0..MAX_ITERATIONS {
        centroids = means(&pts, w, &assignment, &centroids);
        let next = assign(&pts, &centroids);
        let done = next == assignment;
        assignment = next;
        if done {
            break;
        }
    }
    drop_empty(&mut centroids, &mut assignment);
    Clusters {
        centroids,
        assignment,
    }
}

/// k-means++: the first seed uniformly at random, each next one with
/// probability proportional to the squared distance to the nearest seed so
/// far (times its weight); stops early when every point coincides with a
/// seed.
fn seeds(pts: &[[f64; 3]], w: &[f64], k: usize, seed: u64) -> Vec<[f64; 3]> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut centroids = Vec::with_capacity(k);
    if pts.is_empty() || k == 0 {
        return centroids;
    }
    centroids.push(pts[rng.gen_range(0..pts.len())]);
    let d2 = |p: &[f64; 3], c: &[f64; 3]| (0..3).map(|a| (p[a] - c[a]).powi(2)).sum::<f64>();
    let mut nearest: Vec<f64> = pts
        .iter()
        .zip(w)
        .map(|(p, w)| w * d2(p, &centroids[0]))
        .collect();
    while centroids.len() < k {
        let total: f64 = nearest.iter().sum();
        if total <= 0.0 {
            break;
        }
        let mut target = rng.gen_range(0.0..total);
        let mut pick = pts.len() - 1;
        for (i, &d) in nearest.iter().enumerate() {
            if target < d {
                pick = i;
                break;
            }
            target -= d;
        }
        let c = pts[pick];
        centroids.push(c);
        nearest
            .par_iter_mut()
            .zip(pts)
            .zip(w)
            .for_each(|((n, p), w)| *n = n.min(w * d2(p, &c)));
    }
    centroids
}

fn assign(pts: &[[f64; 3]], centroids: &[[f64; 3]]) -> Vec<u32> {
    pts.par_iter().map(|&p| nearest(centroids, p)).collect()
}

/// The weighted mean of each cluster's points (a cluster left empty, or
/// of no weight, keeps its place).
fn means(pts: &[[f64; 3]], w: &[f64], assignment: &[u32], old: &[[f64; 3]]) -> Vec<[f64; 3]> {
    let mut sum = vec![[0.0f64; 3]; old.len()];
    let mut total = vec![0f64; old.len()];
    for ((p, &a), &w) in pts.iter().zip(assignment).zip(w) {
        for k in 0..3 {
            sum[a as usize][k] += w * p[k];
        }
        total[a as usize] += w;
    }
    sum.iter()
        .zip(&total)
        .zip(old)
        .map(|((s, &t), o)| if t > 0.0 { s.map(|v| v / t) } else { *o })
        .collect()
}

/// Removes clusters without points, renumbering the others in order.
fn drop_empty(centroids: &mut Vec<[f64; 3]>, assignment: &mut [u32]) {
    let mut count = vec![0usize; centroids.len()];
    for &a in assignment.iter() {
        count[a as usize] += 1;
    }
    let mut new_index = vec![0u32; centroids.len()];
    let mut kept = Vec::new();
    for (i, c) in centroids.iter().enumerate() {
        if count[i] > 0 {
            new_index[i] = kept.len() as u32;
            kept.push(*c);
        }
    }
    for a in assignment.iter_mut() {
        *a = new_index[*a as usize];
    }
    *centroids = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three well separated blobs.
    fn blobs() -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut pts = Vec::new();
        for c in [[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 5.0]] {
            for _ in 0..200 {
                for x in c {
                    pts.push(x + rng.gen_range(-1.0..1.0));
                }
            }
        }
        pts
    }

    #[test]
    fn finds_separated_blobs() {
        let pts = blobs();
        let c = kmeans(&pts, 3, 7);
        assert_eq!(c.centroids.len(), 3);
        assert_eq!(c.sizes(), vec![200, 200, 200]);
        // Each blob is one cluster, and assignments follow the nearest centroid.
        for b in 0..3 {
            let first = c.assignment[200 * b];
            assert!(c.assignment[200 * b..200 * (b + 1)]
                .iter()
                .all(|&a| a == first));
        }
        for (p, &a) in pts.chunks(3).zip(&c.assignment) {
            assert_eq!(nearest(&c.centroids, [p[0], p[1], p[2]]), a);
        }
    }

    #[test]
    fn same_seed_same_clusters_and_degenerate_inputs() {
        let pts = blobs();
        assert_eq!(kmeans(&pts, 5, 3), kmeans(&pts, 5, 3));
        // Fewer distinct points than clusters: one cluster per point.
        let two = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        let c = kmeans(&two, 5, 1);
        assert_eq!(c.centroids.len(), 2);
        assert_eq!(c.assignment[0], c.assignment[2]);
        assert!(kmeans(&[], 3, 1).centroids.is_empty());
        // Ties go to the lower index, as the decoder's routing.
        assert_eq!(nearest(&[[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]], [0.0; 3]), 0);
    }

    /// Heavy points draw centroids: on a line whose first quarter weighs
    /// 100 times the rest, half the clusters or more lie in that quarter
    /// (a quarter of them without weights), and no weights is all ones.
    #[test]
    fn weights_draw_centroids() {
        let pts: Vec<f64> = (0..1000)
            .flat_map(|i| [i as f64 / 999.0, 0.0, 0.0])
            .collect();
        let w: Vec<f64> = (0..1000)
            .map(|i| if i < 250 { 100.0 } else { 1.0 })
            .collect();
        let in_quarter = |c: &Clusters| c.centroids.iter().filter(|c| c[0] < 0.25).count();
        let plain = kmeans(&pts, 8, 2);
        let heavy = weighted_kmeans(&pts, Some(&w), 8, 2);
        assert!(in_quarter(&plain) <= 3, "{:?}", plain.centroids);
        assert!(in_quarter(&heavy) >= 4, "{:?}", heavy.centroids);
        assert_eq!(weighted_kmeans(&pts, Some(&[1.0; 1000]), 8, 2), plain);
        for (p, &a) in pts.chunks(3).zip(&heavy.assignment) {
            assert_eq!(nearest(&heavy.centroids, [p[0], p[1], p[2]]), a);
        }
    }
}
