//! Decode throughput of the pure-Rust decoder next to libtorch evaluating
//! the same batched ECNR model (same weights, same thread count), measured
//! in the same run.
//!
//! `cargo run --release -p inr-encode --example bench_ecnr -- --model FILE.inr [--step 0] [--threads 2]`
//!
//! The Rust side decodes the native grid of time step `--step`, all
//! variables (`Decoder::decode_grid`): the blocks of the time samples
//! around the step at every scale, their interpolation and the sum of the
//! scales. The libtorch side evaluates the same blocks' MLPs only, the
//! paper's way (the MLPs' weights stacked `[m, in, out]`, each MLP's blocks
//! as one batch through `baddbmm`, padded to the MLP with the most blocks;
//! and MLP by MLP without padding: the faster counts; under `no_grad`),
//! without the
//! interpolation and the sum, and with its inputs built outside the timing:
//! both favour libtorch. Best of 3 runs each. To check that both did the
//! same work, the coarsest scale's outputs are compared with the Rust
//! decoder at `detail` 1 at that scale's samples (max |difference| over the
//! variables' ranges). The last line is `RESULT blocks=.. samples=..
//! rust_s=.. torch_s=.. speedup=.. maxdiff=..`.

use std::time::Instant;

use inr_core::decode::PointTimes;
use inr_core::format::Association;
use inr_core::model::ecnr::Scale;
use inr_core::model::Ecnr;
use inr_core::{DecodeOptions, Decoder, GridRequest};
use tch::{Kind, Tensor};

const REPEAT: usize = 3;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..n {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("n > 0"))
}

/// The time samples of a scale of factor `f` that native step `s` needs.
fn time_samples(s: usize, f: usize, samples: usize) -> Vec<usize> {
    let lo = (s / f).min(samples - 1);
    let hi = s.div_ceil(f).min(samples - 1);
    if lo == hi {
        vec![lo]
    } else {
        vec![lo, hi]
    }
}

/// One scale's work for libtorch: per MLP its blocks' inputs, padded to
/// the most blocks of one MLP (`[m, most * volume, 3 + l]`).
struct Batch {
    inputs: Tensor,
    /// Blocks of each MLP.
    counts: Vec<usize>,
    volume: usize,
    layers: Vec<(Tensor, Tensor, Option<f64>)>,
    blocks: usize,
    samples: usize,
}

fn local_coordinates(block: [usize; 3]) -> Vec<[f32; 3]> {
    let u = |l: usize, b: usize| {
        if b == 1 {
            0.0
        } else {
            (-1.0 + 2.0 * l as f64 / (b - 1) as f64) as f32
        }
    };
    let mut out = Vec::new();
    for z in 0..block[2] {
        for y in 0..block[1] {
            for x in 0..block[0] {
                out.push([u(x, block[0]), u(y, block[1]), u(z, block[2])]);
            }
        }
    }
    out
}

fn batch(scale: &Scale, times: &[usize]) -> Batch {
    let m = scale.mlps();
    let per = scale.blocks_per_sample();
    let mut lists: Vec<Vec<usize>> = vec![Vec::new(); m];
    for &t in times {
        for b in t * per..(t + 1) * per {
            if let Some(q) = scale.mlp_of(b) {
                lists[q].push(b);
            }
        }
    }
    let most = lists.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let coords = local_coordinates(scale.block);
    let (v, l) = (coords.len(), scale.latent_dim);
    let mut x = vec![0f32; m * most * v * (3 + l)];
    for (q, list) in lists.iter().enumerate() {
        for (k, &b) in list.iter().enumerate() {
            for (s, c) in coords.iter().enumerate() {
                let o = ((q * most + k) * v + s) * (3 + l);
                x[o..o + 3].copy_from_slice(c);
                x[o + 3..o + 3 + l].copy_from_slice(scale.latent(b));
            }
        }
    }
    let layers = scale
        .layers
        .iter()
        .map(|layer| {
            let (mi, o, i) = (
                layer.mlps as i64,
                layer.out_features as i64,
                layer.in_features as i64,
            );
            let w = Tensor::from_slice(&layer.weight)
                .view([mi, o, i])
                .transpose(1, 2)
                .contiguous();
            let b = Tensor::from_slice(&layer.bias).view([mi, 1, o]);
            (w, b, layer.w0.map(f64::from))
        })
        .collect();
    let blocks = lists.iter().map(Vec::len).sum();
    Batch {
        inputs: Tensor::from_slice(&x).view([m as i64, (most * v) as i64, (3 + l) as i64]),
        counts: lists.iter().map(Vec::len).collect(),
        volume: v,
        layers,
        blocks,
        samples: blocks * v,
    }
}

/// Each MLP on its own blocks (no padding), one `addmm` chain per MLP.
fn forward_each(b: &Batch, lists: &[usize], volume: usize) -> Vec<Tensor> {
    lists
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(q, &n)| {
            let q = q as i64;
            let mut h = b.inputs.get(q).narrow(0, 0, (n * volume) as i64);
            for (w, bias, w0) in &b.layers {
                h = bias.get(q).addmm(&h, &w.get(q));
                if let Some(w0) = w0 {
                    h = (h * *w0).sin();
                }
            }
            h
        })
        .collect()
}

fn forward(b: &Batch) -> Tensor {
    let mut h = b.inputs.shallow_clone();
    for (w, bias, w0) in &b.layers {
        h = bias.baddbmm(&h, w, 1.0, 1.0);
        if let Some(w0) = w0 {
            h = (h * *w0).sin();
        }
    }
    h
}

/// Coordinate of sample `i` along an axis of points: the point, or with
/// cell sites the center of cell `i` (one cell on a one-point axis).
fn site(axis: &[f64], i: usize, sites: Association) -> f64 {
    match sites {
        Association::Cell if axis.len() > 1 => 0.5 * (axis[i] + axis[i + 1]),
        _ => axis[i.min(axis.len() - 1)],
    }
}

fn main() -> inr_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = arg(&args, "--model").ok_or_else(|| {
        inr_core::Error::InvalidArgument(
            "usage: bench_ecnr --model FILE.inr [--step S] [--threads T]".into(),
        )
    })?;
    let step: usize = arg(&args, "--step").map_or(0, |s| s.parse().unwrap_or(0));
    let threads: usize = arg(&args, "--threads").map_or(2, |s| s.parse().unwrap_or(2));
    tch::set_num_threads(threads as i32);
    tch::set_num_interop_threads(1);
    let decoder = Decoder::open(&path)?;
    let model = decoder.model().get::<Ecnr>().ok_or_else(|| {
        inr_core::Error::Unsupported("bench_ecnr compares ECNR files only".into())
    })?;
    let times = decoder
        .metadata()
        .time
        .as_ref()
        .map(|t| t.values.clone())
        .unwrap_or_default();
    let step = step.min(times.len().saturating_sub(1));

    let req = GridRequest {
        time: times.get(step).copied(),
        ..Default::default()
    };
    let opts = DecodeOptions {
        threads,
        ..DecodeOptions::default()
    };
    let (rust_s, grid) = best_of(REPEAT, || decoder.decode_grid(&req, &opts));
    grid?;

    let batches: Vec<Batch> = model
        .scales
        .iter()
        .map(|s| batch(s, &time_samples(step, s.factor as usize, s.dims[3])))
        .collect();
    let (padded_s, outs) = best_of(REPEAT, || {
        tch::no_grad(|| batches.iter().map(forward).collect::<Vec<_>>())
    });
    let (each_s, _) = best_of(REPEAT, || {
        tch::no_grad(|| {
            batches
                .iter()
                .map(|b| forward_each(b, &b.counts, b.volume))
                .collect::<Vec<_>>()
        })
    });
    // libtorch's better way counts.
    let torch_s = padded_s.min(each_s);
    let blocks: usize = batches.iter().map(|b| b.blocks).sum();
    let samples: usize = batches.iter().map(|b| b.samples).sum();

    let maxdiff = coarsest_diff(&decoder, model, &outs[0], step, threads)?;
    println!(
        "ECNR {}: step {step}, {} scales, {blocks} blocks, {samples} MLP samples; Rust decode_grid {rust_s:.4} s, libtorch MLPs {padded_s:.4} s batched (padded bmm), {each_s:.4} s per MLP ({threads} threads)",
        path,
        model.scales.len()
    );
    println!(
        "RESULT blocks={blocks} samples={samples} rust_s={rust_s:.5} torch_s={torch_s:.5} speedup={:.2} maxdiff={maxdiff:.2e}",
        torch_s / rust_s
    );
    Ok(())
}

/// Max |libtorch - Rust at detail 1| over the coarsest scale's non-empty
/// blocks' samples at the step's first time sample, relative to each
/// variable's range (normalized outputs span 2).
fn coarsest_diff(
    decoder: &Decoder,
    model: &Ecnr,
    out: &Tensor,
    step: usize,
    threads: usize,
) -> inr_core::Result<f64> {
    let scale = &model.scales[0];
    let f = scale.factor as usize;
    let t = time_samples(step, f, scale.dims[3])[0];
    let per = scale.blocks_per_sample();
    let (m, c) = (scale.mlps(), model.outputs);
    let out = Vec::<f32>::try_from(out.to_kind(Kind::Float).contiguous().view(-1))
        .map_err(|e| inr_core::Error::Invalid(e.to_string()))?;
    let coords = local_coordinates(scale.block);
    let v = coords.len();
    let most = out.len() / (m * v * c);
    let mut counts = vec![0usize; m];
    let grid = decoder.sampling_grid(None)?;
    let times = decoder
        .metadata()
        .time
        .as_ref()
        .map(|tv| tv.values.clone())
        .unwrap_or_default();
    let mut worst = 0f64;
    for b in t * per..(t + 1) * per {
        let Some(q) = scale.mlp_of(b) else { continue };
        let k = counts[q];
        counts[q] += 1;
        let o = scale.block_origin(b);
        let e = scale.block_extent(b);
        let mut xyz = Vec::new();
        let mut expect = Vec::new();
        for (s, _) in coords.iter().enumerate() {
            let l = [
                s % scale.block[0],
                s / scale.block[0] % scale.block[1],
                s / (scale.block[0] * scale.block[1]),
            ];
            if (0..3).any(|a| l[a] >= e[a]) {
                continue;
            }
            let native: Vec<usize> = (0..3).map(|a| (o[a] + l[a]) * f).collect();
            xyz.extend((0..3).map(|a| site(&grid.axes[a], native[a], model.sites)));
            let base = ((q * most + k) * v + s) * c;
            expect.extend_from_slice(&out[base..base + c]);
        }
        let mut got = vec![0f32; expect.len()];
        let time = times
            .get((t * f).min(times.len().saturating_sub(1)))
            .copied();
        let detail = DecodeOptions {
            threads,
            detail: 1,
            ..DecodeOptions::default()
        };
        let vars: Vec<usize> = (0..decoder.metadata().variables.len()).collect();
        decoder.evaluate(&xyz, PointTimes::Fixed(time), &vars, &mut got, &detail)?;
        let ranges: Vec<[f64; 2]> = decoder
            .metadata()
            .variables
            .iter()
            .flat_map(|v| v.range.clone())
            .collect();
        for (i, (&g, &y)) in got.iter().zip(&expect).enumerate() {
            let r = ranges[i % c];
            let value = r[0] + (y as f64 + 1.0) * 0.5 * (r[1] - r[0]);
            worst = worst.max((g as f64 - value).abs() / (r[1] - r[0]).max(f64::MIN_POSITIVE));
        }
    }
    Ok(worst)
}
