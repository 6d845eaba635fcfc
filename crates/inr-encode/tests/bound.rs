//! Error-bounded files on every bundled data set and every family: after
//! corrections, every stored site at every stored time step decodes within
//! the bound of the original (float64) values, through the decoder's grid,
//! mesh and piece paths; between steps the value is the network's.

use std::path::PathBuf;
use std::time::Duration;

use inr_core::decode::{DecodeOptions, Decoder, GridRequest};
use inr_core::mesh::extract::MeshRequest;
use inr_encode::bound::{self, ErrorBound};
use inr_encode::ecnr::{self, EcnrOptions};
use inr_encode::mc_inr::{self, McInrOptions};
use inr_encode::stsr::{self, StsrOptions};
use inr_encode::{self as encode, EncodeOptions, EncodeReport, Samples, Size, TrainOptions};
use inr_vtk::vtkxml::{read_series, Series};

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

fn series(path: &str, steps: usize) -> (Series, Samples) {
    let mut s = read_series(&data(path)).unwrap();
    s.steps.truncate(steps);
    let samples = Samples::from_series(&s, &[]).unwrap();
    (s, samples)
}

/// libtorch's generator and thread count belong to the process.
fn libtorch() -> std::sync::MutexGuard<'static, ()> {
    static LIBTORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LIBTORCH.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(2);
    guard
}

fn siren(samples: &Samples) -> EncodeReport<encode::SirenDetails> {
    let opts = EncodeOptions {
        size: Size::Width(12),
        blocks: 1,
        train: TrainOptions {
            steps: 30,
            max_time: Some(Duration::from_secs(20)),
            patience: 0,
            ..TrainOptions::default()
        },
        finetune_steps: 0,
        device: tch::Device::Cpu,
        ..EncodeOptions::default()
    };
    encode::encode(samples, &opts, &mut |_| {}).unwrap()
}

/// The largest error over every stored site, time step, variable and
/// component, each over its bound (so <= 1 passes), decoding with
/// `threads` threads; grids also in two pieces along z.
fn worst(series: &Series, bytes: &[u8], threads: usize) -> f64 {
    let decoder = Decoder::from_bytes(bytes.to_vec()).unwrap();
    let meta = decoder.metadata();
    let corr = meta.corrections.as_ref().expect("an error-bounded file");
    let options = DecodeOptions {
        threads,
        ..DecodeOptions::default()
    };
    let mut worst = 0f64;
    for (time, dataset) in &series.steps {
        for (v, var) in meta.variables.iter().enumerate() {
            let original = &dataset.array(&var.name).unwrap().values;
            let decoded: Vec<f32> = match decoder.native_grid() {
                Some(grid) => {
                    let req = GridRequest {
                        variables: vec![v],
                        time: Some(*time),
                        ..GridRequest::default()
                    };
                    let whole = decoder.decode_grid(&req, &options).unwrap().arrays[0]
                        .values
                        .clone();
                    // Two pieces along z decode the same values.
                    let z = grid.dims()[2];
                    if z > 2 {
                        let mut pieces = Vec::new();
                        for e in [[0, z / 2], [z / 2, z - 1]] {
                            let dims = grid.dims();
                            let ext = [0, dims[0] - 1, 0, dims[1] - 1, e[0], e[1]];
                            let r = GridRequest {
                                extent: Some(ext),
                                ..req.clone()
                            };
                            pieces.push(
                                decoder.decode_grid(&r, &options).unwrap().arrays[0]
                                    .values
                                    .clone(),
                            );
                        }
                        let per_layer = whole.len()
                            / if var.association == inr_core::format::Association::Cell {
                                z - 1
                            } else {
                                z
                            };
                        let split = z / 2 * per_layer;
                        assert_eq!(&pieces[0][..split], &whole[..split], "{}", var.name);
                        assert_eq!(
                            &pieces[1][pieces[1].len() - (whole.len() - split)..],
                            &whole[split..]
                        );
                    }
                    whole
                }
                None => {
                    let mut out = vec![decoder
                        .decode_nodes(&[v], Some(*time), &options)
                        .unwrap()
                        .remove(0)];
                    // A piece of the mesh keeps its points' corrections.
                    let view = decoder
                        .mesh_view(&MeshRequest {
                            level: 0,
                            piece: 1,
                            pieces: 2,
                        })
                        .unwrap();
                    let mut piece = vec![0f32; decoder.mesh_value_count(&view.mesh, v).unwrap()];
                    decoder
                        .decode_view_into(&view, &[v], Some(*time), &mut [&mut piece[..]], &options)
                        .unwrap();
                    let n = var.components as usize;
                    let ids: Vec<usize> = if var.association == inr_core::format::Association::Point
                    {
                        view.source_points.iter().map(|&p| p as usize).collect()
                    } else {
                        view.source_cells.iter().map(|&c| c as usize).collect()
                    };
                    for (t, &id) in ids.iter().enumerate() {
                        assert_eq!(
                            &piece[t * n..][..n],
                            &out[0][id * n..][..n],
                            "{} piece",
                            var.name
                        );
                    }
                    out.remove(0)
                }
            };
            assert_eq!(decoded.len(), original.len(), "{}", var.name);
            let n = var.components as usize;
            for (i, (&d, &o)) in decoded.iter().zip(original).enumerate() {
                let b = corr.bound[v][i % n];
                worst = worst.max((d as f64 - o).abs() / b);
            }
        }
    }
    worst
}

/// The same measure for the network alone (the file without corrections).
fn worst_network(series: &Series, bytes: &[u8]) -> f64 {
    let file = inr_core::format::InrFile::from_bytes(bytes.to_vec()).unwrap();
    let (builder, mut meta) = inr_core::format::FileBuilder::from_file(&file).unwrap();
    let corr = meta.corrections.take().unwrap();
    let plain = builder.to_bytes(meta).unwrap();
    let decoder = Decoder::from_bytes(plain).unwrap();
    let mut worst = 0f64;
    for (time, dataset) in &series.steps {
        for (v, var) in decoder.metadata().variables.iter().enumerate() {
            let original = &dataset.array(&var.name).unwrap().values;
            let decoded = match decoder.native_grid() {
                Some(_) => {
                    let req = GridRequest {
                        variables: vec![v],
                        time: Some(*time),
                        ..GridRequest::default()
                    };
                    decoder
                        .decode_grid(&req, &DecodeOptions::default())
                        .unwrap()
                        .arrays
                        .remove(0)
                        .values
                }
                None => decoder
                    .decode_nodes(&[v], Some(*time), &DecodeOptions::default())
                    .unwrap()
                    .remove(0),
            };
            let n = var.components as usize;
            for (i, (&d, &o)) in decoded.iter().zip(original).enumerate() {
                worst = worst.max((d as f64 - o).abs() / corr.bound[v][i % n]);
            }
        }
    }
    worst
}

/// Corrects `report` to `b`, then checks the bound at every site (1 and 2
/// threads), that the network alone missed it, and that the file says so.
fn check<D>(
    name: &str,
    series: &Series,
    samples: &Samples,
    mut report: EncodeReport<D>,
    b: ErrorBound,
) {
    let plain = report.bytes.len();
    bound::correct(samples, &mut report, b).unwrap();
    let c = report.corrections.as_ref().unwrap();
    let (w1, w2) = (
        worst(series, &report.bytes, 1),
        worst(series, &report.bytes, 2),
    );
    let network = worst_network(series, &report.bytes);
    eprintln!(
        "{name}: {plain} -> {} bytes, {} of {} values corrected, error/bound {w1:.4} (network {network:.2})",
        report.bytes.len(),
        c.corrected,
        c.values
    );
    assert!(
        w1 <= 1.0 && w2 <= 1.0,
        "{name}: error {w1} / {w2} times the bound"
    );
    assert!(
        network > 1.0,
        "{name}: the network alone met the bound: the test proves nothing"
    );
    assert!(c.corrected > 0 && report.bytes.len() > plain);
    for (q, b) in report.file_quality.iter().zip(&c.bounds) {
        assert!(
            q.max_abs_error <= *b,
            "{}: report says {} > {b}",
            q.name,
            q.max_abs_error
        );
    }
    assert_eq!(
        inr_core::format::InrFile::from_bytes(report.bytes.clone())
            .unwrap()
            .header()
            .minor,
        1
    );
}

#[test]
fn isabel_series_within_a_relative_bound() {
    let _t = libtorch();
    let (s, samples) = series("isabel/isabel.pvd", 4);
    check(
        "isabel",
        &s,
        &samples,
        siren(&samples),
        ErrorBound::Relative(1e-2),
    );
}

#[test]
fn viscous_fingers_within_an_absolute_bound_with_ecnr() {
    let _t = libtorch();
    let (s, samples) = series("viscous_fingers/viscous_fingers.pvd", 3);
    let opts = EcnrOptions {
        size: Size::Ratio(200.0),
        epochs: 2,
        max_time: Some(Duration::from_secs(20)),
        device: tch::Device::Cpu,
        ..EcnrOptions::default()
    };
    let report = ecnr::encode(&samples, &opts, &mut |_| {}).unwrap();
    check(
        "viscous_fingers (ecnr)",
        &s,
        &samples,
        report,
        ErrorBound::Absolute(0.5),
    );
}

#[test]
fn cth_cell_arrays_within_a_relative_bound() {
    let _t = libtorch();
    let (s, samples) = series("cth/cth.vtr", 1);
    check(
        "cth",
        &s,
        &samples,
        siren(&samples),
        ErrorBound::Relative(1e-3),
    );
}

#[test]
fn cth_with_stsr() {
    let _t = libtorch();
    let (s, samples) = series("cth/cth.vtr", 1);
    let opts = StsrOptions {
        size: Size::Width(12),
        steps: 30,
        finetune_steps: 0,
        patience: 0,
        max_time: Some(Duration::from_secs(20)),
        device: tch::Device::Cpu,
        ..StsrOptions::default()
    };
    let report = stsr::encode(&samples, &opts, &mut |_| {}).unwrap();
    check(
        "cth (stsr)",
        &s,
        &samples,
        report,
        ErrorBound::Relative(1e-2),
    );
}

#[test]
fn disk_mesh_within_a_relative_bound() {
    let _t = libtorch();
    let (s, samples) = series("disk_out_ref/disk_out_ref_tets.vtu", 1);
    check(
        "disk_out_ref",
        &s,
        &samples,
        siren(&samples),
        ErrorBound::Relative(1e-2),
    );
}

#[test]
fn mug_series_with_mc_inr() {
    let _t = libtorch();
    let (s, samples) = series("mug/mug.pvd", 3);
    let opts = McInrOptions {
        clusters: 2,
        trunk_blocks: 1,
        branch_blocks: 1,
        size: Size::Width(8),
        max_splits: 0,
        split_rounds: 0,
        max_time: Some(Duration::from_secs(15)),
        device: tch::Device::Cpu,
        ..McInrOptions::default()
    };
    let report = mc_inr::encode(&samples, &opts, &mut |_| {}).unwrap();
    check(
        "mug (mc_inr)",
        &s,
        &samples,
        report,
        ErrorBound::Relative(1e-3),
    );
}

#[test]
fn bounds_below_float32_are_refused() {
    let _t = libtorch();
    let (_, samples) = series("cth/cth.vtr", 1);
    let mut report = siren(&samples);
    let err = bound::correct(&samples, &mut report, ErrorBound::Relative(1e-9)).unwrap_err();
    assert!(err.to_string().contains("below what float32"), "{err}");
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(bound::correct(&samples, &mut report, ErrorBound::Absolute(bad)).is_err());
    }
    assert!(bound::correct(&samples, &mut report, ErrorBound::Relative(1.0)).is_err());
    assert!(report.corrections.is_none());
}
