//! NeRVI's convolution kernel against its own GEMM: per layer shape, the
//! banded im2col convolution and one SGEMM of the same dimensions (`cout` x
//! `cin k²` times `cin k²` x `h w`, the im2col matrix made beforehand), both
//! on one thread, best of 5, side by side. The ratio is what im2col, bias
//! and bands cost on top of the arithmetic.
//!
//! cargo run --release -p inr-core --example bench_conv
use std::time::Instant;

use inr_core::kernels::conv::{gelu, pixel_shuffle, Conv};
use inr_core::kernels::gemm::matmul_wx;

fn best_of(n: usize, mut f: impl FnMut()) -> f64 {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn values(n: usize, seed: u32) -> Vec<f32> {
    // A cheap deterministic fill: the timing does not depend on the values.
    (0..n)
        .map(|i| {
            ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) as f32 / 16777216.0 - 0.5
        })
        .collect()
}

fn main() {
    println!("layer (cin -> cout, k, h x w) | conv s | GFLOP/s | SGEMM s | GFLOP/s | conv / SGEMM");
    // Upscale blocks of a 256 x 256 NeRVI (channels before the shuffle) and its head.
    for (cin, cout, k, h, w) in [
        (128, 256, 3, 32, 32),
        (64, 128, 3, 64, 64),
        (32, 64, 3, 128, 128),
        (16, 4, 3, 256, 256),
    ] {
        let conv = Conv { cin, cout, k };
        let input = values(cin * h * w, 1);
        let weight = values(cout * cin * k * k, 2);
        let bias = values(cout, 3);
        let mut out = vec![0.0f32; cout * h * w];
        let t_conv = best_of(5, || conv.apply(&input, h, w, &weight, &bias, &mut out));
        let cols = values(cin * k * k * h * w, 4);
        let t_gemm = best_of(5, || {
            matmul_wx(cout, cin * k * k, h * w, &weight, &cols, &mut out)
        });
        let flop = 2.0 * (cout * cin * k * k * h * w) as f64;
        println!(
            "{cin} -> {cout}, {k}, {h} x {w} | {t_conv:.4} | {:.1} | {t_gemm:.4} | {:.1} | {:.2}",
            flop / t_conv / 1e9,
            flop / t_gemm / 1e9,
            t_conv / t_gemm
        );
    }
    // The other two steps of an upscale block, at the largest map above.
    let (c, r, h, w) = (16, 2, 128, 128);
    let input = values(c * r * r * h * w, 5);
    let mut out = vec![0.0f32; input.len()];
    let t_shuffle = best_of(5, || pixel_shuffle(&input, c, h, w, r, &mut out));
    let t_gelu = best_of(5, || gelu(&mut out));
    let n = input.len() as f64;
    println!(
        "pixel shuffle {c}x{r}² x {h} x {w}: {:.0} Mvalues/s; GELU: {:.0} Mvalues/s",
        n / t_shuffle / 1e6,
        n / t_gelu / 1e6
    );
}
