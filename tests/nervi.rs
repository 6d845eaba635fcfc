//! The NeRVI family in the decoder against an f64 reference written from
//! docs/format.md, section 10.6: stored and in-between views and times,
//! clamping, with and without time, encoding, kernel sizes, codebooks,
//! threads, the RGBA composite, progress and cancellation, and the refusals
//! of point and grid decodes (hostile files: tests/hostile.rs).

use inr::decode::{DecodeOptions, Decoder, GridRequest, ImageRequest, PointTimes};
use inr::error::Error;
use inr::format::WeightEncoding;
use inr::model::nervi::Nervi;
use inr_testkit::nervi::NerviSpec;
use inr_testkit::reference_nervi::reference_nervi;

/// Agreement asked of the decoder: relative to each output's range.
const TOLERANCE: f64 = 1e-4;

fn open(spec: &NerviSpec) -> Decoder {
    Decoder::from_bytes(spec.build().unwrap()).unwrap()
}

fn threads(n: usize) -> DecodeOptions<'static> {
    DecodeOptions {
        threads: n,
        ..Default::default()
    }
}

fn variants() -> Vec<(&'static str, NerviSpec)> {
    let mut static_1x1 = NerviSpec::small(2);
    static_1x1.times = None;
    static_1x1.levels = 0;
    static_1x1.kernel = 1;
    static_1x1.head_kernel = 5;
    static_1x1.tanh = false;
    let mut codebook = NerviSpec::small(3);
    codebook.encoding = WeightEncoding::Codebook {
        bits: 6,
        prune_zeros: false,
    };
    codebook.parameters = vec!["isovalue".into()];
    codebook.views = vec![vec![0.25], vec![0.5], vec![0.75]];
    codebook.variables = vec![
        ("gray".into(), vec![[-2.0, 5.0]]),
        ("mask".into(), vec![[0.0, 1.0]]),
    ];
    let mut wide = NerviSpec::small(4);
    wide.upscale = vec![(3, 20), (1, 12), (2, 9)];
    wide.reshape = [7, 2, 3];
    vec![
        ("theta, phi, time, 3x3, tanh", NerviSpec::small(1)),
        ("static, no encoding, 1x1 blocks, 5x5 head", static_1x1),
        ("one parameter, gray, 6-bit codebooks", codebook),
        ("factors 3, 1, 2, wide channels", wide),
    ]
}

/// Largest |decoder - reference| over each variable's range, every variable,
/// at inputs `c` given as (time, view).
fn worst_error(d: &Decoder, time: Option<f64>, view: &[f64], options: &DecodeOptions) -> f64 {
    let model: &Nervi = d.model().get().unwrap();
    let img = d
        .decode_image(
            &ImageRequest {
                time,
                view: view.to_vec(),
                variables: vec![],
            },
            options,
        )
        .unwrap();
    let c = d.image_inputs(time, view).unwrap();
    let meta = d.metadata();
    let mut worst: f64 = 0.0;
    for a in &img.arrays {
        let want = reference_nervi(model, meta, &c, a.variable);
        assert_eq!(a.values.len(), want.len(), "{}", a.name);
        assert_eq!(a.values.len(), img.width * img.height * a.components);
        for (i, (&got, &w)) in a.values.iter().zip(&want).enumerate() {
            let r = meta.variables[a.variable].range[i % a.components];
            let err = (got as f64 - w).abs() / (r[1] - r[0]).max(1e-30);
            worst = worst.max(err);
        }
    }
    worst
}

#[test]
fn images_match_the_reference_at_stored_and_new_views() {
    for (name, spec) in variants() {
        let d = open(&spec);
        let set = d.image_set().expect("an images file");
        assert_eq!((set.width, set.height), spec.size(), "{name}");
        assert_eq!(set.view_count(), spec.views.len(), "{name}");
        let times: Vec<Option<f64>> = match &spec.times {
            Some(_) => vec![None, Some(1.0), Some(2.2)],
            None => vec![None],
        };
        let mut views: Vec<Vec<f64>> = spec.views.iter().take(3).cloned().collect();
        // Between stored views: the midpoint of the first two.
        views.push(
            spec.views[0]
                .iter()
                .zip(&spec.views[1])
                .map(|(a, b)| 0.5 * (a + b))
                .collect(),
        );
        for t in &times {
            for v in &views {
                for n in [1, 2, 3] {
                    let err = worst_error(&d, *t, v, &threads(n));
                    assert!(
                        err < TOLERANCE,
                        "{name}: t {t:?}, view {v:?}, {n} threads: {err}"
                    );
                }
            }
        }
    }
}

#[test]
fn requests_are_clamped_to_the_stored_ranges() {
    let spec = NerviSpec::small(5);
    let d = open(&spec);
    let decode = |t: Option<f64>, v: &[f64]| {
        let req = ImageRequest {
            time: t,
            view: v.to_vec(),
            variables: vec![1],
        };
        d.decode_image(&req, &threads(0))
            .unwrap()
            .arrays
            .remove(0)
            .values
    };
    // theta beyond 270, phi below -30, time past 3: the corner of the ranges.
    assert_eq!(
        d.image_inputs(Some(9.0), &[400.0, -80.0]).unwrap(),
        [3.0, 270.0, -30.0]
    );
    assert_eq!(
        decode(Some(9.0), &[400.0, -80.0]),
        decode(Some(3.0), &[270.0, -30.0])
    );
    assert_eq!(
        d.image_inputs(None, &[10.0, 5.0]).unwrap(),
        [0.0, 10.0, 5.0]
    );
    // Different views give different images.
    assert_ne!(decode(None, &[0.0, -30.0]), decode(None, &[180.0, 0.0]));
}

#[test]
fn the_composite_is_mask_times_color_over_the_background() {
    let spec = NerviSpec::small(6);
    let d = open(&spec);
    let view = [90.0, -30.0];
    let rgba = d.decode_rgba(Some(1.0), &view, &threads(2)).unwrap();
    let img = d
        .decode_image(
            &ImageRequest {
                time: Some(1.0),
                view: view.to_vec(),
                variables: vec![0, 1],
            },
            &threads(2),
        )
        .unwrap();
    let (w, h) = spec.size();
    assert_eq!(rgba.len(), w * h * 4);
    let (color, mask) = (&img.arrays[0].values, &img.arrays[1].values);
    let mut masked = 0;
    for p in 0..w * h {
        let m = mask[p].clamp(0.0, 1.0) as f64;
        masked += usize::from(m > 0.0 && m < 1.0);
        for c in 0..3 {
            let want = m * color[p * 3 + c].clamp(0.0, 1.0) as f64 + (1.0 - m);
            let got = rgba[p * 4 + c] as f64 / 255.0;
            assert!(
                (got - want).abs() <= 0.5 / 255.0 + 1e-6,
                "pixel {p} channel {c}: {got} vs {want}"
            );
        }
        assert_eq!(rgba[p * 4 + 3], 255);
    }
    assert!(masked > 0, "the random mask should be partial somewhere");
    // Without a composite there is no picture, but the variables decode.
    let mut plain = NerviSpec::small(6);
    plain.composite = false;
    let d = open(&plain);
    assert!(matches!(
        d.decode_rgba(None, &view, &threads(1)),
        Err(Error::Unsupported(_))
    ));
    assert!(d
        .decode_image(
            &ImageRequest {
                view: view.to_vec(),
                ..Default::default()
            },
            &threads(1)
        )
        .is_ok());
}

#[test]
fn bad_requests_and_point_decodes_are_refused() {
    let d = open(&NerviSpec::small(7));
    let bad = |view: Vec<f64>, variables: Vec<usize>, time: Option<f64>| {
        d.decode_image(
            &ImageRequest {
                time,
                view,
                variables,
            },
            &threads(1),
        )
    };
    for (what, r) in [
        ("one value for two parameters", bad(vec![1.0], vec![], None)),
        ("three values", bad(vec![1.0, 2.0, 3.0], vec![], None)),
        ("NaN", bad(vec![f64::NAN, 0.0], vec![], None)),
        ("infinity", bad(vec![0.0, f64::INFINITY], vec![], None)),
        ("variable 2 of 2", bad(vec![0.0, 0.0], vec![2], None)),
        ("NaN time", bad(vec![0.0, 0.0], vec![], Some(f64::NAN))),
    ] {
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{what}: {r:?}");
    }
    match d.decode_grid(&GridRequest::default(), &threads(1)) {
        Err(Error::Unsupported(m)) => assert!(m.contains("whole images"), "{m}"),
        r => panic!("a grid decode of images: {:?}", r.map(|g| g.arrays.len())),
    }
    let mut out = [0.0f32; 4];
    let r = d.evaluate(
        &[0.0, 0.0, 0.0],
        PointTimes::Fixed(None),
        &[0],
        &mut out,
        &threads(1),
    );
    assert!(matches!(r, Err(Error::Unsupported(_))), "{r:?}");
    assert!(d.model().family().describe().contains("upscale blocks"));
}

#[test]
fn progress_rises_to_one_and_cancels() {
    let d = open(&NerviSpec::small(8));
    let seen = std::sync::Mutex::new(Vec::new());
    let record = |f: f64| {
        seen.lock().unwrap().push(f);
        true
    };
    let options = DecodeOptions {
        threads: 2,
        progress: Some(&record),
        ..Default::default()
    };
    d.decode_image(
        &ImageRequest {
            view: vec![0.0, 0.0],
            ..Default::default()
        },
        &options,
    )
    .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.last(), Some(&1.0));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    let stop = |_: f64| false;
    let options = DecodeOptions {
        threads: 2,
        progress: Some(&stop),
        ..Default::default()
    };
    let r = d.decode_image(
        &ImageRequest {
            view: vec![0.0, 0.0],
            ..Default::default()
        },
        &options,
    );
    assert!(matches!(r, Err(Error::Cancelled)));
}
