//! How fast a NeRVI file gives images, next to reading the same picture from
//! a PNG (what a Cinema viewer does per frame), side by side in one run:
//!
//! - `decode_rgba` of the stored views in turn (the network, then the
//!   composite), on 1 thread and on THREADS;
//! - decoding one of those frames from an in-memory PNG (png crate, default
//!   compression), the baseline.
//!
//! Usage: cargo run --release --example bench_nervi -- FILE.inr [FRAMES] [THREADS]
//! (FRAMES decoded per measure, default 8; THREADS 0 = all cores, default 2).
//! Best of 3 for every figure.

use std::time::Instant;

use inr::decode::{DecodeOptions, Decoder};

fn best(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn png_bytes(rgba: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().expect("png header");
    writer.write_image_data(rgba).expect("png data");
    writer.finish().expect("png end");
    out
}

fn main() -> inr::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: bench_nervi FILE.inr [FRAMES] [THREADS]");
        std::process::exit(2);
    };
    let frames: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(8);
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let d = Decoder::open(path)?;
    let set = d.image_set().expect("a NeRVI (images) file").clone();
    let time = d.metadata().time.as_ref().map(|t| t.values[0]);
    let decode = |n: usize| {
        let options = DecodeOptions {
            threads: n,
            ..Default::default()
        };
        for f in 0..frames {
            let view = set.view(f % set.view_count());
            d.decode_rgba(time, view, &options).expect("decode");
        }
    };
    let one = best(|| decode(1)) / frames as f64;
    let many = best(|| decode(threads)) / frames as f64;
    let frame = d.decode_rgba(time, set.view(0), &DecodeOptions::default())?;
    let (w, h) = (set.width as u32, set.height as u32);
    let png = png_bytes(&frame, w, h);
    let png_time = best(|| {
        for _ in 0..frames {
            let mut reader = png::Decoder::new(png.as_slice()).read_info().expect("png");
            let mut buf = vec![0; reader.output_buffer_size()];
            reader.next_frame(&mut buf).expect("png frame");
        }
    }) / frames as f64;
    println!(
        "{} x {} images, {} parameters ({}); PNG frame {} bytes",
        w,
        h,
        d.model().parameter_count(),
        d.model().family().describe(),
        png.len()
    );
    println!(
        "NeRVI decode, 1 thread:  {:8.1} ms/frame = {:6.2} frames/s",
        1e3 * one,
        1.0 / one
    );
    println!(
        "NeRVI decode, {threads} threads: {:8.1} ms/frame = {:6.2} frames/s",
        1e3 * many,
        1.0 / many
    );
    println!(
        "PNG decode (baseline):   {:8.2} ms/frame = {:6.1} frames/s",
        1e3 * png_time,
        1.0 / png_time
    );
    println!(
        "RESULT nervi_ms_1={:.2} nervi_ms_{threads}={:.2} png_ms={:.3} ratio_1={:.1} ratio_{threads}={:.1}",
        1e3 * one,
        1e3 * many,
        1e3 * png_time,
        one / png_time,
        many / png_time
    );
    Ok(())
}
