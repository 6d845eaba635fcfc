//! The ECNR family in the decoder against an f64 reference written from
//! docs/format.md, section 10.4: random points and times, native grids and
//! other resolutions, image and rectilinear domains, point and cell sites,
//! f32 and shared-codebook (pruned) tensors, every level of detail; block
//! evaluation on demand; threads, pieces and cancellation.

use inr::decode::{DecodeOptions, Decoder, Evaluator, GridRequest, OutputRequest, Outputs};
use inr::format::Association;
use inr::model::ecnr::{Ecnr, EMPTY};
use inr_testkit::ecnr::{EcnrEncoding, EcnrSpec};
use inr_testkit::reference::random_queries;
use inr_testkit::reference_ecnr::{normalized_at, reference_ecnr};

/// Agreement asked of the decoder: relative to each output's range.
const TOLERANCE: f64 = 1e-4;

fn open(spec: &EcnrSpec) -> Decoder {
    Decoder::from_bytes(spec.build().unwrap()).unwrap()
}

fn ecnr(d: &Decoder) -> &Ecnr {
    d.model()
        .get()
        .unwrap_or_else(|| panic!("not ECNR: {:?}", d.model()))
}

fn axes(d: &Decoder) -> Option<[Vec<f64>; 3]> {
    d.file().rectilinear_axes().unwrap()
}

fn options(threads: usize, detail: u32) -> DecodeOptions<'static> {
    DecodeOptions {
        threads,
        detail,
        ..Default::default()
    }
}

fn ranges(d: &Decoder) -> Vec<[f64; 2]> {
    let vars = &d.metadata().variables;
    vars.iter().flat_map(|v| v.range.clone()).collect()
}

/// The specs the tests go through: every domain, site, encoding and
/// corner case of the format.
fn variants() -> Vec<(&'static str, EcnrSpec)> {
    let mut cells = EcnrSpec::small(2);
    cells.sites = Association::Cell;
    cells.encoding = EcnrEncoding::Shared {
        bits: 8,
        prune: true,
    };
    let mut rect = EcnrSpec::small(3);
    rect.rectilinear = true;
    rect.times = None;
    rect.latent_dim = 0;
    rect.encoding = EcnrEncoding::Shared {
        bits: 6,
        prune: false,
    };
    let mut rect_cells = EcnrSpec::small(4);
    rect_cells.rectilinear = true;
    rect_cells.sites = Association::Cell;
    rect_cells.block = [5, 1, 4];
    rect_cells.factors = vec![8, 1];
    rect_cells.empty = 0.5;
    rect_cells.times = Some(vec![-1.0, 3.0]);
    let mut flat = EcnrSpec::small(5);
    flat.dims = [17, 11, 1];
    flat.block = [8, 8, 8];
    flat.factors = vec![16, 4, 2, 1];
    flat.sine_layers = 3;
    flat.encoding = EcnrEncoding::Shared {
        bits: 4,
        prune: true,
    };
    vec![
        ("image, points, f32", EcnrSpec::small(1)),
        ("image, cells, shared pruned tables", cells),
        ("rectilinear, points, static, no latents", rect),
        ("rectilinear, cells, two scales, half empty", rect_cells),
        ("flat image, 4 scales, one block per scale", flat),
    ]
}

/// Largest |decoder - reference| over each output's range at `n` random
/// points and times (a tenth beyond the bounds too), at level `detail`.
fn worst_error(d: &Decoder, n: usize, seed: u64, detail: u32) -> f64 {
    let meta = d.metadata();
    let times = meta.time.as_ref().map(|t| t.values.clone());
    // A flat axis gets some room: away from it, values are the boundary's.
    let mut bounds = d.bounds();
    for a in 0..3 {
        if bounds[2 * a] == bounds[2 * a + 1] {
            bounds[2 * a + 1] += 1.0;
        }
    }
    let (points, ts) = random_queries(bounds, times.as_deref(), n, seed);
    let all: Vec<usize> = (0..meta.variables.len()).collect();
    let c = meta.total_components();
    let mut out = vec![0f32; n * c];
    let times = inr::decode::PointTimes::PerPoint(&ts);
    d.evaluate(&points, times, &all, &mut out, &options(2, detail))
        .unwrap();
    let (model, axes, ranges) = (ecnr(d), axes(d), ranges(d));
    let mut worst = 0f64;
    for p in 0..n {
        let mut coords = points[3 * p..3 * p + 3].to_vec();
        coords.push(ts[p]);
        let want = reference_ecnr(model, meta, axes.as_ref(), &coords, detail as usize);
        for o in 0..c {
            let err = (out[p * c + o] as f64 - want[o]).abs() / (ranges[o][1] - ranges[o][0]);
            worst = worst.max(err);
        }
    }
    worst
}

#[test]
fn random_points_match_the_reference_at_every_level_of_detail() {
    for (name, spec) in variants() {
        let d = open(&spec);
        let scales = ecnr(&d).scales.len() as u32;
        for detail in 0..=scales + 1 {
            let worst = worst_error(&d, 400, 7 + detail as u64, detail);
            eprintln!("{name}, detail {detail}: worst error {worst:.2e}");
            assert!(worst < TOLERANCE, "{name}, detail {detail}: {worst}");
        }
    }
}

/// The grid `req` decoded at `detail` against the reference at each of its
/// points (point sites) or cell centers (cell sites).
fn grid_error(d: &Decoder, req: &GridRequest, detail: u32) -> f64 {
    let g = d.decode_grid(req, &options(2, detail)).unwrap();
    let model = ecnr(d);
    let grid = match model.sites {
        Association::Point => g.grid.clone(),
        Association::Cell => g.grid.cell_centers(),
    };
    let [nx, ny, nz] = grid.dims();
    let t = d.effective_time(req.time).unwrap();
    let (axes, ranges) = (axes(d), ranges(d));
    let mut worst = 0f64;
    for q in 0..nx * ny * nz {
        let (i, j, k) = (q % nx, q / nx % ny, q / (nx * ny));
        let coords = [grid.axes[0][i], grid.axes[1][j], grid.axes[2][k], t];
        let want = reference_ecnr(model, d.metadata(), axes.as_ref(), &coords, detail as usize);
        let got = g.arrays.iter().flat_map(|a| {
            let c = a.components;
            a.values[q * c..(q + 1) * c].to_vec()
        });
        for (o, (got, want)) in got.zip(want).enumerate() {
            let err = (got as f64 - want).abs() / (ranges[o][1] - ranges[o][0]);
            worst = worst.max(err);
        }
    }
    worst
}

#[test]
fn grids_at_native_and_other_resolutions_and_between_times_match_the_reference() {
    for (name, spec) in variants() {
        let d = open(&spec);
        let times = [None, Some(0.25), Some(1.9), Some(100.0)];
        let dims = [None, Some([13, 9, 7]), Some([40, 3, 18])];
        for (time, dims) in times.into_iter().zip(dims.iter().cycle()) {
            for detail in [0, 1] {
                let req = GridRequest {
                    dims: *dims,
                    time,
                    ..Default::default()
                };
                let worst = grid_error(&d, &req, detail);
                eprintln!("{name}, {dims:?} at {time:?}, detail {detail}: {worst:.2e}");
                assert!(worst < TOLERANCE, "{name}, {dims:?}, {time:?}: {worst}");
            }
        }
    }
}

/// At native sample `i` and stored step `s` the value is the sum over the
/// scales of each one's upsampled samples there; with a single scale, its
/// MLPs' outputs themselves.
#[test]
fn native_samples_are_the_sum_of_the_scales_residuals() {
    for factors in [vec![1], vec![4, 2, 1]] {
        let mut spec = EcnrSpec::small(8);
        spec.factors = factors.clone();
        let d = open(&spec);
        let model = ecnr(&d);
        let ranges = ranges(&d);
        let step = 3;
        let t = d.metadata().time.as_ref().unwrap().values[step];
        let g = d
            .decode_grid(
                &GridRequest {
                    time: Some(t),
                    ..Default::default()
                },
                &options(2, 0),
            )
            .unwrap();
        let [nx, ny, nz] = g.grid.dims();
        let mut worst = 0f64;
        for q in 0..nx * ny * nz {
            let (i, j, k) = (q % nx, q / nx % ny, q / (nx * ny));
            let p = [i as f64, j as f64, k as f64, step as f64];
            let want: Vec<f64> = match factors.len() {
                1 => inr_testkit::reference_ecnr::sample(&model.scales[0], [i, j, k, step]),
                _ => normalized_at(model, p, 0),
            };
            let got = g.arrays.iter().flat_map(|a| {
                let c = a.components;
                a.values[q * c..(q + 1) * c].to_vec()
            });
            for (o, (got, y)) in got.zip(want).enumerate() {
                let r = ranges[o];
                let want = r[0] + (y + 1.0) * 0.5 * (r[1] - r[0]);
                worst = worst.max((got as f64 - want).abs() / (r[1] - r[0]));
            }
        }
        eprintln!("factors {factors:?}: worst error {worst:.2e}");
        assert!(worst < TOLERANCE, "factors {factors:?}: {worst}");
    }
}

#[test]
fn the_coarsest_level_of_detail_is_a_smooth_preview_of_the_whole() {
    let d = open(&EcnrSpec::small(9));
    let req = GridRequest::default();
    let at = |detail| d.decode_grid(&req, &options(2, detail)).unwrap().arrays;
    let (coarse, all) = (at(1), at(0));
    assert_eq!(at(3)[0].values, all[0].values, "all 3 scales");
    assert_eq!(at(7)[0].values, all[0].values, "more than there are: all");
    assert_ne!(coarse[0].values, all[0].values);
    // The coarsest scale alone: at native samples on its own samples (every
    // fourth), the interpolation of its MLPs' outputs.
    let model = ecnr(&d);
    let p = [8.0, 4.0, 0.0, 0.0];
    let y = inr_testkit::reference_ecnr::sample(&model.scales[0], [2, 1, 0, 0]);
    assert_eq!(normalized_at(model, p, 1), y);
}

/// A request for `variables` through the ECNR evaluator itself, whose
/// block counts tell what was evaluated.
fn evaluate_with(
    d: &Decoder,
    variables: &[usize],
    points: &[[f64; 3]],
    t: f64,
) -> (Vec<usize>, Vec<f32>) {
    let request = OutputRequest {
        variables,
        meta: d.metadata(),
        blend: None,
    };
    let e = ecnr(d).evaluator(&request);
    let c = e.outputs();
    let mut out = vec![0f32; points.len() * c];
    let coords = |q: usize| points[q];
    let time = |_| t;
    let o = Outputs::interleaved(&mut out, c);
    e.eval(points.len(), &coords, &time, o, &options(2, 0))
        .unwrap();
    (e.blocks_evaluated(), out)
}

#[test]
fn a_point_query_evaluates_only_the_blocks_around_it() {
    let mut spec = EcnrSpec::small(10);
    spec.empty = 0.0;
    let d = open(&spec);
    let model = ecnr(&d);
    let all: Vec<usize> = (0..d.metadata().variables.len()).collect();
    let non_empty = |s: usize| {
        let a = &model.scales[s].assignment;
        a.iter().filter(|&&q| q != EMPTY).count()
    };
    // On a native sample at a stored step: the finest scale needs one block
    // (one sample); each coarser one at most 16 samples' blocks.
    let g = d.native_grid().unwrap();
    let t = d.metadata().time.as_ref().unwrap().values[2];
    let at = [g.axes[0][9], g.axes[1][5], g.axes[2][3]];
    let (counts, one) = evaluate_with(&d, &all, &[at], t);
    eprintln!("blocks evaluated per scale: {counts:?}");
    assert_eq!(counts[2], 1);
    assert!(counts.iter().all(|&n| (1..=16).contains(&n)), "{counts:?}");
    assert!(counts[1] < non_empty(1) && counts[2] < non_empty(2));
    // The same values as through the decoder.
    let mut want = vec![0f32; one.len()];
    let times = inr::decode::PointTimes::Fixed(Some(t));
    d.evaluate(&at, times, &all, &mut want, &options(1, 0))
        .unwrap();
    assert_eq!(one, want);
    // A whole grid at that step evaluates each block it needs once, however
    // many points share it; at a step between stored ones, also the next
    // step's blocks.
    let points: Vec<[f64; 3]> = (0..g.dims().iter().product())
        .map(|q: usize| {
            let [nx, ny, _] = g.dims();
            [
                g.axes[0][q % nx],
                g.axes[1][q / nx % ny],
                g.axes[2][q / (nx * ny)],
            ]
        })
        .collect();
    let (at_step, _) = evaluate_with(&d, &all, &points, t);
    let per_sample = |s: usize| model.scales[s].blocks_per_sample();
    assert_eq!(
        at_step[2],
        per_sample(2),
        "one time sample of the finest scale"
    );
    let t_between = 0.5 * (t + d.metadata().time.as_ref().unwrap().values[3]);
    let (between, _) = evaluate_with(&d, &all, &points, t_between);
    assert_eq!(between[2], 2 * per_sample(2), "two time samples");
    for s in 0..3 {
        assert!(between[s] <= non_empty(s), "scale {s}: {between:?}");
    }
}

/// The points of a `dims` grid over the domain's bounds, a tenth beyond
/// them on each side (clamped values), x fastest: rows along x.
fn rows_of_points(d: &Decoder, dims: [usize; 3]) -> Vec<[f64; 3]> {
    let b = d.bounds();
    let at = |a: usize, i: usize| {
        let (lo, hi) = (b[2 * a], b[2 * a + 1]);
        let pad = 0.1 * (hi - lo);
        let f = if dims[a] > 1 {
            i as f64 / (dims[a] - 1) as f64
        } else {
            0.5
        };
        lo - pad + f * (hi - lo + 2.0 * pad)
    };
    (0..dims.iter().product())
        .map(|q: usize| {
            let [nx, ny, _] = dims;
            [at(0, q % nx), at(1, q / nx % ny), at(2, q / (nx * ny))]
        })
        .collect()
}

#[test]
fn rows_and_the_same_points_in_any_order_agree_bit_for_bit() {
    // A decode reuses each x sample's interpolation in (y, z, t) along a row
    // of points; the values must not depend on the order the points come in,
    // nor may the blocks evaluated.
    for (name, spec) in variants() {
        let d = open(&spec);
        let all: Vec<usize> = (0..d.metadata().variables.len()).collect();
        let c = d.metadata().total_components();
        let t = match &d.metadata().time {
            Some(t) => 0.5 * (t.values[0] + t.values[1]),
            None => 0.0,
        };
        let rows = rows_of_points(&d, [23, 7, 5]);
        let (blocks, want) = evaluate_with(&d, &all, &rows, t);
        // Reversed, then a permutation that jumps between rows.
        let n = rows.len();
        let reversed: Vec<usize> = (0..n).rev().collect();
        // 805 points and 37 are coprime: a permutation.
        let jumping: Vec<usize> = (0..n).map(|i| i * 37 % n).collect();
        for order in [reversed, jumping] {
            let points: Vec<[f64; 3]> = order.iter().map(|&q| rows[q]).collect();
            let (b, got) = evaluate_with(&d, &all, &points, t);
            assert_eq!(b, blocks, "{name}: blocks evaluated");
            for (i, &q) in order.iter().enumerate() {
                assert_eq!(
                    got[i * c..(i + 1) * c],
                    want[q * c..(q + 1) * c],
                    "{name}: point {q}"
                );
            }
        }
        // One point at a time.
        for q in [0, 1, 22, 23, 100, n - 1] {
            let (_, one) = evaluate_with(&d, &all, &[rows[q]], t);
            assert_eq!(one, want[q * c..(q + 1) * c], "{name}: point {q} alone");
        }
        // And against the reference.
        let (model, meta, axes, ranges) = (ecnr(&d), d.metadata(), axes(&d), ranges(&d));
        for (q, p) in rows.iter().enumerate() {
            let mut coords = p.to_vec();
            coords.push(t);
            let r = reference_ecnr(model, meta, axes.as_ref(), &coords, 0);
            for o in 0..c {
                let err = (want[q * c + o] as f64 - r[o]).abs() / (ranges[o][1] - ranges[o][0]);
                assert!(err < TOLERANCE, "{name}: point {q}: {err}");
            }
        }
    }
}

#[test]
fn threads_pieces_and_variable_subsets_agree_bit_for_bit() {
    for (name, spec) in variants() {
        let d = open(&spec);
        let req = GridRequest {
            dims: Some([11, 7, 6]),
            time: Some(0.7),
            ..Default::default()
        };
        let one = d.decode_grid(&req, &options(1, 0)).unwrap();
        let two = d.decode_grid(&req, &options(2, 0)).unwrap();
        let values = |g: &inr::decode::DecodedGrid| -> Vec<Vec<f32>> {
            g.arrays.iter().map(|a| a.values.clone()).collect()
        };
        assert_eq!(values(&one), values(&two), "{name}: threads");
        let piece = GridRequest {
            extent: Some([2, 9, 1, 5, 3, 5]),
            variables: vec![1],
            ..req.clone()
        };
        let p = d.decode_grid(&piece, &options(2, 0)).unwrap();
        let wind = &one.arrays[1];
        let cells = spec.sites == Association::Cell;
        let [ex, ey, ez] = if cells { [7, 4, 2] } else { [8, 5, 3] };
        let [nx, ny] = if cells { [10, 6] } else { [11, 7] };
        for k in 0..ez {
            for j in 0..ey {
                for i in 0..ex {
                    let q = (2 + i) + nx * ((1 + j) + ny * (3 + k));
                    let r = i + ex * (j + ey * k);
                    assert_eq!(
                        p.arrays[0].values[2 * r..2 * r + 2],
                        wind.values[2 * q..2 * q + 2],
                        "{name}: piece"
                    );
                }
            }
        }
    }
}

#[test]
fn progress_and_cancellation() {
    let mut spec = EcnrSpec::small(11);
    spec.width = 48;
    let d = open(&spec);
    let req = GridRequest {
        dims: Some([120, 100, 90]),
        ..Default::default()
    };
    let cancel = |_f: f64| false;
    let opts = DecodeOptions {
        threads: 2,
        progress: Some(&cancel),
        ..Default::default()
    };
    let r = d.decode_grid(&req, &opts);
    assert!(matches!(r, Err(inr::Error::Cancelled)), "{:?}", r.err());
    let last = std::sync::Mutex::new(0.0);
    let progress = |f: f64| {
        *last.lock().unwrap() = f;
        true
    };
    let opts = DecodeOptions {
        threads: 2,
        progress: Some(&progress),
        detail: 1,
        blend: None,
    };
    d.decode_grid(&req, &opts).unwrap();
    assert_eq!(*last.lock().unwrap(), 1.0);
}

#[test]
fn the_model_is_described_and_counted() {
    let d = open(&EcnrSpec::small(12));
    let model = ecnr(&d);
    let f = d.model().family();
    assert_eq!(
        f.describe(),
        "3 scales, 4x3x2 blocks, latent 3, 9 MLPs of width 12 (2 sine layers), 3 outputs"
    );
    // Per scale 3 MLPs of (6 -> 12 -> 12 -> 3) and a latent code of 3 per
    // non-empty block.
    let mlp = (6 * 12 + 12) + (12 * 12 + 12) + (12 * 3 + 3);
    let codes: usize = model
        .scales
        .iter()
        .map(|s| 3 * s.assignment.iter().filter(|&&q| q != EMPTY).count())
        .sum();
    assert_eq!(d.model().parameter_count(), (9 * mlp + codes) as u64);
    let dims: Vec<[usize; 4]> = model.scales.iter().map(|s| s.dims).collect();
    assert_eq!(dims, [[6, 4, 3, 2], [11, 7, 5, 3], [21, 14, 9, 5]]);
    assert!(d.gemm_flops_per_point(&[]).unwrap() > 0);
}

/// The synthetic writer's shared tables follow the reference encoder's
/// conventions, and the decoder reads them: per scale one table for every
/// weight, one for the biases, one for the latents; hidden weights pruned
/// (masks), the last layer's not; time samples without blocks have empty
/// latent tensors.
#[test]
fn shared_tables_masks_and_empty_latents_are_read() {
    use inr::format::{InrFile, TensorEncoding, TensorRef};
    use inr::model::ecnr::{EcnrMeta, StackedLayerMeta};
    let mut spec = EcnrSpec::small(13);
    spec.encoding = EcnrEncoding::Shared {
        bits: 5,
        prune: true,
    };
    spec.empty = 0.9;
    let bytes = spec.build().unwrap();
    let file = InrFile::from_bytes(bytes.clone()).unwrap();
    let meta = EcnrMeta::from_value(&file.metadata().model).unwrap();
    let table = |t: &TensorRef| match &t.encoding {
        TensorEncoding::Codebook { codebook, mask, .. } => (*codebook, mask.is_some()),
        e => panic!("not a codebook: {e:?}"),
    };
    let mut empty_samples = 0;
    for (k, scale) in meta.scales.iter().enumerate() {
        let last = scale.layers.len() - 1;
        let (weights, _) = table(scale.layers[0].tensors()[0]);
        let (biases, _) = table(scale.layers[0].tensors()[1]);
        let (codes, _) = table(&scale.latents[0]);
        assert!(weights != biases && biases != codes && weights != codes);
        assert!(weights.section == k as u32 && codes.section == k as u32);
        for (i, l) in scale.layers.iter().enumerate() {
            assert_eq!(matches!(l, StackedLayerMeta::Linear { .. }), i == last);
            assert_eq!(table(l.tensors()[0]), (weights, i != last), "layer {i}");
            assert_eq!(table(l.tensors()[1]), (biases, false));
        }
        for t in &scale.latents {
            assert_eq!(table(t), (codes, false));
            empty_samples += (t.shape[0] == 0) as usize;
        }
    }
    assert!(empty_samples > 0, "some time samples without blocks");
    let d = Decoder::from_bytes(bytes).unwrap();
    let model = ecnr(&d);
    let zeros = model.scales[2].layers[0]
        .weight
        .iter()
        .filter(|&&w| w == 0.0)
        .count();
    assert!(zeros > 0, "pruned weights decode to 0");
    let worst = worst_error(&d, 300, 3, 0);
    assert!(worst < TOLERANCE, "{worst}");
}
