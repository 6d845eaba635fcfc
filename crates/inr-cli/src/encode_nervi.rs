//! `inr encode --method nervi`: a Cinema database of rendered images
//! (`scripts/render_sweep.py`) into a NeRVI file, and its report.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use inr_core::error::{Error, Result};
use inr_encode::nervi::{self, ImageQuality, NerviOptions, NerviReport};
use inr_encode::report::device_name;

use super::encode::{write_outputs_with, EncodeArgs, ProgressView};

/// Default quantization bits: NeRVI's 9.
const DEFAULT_BITS: u8 = 9;

fn options(args: &EncodeArgs, interrupt: Arc<AtomicBool>) -> Result<NerviOptions> {
    let n = &args.nervi;
    let background: [f64; 3] = n.background.as_slice().try_into().map_err(|_| {
        Error::InvalidArgument(format!("--background {:?}: give R,G,B", n.background))
    })?;
    let defaults = NerviOptions::default();
    Ok(NerviOptions {
        size: args.size()?,
        mlp_width: n.nervi_mlp_width,
        levels: n.levels,
        lr: args.lr.unwrap_or(defaults.lr),
        steps: args.steps,
        batch: n.images_per_batch,
        patience: args.patience,
        bits: args.bits.unwrap_or(DEFAULT_BITS),
        background,
        seed: args.seed,
        device: args.device()?,
        max_time: args.max_time(),
        interrupt: Some(interrupt),
        bound: args.bound()?,
    })
}

/// Encodes the database `args.input` and writes the file and reports.
pub(super) fn run(args: &EncodeArgs, start: Instant, interrupt: Arc<AtomicBool>) -> Result<()> {
    let opts = options(args, interrupt)?;
    log::info!(
        "NeRVI of the Cinema database {}; training on {}",
        args.input.display(),
        device_name(opts.device)
    );
    let mut bar = ProgressView::new(args.max_time());
    let report = nervi::encode(&args.input, &opts, &mut |p| bar.update(p))?;
    bar.finish();
    let json = json(&report);
    write_outputs_with(args, &report.bytes, json, start, |seconds| {
        text(args, &report, seconds)
    })
}

fn text(args: &EncodeArgs, r: &NerviReport, seconds: f64) -> String {
    let file = r.bytes.len() as f64;
    let s = &r.shape;
    let channels: Vec<String> = s
        .blocks
        .iter()
        .map(|b| format!("x{} {}", b.0, b.1))
        .collect();
    let q = |name: &str, q: &ImageQuality| {
        format!(
            "{name:<22} PSNR {:6.2} dB (worst image {:.2} dB), SSIM {:.4}\n",
            q.psnr, q.worst_psnr, q.ssim
        )
    };
    let mut out = format!(
        "wrote {}: {} for {} images of {} x {} ({} as RGB + mask bytes, ratio {:.1}; the \
         database's PNGs {}, ratio {:.1})\n",
        args.output.display(),
        super::format_bytes(r.bytes.len() as u128),
        r.images,
        r.size[0],
        r.size[1],
        super::format_bytes(r.raw_bytes as u128),
        r.raw_bytes as f64 / file,
        super::format_bytes(r.database_bytes as u128),
        r.database_bytes as f64 / file,
    );
    out += &format!(
        "network: {} inputs x {} Fourier levels, MLP {}-{}, map {}x{}x{}, upscale {}, \
         {} parameters, {} bits\n",
        s.inputs,
        s.levels,
        s.width,
        s.map_features(),
        s.reshape[0],
        s.reshape[1],
        s.reshape[2],
        channels.join(", "),
        s.parameters(),
        r.bits
    );
    out += &format!("training: {}\n", nervi::train_line(&r.train));
    out += &q("network (f32)", &r.network);
    out += &q("file (decoder)", &r.file);
    if let Some(c) = &r.corrections {
        out += &format!(
            "error bound {:.4e} at every stored pixel (color and mask); corrections {} ({} of {} \
             values, {:.2} %); largest error: network {:.4e}, file {:.4e}\n",
            c.bound,
            super::format_bytes(c.bytes as u128),
            c.corrected,
            c.values,
            100.0 * c.corrected as f64 / c.values.max(1) as f64,
            c.network_error,
            c.file_error
        );
    }
    out += &format!("time: {seconds:.1} s\n");
    out
}

fn json(r: &NerviReport) -> serde_json::Value {
    let q = |q: &ImageQuality| serde_json::json!({"psnr": q.psnr, "ssim": q.ssim, "worst_psnr": q.worst_psnr});
    serde_json::json!({
        "method": "nervi",
        "file_bytes": r.bytes.len(),
        "raw_bytes": r.raw_bytes,
        "database_bytes": r.database_bytes,
        "ratio": r.raw_bytes as f64 / r.bytes.len() as f64,
        "images": r.images,
        "width": r.size[0],
        "height": r.size[1],
        "parameters": r.shape.parameters(),
        "channels": r.shape.blocks.first().map_or(0, |b| b.1),
        "bits": r.bits,
        "training": {
            "steps": r.train.steps,
            "seconds": r.train.elapsed.as_secs_f64(),
            "stop": r.train.stop.name(),
            "lr": r.train.lr,
        },
        "network_quality": q(&r.network),
        "file_quality": q(&r.file),
        "encode_seconds": r.elapsed.as_secs_f64(),
        "error_bound": r.corrections.as_ref().map(|c| serde_json::json!({
            "bound": c.bound, "corrections_bytes": c.bytes, "corrected_values": c.corrected,
            "values": c.values, "network_max_error": c.network_error, "max_error": c.file_error,
        })),
    })
}
