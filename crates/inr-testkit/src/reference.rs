//! Reference evaluators: a plain, obviously correct f64 evaluator of residual
//! SIRENs, written from the definition in docs/format.md, against which the
//! fast decoder is checked.

use inr_core::format::Metadata;
use inr_core::model::{Dense, Layer, McInr, ResidualSiren};

fn affine(d: &Dense, x: &[f64]) -> Vec<f64> {
    (0..d.out_features)
        .map(|o| {
            let row = &d.weight[o * d.in_features..(o + 1) * d.in_features];
            row.iter().zip(x).map(|(&w, &v)| w as f64 * v).sum::<f64>() + d.bias[o] as f64
        })
        .collect()
}

/// All network outputs, in physical units, at (x, y, z[, t]).
pub fn reference_eval(model: &ResidualSiren, meta: &Metadata, coords: &[f64]) -> Vec<f64> {
    let x: Vec<f64> = (0..model.inputs)
        .map(|i| model.input_scale[i] * coords[i] + model.input_shift[i])
        .collect();
    to_physical(&eval_layers(&model.layers, x), meta)
}

/// Network outputs in [-1, 1] mapped to the variables' ranges.
fn to_physical(y: &[f64], meta: &Metadata) -> Vec<f64> {
    let ranges: Vec<[f64; 2]> = meta
        .variables
        .iter()
        .flat_map(|v| v.range.clone())
        .collect();
    y.iter()
        .zip(&ranges)
        .map(|(y, r)| r[0] + (y + 1.0) * 0.5 * (r[1] - r[0]))
        .collect()
}

/// Every output of a clustered (MC-INR) model, in physical units, at (x, y,
/// z[, t]), from docs/format.md section 10.3: without blending, the network
/// of the leaf reached by nearest centroids down the tree; with blending, at
/// every level the siblings' values weighted by phi((d - d_min) / w),
/// normalized (contributions below 1e-6 left out, at most 8 kept).
pub fn reference_mc_inr(model: &McInr, meta: &Metadata, coords: &[f64]) -> Vec<f64> {
    let t = &model.tree;
    let p = [coords[0], coords[1], coords[2]];
    let dist = |n: u32| -> f64 {
        let c = t.centroids[n as usize];
        (0..3).map(|a| (p[a] - c[a]).powi(2)).sum::<f64>().sqrt()
    };
    let value = |node: u32| -> Vec<f64> {
        let net = &model.leaves[t.leaf[node as usize].unwrap() as usize];
        let x: Vec<f64> = (0..model.inputs)
            .map(|i| net.input_scale[i] * coords[i] + net.input_shift[i])
            .collect();
        let features = eval_layers(&net.trunk, x);
        let y: Vec<f64> = net
            .branches
            .iter()
            .flat_map(|b| eval_layers(b, features.clone()))
            .collect();
        to_physical(&y, meta)
    };
    let w = model.blend_width;
    if w <= 0.0 {
        // Nearest centroid at each level, ties to the lower index.
        let pick = |cands: &[u32]| {
            *cands
                .iter()
                .min_by(|&&a, &&b| dist(a).partial_cmp(&dist(b)).unwrap().then(a.cmp(&b)))
                .unwrap()
        };
        let mut n = pick(&t.roots);
        while !t.children[n as usize].is_empty() {
            n = pick(&t.children[n as usize]);
        }
        return value(n);
    }
    let phi = |x: f64| {
        if x >= 1.0 {
            0.0
        } else {
            1.0 - x * x * (3.0 - 2.0 * x.max(0.0))
        }
    };
    fn collect(
        t: &inr_core::model::mc_inr::ClusterTree,
        nodes: &[u32],
        weight: f64,
        dist: &dyn Fn(u32) -> f64,
        phi: &dyn Fn(f64) -> f64,
        w: f64,
        out: &mut Vec<(u32, f64)>,
    ) {
        let d_min = nodes.iter().map(|&n| dist(n)).fold(f64::INFINITY, f64::min);
        let ws: Vec<f64> = nodes.iter().map(|&n| phi((dist(n) - d_min) / w)).collect();
        let total: f64 = ws.iter().sum();
        for (&n, &x) in nodes.iter().zip(&ws) {
            let x = weight * x / total;
            if x < 1e-6 {
                continue;
            }
            if t.children[n as usize].is_empty() {
                out.push((n, x));
            } else {
                collect(t, &t.children[n as usize], x, dist, phi, w, out);
            }
        }
    }
    let mut parts = Vec::new();
    collect(t, &t.roots, 1.0, &dist, &phi, w, &mut parts);
    parts.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    parts.truncate(8);
    let total: f64 = parts.iter().map(|x| x.1).sum();
    let mut out = vec![0.0; meta.total_components()];
    for (n, x) in parts {
        for (o, v) in out.iter_mut().zip(value(n)) {
            *o += x / total * v;
        }
    }
    out
}

/// Runs `layers` on `x` in f64.
fn eval_layers(layers: &[Layer], mut x: Vec<f64>) -> Vec<f64> {
    for layer in layers {
        x = match layer {
            Layer::Sine { w0, dense } => affine(dense, &x)
                .iter()
                .map(|v| (*w0 as f64 * v).sin())
                .collect(),
            Layer::ResidualSine { w0, first, second } => {
                let h: Vec<f64> = affine(first, &x)
                    .iter()
                    .map(|v| (w0[0] as f64 * v).sin())
                    .collect();
                let g: Vec<f64> = affine(second, &h)
                    .iter()
                    .map(|v| (w0[1] as f64 * v).sin())
                    .collect();
                x.iter().zip(&g).map(|(a, b)| 0.5 * (a + b)).collect()
            }
            Layer::Linear { dense } => affine(dense, &x),
        };
    }
    x
}

/// `n` random query points (x, y, z triples) over `bounds` widened by a tenth
/// on each side (the network is defined everywhere), and a random time in
/// the time axis for each (0 for static files).
pub fn random_queries(
    bounds: [f64; 6],
    times: Option<&[f64]>,
    n: usize,
    seed: u64,
) -> (Vec<f64>, Vec<f64>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut points, mut ts) = (Vec::with_capacity(3 * n), Vec::with_capacity(n));
    for _ in 0..n {
        for a in 0..3 {
            let pad = 0.1 * (bounds[2 * a + 1] - bounds[2 * a]);
            points.push(rng.gen_range(bounds[2 * a] - pad..bounds[2 * a + 1] + pad));
        }
        ts.push(times.map_or(0.0, |t| rng.gen_range(t[0]..t[t.len() - 1])));
    }
    (points, ts)
}

/// Largest |fast - reference| relative to each output's range, over `n`
/// random queries ([`random_queries`]) decoded by `d` on 2 threads;
/// `reference` gives every output at (x, y, z, t).
pub fn worst_relative_error(
    d: &inr_core::Decoder,
    n: usize,
    seed: u64,
    reference: &dyn Fn(&Metadata, &[f64]) -> Vec<f64>,
) -> f64 {
    let meta = d.metadata().clone();
    let times = meta.time.as_ref().map(|t| t.values.clone());
    let (points, ts) = random_queries(d.bounds(), times.as_deref(), n, seed);
    let all: Vec<usize> = (0..meta.variables.len()).collect();
    let c = meta.total_components();
    let mut out = vec![0f32; n * c];
    let opts = inr_core::DecodeOptions {
        threads: 2,
        ..Default::default()
    };
    d.evaluate(
        &points,
        inr_core::PointTimes::PerPoint(&ts),
        &all,
        &mut out,
        &opts,
    )
    .unwrap();
    let ranges: Vec<[f64; 2]> = meta
        .variables
        .iter()
        .flat_map(|v| v.range.clone())
        .collect();
    let mut worst = 0f64;
    for p in 0..n {
        let mut coords = points[3 * p..3 * p + 3].to_vec();
        coords.push(ts[p]);
        let want = reference(&meta, &coords);
        for o in 0..c {
            let err = (out[p * c + o] as f64 - want[o]).abs() / (ranges[o][1] - ranges[o][0]);
            worst = worst.max(err);
        }
    }
    worst
}
