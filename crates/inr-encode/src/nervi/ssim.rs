//! The structural similarity index (Wang et al. 2004) on batches of images
//! in [0, 1]: an 11 x 11 Gaussian window of sigma 1.5, the usual constants,
//! the mean over every valid window position. NeRVI trains on it and the
//! benchmarks report it.

use tch::{Kind, Tensor};

const WINDOW: i64 = 11;
const SIGMA: f64 = 1.5;
const C1: f64 = 0.01 * 0.01;
const C2: f64 = 0.03 * 0.03;

/// Mean SSIM of `a` and `b` (`[B, C, H, W]`, same shape), per image `[B]`.
/// Images smaller than the window use a window of their size.
pub fn ssim(a: &Tensor, b: &Tensor) -> Tensor {
    let size = a.size();
    let c = size[1];
    let k = WINDOW.min(size[2]).min(size[3]);
    let w = window(k, a.device()).expand([c, 1, k, k], false);
    let blur = |x: &Tensor| x.conv2d(&w, None::<Tensor>, [1, 1], [0, 0], [1, 1], c);
    let (mu_a, mu_b) = (blur(a), blur(b));
    let (aa, bb, ab) = (&mu_a * &mu_a, &mu_b * &mu_b, &mu_a * &mu_b);
    let var_a = blur(&(a * a)) - &aa;
    let var_b = blur(&(b * b)) - &bb;
    let cov = blur(&(a * b)) - &ab;
    let map = (ab * 2.0 + C1) * (cov * 2.0 + C2) / ((aa + bb + C1) * (var_a + var_b + C2));
    map.mean_dim([1i64, 2, 3].as_slice(), false, Kind::Float)
}

/// The normalized `k x k` Gaussian, `[1, 1, k, k]`.
fn window(k: i64, device: tch::Device) -> Tensor {
    let x = Tensor::arange(k, (Kind::Float, device)) - (k - 1) as f64 / 2.0;
    let g = (-(&x * &x) / (2.0 * SIGMA * SIGMA)).exp();
    let g = &g / g.sum(Kind::Float);
    g.outer(&g).view([1, 1, k, k])
}
