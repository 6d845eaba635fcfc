//! The one GEMM entry point of the decoder, so the library behind it can be
//! swapped in one place. `matrixmultiply` packs panels and runs AVX2/FMA
//! micro-kernels chosen at run time; we call it single-threaded per tile and
//! parallelize over tiles, which keeps each tile's activations in one core's cache.

use super::narrow::{matmul_narrow, prefers_narrow};

/// `c[m x n] = w[m x k] * x[k x n]`, all row-major: a layer's weights
/// (PyTorch's `[out_features, in_features]`) times feature-major activations.
/// Narrow layers go to a direct kernel (`narrow`), the rest to the GEMM.
pub fn matmul_wx(m: usize, k: usize, n: usize, w: &[f32], x: &[f32], c: &mut [f32]) {
    if prefers_narrow(m, k) {
        matmul_narrow(m, k, n, w, x, c)
    } else {
        matmul(m, k, n, w, x, c)
    }
}

/// Plain `c[m x n] = a[m x k] * b[k x n]`, all row-major: the baseline for the
/// benchmark's "large square SGEMM" figure.
pub fn matmul(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "matmul: buffer too small"
    );
    // SAFETY: as in `matmul_wt`: bounds checked above, `c` is unique.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}
