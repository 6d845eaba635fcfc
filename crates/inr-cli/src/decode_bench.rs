//! The decoder benchmark behind `inr bench`: grid decode throughput of a
//! residual SIREN next to the machine's SGEMM throughput with the same GEMM
//! library and thread count, measured in the same run. Ratios, not absolute
//! times, are what hold across noisy machines.

use std::fmt;
use std::time::Instant;

use rayon::prelude::*;

use inr_core::decode::{DecodeOptions, Decoder, GridRequest};
use inr_core::error::Result;
use inr_core::format::{Association, WeightEncoding};
use inr_core::kernels::gemm::matmul;
use inr_testkit::synthetic::SyntheticSpec;

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub width: usize,
    pub blocks: usize,
    pub outputs: usize,
    /// Grid edge lengths to decode (each an n^3 grid).
    pub grids: Vec<usize>,
    pub threads: usize,
    /// Edge of the square SGEMM baseline.
    pub sgemm_size: usize,
    /// Repetitions; the best time counts (the least disturbed run).
    pub repeat: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            width: 64,
            blocks: 5,
            outputs: 4,
            grids: vec![128, 256],
            threads: 2,
            sgemm_size: 2048,
            repeat: 3,
        }
    }
}

/// One grid decode measurement.
#[derive(Clone, Debug)]
pub struct GridResult {
    pub edge: usize,
    pub seconds: f64,
    pub points_per_second: f64,
    pub gflops: f64,
}

/// All measurements of one run.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub options: BenchOptions,
    pub flops_per_point: u64,
    pub sgemm_gflops: f64,
    pub grids: Vec<GridResult>,
}

/// Runs the benchmark.
pub fn run(options: &BenchOptions) -> Result<BenchReport> {
    let decoder = synthetic_decoder(options)?;
    let opts = DecodeOptions {
        threads: options.threads,
        ..Default::default()
    };
    let flops_per_point = decoder.gemm_flops_per_point(&[])?;
    let sgemm_gflops = sgemm_gflops(options.sgemm_size, options.threads, options.repeat);
    let mut grids = Vec::new();
    for &edge in &options.grids {
        let req = GridRequest {
            dims: Some([edge; 3]),
            ..Default::default()
        };
        let seconds = best_of(options.repeat, || {
            decoder.decode_grid(&req, &opts).map(|_| ())
        })?;
        let points = (edge * edge * edge) as f64;
        grids.push(GridResult {
            edge,
            seconds,
            points_per_second: points / seconds,
            gflops: points * flops_per_point as f64 / seconds / 1e9,
        });
    }
    Ok(BenchReport {
        options: options.clone(),
        flops_per_point,
        sgemm_gflops,
        grids,
    })
}

fn synthetic_decoder(o: &BenchOptions) -> Result<Decoder> {
    let mut spec = SyntheticSpec::small(42);
    spec.dims = [64, 64, 64];
    spec.origin = [0.0; 3];
    spec.spacing = [1.0; 3];
    spec.times = None;
    spec.width = o.width;
    spec.blocks = o.blocks;
    spec.encoding = WeightEncoding::F32;
    spec.variables = (0..o.outputs)
        .map(|i| (format!("v{i}"), 1, Association::Point, vec![[0.0, 1.0]]))
        .collect();
    let (_, bytes) = spec.build()?;
    Decoder::from_bytes(bytes)
}

/// Seconds of the fastest of `n` runs.
fn best_of(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..n.max(1) {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// GFLOP/s of an `n x n x n` SGEMM on `threads` threads: the rows of the
/// product split evenly, each share one single-threaded library call, as
/// the decoder uses the library.
pub fn sgemm_gflops(n: usize, threads: usize, repeat: usize) -> f64 {
    let a: Vec<f32> = (0..n * n).map(|i| ((i * 7) % 13) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|i| ((i * 5) % 11) as f32 * 0.1).collect();
    let mut c = vec![0f32; n * n];
    let threads = threads.max(1);
    let rows = n.div_ceil(threads);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
    let Ok(pool) = pool else { return f64::NAN };
    let seconds = best_of(repeat, || {
        pool.install(|| {
            c.par_chunks_mut(rows * n).enumerate().for_each(|(i, ci)| {
                let m = ci.len() / n;
                matmul(m, n, n, &a[i * rows * n..], &b, ci);
            })
        });
        Ok(())
    })
    .unwrap_or(f64::NAN);
    2.0 * (n as f64).powi(3) / seconds / 1e9
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "model: residual SIREN, width {}, {} residual blocks, {} outputs ({} GEMM FLOP per point); {} threads",
            o.width, o.blocks, o.outputs, self.flops_per_point, o.threads
        )?;
        writeln!(
            f,
            "SGEMM {n}x{n}x{n} (matrixmultiply, same threads): {:.1} GFLOP/s",
            self.sgemm_gflops,
            n = o.sgemm_size
        )?;
        writeln!(
            f,
            "{:>6} {:>10} {:>14} {:>10} {:>12}",
            "grid", "seconds", "points/s", "GFLOP/s", "% of SGEMM"
        )?;
        for g in &self.grids {
            writeln!(
                f,
                "{:>5}^3 {:>10.3} {:>14.3e} {:>10.1} {:>11.1}%",
                g.edge,
                g.seconds,
                g.points_per_second,
                g.gflops,
                100.0 * g.gflops / self.sgemm_gflops
            )?;
        }
        for w in self.grids.windows(2) {
            let points = (w[1].edge as f64 / w[0].edge as f64).powi(3);
            writeln!(
                f,
                "time {}^3 / {}^3 = {:.2} (points ratio {:.0})",
                w[1].edge,
                w[0].edge,
                w[1].seconds / w[0].seconds,
                points
            )?;
        }
        Ok(())
    }
}
