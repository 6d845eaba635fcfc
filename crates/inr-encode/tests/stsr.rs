//! The STSR-INR encoder end to end: analytic multivariate series encoded,
//! the file read back by the pure-Rust decoder, which must reconstruct what
//! libtorch evaluated; super-resolution from a strided training grid; the
//! errors of settings the format cannot store.

use std::path::Path;
use std::time::Duration;

use inr_core::decode::{DecodeOptions, Decoder, PointTimes};
use inr_core::error::Error;
use inr_encode::stsr::{self, StsrOptions};
use inr_encode::{Samples, Size};
use inr_vtk::vti::{write_image_data, Association, Values, VtiArray};

/// libtorch's generator and thread count belong to the process: tests that
/// train take turns.
fn libtorch() -> std::sync::MutexGuard<'static, ()> {
    static LIBTORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LIBTORCH.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    guard
}

const DIMS: [usize; 3] = [16, 12, 8];

/// A `.pvd` series of `steps` steps of two smooth point variables moving
/// with time, on `DIMS` points.
fn write_series(dir: &Path, steps: usize) -> std::path::PathBuf {
    let mut entries = String::new();
    for s in 0..steps {
        let t = s as f64 * 0.5;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for k in 0..DIMS[2] {
            for j in 0..DIMS[1] {
                for i in 0..DIMS[0] {
                    let [x, y, z] = [i as f64 * 0.2, j as f64 * 0.25, k as f64 * 0.3];
                    a.push(((2.0 * x + t).sin() * (1.5 * y).cos() + 0.5 * z.cos()) as f32);
                    b.push((50.0 + 20.0 * (x + y - 0.7 * t).cos() * z.sin()) as f32);
                }
            }
        }
        let arrays = [("a", &a), ("b", &b)].map(|(name, v)| VtiArray {
            name,
            components: 1,
            association: Association::Point,
            values: Values::F32(v),
        });
        let file = format!("step_{s}.vti");
        let extent = [
            0,
            DIMS[0] as i64 - 1,
            0,
            DIMS[1] as i64 - 1,
            0,
            DIMS[2] as i64 - 1,
        ];
        write_image_data(
            &dir.join(&file),
            extent,
            [0.0; 3],
            [0.2, 0.25, 0.3],
            &arrays,
        )
        .unwrap();
        entries += &format!("    <DataSet timestep=\"{t}\" part=\"0\" file=\"{file}\"/>\n");
    }
    let pvd = dir.join("series.pvd");
    let text = format!(
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n  <Collection>\n{entries}  </Collection>\n</VTKFile>\n"
    );
    std::fs::write(&pvd, text).unwrap();
    pvd
}

fn samples_of(path: &Path, vars: &[&str]) -> Samples {
    let series = inr_vtk::vtkxml::read_series(path).unwrap();
    let names: Vec<String> = vars.iter().map(|v| v.to_string()).collect();
    Samples::from_series(&series, &names).unwrap()
}

fn options(size: Size, bits: u8, steps: usize) -> StsrOptions {
    StsrOptions {
        size,
        bits,
        steps,
        batch: 4000,
        lr: Some(1e-3),
        finetune_steps: steps / 5,
        patience: 0,
        max_time: Some(Duration::from_secs(45)),
        seed: 5,
        ..StsrOptions::default()
    }
}

/// PSNR per variable of the decoder's values at every native sample.
fn decoded_psnr(samples: &Samples, bytes: &[u8]) -> Vec<f64> {
    let decoder = Decoder::from_bytes(bytes.to_vec()).unwrap();
    let nv = samples.variables.len();
    let (mut sq, mut n) = (vec![0f64; nv], 0usize);
    for part in &samples.parts {
        let mut out = vec![0f32; part.targets.len()];
        let times = PointTimes::Fixed(Some(part.time));
        let opts = DecodeOptions::default();
        (decoder.evaluate(&part.coordinates(), times, &part.variables, &mut out, &opts)).unwrap();
        for (row, truth) in out.chunks_exact(nv).zip(part.targets.chunks_exact(nv)) {
            for v in 0..nv {
                let e = row[v] as f64 - samples.unscale(v, 0, truth[v] as f64);
                sq[v] += e * e;
            }
        }
        n += part.len();
    }
    (samples.variables.iter().enumerate())
        .map(|(v, var)| {
            let range = var.range[0][1] - var.range[0][0];
            20.0 * range.log10() - 10.0 * (sq[v] / n as f64).log10()
        })
        .collect()
}

#[test]
fn a_time_series_round_trips_through_the_decoder() {
    let _libtorch = libtorch();
    let dir = tempfile::tempdir().unwrap();
    let samples = samples_of(&write_series(dir.path(), 4), &[]);
    // The paper's variational auto-decoder here; the other tests use the default.
    let opts = StsrOptions {
        vad: Some(stsr::Vad::PAPER),
        ..options(Size::Width(24), 0, 500)
    };
    let report = stsr::encode(&samples, &opts, &mut |_| {}).unwrap();
    eprintln!("{}", inr_encode::Details::text(&report.details, "cpu"));
    let decoded = decoded_psnr(&samples, &report.bytes);
    for ((f, n), d) in report
        .file_quality
        .iter()
        .zip(&report.network_quality)
        .zip(&decoded)
    {
        eprintln!(
            "{}: decoded {d:.3} dB, file {:.3} dB, libtorch {:.3} dB",
            f.name, f.psnr, n.psnr
        );
        assert!(*d > 25.0, "{}: {d} dB", f.name);
        // f32 weights: the decoder evaluates what libtorch evaluated.
        assert!(
            (d - n.psnr).abs() < 0.01,
            "{}: decoder {d}, libtorch {}",
            f.name,
            n.psnr
        );
        assert!((f.max_abs_error - n.max_abs_error).abs() < 1e-3 * f.range);
    }
    let file = inr_core::format::InrFile::from_bytes(report.bytes.clone()).unwrap();
    let model = &file.metadata().model;
    assert_eq!(model["family"], "stsr_inr");
    assert_eq!(model["inputs"], 4);
    assert_eq!(model["heads"], serde_json::json!([2, 2, 2]));
    assert_eq!(model["head_grid"], serde_json::json!(DIMS));
    assert_eq!(model["head_stride"], serde_json::json!([1, 1, 1]));
    assert_eq!(model["stages"].as_array().unwrap().len(), 6);
    assert!(report.details.superres.is_none());
}

#[test]
fn codebooks_hold_the_ratio_on_vector_data() {
    let _libtorch = libtorch();
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    inr_testkit::fields::write_analytic(&vti);
    let samples = samples_of(&vti, &["scalar", "vector"]);
    let opts = StsrOptions {
        latent_dim: 16,
        ..options(Size::Ratio(4.0), 9, 400)
    };
    let report = stsr::encode(&samples, &opts, &mut |_| {}).unwrap();
    eprintln!("{}", inr_encode::Details::text(&report.details, "cpu"));
    assert!(
        (4.0..4.5).contains(&report.ratio()),
        "ratio {}",
        report.ratio()
    );
    assert_eq!(report.details.shape.outputs, 3);
    for (f, e) in report.file_quality.iter().zip(&report.encoder_quality) {
        eprintln!(
            "{}: file {:.3} dB, encoder {:.3} dB",
            f.name, f.psnr, e.psnr
        );
        assert!(
            (f.psnr - e.psnr).abs() < 0.05,
            "{}: {} vs {}",
            f.name,
            f.psnr,
            e.psnr
        );
        assert!(f.psnr > 20.0, "{}: {} dB", f.name, f.psnr);
    }
}

#[test]
fn a_strided_training_grid_reports_held_out_samples_and_interpolation() {
    let _libtorch = libtorch();
    let dir = tempfile::tempdir().unwrap();
    let samples = samples_of(&write_series(dir.path(), 5), &[]);
    let opts = StsrOptions {
        train_stride: [2, 2],
        ..options(Size::Width(24), 0, 400)
    };
    let report = stsr::encode(&samples, &opts, &mut |_| {}).unwrap();
    let text = inr_encode::Details::text(&report.details, "cpu");
    eprintln!("{text}");
    let d = &report.details;
    assert_eq!((d.train, d.stride, d.steps), ([8, 6, 4], [2, 2, 2], (3, 5)));
    let sr = d.superres.as_ref().expect("a super-resolution report");
    let all = 16 * 12 * 8 * 5;
    assert_eq!((sr.samples, sr.held_out), (all, all - 8 * 6 * 4 * 3));
    for r in &sr.rows {
        let dbs = [
            r.network_all,
            r.network_held_out,
            r.interpolation_all,
            r.interpolation_held_out,
        ];
        assert!(dbs.iter().all(|x| x.is_finite() && *x > 10.0), "{r:?}");
    }
    assert!(text.contains("held out") && text.contains("interp"));
    // The network at all samples is what the file decodes there.
    for (row, f) in sr.rows.iter().zip(&report.file_quality) {
        assert!(
            (row.network_all - f.psnr).abs() < 0.01,
            "{row:?} {}",
            f.psnr
        );
    }
    let file = inr_core::format::InrFile::from_bytes(report.bytes.clone()).unwrap();
    assert_eq!(
        file.metadata().model["head_stride"],
        serde_json::json!([2, 2, 2])
    );
    assert_eq!(
        file.metadata().model["head_grid"],
        serde_json::json!([8, 6, 4])
    );
}

#[test]
fn settings_the_format_cannot_store_are_refused() {
    let _libtorch = libtorch();
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    inr_testkit::fields::write_analytic(&vti);
    let points = samples_of(&vti, &["scalar"]);
    let opts = StsrOptions {
        heads: Some([5, 2, 2]),
        ..options(Size::Width(8), 0, 10)
    };
    match stsr::encode(&points, &opts, &mut |_| {}) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("do not divide its 24"), "{m}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let mixed = samples_of(&vti, &[]);
    match stsr::encode(&mixed, &options(Size::Width(8), 0, 10), &mut |_| {}) {
        Err(Error::Unsupported(m)) => assert!(m.contains("one association"), "{m}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let opts = StsrOptions {
        train_stride: [0, 1],
        ..options(Size::Width(8), 0, 10)
    };
    assert!(stsr::encode(&points, &opts, &mut |_| {}).is_err());
}
