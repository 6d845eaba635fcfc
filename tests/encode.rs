#![cfg(feature = "encoder")]
//! The encoder end to end: train on small data sets, write the file, read it
//! back with the pure-Rust decoder.

use std::path::Path;
use std::time::Duration;

use inr::encode::{self, EncodeOptions, Samples, Size, TrainOptions};
use inr::vti::{write_image_data, Association, VtiArray};
use inr::Decoder;

/// 24 x 20 x 16 points of smooth sin/cos products: a scalar and a 3-vector
/// at the points, a scalar at the cells.
fn write_analytic(path: &Path) {
    let dims = [24usize, 20, 16];
    let origin = [-1.0, 0.5, 2.0];
    let spacing = [0.1, 0.12, 0.15];
    let (mut scalar, mut vector, mut cells) = (Vec::new(), Vec::new(), Vec::new());
    let field = |x: f64, y: f64, z: f64| {
        [
            (2.0 * x).sin() * (1.5 * y).cos() + 0.5 * z.cos(),
            (x + y).cos(),
            (y * z).sin() * 3.0,
            1.0 + x * 0.5 + (z * 2.0).sin(),
        ]
    };
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let p = [0, 1, 2].map(|a| origin[a] + [i, j, k][a] as f64 * spacing[a]);
                let f = field(p[0], p[1], p[2]);
                scalar.push(f[0] as f32);
                vector.extend(f[1..].iter().map(|&v| v as f32));
                if i + 1 < dims[0] && j + 1 < dims[1] && k + 1 < dims[2] {
                    let c = [0, 1, 2].map(|a| p[a] + 0.5 * spacing[a]);
                    cells.push((100.0 * field(c[0], c[1], c[2])[0]) as f32);
                }
            }
        }
    }
    let extent = [0, 23, 0, 19, 0, 15];
    let arrays = [
        VtiArray {
            name: "scalar",
            components: 1,
            association: Association::Point,
            values: &scalar,
        },
        VtiArray {
            name: "vector",
            components: 3,
            association: Association::Point,
            values: &vector,
        },
        VtiArray {
            name: "cell_scalar",
            components: 1,
            association: Association::Cell,
            values: &cells,
        },
    ];
    write_image_data(path, extent, origin, spacing, &arrays).unwrap();
}

fn options(size: Size, bits: u8, steps: usize, lr: f64) -> EncodeOptions {
    EncodeOptions {
        size,
        bits,
        train: TrainOptions {
            steps,
            max_time: Some(Duration::from_secs(30)),
            lr,
            patience: 0,
            ..TrainOptions::default()
        },
        seed: 7,
        device: tch::Device::Cpu,
    }
}

#[test]
fn analytic_field_round_trips_through_the_decoder() {
    tch::set_num_threads(2);
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    write_analytic(&vti);
    let series = inr::vtkxml::read_series(&vti).unwrap();
    let samples = Samples::from_series(&series, &[]).unwrap();
    assert_eq!(samples.inputs(), 3);
    assert_eq!(samples.outputs(), 5);
    assert_eq!(samples.num_sites(), 24 * 20 * 16 + 23 * 19 * 15);

    let opts = options(
        Size::Explicit {
            width: 32,
            blocks: 2,
        },
        0,
        600,
        5e-4,
    );
    let report = encode::encode(&samples, &opts, &mut |_| {}).unwrap();
    for (f, m) in report.file_quality.iter().zip(&report.model_quality) {
        eprintln!(
            "{}: file {:.3} dB, network {:.3} dB, max error {:.3e}",
            f.name, f.psnr, m.psnr, f.max_abs_error
        );
        assert!(f.psnr > 30.0, "{} at {} dB", f.name, f.psnr);
        // f32 weights: the file and the decoder lose nothing.
        assert!(
            (f.psnr - m.psnr).abs() < 0.05,
            "{}: decoder {} dB, network {} dB",
            f.name,
            f.psnr,
            m.psnr
        );
    }

    let out = dir.path().join("analytic.inr");
    inr::format::writer::write_atomically(&out, &report.bytes).unwrap();
    let decoder = Decoder::open(&out).unwrap();
    let meta = decoder.metadata();
    let names: Vec<&str> = meta.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["scalar", "vector", "cell_scalar"]);
    assert!(meta.time.is_none());
    match meta.domain {
        inr::format::Domain::Image { dims, .. } => assert_eq!(dims, [24, 20, 16]),
        ref d => panic!("domain {d:?}"),
    }
    // The decoded native grid matches the data at the points.
    let grid = decoder
        .decode_grid(&Default::default(), &Default::default())
        .unwrap();
    let image = inr::vti::read_image_data(&vti).unwrap();
    let max_err = grid.arrays[0]
        .values
        .iter()
        .zip(&image.arrays[0].values)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .fold(0.0, f64::max);
    assert!(
        (max_err - report.file_quality[0].max_abs_error).abs() < 1e-4,
        "grid decode max error {max_err}, report {}",
        report.file_quality[0].max_abs_error
    );
}

#[test]
fn codebook_file_and_ratio() {
    tch::set_num_threads(2);
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    write_analytic(&vti);
    let series = inr::vtkxml::read_series(&vti).unwrap();
    let samples = Samples::from_series(&series, &["scalar".to_string()]).unwrap();
    let opts = options(
        Size::Ratio {
            ratio: 4.0,
            blocks: 1,
        },
        9,
        300,
        5e-4,
    );
    let report = encode::encode(&samples, &opts, &mut |_| {}).unwrap();
    eprintln!(
        "width {} bytes {} ratio {:.2} file {:.2} dB network {:.2} dB",
        report.shape.width,
        report.bytes.len(),
        report.ratio(),
        report.file_quality[0].psnr,
        report.model_quality[0].psnr
    );
    // The size model is an estimate: within 15 % of the target.
    assert!(report.ratio() > 4.0 * 0.85, "ratio {}", report.ratio());
    assert!(report.file_quality[0].psnr > 25.0);
    // Quantization costs little at 9 bits.
    assert!(report.file_quality[0].psnr > report.model_quality[0].psnr - 3.0);
}

#[test]
fn viscous_fingers_step() {
    let path = Path::new("/work/shared/data/viscous_fingers/001_density_001_064_2.0.vti");
    if !path.exists() {
        eprintln!("skipped: {} is not here", path.display());
        return;
    }
    tch::set_num_threads(2);
    let series = inr::vtkxml::read_series(path).unwrap();
    let samples = Samples::from_series(&series, &[]).unwrap();
    let opts = options(
        Size::Explicit {
            width: 32,
            blocks: 2,
        },
        0,
        150,
        5e-4,
    );
    let report = encode::encode(&samples, &opts, &mut |_| {}).unwrap();
    let (f, m) = (&report.file_quality[0], &report.model_quality[0]);
    eprintln!(
        "{}: file {:.3} dB network {:.3} dB in {:.1} s",
        f.name,
        f.psnr,
        m.psnr,
        report.elapsed.as_secs_f64()
    );
    assert!(f.psnr > 20.0, "{} dB", f.psnr);
    assert!((f.psnr - m.psnr).abs() < 0.05);
}

#[test]
fn command_line_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    write_analytic(&vti);
    let out = dir.path().join("cli.inr");
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_inr"))
        .args(["encode", vti.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args([
            "--width", "16", "--blocks", "1", "--steps", "50", "--bits", "0",
        ])
        .args(["--device", "cpu", "--vars", "scalar,vector"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains("PSNR") && stdout.contains("vector"),
        "{stdout}"
    );
    assert_eq!(Decoder::open(&out).unwrap().metadata().variables.len(), 2);
}
