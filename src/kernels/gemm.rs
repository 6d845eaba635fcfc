//! The one GEMM entry point of the decoder, so the library behind it can be
//! swapped in one place. `matrixmultiply` packs panels and runs AVX2/FMA
//! micro-kernels chosen at run time; we call it single-threaded per tile and
//! parallelize over tiles, which keeps each tile's activations in one core's cache.

/// `c[m x n] = a[m x k] * w^T`, with `w` row-major `[n x k]` (PyTorch's
/// `[out_features, in_features]` layout) and `a`, `c` row-major.
pub fn matmul_wt(m: usize, k: usize, n: usize, a: &[f32], w: &[f32], c: &mut [f32]) {
    assert!(
        a.len() >= m * k && w.len() >= n * k && c.len() >= m * n,
        "matmul_wt: buffer too small"
    );
    // SAFETY: the assertion above guarantees that every element addressed by
    // the given shapes and strides lies inside the three slices, and `c` is
    // a unique borrow, so it does not alias `a` or `w`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            w.as_ptr(),
            1,
            k as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
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
