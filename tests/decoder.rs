//! The fast decoder against the reference evaluator, and grid decoding
//! properties (sub-extents, variable subsets, time, cell data).

use inr::decode::{DecodeOptions, Decoder, GridRequest, PointTimes};
use inr::format::{Association, WeightEncoding};
use inr_testkit::reference::reference_eval;
use inr_testkit::synthetic::SyntheticSpec;

fn open(spec: &SyntheticSpec) -> Decoder {
    let (_, bytes) = spec.build().unwrap();
    Decoder::from_bytes(bytes).unwrap()
}

fn siren(d: &Decoder) -> &inr::model::ResidualSiren {
    d.model()
        .get()
        .unwrap_or_else(|| panic!("not a residual SIREN: {:?}", d.model()))
}

/// Largest |fast - reference| relative to each output's range.
fn check_random_points(spec: &SyntheticSpec, n: usize, seed: u64) -> f64 {
    let d = open(spec);
    inr_testkit::reference::worst_relative_error(&d, n, seed, &|meta, coords| {
        reference_eval(siren(&d), meta, coords)
    })
}

#[test]
fn fast_decoder_matches_reference_on_random_models() {
    for seed in 0..6 {
        let mut spec = SyntheticSpec::small(seed);
        spec.width = [8, 16, 32, 64, 24, 48][seed as usize];
        spec.blocks = [0, 1, 2, 5, 3, 4][seed as usize];
        if seed % 2 == 1 {
            spec.times = None;
        }
        let worst = check_random_points(&spec, 700, seed + 100);
        assert!(worst < 2e-5, "seed {seed}: worst relative error {worst}");
    }
}

#[test]
fn quantized_and_half_weights_decode_like_the_reference() {
    for encoding in [
        WeightEncoding::F16,
        WeightEncoding::Codebook {
            bits: 9,
            prune_zeros: false,
        },
    ] {
        let mut spec = SyntheticSpec::small(7);
        spec.encoding = encoding;
        let worst = check_random_points(&spec, 300, 9);
        assert!(worst < 2e-5, "{encoding:?}: worst relative error {worst}");
    }
}

#[test]
fn sub_extent_equals_region_of_full_grid_bitwise() {
    let d = open(&SyntheticSpec::small(3));
    let opts = DecodeOptions {
        threads: 2,
        ..Default::default()
    };
    for dims in [None, Some([37, 11, 9])] {
        let full = d
            .decode_grid(
                &GridRequest {
                    dims,
                    time: Some(0.3),
                    ..Default::default()
                },
                &opts,
            )
            .unwrap();
        let g = full.grid.dims();
        let ext = [3, g[0] - 5, 2, g[1] - 3, 1, g[2] - 2];
        let part = d
            .decode_grid(
                &GridRequest {
                    dims,
                    extent: Some(ext),
                    time: Some(0.3),
                    ..Default::default()
                },
                &opts,
            )
            .unwrap();
        for (fa, pa) in full.arrays.iter().zip(&part.arrays) {
            let (gd, e) = match fa.association {
                Association::Point => (g, ext),
                Association::Cell => (
                    [g[0] - 1, g[1] - 1, g[2] - 1],
                    [ext[0], ext[1] - 1, ext[2], ext[3] - 1, ext[4], ext[5] - 1],
                ),
            };
            let c = fa.components;
            let mut q = 0;
            for k in e[4]..=e[5] {
                for j in e[2]..=e[3] {
                    for i in e[0]..=e[1] {
                        let p = i + gd[0] * (j + gd[1] * k);
                        for comp in 0..c {
                            assert_eq!(
                                fa.values[p * c + comp].to_bits(),
                                pa.values[q * c + comp].to_bits(),
                                "{} at {i},{j},{k}",
                                fa.name
                            );
                        }
                        q += 1;
                    }
                }
            }
            assert_eq!(q * c, pa.values.len());
        }
    }
}

#[test]
fn grid_values_match_point_queries_and_reference() {
    let spec = SyntheticSpec::small(4);
    let d = open(&spec);
    let meta = d.metadata().clone();
    let opts = DecodeOptions::default();
    let grid = d
        .decode_grid(
            &GridRequest {
                dims: Some([5, 4, 3]),
                time: Some(1.25),
                ..Default::default()
            },
            &opts,
        )
        .unwrap();
    let velocity = &grid.arrays[1];
    assert_eq!(
        (velocity.name.as_str(), velocity.components),
        ("velocity", 3)
    );
    let g = &grid.grid;
    // point (i, j, k) = (4, 1, 2) of the 5 x 4 x 3 grid; velocity is outputs 1..4
    let (i, j, k) = (4, 1, 2);
    let p = i + 5 * (j + 4 * k);
    let want = reference_eval(
        siren(&d),
        &meta,
        &[g.axes[0][i], g.axes[1][j], g.axes[2][k], 1.25],
    );
    for comp in 0..3 {
        let got = velocity.values[p * 3 + comp] as f64;
        assert!(
            (got - want[1 + comp]).abs() < 1e-4,
            "component {comp}: {got} vs {}",
            want[1 + comp]
        );
    }
    // corners of the resampled grid are the domain bounds
    let b = d.bounds();
    assert_eq!(
        [g.axes[0][0], g.axes[0][4], g.axes[2][2]],
        [b[0], b[1], b[5]]
    );
}

#[test]
fn cell_variables_are_decoded_at_cell_centers() {
    let spec = SyntheticSpec::small(5);
    let d = open(&spec);
    let meta = d.metadata().clone();
    let opts = DecodeOptions::default();
    let density = meta.variable_index("density").unwrap();
    let grid = d
        .decode_grid(
            &GridRequest {
                variables: vec![density],
                ..Default::default()
            },
            &opts,
        )
        .unwrap();
    let a = &grid.arrays[0];
    assert_eq!(a.association, Association::Cell);
    let [nx, ny, nz] = spec.dims.map(|v| v as usize);
    assert_eq!(a.values.len(), (nx - 1) * (ny - 1) * (nz - 1));
    let (i, j, k) = (2, 3, 4);
    let center: Vec<f64> = (0..3)
        .map(|ax| spec.origin[ax] + ([i, j, k][ax] as f64 + 0.5) * spec.spacing[ax])
        .collect();
    let want = reference_eval(siren(&d), &meta, &[center[0], center[1], center[2], 0.0])[4];
    let got = a.values[i + (nx - 1) * (j + (ny - 1) * k)] as f64;
    assert!((got - want).abs() < 1e-5 * 2.0, "{got} vs {want}");
}

#[test]
fn variable_subset_equals_the_same_variables_of_a_full_decode() {
    let d = open(&SyntheticSpec::small(6));
    let opts = DecodeOptions::default();
    let req = GridRequest {
        dims: Some([9, 8, 7]),
        time: Some(2.0),
        ..Default::default()
    };
    let all = d.decode_grid(&req, &opts).unwrap();
    let sub = d
        .decode_grid(
            &GridRequest {
                variables: vec![1],
                ..req
            },
            &opts,
        )
        .unwrap();
    assert_eq!(sub.arrays.len(), 1);
    let diff = all.arrays[1]
        .values
        .iter()
        .zip(&sub.arrays[0].values)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(diff <= 1e-5 * 8.0, "{diff}");
}

#[test]
fn time_changes_values_and_is_clamped_to_the_axis() {
    let d = open(&SyntheticSpec::small(8));
    let opts = DecodeOptions::default();
    let at = |t: Option<f64>| {
        d.decode_grid(
            &GridRequest {
                dims: Some([4, 4, 4]),
                time: t,
                variables: vec![0],
                ..Default::default()
            },
            &opts,
        )
        .unwrap()
        .arrays
        .remove(0)
        .values
    };
    assert_ne!(at(Some(0.0)), at(Some(2.0)));
    assert_eq!(at(None), at(Some(0.0)));
    assert_eq!(at(Some(-5.0)), at(Some(0.0)));
    assert_eq!(at(Some(99.0)), at(Some(2.0)));
}

#[test]
fn progress_is_reported_and_cancellation_stops_the_decode() {
    let mut spec = SyntheticSpec::small(9);
    spec.width = 64;
    spec.blocks = 4;
    let d = open(&spec);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let last = std::sync::Mutex::new(0.0);
    let progress = |f: f64| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *last.lock().unwrap() = f;
        true
    };
    let opts = DecodeOptions {
        threads: 2,
        progress: Some(&progress),
        ..Default::default()
    };
    d.decode_grid(
        &GridRequest {
            dims: Some([40, 40, 40]),
            ..Default::default()
        },
        &opts,
    )
    .unwrap();
    assert!(calls.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    assert_eq!(*last.lock().unwrap(), 1.0);
    let cancel = |_f: f64| false;
    let opts = DecodeOptions {
        threads: 2,
        progress: Some(&cancel),
        ..Default::default()
    };
    let r = d.decode_grid(
        &GridRequest {
            dims: Some([120, 120, 120]),
            ..Default::default()
        },
        &opts,
    );
    assert!(matches!(r, Err(inr::Error::Cancelled)), "{:?}", r.err());
}

#[test]
fn bad_arguments_are_errors() {
    let d = open(&SyntheticSpec::small(10));
    let opts = DecodeOptions::default();
    let bad = |req: GridRequest| d.decode_grid(&req, &opts).is_err();
    assert!(bad(GridRequest {
        dims: Some([0, 4, 4]),
        ..Default::default()
    }));
    assert!(bad(GridRequest {
        dims: Some([4, 4, 4]),
        extent: Some([0, 4, 0, 3, 0, 3]),
        ..Default::default()
    }));
    assert!(bad(GridRequest {
        extent: Some([3, 2, 0, 1, 0, 1]),
        ..Default::default()
    }));
    assert!(bad(GridRequest {
        variables: vec![7],
        ..Default::default()
    }));
    assert!(bad(GridRequest {
        time: Some(f64::NAN),
        ..Default::default()
    }));
    assert!(bad(GridRequest {
        dims: Some([1 << 25, 1, 1]),
        ..Default::default()
    }));
    let mut out = vec![0f32; 2];
    assert!(d
        .evaluate(&[0.0, 0.0], PointTimes::Fixed(None), &[0], &mut out, &opts)
        .is_err());
    assert!(d
        .evaluate(
            &[0.0, 0.0, 0.0],
            PointTimes::Fixed(None),
            &[0],
            &mut out,
            &opts
        )
        .is_err());
    assert!(d.variable_indices(&["nope"]).is_err());
}
