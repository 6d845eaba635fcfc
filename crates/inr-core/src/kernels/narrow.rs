//! A direct kernel for narrow layers: `c[m x n] = w[m x k] * x[k x n]` when
//! the layer is small (a few tens of features), without packing.
//!
//! For such shapes a general GEMM spends as long packing its operands as
//! multiplying, and its 16-row AVX-512 blocks waste most of a block on a
//! width of 17 or 49 (docs/benchmarks.md). Here each block of 4 output rows
//! x 64 points stays in 16 vector registers while the `k` inputs stream
//! past, so nothing is copied.
//!
//! Every output is `sum_k w[r, k] * x[k, t]` accumulated in `k` order with
//! fused multiply-adds, the same in every lane, block and edge: a point's
//! value does not depend on where it falls in a tile.

use multiversion::multiversion;

/// Points per block: four AVX-512 registers.
const NB: usize = 64;
/// Output rows per block.
const MB: usize = 4;

/// Whether the direct kernel beats the general GEMM for an `m x k` layer:
/// few inputs (the first layer), or few inputs and outputs (the bounds
/// measured on trained models, docs/benchmarks.md).
pub fn prefers_narrow(m: usize, k: usize) -> bool {
    k <= 8 || (m <= 32 && k <= 32)
}

/// `c[m x n] = w[m x k] * x[k x n]`, all row-major.
pub fn matmul_narrow(m: usize, k: usize, n: usize, w: &[f32], x: &[f32], c: &mut [f32]) {
    assert!(
        w.len() >= m * k && x.len() >= k * n && c.len() >= m * n,
        "matmul_narrow: buffer too small"
    );
    kernel(m, k, n, w, x, c);
}

#[multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
fn kernel(m: usize, k: usize, n: usize, w: &[f32], x: &[f32], c: &mut [f32]) {
    let mut t0 = 0;
    while t0 < n {
        let nb = NB.min(n - t0);
        let mut r0 = 0;
        while r0 < m {
            let mb = MB.min(m - r0);
            if nb == NB && mb == MB {
                full_block(r0, t0, k, n, w, x, c);
            } else {
                edge_block(r0, mb, t0, nb, k, n, w, x, c);
            }
            r0 += mb;
        }
        t0 += nb;
    }
}

/// A whole MB x NB block: constant bounds, so the accumulators live in
/// registers.
#[inline(always)]
fn full_block(r0: usize, t0: usize, k: usize, n: usize, w: &[f32], x: &[f32], c: &mut [f32]) {
    let mut acc = [[0f32; NB]; MB];
    for kk in 0..k {
        let xr: &[f32; NB] = x[kk * n + t0..kk * n + t0 + NB]
            .try_into()
            .expect("a block of NB points");
        for (r, row) in acc.iter_mut().enumerate() {
            let wv = w[(r0 + r) * k + kk];
            for (a, &xv) in row.iter_mut().zip(xr) {
                *a = wv.mul_add(xv, *a);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        let at = (r0 + r) * n + t0;
        c[at..at + NB].copy_from_slice(row);
    }
}

/// The rest: fewer rows or points, the same arithmetic.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn edge_block(
    r0: usize,
    mb: usize,
    t0: usize,
    nb: usize,
    k: usize,
    n: usize,
    w: &[f32],
    x: &[f32],
    c: &mut [f32],
) {
    for r in r0..r0 + mb {
        let out = &mut c[r * n + t0..r * n + t0 + nb];
        out.fill(0.0);
        for kk in 0..k {
            let wv = w[r * k + kk];
            let xr = &x[kk * n + t0..kk * n + t0 + nb];
            for (a, &xv) in out.iter_mut().zip(xr) {
                *a = wv.mul_add(xv, *a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_f64_product_and_is_position_independent() {
        let (m, k, n) = (19, 17, 517);
        let w: Vec<f32> = (0..m * k)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 37.0)
            .collect();
        let x: Vec<f32> = (0..k * n)
            .map(|i| ((i * 53 % 97) as f32 - 48.0) / 29.0)
            .collect();
        let mut c = vec![0f32; m * n];
        matmul_narrow(m, k, n, &w, &x, &mut c);
        for r in 0..m {
            for t in 0..n {
                let exact: f64 = (0..k)
                    .map(|kk| f64::from(w[r * k + kk]) * f64::from(x[kk * n + t]))
                    .sum();
                assert!((f64::from(c[r * n + t]) - exact).abs() < 1e-4, "({r}, {t})");
            }
        }
        // The same columns decoded in a tile of another size give the same bits.
        let (t0, nn) = (70, 3);
        let xs: Vec<f32> = (0..k)
            .flat_map(|kk| x[kk * n + t0..kk * n + t0 + nn].to_vec())
            .collect();
        let mut cs = vec![0f32; m * nn];
        matmul_narrow(m, k, nn, &w, &xs, &mut cs);
        for r in 0..m {
            assert_eq!(&cs[r * nn..(r + 1) * nn], &c[r * n + t0..r * n + t0 + nn]);
        }
    }
}
