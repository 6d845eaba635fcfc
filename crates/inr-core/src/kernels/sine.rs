//! A vectorizable single-precision sine and the fused element-wise passes of
//! sine layers. `f32::sin` calls libm one value at a time; this version is
//! branch-free so the compiler turns the loops into SIMD code, and
//! `multiversion` compiles them for AVX-512, AVX2 and SSE, picked at run time.
//!
//! Every operation is a plain IEEE add or multiply (Rust never contracts them
//! into FMAs), so vector lanes and the scalar tail give identical bits: a
//! point's value does not depend on where it falls in a tile.

use multiversion::multiversion;

/// Rounds to the nearest integer for |x| < 2^22 by the float-add trick; the
/// lowest mantissa bit of `x + MAGIC` is then the parity of that integer.
const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
const INV_PI: f32 = std::f32::consts::FRAC_1_PI;
// pi split in three (Cody-Waite) so that k * PI_A is exact for |k| < 2^16.
// The digits are those of the exact binary values (Cephes' split of pi/4, x4).
const PI_A: f32 = 3.140_625;
#[allow(clippy::excessive_precision)]
const PI_B: f32 = 9.675_025_939_941_406e-4;
#[allow(clippy::excessive_precision)]
const PI_C: f32 = 1.509_957_990_978_376_4e-7;
// Taylor coefficients of sin on [-pi/2, pi/2]; the degree-11 truncation error
// is below 6e-8, under half an f32 ulp of 1.
const S3: f32 = -1.0 / 6.0;
const S5: f32 = 1.0 / 120.0;
const S7: f32 = -1.0 / 5040.0;
const S9: f32 = 1.0 / 362_880.0;
const S11: f32 = -1.0 / 39_916_800.0;

/// sin(x), absolute error about 1e-7 for |x| < 2^16 (model pre-activations
/// stay far below); larger arguments lose accuracy but stay finite.
#[inline(always)]
pub fn sin(x: f32) -> f32 {
    let t = x * INV_PI + MAGIC;
    let odd = t.to_bits() << 31;
    let k = t - MAGIC;
    let r = ((x - k * PI_A) - k * PI_B) - k * PI_C;
    let r2 = r * r;
    let p = S9 + r2 * S11;
    let p = S7 + r2 * p;
    let p = S5 + r2 * p;
    let p = S3 + r2 * p;
    let s = r + r * r2 * p;
    f32::from_bits(s.to_bits() ^ odd)
}

/// Points per row of feature-major activations with one row per bias.
fn row_len(len: usize, rows: usize) -> usize {
    (len / rows.max(1)).max(1)
}

/// `v = sin(v + bias[row])` over feature-major activations: `bias.len()`
/// rows (features) of equal length (points).
#[multiversion(targets(
    "x86_64+avx512f+avx512vl",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
pub fn bias_sin(values: &mut [f32], bias: &[f32]) {
    let n = row_len(values.len(), bias.len());
    for (row, &b) in values.chunks_exact_mut(n).zip(bias) {
        for v in row.iter_mut() {
            *v = sin(*v + b);
        }
    }
}

/// The residual update `x = 0.5 * (x + sin(g + bias[row]))`, feature-major.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
pub fn bias_sin_residual(x: &mut [f32], g: &[f32], bias: &[f32]) {
    let n = row_len(x.len(), bias.len());
    for ((xr, gr), &b) in x.chunks_exact_mut(n).zip(g.chunks_exact(n)).zip(bias) {
        for (xv, gv) in xr.iter_mut().zip(gr) {
            *xv = 0.5 * (*xv + sin(gv + b));
        }
    }
}

/// `v = v + bias[row]` (linear layers), feature-major.
pub fn add_bias(values: &mut [f32], bias: &[f32]) {
    let n = row_len(values.len(), bias.len());
    for (row, &b) in values.chunks_exact_mut(n).zip(bias) {
        for v in row.iter_mut() {
            *v += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_over_the_working_range() {
        let mut worst = 0f64;
        let mut x = -2000.0f32;
        while x < 2000.0 {
            worst = worst.max((sin(x) as f64 - (x as f64).sin()).abs());
            x += 0.0137;
        }
        assert!(worst < 4e-7, "max abs error {worst}");
    }

    #[test]
    fn simd_and_scalar_paths_agree_bitwise() {
        let bias: Vec<f32> = (0..7).map(|i| i as f32 * 0.3).collect();
        let input: Vec<f32> = (0..7 * 13).map(|i| (i as f32 * 1.7).cos() * 40.0).collect();
        let mut fast = input.clone();
        bias_sin(&mut fast, &bias);
        for (i, v) in fast.iter().enumerate() {
            assert_eq!(v.to_bits(), sin(input[i] + bias[i / 13]).to_bits());
        }
    }
}
