//! Decode throughput of the pure-Rust decoder next to libtorch on the CPU
//! evaluating the same residual SIREN (same weights, same grid, same thread
//! count), measured in the same run.
//!
//! `cargo run --release --features encoder --example bench_libtorch`
//! `... --example bench_libtorch -- --model FILE.inr [--dims 128] [--threads 2]`
//!
//! With `--model`, the network is a trained `.inr` file's (its stored
//! weights as the decoder loads them; time, if any, at the first step) and
//! both sides evaluate all variables at the points of a `dims`^3 grid over
//! the domain (the Rust side through `Decoder::decode_grid`, or through
//! `Decoder::evaluate` at the same points when the file has cell variables,
//! which a grid decode would evaluate at cell centers); the last line is
//! `RESULT width=.. blocks=.. rust_pps=.. torch_pps=.. speedup=.. batch=..
//! maxdiff=..` (maxdiff relative to each variable's range), for scripts.
//!
//! The network is a synthetic residual SIREN (`inr_testkit::synthetic`, f32
//! weights; 3 inputs, 5 residual blocks, 4 outputs) at widths 64 and 256;
//! the grid is 128^3 points. The Rust side decodes the `.inr` file with
//! `Decoder::decode_grid` on 2 threads. The libtorch side gets the same
//! weights copied into tensors and evaluates the normalized coordinates in
//! batches under `no_grad` with `set_num_threads(2)`; the coordinate tensor
//! is built once outside the timing (which favours libtorch), the output
//! scaling to the variables' range is inside it. Several batch sizes are
//! tried for libtorch and the best one counts. Best of 3 runs each. The two
//! outputs are compared (max |difference| / output range) so that both sides
//! did the same work.

use std::time::Instant;

use inr_core::decode::PointTimes;
use inr_core::format::{Association, WeightEncoding};
use inr_core::model::{Dense, Layer, ResidualSiren};
use inr_core::{DecodeOptions, Decoder, GridRequest};
use inr_testkit::synthetic::SyntheticSpec;
use tch::{Kind, Tensor};

const EDGE: usize = 128;
const BLOCKS: usize = 5;
const OUTPUTS: usize = 4;
const THREADS: usize = 2;
const REPEAT: usize = 3;
const BATCHES: [usize; 3] = [16384, 65536, 262144];

fn dense(d: &Dense) -> (Tensor, Tensor) {
    let w = Tensor::from_slice(&d.weight).view([d.out_features as i64, d.in_features as i64]);
    let b = Tensor::from_slice(&d.bias);
    (w, b)
}

enum TLayer {
    Sine(f64, (Tensor, Tensor)),
    Res([f64; 2], (Tensor, Tensor), (Tensor, Tensor)),
    Linear((Tensor, Tensor)),
}

fn torch_layers(m: &ResidualSiren) -> Vec<TLayer> {
    m.layers
        .iter()
        .map(|l| match l {
            Layer::Sine { w0, dense: d } => TLayer::Sine(*w0 as f64, dense(d)),
            Layer::ResidualSine { w0, first, second } => {
                TLayer::Res([w0[0] as f64, w0[1] as f64], dense(first), dense(second))
            }
            Layer::Linear { dense: d } => TLayer::Linear(dense(d)),
        })
        .collect()
}

fn forward(layers: &[TLayer], x: &Tensor) -> Tensor {
    let mut h = x.shallow_clone();
    for l in layers {
        h = match l {
            TLayer::Sine(w0, (w, b)) => (h.linear(w, Some(b)) * *w0).sin(),
            TLayer::Res(w0, (w1, b1), (w2, b2)) => {
                let inner = (h.linear(w1, Some(b1)) * w0[0]).sin();
                (&h + (inner.linear(w2, Some(b2)) * w0[1]).sin()) * 0.5
            }
            TLayer::Linear((w, b)) => h.linear(w, Some(b)),
        };
    }
    h
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
    (best, out.unwrap())
}

/// libtorch's best batch size and time for `f(batch)`, best of REPEAT each.
fn best_batch(mut f: impl FnMut(usize) -> Tensor) -> (f64, usize, Tensor) {
    let mut best = (f64::INFINITY, 0usize, None);
    for batch in BATCHES {
        let (s, out) = best_of(REPEAT, || tch::no_grad(|| f(batch)));
        if s < best.0 {
            best = (s, batch, Some(out));
        }
    }
    (best.0, best.1, best.2.expect("a batch was timed"))
}

/// `--model FILE [--dims N] [--threads T]`: the trained network of FILE.
fn bench_file(path: &str, edge: usize, threads: usize) -> inr_core::Result<()> {
    tch::set_num_threads(threads as i32);
    tch::set_num_interop_threads(1);
    let decoder = Decoder::open(path)?;
    let Some(model) = decoder.model().get::<ResidualSiren>() else {
        return Err(inr_core::Error::Unsupported(
            "bench_libtorch compares residual SIREN files only".into(),
        ));
    };
    let meta = decoder.metadata();
    let grid = decoder.sampling_grid(Some([edge; 3]))?;
    let points = edge * edge * edge;
    let mut xyz = Vec::with_capacity(points * 3);
    for z in &grid.axes[2] {
        for y in &grid.axes[1] {
            for x in &grid.axes[0] {
                xyz.extend([*x, *y, *z]);
            }
        }
    }
    let variables: Vec<usize> = (0..meta.variables.len()).collect();
    let (width, blocks) = (model.layers[0].features().1, model.layers.len() - 2);
    let outputs = model.outputs();

    let opts = DecodeOptions {
        threads,
        ..DecodeOptions::default()
    };
    // The grid decode itself when every variable lives at the points (as a
    // user decodes a grid); point queries at the grid's points otherwise
    // (cell variables would be decoded at cell centers by a grid decode).
    let on_points = meta
        .variables
        .iter()
        .all(|v| v.association == Association::Point);
    let mut rust = vec![0f32; points * outputs];
    let rust_s = if on_points {
        let req = GridRequest {
            dims: Some([edge; 3]),
            ..Default::default()
        };
        let (s, grid) = best_of(REPEAT, || decoder.decode_grid(&req, &opts));
        // Interleave the per-variable arrays as point queries give them.
        let mut column = 0;
        for a in grid?.arrays {
            for (p, tuple) in a.values.chunks_exact(a.components).enumerate() {
                let at = p * outputs + column;
                rust[at..at + a.components].copy_from_slice(tuple);
            }
            column += a.components;
        }
        s
    } else {
        let (s, r) = best_of(REPEAT, || {
            decoder.evaluate(&xyz, PointTimes::Fixed(None), &variables, &mut rust, &opts)
        });
        r?;
        s
    };

    // libtorch: normalized inputs (time at the first step), outputs mapped
    // to each component's stored range inside the timing, as the decoder does.
    let t0 = decoder.effective_time(None)?;
    let k = model.inputs;
    let mut coords = Vec::with_capacity(points * k);
    for p in xyz.chunks_exact(3) {
        let input = p.iter().copied().chain(std::iter::once(t0)).take(k);
        for (a, v) in input.enumerate() {
            coords.push((model.input_scale[a] * v + model.input_shift[a]) as f32);
        }
    }
    let coords = Tensor::from_slice(&coords).view([points as i64, k as i64]);
    let ranges: Vec<[f64; 2]> = meta
        .variables
        .iter()
        .flat_map(|v| v.range.clone())
        .collect();
    let half: Vec<f32> = ranges
        .iter()
        .map(|r| ((r[1] - r[0]) / 2.0) as f32)
        .collect();
    let mid: Vec<f32> = ranges
        .iter()
        .map(|r| ((r[1] + r[0]) / 2.0) as f32)
        .collect();
    let (half, mid) = (Tensor::from_slice(&half), Tensor::from_slice(&mid));
    let layers = torch_layers(model);
    let (torch_s, batch, out) = best_batch(|batch| {
        let parts: Vec<Tensor> = coords
            .split(batch as i64, 0)
            .iter()
            .map(|x| forward(&layers, x) * &half + &mid)
            .collect();
        Tensor::cat(&parts, 0)
    });
    let out: Vec<f32> =
        Vec::try_from(&out.to_kind(Kind::Float).contiguous().view(-1)).expect("tensor to vec");
    let mut max_diff = 0f64;
    for (i, (a, b)) in out.iter().zip(&rust).enumerate() {
        let r = &ranges[i % outputs];
        let diff = (*a as f64 - *b as f64).abs() / (r[1] - r[0]).max(f64::MIN_POSITIVE);
        max_diff = max_diff.max(diff);
    }
    let (rust_pps, torch_pps) = (points as f64 / rust_s, points as f64 / torch_s);
    println!(
        "{path}: width {width}, {blocks} residual blocks, {outputs} outputs; {edge}^3 points; \
         {threads} threads; best of {REPEAT}; Rust {}",
        if on_points { "decode_grid" } else { "evaluate" }
    );
    println!(
        "Rust {rust_pps:.3e} points/s, libtorch {torch_pps:.3e} points/s (batch {batch}): \
         {:.2}x; max |diff| / range {max_diff:.2e}",
        rust_pps / torch_pps
    );
    println!(
        "RESULT width={width} blocks={blocks} rust_pps={rust_pps:.4e} torch_pps={torch_pps:.4e} \
         speedup={:.3} batch={batch} maxdiff={max_diff:.3e}",
        rust_pps / torch_pps
    );
    assert!(max_diff < 1e-4, "outputs disagree: {max_diff:e}");
    Ok(())
}

/// The value after `flag` on the command line.
fn arg(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> inr_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = arg(&args, "--model") {
        let num = |flag, default| arg(&args, flag).map_or(default, |v| v.parse().expect(flag));
        return bench_file(&path, num("--dims", EDGE), num("--threads", THREADS));
    }
    tch::set_num_threads(THREADS as i32);
    tch::set_num_interop_threads(1);
    let points = EDGE * EDGE * EDGE;
    println!(
        "residual SIREN: 3 inputs, {BLOCKS} residual blocks, {OUTPUTS} outputs, f32 weights; \
         grid {EDGE}^3 = {points} points; {THREADS} threads; best of {REPEAT}"
    );
    println!(
        "{:>6} {:>14} {:>14} {:>10} {:>12} {:>10}",
        "width", "Rust pts/s", "torch pts/s", "torch batch", "Rust/torch", "max diff"
    );
    for width in [64usize, 256] {
        let mut spec = SyntheticSpec::small(7);
        spec.dims = [EDGE as u64; 3];
        spec.origin = [0.0; 3];
        spec.spacing = [1.0; 3];
        spec.times = None;
        spec.width = width;
        spec.blocks = BLOCKS;
        spec.encoding = WeightEncoding::F32;
        spec.variables = (0..OUTPUTS)
            .map(|i| (format!("v{i}"), 1, Association::Point, vec![[0.0, 1.0]]))
            .collect();
        let (model, bytes) = spec.build()?;

        // Rust decoder.
        let decoder = Decoder::from_bytes(bytes)?;
        let req = GridRequest {
            dims: Some([EDGE; 3]),
            ..Default::default()
        };
        let opts = DecodeOptions {
            threads: THREADS,
            ..DecodeOptions::default()
        };
        let (rust_s, grid) = best_of(REPEAT, || decoder.decode_grid(&req, &opts));
        let grid = grid?;

        // libtorch: normalized coordinates, x fastest (VTK order).
        let mut coords = Vec::with_capacity(points * 3);
        for k in 0..EDGE {
            for j in 0..EDGE {
                for i in 0..EDGE {
                    for (a, v) in [i, j, k].into_iter().enumerate() {
                        coords
                            .push((model.input_scale[a] * v as f64 + model.input_shift[a]) as f32);
                    }
                }
            }
        }
        let coords = Tensor::from_slice(&coords).view([points as i64, 3]);
        let layers = torch_layers(&model);
        let mut best_torch = (f64::INFINITY, 0usize, None);
        for batch in BATCHES {
            let (s, out) = best_of(REPEAT, || {
                tch::no_grad(|| {
                    let parts: Vec<Tensor> = coords
                        .split(batch as i64, 0)
                        .iter()
                        .map(|x| (forward(&layers, x) + 1.0) * 0.5)
                        .collect();
                    Tensor::cat(&parts, 0)
                })
            });
            if s < best_torch.0 {
                best_torch = (s, batch, Some(out));
            }
        }
        let (torch_s, batch, out) = best_torch;
        let out = out.unwrap().to_kind(Kind::Float).contiguous();

        // Agreement: variable v is output column v; range of each is [0, 1].
        let mut max_diff = 0f64;
        for (v, arr) in grid.arrays.iter().enumerate() {
            let col: Vec<f32> =
                Vec::<f32>::try_from(&out.select(1, v as i64).contiguous()).expect("tensor to vec");
            assert_eq!(col.len(), arr.values.len());
            for (a, b) in col.iter().zip(&arr.values) {
                max_diff = max_diff.max((*a as f64 - *b as f64).abs());
            }
        }
        let rust_pps = points as f64 / rust_s;
        let torch_pps = points as f64 / torch_s;
        println!(
            "{:>6} {:>14.3e} {:>14.3e} {:>10} {:>12.2} {:>10.2e}",
            width,
            rust_pps,
            torch_pps,
            batch,
            rust_pps / torch_pps,
            max_diff
        );
        assert!(
            max_diff < 1e-4,
            "outputs disagree: max |diff| / range = {max_diff:e}"
        );
    }
    Ok(())
}
