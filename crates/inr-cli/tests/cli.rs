//! The `inr` binary end to end: each test writes a synthetic file in a
//! temporary directory, runs commands on it and checks their output against
//! the library (the decoder is the reference for the CLI's plumbing).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use inr_core::decode::{DecodeOptions, Decoder, GridRequest, PointTimes};
use inr_core::format::section::Compression;
use inr_core::format::Association;
use inr_core::format::{FileBuilder, InrFile};
use inr_vtk::vti;

/// Runs `inr args...` in `dir`.
fn inr(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inr"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run the inr binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}, stderr:\n{}",
        o.status.code(),
        stderr(o)
    );
}

/// A failed run: exit status 1 and one `inr: ...` line on stderr.
fn assert_error(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(err.starts_with("inr: "), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    err
}

/// A temporary directory holding `s.inr`, the default synthetic file.
fn with_synthetic() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&inr(
        dir.path(),
        &["synthetic", "-o", "s.inr", "--seed", "7"],
    ));
    let path = dir.path().join("s.inr");
    (dir, path)
}

/// The value after `key:` on the line that starts with it.
fn field<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}:");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"));
    line[prefix.len()..].trim()
}

#[test]
fn info_describes_a_synthetic_file() {
    let (dir, path) = with_synthetic();
    let o = inr(dir.path(), &["info", "s.inr"]);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(field(&text, "dims").starts_with("24 x 20 x 16"), "{text}");
    assert!(field(&text, "time steps").starts_with("3 "), "{text}");
    assert_eq!(field(&text, "domain"), "image");
    for name in ["pressure", "velocity", "density"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(name)),
            "{name} missing:\n{text}"
        );
    }
    let decoder = Decoder::open(&path).unwrap();
    let params = decoder.model().parameter_count().to_string();
    let model = field(&text, "model");
    assert!(
        model.contains(&format!(" {params} parameters")),
        "{model} vs {params}"
    );

    // Raw float32: points x 4 components (pressure, velocity) + cells x 1
    // (density), 3 time steps, against the file size.
    let raw = ((24 * 20 * 16) * 4 + (23 * 19 * 15)) * 4 * 3;
    let size = std::fs::metadata(&path).unwrap().len();
    let expected = format!("{:.2}x", raw as f64 / size as f64);
    assert!(
        field(&text, "compression").starts_with(&expected),
        "{text} vs {expected}"
    );
}

#[test]
fn info_json_is_the_metadata() {
    let (dir, path) = with_synthetic();
    let o = inr(dir.path(), &["info", "s.inr", "--json"]);
    assert_ok(&o);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let names: Vec<&str> = json["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pressure", "velocity", "density"]);
    let meta: inr_core::format::Metadata = serde_json::from_value(json).unwrap();
    assert_eq!(&meta, InrFile::open(&path).unwrap().metadata());
}

#[test]
fn info_of_an_unsupported_model_prints_metadata_then_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = inr_testkit::synthetic::SyntheticSpec::small(1)
        .build()
        .unwrap();
    let original = InrFile::from_bytes(bytes).unwrap();
    let mut meta = original.metadata().clone();
    meta.model["family"] = "transformer".into();
    let mut builder = FileBuilder::new();
    let section = builder.new_section("weights", Compression::Zstd);
    builder.append(section, &original.read_section(0).unwrap());
    builder.write(meta, &dir.path().join("m.inr")).unwrap();

    let o = inr(dir.path(), &["info", "m.inr"]);
    let err = assert_error(&o);
    assert!(err.contains("transformer"), "{err}");
    let text = stdout(&o);
    assert!(field(&text, "model").contains("cannot be loaded"), "{text}");
    assert!(field(&text, "compression").ends_with("bytes)"), "{text}");
}

/// Reads `file` (a .vti in `dir`) and checks that it holds exactly what the
/// decoder gives for `req`: extent, geometry, arrays, every value.
fn assert_vti_matches(dir: &Path, file: &str, decoder: &Decoder, req: &GridRequest) {
    assert_vti_matches_at(dir, file, decoder, req, 0);
}

/// [`assert_vti_matches`] at a level of detail.
fn assert_vti_matches_at(
    dir: &Path,
    file: &str,
    decoder: &Decoder,
    req: &GridRequest,
    detail: u32,
) {
    let image = vti::read_image_data(&dir.join(file)).unwrap();
    let options = DecodeOptions {
        detail,
        ..Default::default()
    };
    let expected = decoder.decode_grid(req, &options).unwrap();
    assert_eq!(image.extent, expected.extent.map(|v| v as i64));
    let (origin, spacing) = expected.grid.uniform.unwrap();
    assert_eq!(image.origin, origin.map(|v| v as f32 as f64));
    assert_eq!(image.spacing, spacing.map(|v| v as f32 as f64));
    assert_eq!(image.arrays.len(), expected.arrays.len());
    for want in &expected.arrays {
        let association = want.association;
        let got = image
            .arrays
            .iter()
            .find(|a| a.name == want.name)
            .unwrap_or_else(|| panic!("{}", want.name));
        assert_eq!(got.association, association, "{}", want.name);
        assert_eq!(got.components, want.components, "{}", want.name);
        assert_eq!(got.values.len(), want.values.len(), "{}", want.name);
        for (i, (g, w)) in got.values.iter().zip(&want.values).enumerate() {
            assert_eq!(*g, *w as f64, "{} value {i}", want.name);
        }
    }
}

#[test]
fn decode_native_grid_matches_the_decoder() {
    let (dir, path) = with_synthetic();
    let o = inr(
        dir.path(),
        &["decode", "s.inr", "-o", "native.vti", "--threads", "2"],
    );
    assert_ok(&o);
    assert!(stderr(&o).contains("24 x 20 x 16"), "{}", stderr(&o));
    let decoder = Decoder::open(&path).unwrap();
    assert_vti_matches(dir.path(), "native.vti", &decoder, &GridRequest::default());
}

#[test]
fn decode_resampled_subset_at_a_time() {
    let (dir, path) = with_synthetic();
    let args = [
        "decode", "s.inr", "--dims", "10,9,8", "--vars", "velocity", "--time", "0.5", "-o", "v.vti",
    ];
    assert_ok(&inr(dir.path(), &args));
    let image = vti::read_image_data(&dir.path().join("v.vti")).unwrap();
    assert_eq!(image.extent, [0, 9, 0, 8, 0, 7]);
    assert_eq!(image.arrays.len(), 1);
    assert_eq!(
        (image.arrays[0].name.as_str(), image.arrays[0].components),
        ("velocity", 3)
    );
    let decoder = Decoder::open(&path).unwrap();
    let req = GridRequest {
        dims: Some([10, 9, 8]),
        variables: vec![1],
        time: Some(0.5),
        ..Default::default()
    };
    assert_vti_matches(dir.path(), "v.vti", &decoder, &req);
}

#[test]
fn decode_an_extent() {
    let (dir, path) = with_synthetic();
    assert_ok(&inr(
        dir.path(),
        &[
            "decode",
            "s.inr",
            "--extent",
            "2,10,3,7,1,15",
            "-o",
            "e.vti",
        ],
    ));
    let decoder = Decoder::open(&path).unwrap();
    let req = GridRequest {
        extent: Some([2, 10, 3, 7, 1, 15]),
        ..Default::default()
    };
    assert_vti_matches(dir.path(), "e.vti", &decoder, &req);
}

#[test]
fn decode_defaults_the_output_name() {
    let (dir, _) = with_synthetic();
    assert_ok(&inr(dir.path(), &["decode", "s.inr", "--dims", "3,3,3"]));
    assert!(dir.path().join("s.vti").is_file());
}

#[test]
fn probe_prints_the_decoder_values() {
    let (dir, path) = with_synthetic();
    let (x, y, z, t) = (-0.75, 1.1, 17.5, 0.7);
    let o = inr(
        dir.path(),
        &["probe", "s.inr", "-0.75", "1.1", "17.5", "0.7"],
    );
    assert_ok(&o);
    let decoder = Decoder::open(&path).unwrap();
    let mut want = vec![0f32; 5];
    decoder
        .evaluate(
            &[x, y, z],
            PointTimes::Fixed(Some(t)),
            &[0, 1, 2],
            &mut want,
            &DecodeOptions::default(),
        )
        .unwrap();
    let text = stdout(&o);
    let mut got = Vec::new();
    let mut names = Vec::new();
    for line in text.lines() {
        let (name, value) = line.split_once(" = ").unwrap_or_else(|| panic!("{line}"));
        names.push(name.to_string());
        let value = value.trim_start_matches('(').trim_end_matches(')');
        got.extend(value.split(", ").map(|v| v.parse::<f32>().unwrap()));
    }
    assert_eq!(names, ["pressure", "velocity", "density"]);
    assert_eq!(got, want);
    assert!(text.contains("velocity = ("), "{text}");

    let o = inr(
        dir.path(),
        &[
            "probe", "s.inr", "-0.75", "1.1", "17.5", "0.7", "--vars", "density",
        ],
    );
    assert_ok(&o);
    assert_eq!(stdout(&o), format!("density = {}\n", want[4]));
}

/// A multiscale (ECNR) file: `inr info` lists its scales; `inr decode` and
/// `inr probe` give the decoder's values at every level of detail.
#[test]
fn ecnr_files_are_described_decoded_and_probed_at_a_level_of_detail() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "synthetic",
        "-o",
        "e.inr",
        "--ecnr",
        "3",
        "--dims",
        "14,10,9",
    ];
    assert_ok(&inr(dir.path(), &args));
    let o = inr(dir.path(), &["info", "e.inr"]);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(
        field(&text, "model").starts_with("ecnr: 3 scales"),
        "{text}"
    );
    let scales = field(&text, "scales");
    assert!(
        scales.starts_with("#1: factor 4, 4 x 3 x 3 x 1 samples"),
        "{scales}"
    );
    assert_eq!(scales.matches(" samples, ").count(), 3, "{scales}");

    let decoder = Decoder::open(dir.path().join("e.inr")).unwrap();
    for (detail, file) in [("0", "all.vti"), ("1", "coarse.vti")] {
        let args = [
            "decode", "e.inr", "--detail", detail, "--time", "0.7", "-o", file,
        ];
        assert_ok(&inr(dir.path(), &args));
        let req = GridRequest {
            time: Some(0.7),
            ..Default::default()
        };
        assert_vti_matches_at(dir.path(), file, &decoder, &req, detail.parse().unwrap());
    }
    let read = |f: &str| vti::read_image_data(&dir.path().join(f)).unwrap().arrays;
    assert_ne!(read("all.vti")[0].values, read("coarse.vti")[0].values);

    let probe = |detail: &str| {
        let o = inr(
            dir.path(),
            &[
                "probe", "e.inr", "0.3", "1.1", "13", "1.2", "--detail", detail,
            ],
        );
        assert_ok(&o);
        stdout(&o)
    };
    let (x, y, z, t) = (0.3, 1.1, 13.0, 1.2);
    for detail in [0, 1, 2] {
        let mut want = vec![0f32; 4];
        let options = DecodeOptions {
            detail,
            ..Default::default()
        };
        let times = PointTimes::Fixed(Some(t));
        decoder
            .evaluate(&[x, y, z], times, &[0, 1], &mut want, &options)
            .unwrap();
        let text = probe(&detail.to_string());
        let want = format!(
            "pressure = {}\nvelocity = ({}, {}, {})\n",
            want[0], want[1], want[2], want[3]
        );
        assert_eq!(text, want, "detail {detail}");
    }
    assert_ne!(probe("1"), probe("0"));
}

#[test]
fn bench_reports_gflops() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "bench", "--grids", "8,16", "--sgemm", "64", "--repeat", "1", "--width", "8", "--blocks",
        "1",
    ];
    let o = inr(dir.path(), &args);
    assert_ok(&o);
    assert!(stdout(&o).contains("GFLOP/s"), "{}", stdout(&o));
}

#[test]
fn errors_are_one_line_with_status_1() {
    let (dir, _) = with_synthetic();
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    assert!(assert_error(&inr(dir.path(), &["info", "missing.inr"])).contains("missing.inr"));
    assert!(assert_error(&inr(dir.path(), &["info", manifest])).contains("not an .inr file"));
    assert!(
        assert_error(&inr(dir.path(), &["decode", "s.inr", "--vars", "nope"])).contains("nope")
    );
    assert!(
        assert_error(&inr(dir.path(), &["decode", "s.inr", "--dims", "0,1,1"])).contains("--dims")
    );
    assert_error(&inr(dir.path(), &["decode", "s.inr", "--dims", "4,4"]));
    assert_error(&inr(
        dir.path(),
        &["decode", "s.inr", "--extent", "0,30,0,1,0,1"],
    ));
    assert_error(&inr(dir.path(), &["probe", "s.inr", "nan", "1", "12"]));
    assert_error(&inr(
        dir.path(),
        &["synthetic", "-o", "x.inr", "--dims", "0,1,1"],
    ));
    // nothing was written by any of them
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["s.inr"]);
}

#[test]
fn output_into_a_missing_directory_leaves_no_file() {
    let (dir, _) = with_synthetic();
    let err = assert_error(&inr(
        dir.path(),
        &["decode", "s.inr", "-o", "missing/out.vti"],
    ));
    assert!(err.contains("missing"), "{err}");
    assert!(!dir.path().join("missing").exists());
    assert_error(&inr(dir.path(), &["synthetic", "-o", "missing/x.inr"]));
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["s.inr"]);
}

#[test]
fn usage_errors_keep_clap_status_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        inr(dir.path(), &["probe", "s.inr", "1", "2"]).status.code(),
        Some(2)
    );
    assert_eq!(
        inr(dir.path(), &["bench", "--width", "0"]).status.code(),
        Some(2)
    );
    assert_eq!(inr(dir.path(), &["frobnicate"]).status.code(), Some(2));
}

#[test]
fn help_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let o = inr(dir.path(), &["--version"]);
    assert_ok(&o);
    assert!(stdout(&o).contains(env!("CARGO_PKG_VERSION")));
    let o = inr(dir.path(), &["synthetic", "--help"]);
    assert_ok(&o);
    assert!(
        stdout(&o).contains("it has not learned any data"),
        "{}",
        stdout(&o)
    );
    for command in ["info", "decode", "probe", "bench"] {
        let o = inr(dir.path(), &[command, "--help"]);
        assert_ok(&o);
        assert!(stdout(&o).contains("Example:"), "{command}: {}", stdout(&o));
    }
}

/// A static (no time axis) file on a rectilinear grid with uneven spacing.
fn write_rectilinear(path: &Path) {
    let axes = [
        vec![0.0, 0.5, 2.0, 4.5],
        vec![-1.0, 1.0, 1.5],
        vec![3.0, 3.25, 4.0, 8.0, 9.0],
    ];
    let bounds: Vec<[f64; 2]> = axes.iter().map(|a| [a[0], a[a.len() - 1]]).collect();
    let shape = inr_testkit::synthetic::SirenShape {
        inputs: 3,
        width: 8,
        blocks: 1,
        outputs: 2,
        first_w0: 3.0,
    };
    let model = inr_testkit::synthetic::residual_siren(shape, &bounds, 3);
    let mut builder = FileBuilder::new();
    let section = builder.new_section("weights", Compression::Zstd);
    let model = model
        .write(&mut builder, section, inr_core::format::WeightEncoding::F32)
        .unwrap();
    let [x, y, z] = axes.map(|a| builder.push_f64_array(section, &a));
    let variable = |name: &str, association| inr_core::format::Variable {
        name: name.into(),
        components: 1,
        association,
        range: vec![[0.0, 1.0]],
        units: Some("K".into()),
    };
    let meta = inr_core::format::Metadata {
        generator: "cli test".into(),
        domain: inr_core::format::Domain::Rectilinear {
            dims: [4, 3, 5],
            x,
            y,
            z,
        },
        time: None,
        variables: vec![
            variable("temperature", inr_core::format::Association::Point),
            variable("heat", inr_core::format::Association::Cell),
        ],
        model,
        sections: Vec::new(),
        attributes: [("source".to_string(), "made up".to_string())].into(),
        corrections: None,
    };
    builder.write(meta, path).unwrap();
}

#[test]
fn rectilinear_static_file() {
    let dir = tempfile::tempdir().unwrap();
    write_rectilinear(&dir.path().join("r.inr"));
    let o = inr(dir.path(), &["info", "r.inr"]);
    assert_ok(&o);
    let text = stdout(&o);
    assert_eq!(field(&text, "domain"), "rectilinear");
    assert_eq!(field(&text, "x axis"), "0 .. 4.5");
    assert_eq!(field(&text, "z axis"), "3 .. 9");
    assert_eq!(field(&text, "bounds"), "x [0, 4.5], y [-1, 1.5], z [3, 9]");
    assert_eq!(field(&text, "time steps"), "1 (static)");
    assert_eq!(field(&text, "attribute source"), "made up");
    let raw = (4 * 3 * 5 + 3 * 2 * 4) * 4;
    let size = std::fs::metadata(dir.path().join("r.inr")).unwrap().len();
    assert!(
        field(&text, "compression").starts_with(&format!("{:.2}x", raw as f64 / size as f64)),
        "{text}"
    );

    // .vti can only hold uniform grids: the native grid needs --dims.
    let err = assert_error(&inr(dir.path(), &["decode", "r.inr", "-o", "r.vti"]));
    assert!(err.contains("--dims"), "{err}");
    assert!(!dir.path().join("r.vti").exists());
    assert_ok(&inr(
        dir.path(),
        &["decode", "r.inr", "--dims", "5,4,3", "-o", "r.vti"],
    ));
    let decoder = Decoder::open(dir.path().join("r.inr")).unwrap();
    let req = GridRequest {
        dims: Some([5, 4, 3]),
        ..Default::default()
    };
    assert_vti_matches(dir.path(), "r.vti", &decoder, &req);

    // A time given for static data is ignored, with a warning.
    let o = inr(dir.path(), &["probe", "r.inr", "1", "0", "4", "0.5"]);
    assert_ok(&o);
    assert!(stderr(&o).contains("ignored"), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2);
}

/// The mesh and point/cell arrays of a `.vtu` file.
fn read_vtu(path: &Path) -> (inr_core::mesh::Mesh, Vec<inr_vtk::vtkxml::Array>) {
    let series = inr_vtk::vtkxml::read_series(path).unwrap();
    let (_, ds) = series.steps.into_iter().next().unwrap();
    match ds.grid {
        inr_vtk::vtkxml::Grid::Unstructured(m) => (m, ds.arrays),
        g => panic!("not a mesh: {g:?}"),
    }
}

#[test]
fn mesh_files_decode_to_vtu_refined_or_resampled() {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&inr(
        dir.path(),
        &["synthetic", "-o", "m.inr", "--mesh", "tets", "--seed", "4"],
    ));
    let decoder = Decoder::open(dir.path().join("m.inr")).unwrap();
    let opts = DecodeOptions::default();

    // The stored mesh, values at its nodes and cells; the default name.
    let o = inr(dir.path(), &["decode", "m.inr", "--time", "0.5"]);
    assert_ok(&o);
    assert!(stderr(&o).contains("points and"), "{}", stderr(&o));
    let (mesh, arrays) = read_vtu(&dir.path().join("m.vtu"));
    assert_eq!(&mesh, decoder.mesh().unwrap());
    let want = decoder.decode_nodes(&[], Some(0.5), &opts).unwrap();
    let names: Vec<&str> = arrays.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["pressure", "velocity", "density"]);
    for (a, w) in arrays.iter().zip(&want) {
        let w: Vec<f64> = w.iter().map(|&v| v as f64).collect();
        assert_eq!(a.values, w, "{}", a.name);
    }
    assert_eq!(arrays[2].association, inr_core::format::Association::Cell);

    // Refined twice: 64 cells per cell, values at the refined nodes.
    assert_ok(&inr(
        dir.path(),
        &[
            "decode", "m.inr", "--refine", "2", "--vars", "pressure", "-o", "fine.vtu",
        ],
    ));
    let (fine, arrays) = read_vtu(&dir.path().join("fine.vtu"));
    assert_eq!(fine.num_cells(), 64 * mesh.num_cells());
    let mut p = vec![0f32; fine.num_points()];
    decoder
        .evaluate(&fine.points, PointTimes::Fixed(None), &[0], &mut p, &opts)
        .unwrap();
    assert_eq!(arrays.len(), 1);
    assert_eq!(
        arrays[0].values,
        p.iter().map(|&v| v as f64).collect::<Vec<_>>()
    );

    // Resampled: every variable at the grid points, the mask last.
    assert_ok(&inr(
        dir.path(),
        &[
            "decode",
            "m.inr",
            "--dims",
            "9,5,4",
            "--outside",
            "-1",
            "-o",
            "g.vti",
        ],
    ));
    let image = vti::read_image_data(&dir.path().join("g.vti")).unwrap();
    let names: Vec<&str> = image.arrays.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["pressure", "velocity", "density", "vtkValidPointMask"]
    );
    assert!(image
        .arrays
        .iter()
        .all(|a| a.association == Association::Point));
    // The box mesh fills its bounds: every point inside.
    assert!(image.arrays[3].values.iter().all(|&m| m == 1.0));
    assert_eq!(image.arrays[2].values.len(), 9 * 5 * 4);

    // Errors: no extent without a grid, no .vti without --dims, no --refine
    // of a grid file; nothing written.
    for (args, needle) in [
        (
            vec!["decode", "m.inr", "--extent", "0,1,0,1,0,1"],
            "--extent",
        ),
        (vec!["decode", "m.inr", "-o", "x.vti"], ".vtu"),
        (
            vec!["decode", "m.inr", "--refine", "40", "-o", "x.vtu"],
            "limit",
        ),
    ] {
        let err = assert_error(&inr(dir.path(), &args));
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(!dir.path().join("x.vti").exists() && !dir.path().join("x.vtu").exists());
    let (grid_dir, _) = with_synthetic();
    let err = assert_error(&inr(grid_dir.path(), &["decode", "s.inr", "--refine", "1"]));
    assert!(err.contains("not a mesh"), "{err}");

    // inr info: mesh and model bytes, both ratios.
    let text = stdout(&inr(dir.path(), &["info", "m.inr"]));
    let mesh_bytes: u64 = field(&text, "mesh bytes")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let model_bytes: u64 = field(&text, "model bytes")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let size = std::fs::metadata(dir.path().join("m.inr")).unwrap().len();
    assert_eq!(mesh_bytes + model_bytes, size);
    let c = field(&text, "compression");
    assert!(c.contains("model only") && c.contains("whole file"), "{c}");
}

/// Status lines go through the logger: shown by default, gone with -q,
/// while errors stay; -v adds none where there is nothing more to say.
#[test]
fn quiet_and_verbose_set_what_stderr_shows() {
    let (dir, _) = with_synthetic();
    let decode = ["decode", "s.inr", "--dims", "8,8,8", "-o", "o.vti"];
    let normal = inr(dir.path(), &decode);
    assert_ok(&normal);
    assert!(
        stderr(&normal).starts_with("inr: decoded "),
        "{}",
        stderr(&normal)
    );
    let quiet = inr(dir.path(), &[&["-q"][..], &decode[..]].concat());
    assert_ok(&quiet);
    assert_eq!(stderr(&quiet), "");
    let verbose = inr(dir.path(), &[&decode[..], &["-v"][..]].concat());
    assert_ok(&verbose);
    assert!(stderr(&verbose).starts_with("inr: decoded "));
    // A warning is not a status line: -q keeps it.
    let probe = inr(dir.path(), &["-q", "probe", "s.inr", "100", "0", "10"]);
    assert_ok(&probe);
    assert!(
        stderr(&probe).contains("inr: warning: "),
        "{}",
        stderr(&probe)
    );
    assert!(assert_error(&inr(dir.path(), &["-q", "info", "missing.inr"])).contains("missing"));
    let both = inr(dir.path(), &["-q", "-v", "info", "s.inr"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
}

/// `inr decode --params` of a NeRVI file: the PNG holds the decoder's
/// composite byte for byte, the .vti its variables flipped to VTK's
/// bottom-up rows; bad parameters and field options are refused.
#[test]
fn decode_params_of_an_images_file_writes_the_composite_and_the_variables() {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&inr(
        dir.path(),
        &["synthetic", "-o", "v.inr", "--nervi", "--seed", "3"],
    ));
    let d = Decoder::open(dir.path().join("v.inr")).unwrap();
    let args = [
        "decode",
        "v.inr",
        "--params",
        "t=1.5,theta=45,phi=-10",
        "-o",
        "v.png",
    ];
    assert_ok(&inr(dir.path(), &args));
    let png = png::Decoder::new(std::fs::File::open(dir.path().join("v.png")).unwrap());
    let mut reader = png.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(
        (info.width, info.height, info.color_type),
        (24, 16, png::ColorType::Rgba)
    );
    let want = d
        .decode_rgba(Some(1.5), &[45.0, -10.0], &DecodeOptions::default())
        .unwrap();
    assert_eq!(&pixels[..info.buffer_size()], &want[..]);

    let args = [
        "decode", "v.inr", "--params", "theta=90", "--vars", "mask", "-o", "m.vti",
    ];
    assert_ok(&inr(dir.path(), &args));
    let vti = vti::read_image_data(&dir.path().join("m.vti")).unwrap();
    assert_eq!(vti.extent, [0, 23, 0, 15, 0, 0]);
    let req = inr_core::decode::ImageRequest {
        time: None,
        view: vec![90.0, -30.0], // phi from the first stored view
        variables: vec![1],
    };
    let img = d.decode_image(&req, &DecodeOptions::default()).unwrap();
    let top_row_of_picture = &img.arrays[0].values[..24];
    let last_vtk_row: Vec<f32> = vti.arrays[0].values[15 * 24..]
        .iter()
        .map(|&v| v as f32)
        .collect();
    assert_eq!(last_vtk_row, top_row_of_picture);

    for (args, want) in [
        (vec!["--params", "rho=1"], "theta, phi and t"),
        (vec!["--params", "theta"], "NAME=VALUE"),
        (vec!["--params", "theta=x"], "not a number"),
        (vec!["--dims", "4,4,1"], "this file holds images"),
        (vec!["-o", "v.vtr"], ".png"),
    ] {
        let mut all = vec!["decode", "v.inr"];
        all.extend(&args);
        let err = assert_error(&inr(dir.path(), &all));
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_ok(&inr(dir.path(), &["synthetic", "-o", "f.inr"]));
    let err = assert_error(&inr(
        dir.path(),
        &["decode", "f.inr", "--params", "theta=1"],
    ));
    assert!(err.contains("not images"), "{err}");
}
