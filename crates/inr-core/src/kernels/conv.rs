//! Image kernels of NeRVI's upscale blocks (docs/format.md, section 10.6): a
//! 2-D convolution (stride 1, zero padding that keeps the size), the pixel
//! shuffle, and the exact GELU. Feature maps are channel-major `[C, H, W]`.

use multiversion::multiversion;

use super::gemm::matmul_wx;

/// Output rows per band: the band's im2col buffer (`cin × k² × rows × w`
/// values) stays bounded whatever the image size.
const BAND_VALUES: usize = 1 << 21;

/// The shape of one convolution layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    pub cin: usize,
    pub cout: usize,
    /// Odd kernel size `k` (weights `[cout, cin, k, k]`); padding `k / 2`.
    pub k: usize,
}

impl Conv {
    /// `out[cout, h, w] = weight ⊛ input[cin, h, w] + bias`, computed band by
    /// band of output rows as one GEMM each (im2col).
    pub fn apply(
        &self,
        input: &[f32],
        h: usize,
        w: usize,
        weight: &[f32],
        bias: &[f32],
        out: &mut [f32],
    ) {
        self.apply_rows(input, h, w, weight, bias, 0..h, out);
    }

    /// Output rows `rows` only, into `out[cout, rows.len(), w]`: a thread's
    /// share when the layer has too few output channels to split.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_rows(
        &self,
        input: &[f32],
        h: usize,
        w: usize,
        weight: &[f32],
        bias: &[f32],
        rows: std::ops::Range<usize>,
        out: &mut [f32],
    ) {
        let Conv { cin, cout, k } = *self;
        let m = rows.len();
        assert!(k % 2 == 1, "conv: even kernel size {k}");
        assert!(
            input.len() == cin * h * w && out.len() == cout * m * w && rows.end <= h,
            "conv: feature map sizes"
        );
        assert!(
            weight.len() == cout * cin * k * k && bias.len() == cout,
            "conv: weight sizes"
        );
        if m == 0 || w == 0 {
            return;
        }
        let band_rows = (BAND_VALUES / (cin * k * k * w).max(1)).clamp(1, m);
        let mut cols = vec![0.0f32; cin * k * k * band_rows * w];
        let mut band = vec![0.0f32; cout * band_rows * w];
        for y0 in rows.clone().step_by(band_rows) {
            let n = band_rows.min(rows.end - y0) * w;
            self.im2col(input, h, w, y0, n / w, &mut cols[..cin * k * k * n]);
            matmul_wx(
                cout,
                cin * k * k,
                n,
                weight,
                &cols[..cin * k * k * n],
                &mut band[..cout * n],
            );
            for (o, b) in bias.iter().enumerate() {
                let dst = &mut out[o * m * w + (y0 - rows.start) * w..][..n];
                for (d, s) in dst.iter_mut().zip(&band[o * n..(o + 1) * n]) {
                    *d = s + b;
                }
            }
        }
    }

    /// Rows `(c, dy, dx)` of the im2col matrix for output rows `y0..y0 +
    /// rows`: the input shifted by `(dy, dx) - k / 2`, zero outside.
    fn im2col(&self, input: &[f32], h: usize, w: usize, y0: usize, rows: usize, cols: &mut [f32]) {
        let (k, pad) = (self.k, (self.k / 2) as isize);
        for c in 0..self.cin {
            let plane = &input[c * h * w..(c + 1) * h * w];
            for dy in 0..k {
                for dx in 0..k {
                    let row = &mut cols[((c * k + dy) * k + dx) * rows * w..][..rows * w];
                    for r in 0..rows {
                        let y = (y0 + r) as isize + dy as isize - pad;
                        let dst = &mut row[r * w..(r + 1) * w];
                        if y < 0 || y >= h as isize {
                            dst.fill(0.0);
                            continue;
                        }
                        let src = &plane[y as usize * w..(y as usize + 1) * w];
                        shifted_copy(src, dst, dx as isize - pad);
                    }
                }
            }
        }
    }
}

/// `dst[x] = src[x + shift]`, zero where that falls outside `src`.
fn shifted_copy(src: &[f32], dst: &mut [f32], shift: isize) {
    let w = src.len() as isize;
    let lo = (-shift).clamp(0, w) as usize;
    let hi = (w - shift).clamp(0, w) as usize;
    dst[..lo].fill(0.0);
    dst[hi.max(lo)..].fill(0.0);
    if lo < hi {
        let s = (lo as isize + shift) as usize;
        dst[lo..hi].copy_from_slice(&src[s..s + (hi - lo)]);
    }
}

/// PyTorch's `PixelShuffle(r)`: `[c r², h, w]` into `[c, h r, w r]`, with
/// `out[c, y r + i, x r + j] = in[c r² + i r + j, y, x]`.
pub fn pixel_shuffle(input: &[f32], c: usize, h: usize, w: usize, r: usize, out: &mut [f32]) {
    assert!(
        input.len() == c * r * r * h * w && out.len() == input.len(),
        "pixel_shuffle: sizes"
    );
    let (oh, ow) = (h * r, w * r);
    for ch in 0..c {
        for i in 0..r {
            for j in 0..r {
                let plane = &input[((ch * r + i) * r + j) * h * w..][..h * w];
                for y in 0..h {
                    let dst = &mut out[ch * oh * ow + (y * r + i) * ow..][..ow];
                    for (x, v) in plane[y * w..(y + 1) * w].iter().enumerate() {
                        dst[x * r + j] = *v;
                    }
                }
            }
        }
    }
}

/// The exact GELU, `x Φ(x) = x (1 + erf(x / √2)) / 2`, in place, to a few
/// 1e-7 relative (4e-6 in the far negative tail, where it is below 1e-3):
/// branch-free so that it vectorizes (libm's erf, one value
/// at a time, took as long as a convolution).
#[multiversion(targets(
    "x86_64+avx512f+avx512vl",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
pub fn gelu(values: &mut [f32]) {
    for v in values.iter_mut() {
        *v *= normal_cdf(*v);
    }
}

/// Φ(x) from erfc(|x| / √2) (Numerical Recipes' `erfcc`, fractional error
/// below 1.2e-7), so that the far negative tail keeps its relative accuracy.
/// The coefficients are the published ones, rounded to f32 by the compiler.
#[inline(always)]
#[allow(clippy::excessive_precision)]
fn normal_cdf(x: f32) -> f32 {
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let p = 0.170_872_77f32;
    let p = -0.822_152_23 + t * p;
    let p = 1.488_515_87 + t * p;
    let p = -1.135_203_98 + t * p;
    let p = 0.278_868_07 + t * p;
    let p = -0.186_288_06 + t * p;
    let p = 0.096_784_18 + t * p;
    let p = 0.374_091_96 + t * p;
    let p = 1.000_023_68 + t * p;
    let p = -1.265_512_23 + t * p;
    let half_erfc = 0.5 * t * exp(p - z * z);
    if x < 0.0 {
        half_erfc
    } else {
        1.0 - half_erfc
    }
}

/// e^x for x <= 0 (Cody-Waite reduction by ln 2, a degree-6 polynomial on
/// [-ln2/2, ln2/2], the power of two put into the exponent bits); 0 below
/// -87, where f32 would go subnormal.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23: rounds to an integer
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.max(-87.0);
    let k = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = 1.0 / 720.0f32;
    let p = 1.0 / 120.0 + r * p;
    let p = 1.0 / 24.0 + r * p;
    let p = 1.0 / 6.0 + r * p;
    let p = 0.5 + r * p;
    let p = 1.0 + r * p;
    let p = 1.0 + r * p;
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
    }

    /// The convolution by its definition, in f64.
    fn direct(
        conv: Conv,
        input: &[f32],
        h: usize,
        w: usize,
        weight: &[f32],
        bias: &[f32],
    ) -> Vec<f64> {
        let Conv { cin, cout, k } = conv;
        let pad = (k / 2) as isize;
        let mut out = vec![0.0; cout * h * w];
        for o in 0..cout {
            for y in 0..h {
                for x in 0..w {
                    let mut s = bias[o] as f64;
                    for c in 0..cin {
                        for dy in 0..k {
                            for dx in 0..k {
                                let (yy, xx) = (
                                    y as isize + dy as isize - pad,
                                    x as isize + dx as isize - pad,
                                );
                                if yy >= 0 && yy < h as isize && xx >= 0 && xx < w as isize {
                                    let wv = weight[((o * cin + c) * k + dy) * k + dx] as f64;
                                    s += wv * input[(c * h + yy as usize) * w + xx as usize] as f64;
                                }
                            }
                        }
                    }
                    out[(o * h + y) * w + x] = s;
                }
            }
        }
        out
    }

    #[test]
    fn convolution_equals_its_definition() {
        // Shapes that cross bands, thin images, 1x1 and 5x5 kernels.
        for (cin, cout, k, h, w) in [
            (3, 4, 3, 7, 5),
            (16, 8, 3, 40, 33),
            (2, 3, 1, 4, 9),
            (4, 2, 5, 6, 3),
            (1, 1, 3, 1, 1),
        ] {
            let conv = Conv { cin, cout, k };
            let input = random(cin * h * w, 1);
            let weight = random(cout * cin * k * k, 2);
            let bias = random(cout, 3);
            let mut out = vec![f32::NAN; cout * h * w];
            conv.apply(&input, h, w, &weight, &bias, &mut out);
            let want = direct(conv, &input, h, w, &weight, &bias);
            for (i, (g, e)) in out.iter().zip(&want).enumerate() {
                assert!(
                    (*g as f64 - e).abs() <= 1e-5 * (1.0 + e.abs()),
                    "{conv:?} {h}x{w} at {i}: {g} vs {e}"
                );
            }
        }
    }

    #[test]
    fn bands_do_not_change_the_result() {
        // Wide enough that a band holds fewer rows than the image.
        let conv = Conv {
            cin: 64,
            cout: 2,
            k: 3,
        };
        let (h, w) = (12, 600);
        assert!(BAND_VALUES / (64 * 9 * w) < h);
        let input = random(64 * h * w, 4);
        let weight = random(2 * 64 * 9, 5);
        let mut out = vec![0.0; 2 * h * w];
        conv.apply(&input, h, w, &weight, &[0.5, -0.5], &mut out);
        let want = direct(conv, &input, h, w, &weight, &[0.5, -0.5]);
        let worst = out
            .iter()
            .zip(&want)
            .map(|(g, e)| (*g as f64 - e).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-4, "{worst}");
        // Any range of rows equals those rows of the whole map, bit for bit.
        for rows in [0..1, 3..7, 5..12, 11..12] {
            let m = rows.len();
            let mut part = vec![0.0; 2 * m * w];
            conv.apply_rows(&input, h, w, &weight, &[0.5, -0.5], rows.clone(), &mut part);
            for o in 0..2 {
                assert_eq!(
                    part[o * m * w..(o + 1) * m * w],
                    out[o * h * w + rows.start * w..o * h * w + rows.end * w]
                );
            }
        }
    }

    #[test]
    fn pixel_shuffle_follows_pytorch() {
        // 2 output channels, r = 2, 2x3 input: every value lands where the
        // formula says, and every output is written once.
        let (c, r, h, w) = (2, 2, 2, 3);
        let input: Vec<f32> = (0..c * r * r * h * w).map(|i| i as f32).collect();
        let mut out = vec![-1.0; input.len()];
        pixel_shuffle(&input, c, h, w, r, &mut out);
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    for i in 0..r {
                        for j in 0..r {
                            let want = input[((ch * r * r + i * r + j) * h + y) * w + x];
                            assert_eq!(out[(ch * h * r + y * r + i) * w * r + x * r + j], want);
                        }
                    }
                }
            }
        }
        let mut sorted = out.clone();
        sorted.sort_by(f32::total_cmp);
        assert_eq!(sorted, input);
    }

    #[test]
    fn gelu_matches_the_exact_definition_everywhere() {
        let xs: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 5e-5).collect();
        let mut got = xs.clone();
        gelu(&mut got);
        for (x, g) in xs.iter().zip(&got) {
            let x64 = *x as f64;
            let want = 0.5 * x64 * (1.0 + libm::erf(x64 / std::f64::consts::SQRT_2));
            let err = (*g as f64 - want).abs();
            assert!(
                err <= 4e-6 * want.abs() + 1e-9,
                "gelu({x}) = {g}, want {want}"
            );
        }
        let mut far = [-100.0f32, -30.0, 30.0, 1e6, -1e6];
        gelu(&mut far);
        assert!(far[0].abs() < 1e-30 && far[1].abs() < 1e-30 && far[4].abs() < 1e-30);
        assert_eq!(far[2..4], [30.0, 1e6]);
    }

    #[test]
    fn gelu_matches_known_values() {
        let mut v = [0.0f32, 1.0, -1.0, 3.0, -3.0, 10.0];
        gelu(&mut v);
        let want = [
            0.0,
            0.841_344_7,
            -0.158_655_25,
            2.995_950_5,
            -0.004_049_5,
            10.0,
        ];
        for (g, e) in v.iter().zip(want) {
            assert!((g - e).abs() < 1e-6, "{g} vs {e}");
        }
    }
}
