//! The ECNR encoder end to end: real data sets encoded at a ratio, the file
//! read back by the pure-Rust decoder, which must reconstruct what the
//! encoder measured; the paper's ablations and the errors of what ECNR does
//! not store.

use std::path::Path;
use std::time::Duration;

use inr_core::decode::{DecodeOptions, Decoder, PointTimes};
use inr_core::error::Error;
use inr_encode::ecnr::{self, EcnrDetails, EcnrOptions};
use inr_encode::{EncodeReport, Samples, Size};

macro_rules! data {
    ($file:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/", $file)
    };
}

/// libtorch's generator and thread count belong to the process: tests that
/// train take turns.
fn libtorch() -> std::sync::MutexGuard<'static, ()> {
    static LIBTORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LIBTORCH.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(2);
    guard
}

fn samples_of(path: &str, vars: &[&str], steps: Option<usize>) -> Samples {
    let mut series = inr_vtk::vtkxml::read_series(Path::new(path)).unwrap();
    if let Some(n) = steps {
        series.steps.truncate(n);
    }
    let names: Vec<String> = vars.iter().map(|v| v.to_string()).collect();
    Samples::from_series(&series, &names).unwrap()
}

fn options(size: Size, epochs: usize, seconds: Option<u64>) -> EcnrOptions {
    EcnrOptions {
        size,
        epochs,
        max_time: seconds.map(Duration::from_secs),
        seed: 3,
        ..EcnrOptions::default()
    }
}

/// The decoder's PSNR of the written file equals the encoder's own
/// reconstruction from the stored (quantized) weights within 0.05 dB.
fn assert_fidelity(report: &EncodeReport<EcnrDetails>) {
    for (f, e) in report.file_quality.iter().zip(&report.encoder_quality) {
        eprintln!(
            "{}: file {:.3} dB, encoder {:.3} dB, network {:.3} dB",
            f.name, f.psnr, e.psnr, report.network_quality[0].psnr
        );
        assert!(
            (f.psnr - e.psnr).abs() < 0.05,
            "{}: decoder {} dB, encoder {} dB",
            f.name,
            f.psnr,
            e.psnr
        );
    }
}

fn mean_psnr<D>(r: &EncodeReport<D>) -> f64 {
    r.file_quality.iter().map(|q| q.psnr).sum::<f64>() / r.file_quality.len() as f64
}

#[test]
fn time_series_holds_its_ratio_and_the_decoder_reconstructs_the_encoder() {
    let _libtorch = libtorch();
    let samples = samples_of(data!("viscous_fingers/viscous_fingers.pvd"), &[], Some(4));
    let report = ecnr::encode(
        &samples,
        &options(Size::Ratio(200.0), 30, Some(150)),
        &mut |_| {},
    )
    .unwrap();
    eprintln!("{}", inr_encode::Details::text(&report.details, "cpu"));
    let ratio = report.ratio();
    assert!((200.0..230.0).contains(&ratio), "ratio {ratio}");
    assert_fidelity(&report);
    assert!(mean_psnr(&report) > 25.0, "{} dB", mean_psnr(&report));
    let d = &report.details;
    let factors: Vec<usize> = d.scales.iter().map(|s| s.factor).collect();
    assert_eq!(factors, vec![4, 2, 1]);
    // The coarsest scale keeps every block; pruning reached its target.
    assert_eq!(d.scales[0].kept, d.scales[0].blocks);
    for s in &d.scales {
        assert!(s.kept <= s.blocks && s.mlps >= 1);
        if s.kept > 0 {
            assert!((0.45..0.55).contains(&s.sparsity), "{s:?}");
        }
    }
    // The coarsest scales alone are a coarser picture of the same data.
    let decoder = Decoder::from_bytes(report.bytes.clone()).unwrap();
    let part = &samples.parts[1];
    let coords = part.coordinates();
    let psnr_at = |detail: u32| {
        let mut out = vec![0f32; part.targets.len()];
        let opts = DecodeOptions {
            detail,
            ..DecodeOptions::default()
        };
        decoder
            .evaluate(
                &coords,
                PointTimes::Fixed(Some(part.time)),
                &part.variables,
                &mut out,
                &opts,
            )
            .unwrap();
        let mse: f64 = out
            .iter()
            .zip(&part.targets)
            .map(|(&y, &t)| {
                let e = y as f64 - samples.unscale(0, 0, t as f64);
                e * e
            })
            .sum::<f64>()
            / out.len() as f64;
        let range = samples.variables[0].range[0];
        20.0 * (range[1] - range[0]).log10() - 10.0 * mse.log10()
    };
    let (one, two, all) = (psnr_at(1), psnr_at(2), psnr_at(0));
    eprintln!("step 1 by level of detail: {one:.2} / {two:.2} / {all:.2} dB");
    assert!(one < two && two < all, "{one} {two} {all}");
}

#[test]
fn rectilinear_cell_data_of_many_variables() {
    let _libtorch = libtorch();
    let samples = samples_of(
        data!("cth/cth.vtr"),
        &["Pressure", "Void Volume Fraction", "X Velocity"],
        None,
    );
    let report = ecnr::encode(
        &samples,
        &options(Size::Ratio(100.0), 4, Some(30)),
        &mut |_| {},
    )
    .unwrap();
    let ratio = report.ratio();
    assert!((100.0..115.0).contains(&ratio), "ratio {ratio}");
    assert_fidelity(&report);
    assert_eq!(report.file_quality.len(), 3);
    let file = inr_core::format::InrFile::from_bytes(report.bytes.clone()).unwrap();
    assert_eq!(file.metadata().model["sites"], "cell");
}

#[test]
fn ablation_without_pruning_or_quantization_stores_the_network_exactly() {
    let _libtorch = libtorch();
    let samples = samples_of(data!("isabel/isabel.pvd"), &[], Some(2));
    let opts = EcnrOptions {
        prune: false,
        bits: 0,
        ..options(Size::Width(16), 3, Some(30))
    };
    let report = ecnr::encode(&samples, &opts, &mut |_| {}).unwrap();
    for s in &report.details.scales {
        assert_eq!(s.sparsity, 0.0);
    }
    // f32 values: the file, the decoder and libtorch's network agree.
    for (f, n) in report.file_quality.iter().zip(&report.network_quality) {
        assert!((f.psnr - n.psnr).abs() < 0.01, "{} {}", f.psnr, n.psnr);
    }
    let file = inr_core::format::InrFile::from_bytes(report.bytes.clone()).unwrap();
    let text = serde_json::to_string(&file.metadata().model).unwrap();
    assert!(!text.contains("codebook") && !text.contains("mask"));
}

#[test]
fn same_seed_same_file() {
    let _libtorch = libtorch();
    let samples = samples_of(data!("isabel/isabel.pvd"), &[], Some(1));
    let opts = options(Size::Ratio(100.0), 1, None);
    let a = ecnr::encode(&samples, &opts, &mut |_| {}).unwrap();
    let b = ecnr::encode(&samples, &opts, &mut |_| {}).unwrap();
    assert_eq!(a.bytes, b.bytes);
}

/// A budget that cannot hold the coarsest scale at the default width is
/// planned with narrower MLPs rather than refused, and still holds its ratio.
#[test]
fn a_small_budget_narrows_the_mlps() {
    let _libtorch = libtorch();
    let isabel = samples_of(data!("isabel/isabel.pvd"), &[], None);
    let report = ecnr::encode(
        &isabel,
        &options(Size::Ratio(1000.0), 1, Some(60)),
        &mut |_| {},
    )
    .unwrap();
    let ratio = report.ratio();
    assert!((1000.0..1100.0).contains(&ratio), "ratio {ratio}");
    let width = report.details.width;
    assert!(
        width < EcnrOptions::default().width && width >= 8,
        "width {width}"
    );
    assert_eq!(report.details.scales.len(), 3);
}

#[test]
fn what_ecnr_does_not_store_is_refused_clearly() {
    let _libtorch = libtorch();
    let mesh = samples_of(data!("disk_out_ref/disk_out_ref.vtu"), &["Temp"], None);
    let opts = options(Size::Ratio(50.0), 1, Some(5));
    match ecnr::encode(&mesh, &opts, &mut |_| {}) {
        Err(Error::Unsupported(m)) => assert!(m.contains("image data and rectilinear"), "{m}"),
        other => panic!("{other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    inr_testkit::fields::write_analytic(&vti);
    let mixed = samples_of(vti.to_str().unwrap(), &[], None);
    match ecnr::encode(&mixed, &opts, &mut |_| {}) {
        Err(Error::Unsupported(m)) => assert!(m.contains("one association"), "{m}"),
        other => panic!("{other:?}"),
    }
    let isabel = samples_of(data!("isabel/isabel.pvd"), &[], Some(1));
    match ecnr::encode(
        &isabel,
        &options(Size::Ratio(5000.0), 1, Some(5)),
        &mut |_| {},
    ) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("too small"), "{m}"),
        other => panic!("{other:?}"),
    }
}
