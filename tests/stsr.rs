//! The STSR-INR family in the decoder against an f64 reference written from
//! docs/format.md, section 10.5: random points and times (between heads,
//! beyond the grid), image and rectilinear domains, point and cell sites,
//! f32 and codebook tensors, a head grid coarser than the native one;
//! latent blends; threads (hostile files: tests/hostile.rs).

use inr::decode::{Blend, DecodeOptions, Decoder, GridRequest, PointTimes};
use inr::format::{Association, WeightEncoding};
use inr::model::stsr::Stsr;
use inr_testkit::reference::random_queries;
use inr_testkit::reference_stsr::reference_stsr;
use inr_testkit::stsr::StsrSpec;

/// Agreement asked of the decoder: relative to each output's range.
const TOLERANCE: f64 = 1e-4;

fn open(spec: &StsrSpec) -> Decoder {
    Decoder::from_bytes(spec.build().unwrap()).unwrap()
}

fn stsr(d: &Decoder) -> &Stsr {
    d.model().get().expect("an STSR-INR model")
}

fn options(threads: usize, blend: Option<Blend>) -> DecodeOptions<'static> {
    DecodeOptions {
        threads,
        blend,
        ..Default::default()
    }
}

fn variants() -> Vec<(&'static str, StsrSpec)> {
    let mut cells = StsrSpec::small(2);
    cells.sites = Association::Cell;
    cells.encoding = WeightEncoding::Codebook {
        bits: 8,
        prune_zeros: false,
    };
    let mut rect = StsrSpec::small(3);
    rect.rectilinear = true;
    rect.times = None;
    rect.heads = [2, 2, 2];
    rect.head_stride = [1, 1, 1];
    let mut one_per_head = StsrSpec::small(4);
    one_per_head.heads = [9, 1, 1];
    one_per_head.head_sines = 0;
    one_per_head.residual_blocks = 0;
    vec![
        ("image, points, stride 2x1x2, f32", StsrSpec::small(1)),
        ("image, cells, 8-bit codebooks", cells),
        ("rectilinear, static, 2x2x2 heads", rect),
        ("one sample per head, no residual blocks", one_per_head),
    ]
}

/// Largest |decoder - reference| over each output's range at `n` random
/// points and times (a tenth beyond the bounds too), with `blend`.
fn worst_error(d: &Decoder, n: usize, seed: u64, blend: Option<Blend>) -> f64 {
    let meta = d.metadata();
    let times = meta.time.as_ref().map(|t| t.values.clone());
    let (points, ts) = random_queries(d.bounds(), times.as_deref(), n, seed);
    let axes = d.file().rectilinear_axes().unwrap();
    let mut worst = 0f64;
    for v in 0..meta.variables.len() {
        let c = meta.variables[v].components as usize;
        if blend.is_some_and(|b| meta.variables[b.with].components as usize != c) {
            continue;
        }
        let mut out = vec![0f32; n * c];
        let t = PointTimes::PerPoint(&ts);
        d.evaluate(&points, t, &[v], &mut out, &options(2, blend))
            .unwrap();
        let model = stsr(d);
        for p in 0..n {
            let mut coords = points[3 * p..3 * p + 3].to_vec();
            coords.push(d.effective_time(Some(ts[p])).unwrap());
            let b = blend.map(|b| (b.with, b.alpha));
            let want = reference_stsr(model, meta, axes.as_ref(), &coords, v, b);
            let range = &meta.variables[v].range;
            for k in 0..c {
                let span = range[k][1] - range[k][0];
                worst = worst.max((out[p * c + k] as f64 - want[k]).abs() / span);
            }
        }
    }
    worst
}

#[test]
fn random_points_match_the_reference() {
    for (name, spec) in variants() {
        let d = open(&spec);
        let err = worst_error(&d, 400, 7, None);
        assert!(err < TOLERANCE, "{name}: worst error {err:e}");
    }
}

#[test]
fn latent_blends_match_the_reference_and_their_ends_are_the_variables() {
    let d = open(&StsrSpec::small(11));
    for alpha in [0.3, -0.5, 1.5] {
        let err = worst_error(&d, 200, 3, Some(Blend { with: 2, alpha }));
        assert!(err < TOLERANCE, "alpha {alpha}: worst error {err:e}");
    }
    let (points, _) = random_queries(d.bounds(), None, 100, 5);
    let decode = |v: usize, blend: Option<Blend>| {
        let mut out = vec![0f32; 100];
        let t = PointTimes::Fixed(Some(1.0));
        d.evaluate(&points, t, &[v], &mut out, &options(1, blend))
            .unwrap();
        out
    };
    let (a, b) = (decode(0, None), decode(2, None));
    let start = decode(
        0,
        Some(Blend {
            with: 2,
            alpha: 0.0,
        }),
    );
    let end = decode(
        0,
        Some(Blend {
            with: 2,
            alpha: 1.0,
        }),
    );
    let mid = decode(
        0,
        Some(Blend {
            with: 2,
            alpha: 0.5,
        }),
    );
    assert_eq!(start, a);
    for (e, b) in end.iter().zip(&b) {
        assert!(((e - b) / b).abs() < 1e-5, "{e} vs {b}");
    }
    assert!(mid.iter().zip(&a).any(|(m, a)| m != a));
}

#[test]
fn blends_are_refused_where_they_mean_nothing() {
    let d = open(&StsrSpec::small(12));
    let mut out = [0f32; 3];
    let p = [0.0, 1.0, 2.1];
    let mut try_blend = |v: usize, with: usize, alpha: f64| {
        let o = options(1, Some(Blend { with, alpha }));
        d.evaluate(
            &p,
            PointTimes::Fixed(None),
            &[v],
            &mut out[..d.metadata().variables[v].components as usize],
            &o,
        )
        .unwrap_err()
        .to_string()
    };
    assert!(try_blend(0, 1, 0.5).contains("components"));
    assert!(try_blend(0, 9, 0.5).contains("variable 9"));
    assert!(try_blend(0, 2, f64::NAN).contains("alpha"));
    let siren = inr_testkit::synthetic::SyntheticSpec::small(1)
        .build()
        .unwrap()
        .1;
    let d = Decoder::from_bytes(siren).unwrap();
    let o = options(
        1,
        Some(Blend {
            with: 0,
            alpha: 0.5,
        }),
    );
    let e = d.evaluate(&p, PointTimes::Fixed(None), &[0], &mut out[..1], &o);
    assert!(e.unwrap_err().to_string().contains("embeds"));
}

#[test]
fn grids_threads_and_point_queries_agree_bit_for_bit() {
    for (name, spec) in variants() {
        let d = open(&spec);
        let n = d.metadata().variables.len();
        let req = GridRequest {
            dims: Some([23, 7, 5]),
            variables: (0..n).collect(),
            time: Some(0.7),
            ..Default::default()
        };
        let one = d.decode_grid(&req, &options(1, None)).unwrap();
        let two = d.decode_grid(&req, &options(2, None)).unwrap();
        for (a, b) in one.arrays.iter().zip(&two.arrays) {
            assert_eq!(a.values, b.values, "{name}");
        }
        let grid = d.sampling_grid(Some([23, 7, 5])).unwrap();
        let points: Vec<f64> = (0..23 * 7 * 5)
            .flat_map(|i| {
                let [x, y, z] = [i % 23, i / 23 % 7, i / 161];
                [grid.axes[0][x], grid.axes[1][y], grid.axes[2][z]]
            })
            .collect();
        let v = &one.arrays[0];
        if v.association != Association::Point {
            continue;
        }
        let mut out = vec![0f32; 23 * 7 * 5 * v.components];
        let t = PointTimes::Fixed(Some(0.7));
        d.evaluate(&points, t, &[v.variable], &mut out, &options(2, None))
            .unwrap();
        assert_eq!(out, v.values, "{name}");
    }
}

#[test]
fn the_model_is_described_and_counted() {
    let spec = StsrSpec::small(1);
    let d = open(&spec);
    let describe = d.model().family().describe();
    assert!(describe.contains("6 heads (3x2x1)"), "{describe}");
    let m = stsr(&d);
    let w = 12;
    let stage = |inp: usize| (inp * w + w) + 2 * 2 * (w * w + w);
    let heads = 6 * ((w * w + w) + (2 * w + 2));
    let latents = 3 * 5;
    assert_eq!(
        d.model().parameter_count(),
        (stage(4) + stage(5) + heads + latents) as u64
    );
    assert_eq!(m.grid.axes.map(|a| a.per_head), [3, 5, 4]);
}
