//! Error-bounded files on every bundled data set and every family: after
//! corrections, every stored site at every stored time step decodes within
//! the bound of the original (float64) values, through the decoder's grid,
//! mesh and piece paths; between steps the value is the network's.

use std::path::PathBuf;
use std::time::Duration;

use inr_core::decode::{DecodeOptions, Decoder, GridRequest};
use inr_core::format::Association;
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

/// Variable `v` at every stored site at `time`: the native grid or the
/// stored mesh.
fn stored(decoder: &Decoder, v: usize, time: f64, options: &DecodeOptions) -> Vec<f32> {
    if decoder.native_grid().is_none() {
        return decoder
            .decode_nodes(&[v], Some(time), options)
            .unwrap()
            .remove(0);
    }
    let req = GridRequest {
        variables: vec![v],
        time: Some(time),
        ..GridRequest::default()
    };
    decoder
        .decode_grid(&req, options)
        .unwrap()
        .arrays
        .remove(0)
        .values
}

/// The largest error over every stored site, time step, variable and
/// component, each over its `bound` (so <= 1 passes).
fn worst_ratio(decoder: &Decoder, series: &Series, bound: &[Vec<f64>], threads: usize) -> f64 {
    let options = DecodeOptions {
        threads,
        ..DecodeOptions::default()
    };
    let mut worst = 0f64;
    for (time, dataset) in &series.steps {
        for (v, var) in decoder.metadata().variables.iter().enumerate() {
            let original = &dataset.array(&var.name).unwrap().values;
            let decoded = stored(decoder, v, *time, &options);
            assert_eq!(decoded.len(), original.len(), "{}", var.name);
            let n = var.components as usize;
            for (i, (&d, &o)) in decoded.iter().zip(original).enumerate() {
                worst = worst.max((d as f64 - o).abs() / bound[v][i % n]);
            }
        }
    }
    worst
}

/// Pieces decode the values of the whole: a grid in two slabs along z, a
/// mesh's second of two pieces at its stored points and cells.
fn check_pieces(decoder: &Decoder, time: f64) {
    let options = DecodeOptions::default();
    for (v, var) in decoder.metadata().variables.iter().enumerate() {
        let whole = stored(decoder, v, time, &options);
        let n = var.components as usize;
        let cells = var.association == Association::Cell;
        let Some(grid) = decoder.native_grid() else {
            let request = MeshRequest {
                level: 0,
                piece: 1,
                pieces: 2,
            };
            let view = decoder.mesh_view(&request).unwrap();
            let mut piece = vec![0f32; decoder.mesh_value_count(&view.mesh, v).unwrap()];
            let outs = &mut [&mut piece[..]];
            decoder
                .decode_view_into(&view, &[v], Some(time), outs, &options)
                .unwrap();
            let ids: Vec<usize> = match cells {
                true => view.source_cells.iter().map(|&c| c as usize).collect(),
                false => view.source_points.iter().map(|&p| p as usize).collect(),
            };
            for (t, &id) in ids.iter().enumerate() {
                assert_eq!(&piece[t * n..][..n], &whole[id * n..][..n], "{}", var.name);
            }
            continue;
        };
        let [x, y, z] = grid.dims();
        if z < 3 {
            continue;
        }
        let layer = whole.len() / if cells { z - 1 } else { z };
        let split = z / 2 * layer;
        for (ext, range) in [([0, z / 2], 0..split), ([z / 2, z - 1], split..whole.len())] {
            let req = GridRequest {
                variables: vec![v],
                time: Some(time),
                extent: Some([0, x - 1, 0, y - 1, ext[0], ext[1]]),
                ..GridRequest::default()
            };
            let piece = decoder
                .decode_grid(&req, &options)
                .unwrap()
                .arrays
                .remove(0)
                .values;
            let len = range.len();
            let got = if ext[0] == 0 {
                &piece[..len]
            } else {
                &piece[piece.len() - len..]
            };
            assert_eq!(got, &whole[range], "{}", var.name);
        }
    }
}

/// The file without its corrections: the network alone.
fn network_only(bytes: &[u8]) -> Decoder {
    let file = inr_core::format::InrFile::from_bytes(bytes.to_vec()).unwrap();
    let (builder, mut meta) = inr_core::format::FileBuilder::from_file(&file).unwrap();
    meta.corrections = None;
    Decoder::from_bytes(builder.to_bytes(meta).unwrap()).unwrap()
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
    let decoder = Decoder::from_bytes(report.bytes.clone()).unwrap();
    let bound = &decoder.metadata().corrections.as_ref().unwrap().bound;
    let (w1, w2) = (
        worst_ratio(&decoder, series, bound, 1),
        worst_ratio(&decoder, series, bound, 2),
    );
    check_pieces(&decoder, series.steps[series.steps.len() - 1].0);
    let network = worst_ratio(&network_only(&report.bytes), series, bound, 1);
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
