//! Which MLP fits which block (the paper's Algorithm 1): k-means of the
//! blocks' values, then the cluster sizes made nearly uniform, so that every
//! MLP gets about the same number of similar blocks. The point whose nearest
//! and farthest centroids differ most is placed first, in its nearest
//! cluster that is not yet full.

use tch::{Device, Kind, Tensor};

use inr_core::error::Result;

use crate::tch_error;

/// Lloyd's iterations of the k-means before uniformization.
const ITERATIONS: usize = 10;

/// The MLP (0 .. `k`) of each of the `n` blocks whose values are the rows
/// of `rows` (`[n, d]`), with `ceil(n / k)` blocks at most per MLP; `seed`
/// picks the initial centroids.
pub fn balanced(rows: &[f32], n: usize, k: usize, seed: u64) -> Result<Vec<u32>> {
    let k = k.clamp(1, n.max(1));
    if n == 0 {
        return Ok(Vec::new());
    }
    let d = rows.len() / n;
    let x = Tensor::f_from_slice(rows)
        .and_then(|t| t.f_view([n as i64, d as i64]))
        .map_err(tch_error)?;
    let dist = distances(&x, &kmeans(&x, k, seed)?)?;
    Ok(uniformize(&dist, n, k))
}

/// Centroids `[k, d]` of Lloyd's k-means started from `k` distinct rows.
fn kmeans(x: &Tensor, k: usize, seed: u64) -> Result<Tensor> {
    let n = x.size()[0];
    let _guard = tch::no_grad_guard();
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut picks: Vec<i64> = (0..n).collect();
    // A seeded shuffle (xorshift), so that the file does not depend on
    // libtorch's generator state.
    for i in (1..picks.len()).rev() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        picks.swap(i, (rng % (i as u64 + 1)) as usize);
    }
    let mut c = x.index_select(0, &Tensor::from_slice(&picks[..k]));
    for _ in 0..ITERATIONS {
        let nearest = distance_matrix(x, &c).argmin(1, false);
        let sums = Tensor::zeros(c.size(), (Kind::Float, Device::Cpu)).index_add(0, &nearest, x);
        let counts = Tensor::zeros([k as i64], (Kind::Float, Device::Cpu)).index_add(
            0,
            &nearest,
            &Tensor::ones([n], (Kind::Float, Device::Cpu)),
        );
        let filled = counts.gt(0.0).unsqueeze(1);
        let means = sums / counts.clamp_min(1.0).unsqueeze(1);
        c = means.where_self(&filled, &c);
    }
    Ok(c)
}

/// Squared distances `[n, k]` of every row to every centroid.
fn distance_matrix(x: &Tensor, c: &Tensor) -> Tensor {
    let xx = (x * x).sum_dim_intlist(1, true, Kind::Float);
    let cc = (c * c)
        .sum_dim_intlist(1, true, Kind::Float)
        .transpose(0, 1);
    (xx + cc - x.matmul(&c.transpose(0, 1)) * 2.0).clamp_min(0.0)
}

fn distances(x: &Tensor, c: &Tensor) -> Result<Vec<f32>> {
    let _guard = tch::no_grad_guard();
    Vec::<f32>::try_from(&distance_matrix(x, c).contiguous().view(-1)).map_err(tch_error)
}

/// Algorithm 1's reassignment: `dist` is `[n, k]`, row-major.
fn uniformize(dist: &[f32], n: usize, k: usize) -> Vec<u32> {
    let row = |i: usize| &dist[i * k..(i + 1) * k];
    let gain = |i: usize| {
        let (lo, hi) = row(i)
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &d| {
                (lo.min(d), hi.max(d))
            });
        hi - lo
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| gain(b).total_cmp(&gain(a)).then(a.cmp(&b)));
    let (floor, ceil) = (n / k, n.div_ceil(k));
    let mut size = vec![0usize; k];
    let mut out = vec![0u32; n];
    for i in order {
        let pick = |cap: usize| {
            (0..k)
                .filter(|&j| size[j] < cap)
                .min_by(|&a, &b| row(i)[a].total_cmp(&row(i)[b]))
        };
        let j = pick(floor)
            .or_else(|| pick(ceil))
            .expect("k clusters of ceil(n / k) hold n points");
        size[j] += 1;
        out[i] = j as u32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_are_balanced_and_keep_similar_blocks_together() {
        // Two groups of 6 blocks, far apart: 4 clusters of 3.
        let mut rows = Vec::new();
        for i in 0..12 {
            let base = if i < 6 { 0.0 } else { 100.0 };
            rows.extend([base + i as f32 * 0.1, base]);
        }
        let a = balanced(&rows, 12, 4, 1).unwrap();
        let mut sizes = [0; 4];
        for &c in &a {
            sizes[c as usize] += 1;
        }
        assert_eq!(sizes, [3; 4]);
        for i in 0..12 {
            for j in 0..12 {
                if a[i] == a[j] {
                    assert_eq!(i < 6, j < 6, "{a:?}");
                }
            }
        }
    }

    #[test]
    fn uneven_counts_give_sizes_of_floor_or_ceil() {
        let rows: Vec<f32> = (0..10).map(|i| (i * i) as f32).collect();
        let a = balanced(&rows, 10, 3, 7).unwrap();
        let mut sizes = [0; 3];
        for &c in &a {
            sizes[c as usize] += 1;
        }
        assert!(sizes.iter().all(|&s| (3..=4).contains(&s)), "{sizes:?}");
    }
}
