#![cfg(feature = "encoder")]
//! `inr encode` as a user runs it: the file and its report, clear errors,
//! Ctrl-C and a killed run.

use std::path::Path;

use inr_core::Decoder;
use inr_testkit::fields::write_analytic;

fn inr() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_inr"))
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn command_line_writes_a_file_and_a_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    write_analytic(&vti);
    let out = dir.path().join("cli.inr");
    let json = dir.path().join("report.json");
    let result = inr()
        .args(["encode", vti.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args([
            "--width", "16", "--blocks", "1", "--steps", "50", "--bits", "0",
        ])
        .args(["--device", "cpu", "--vars", "scalar,vector"])
        .args(["--report-json", json.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for word in ["PSNR", "NRMSE", "R^2", "vector", "ratio", "cpu"] {
        assert!(stdout.contains(word), "{word} missing from\n{stdout}");
    }
    assert_eq!(Decoder::open(&out).unwrap().metadata().variables.len(), 2);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let bytes = std::fs::metadata(&out).unwrap().len();
    assert_eq!(report["file_bytes"].as_u64(), Some(bytes));
    assert_eq!(report["raw_f32_bytes"].as_u64(), Some(24 * 20 * 16 * 4 * 4));
    assert_eq!(report["training"]["steps"].as_u64(), Some(50));
    assert_eq!(report["network"]["width"].as_u64(), Some(16));
    let vars = report["variables"].as_array().unwrap();
    assert_eq!(vars.len(), 2);
    assert!(vars[1]["psnr"].as_f64().unwrap() > 5.0);
}

#[test]
fn command_line_errors_are_clear_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    write_analytic(&vti);
    let truncated = dir.path().join("truncated.vti");
    let bytes = std::fs::read(&vti).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let text = dir.path().join("text.vti");
    std::fs::write(&text, "not a VTK file").unwrap();
    let bad_cells = dir.path().join("bad_cells.vtu");
    std::fs::write(&bad_cells, BAD_CELL_TYPE_VTU).unwrap();
    let out = dir.path().join("out.inr");
    let v = vti.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["missing.vti"], "missing.vti"),
        (vec![truncated.to_str().unwrap()], "truncated"),
        (vec![text.to_str().unwrap()], "text.vti"),
        (vec![bad_cells.to_str().unwrap()], "cell type 99"),
        (vec![v, "--vars", "nope"], "nope"),
        (vec![v, "--ratio", "0"], "ratio"),
        (vec![v, "--ratio", "1e9"], "too small"),
        (vec![v, "--size=-3"], "size"),
        (vec![v, "--width", "0"], "width"),
        (vec![v, "--steps", "0", "--width", "8"], "steps"),
        (vec![v, "--omega", "0"], "omega"),
        (vec![v, "--omega", "nan"], "omega"),
    ];
    for (args, needle) in cases {
        let result = inr()
            .current_dir(dir.path())
            .arg("encode")
            .args(&args)
            .args(["-o", out.to_str().unwrap(), "--device", "cpu"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success(), "{args:?} succeeded");
        assert_eq!(result.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.to_lowercase().contains(&needle.to_lowercase()),
            "{args:?}: {needle:?} not in {stderr}"
        );
        assert!(!out.exists(), "{args:?} wrote a file");
    }
}

/// One tetrahedron with a cell type VTK does not have.
const BAD_CELL_TYPE_VTU: &str = r#"<VTKFile type="UnstructuredGrid" version="0.1">
<UnstructuredGrid><Piece NumberOfPoints="4" NumberOfCells="1">
<PointData><DataArray type="Float32" Name="f" format="ascii">1 2 3 4</DataArray></PointData>
<Points><DataArray type="Float32" NumberOfComponents="3" format="ascii">0 0 0 1 0 0 0 1 0 0 0 1</DataArray></Points>
<Cells>
<DataArray type="Int64" Name="connectivity" format="ascii">0 1 2 3</DataArray>
<DataArray type="Int64" Name="offsets" format="ascii">4</DataArray>
<DataArray type="UInt8" Name="types" format="ascii">99</DataArray>
</Cells></Piece></UnstructuredGrid></VTKFile>"#;

fn start_long_encode(out: &Path, dir: &Path) -> std::process::Child {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/viscous_fingers_001.vti"
    );
    let mut child = inr()
        .args(["encode", data, "-o", out.to_str().unwrap()])
        .args([
            "--width", "24", "--blocks", "2", "--steps", "1000000", "--device", "cpu",
        ])
        .args(["--report-json", dir.join("report.json").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first progress line comes at the first check of the loss (stderr
    // is not a terminal): read up to it.
    use std::io::BufRead;
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    loop {
        let line = lines.next().expect("encode ended early").unwrap();
        if line.contains("training step") {
            break;
        }
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

fn signal(child: &std::process::Child, name: &str) {
    let status = inr_kill(child.id(), name);
    assert!(status, "kill -{name} failed");
}

fn inr_kill(pid: u32, name: &str) -> bool {
    std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .unwrap()
        .success()
}

#[test]
fn ctrl_c_writes_the_best_model_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("interrupted.inr");
    let child = start_long_encode(&out, dir.path());
    signal(&child, "INT");
    let result = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success(), "{stdout}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["training"]["stop"], "interrupted");
    assert!(report["training"]["steps"].as_u64().unwrap() >= 100);
    // A complete file that decodes, as good as its report says.
    let decoder = Decoder::open(&out).unwrap();
    assert_eq!(decoder.metadata().variables[0].name, "ImageFile");
    assert!(report["variables"][0]["psnr"].as_f64().unwrap() > 15.0);
    assert_eq!(listing(dir.path()), ["interrupted.inr", "report.json"]);
}

#[test]
fn killed_encode_leaves_the_previous_output_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("previous.inr");
    std::fs::write(&out, b"the previous contents").unwrap();
    let mut child = start_long_encode(&out, dir.path());
    signal(&child, "KILL");
    child.wait().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous contents");
    assert_eq!(listing(dir.path()), ["previous.inr"]);
}

#[test]
fn device_names_a_gpu_by_number_and_says_when_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    write_analytic(&vti);
    let run = |device: &str| {
        let out = dir.path().join("out.inr");
        let result = inr()
            .args(["encode", vti.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .args(["--width", "8", "--steps", "5", "--device", device])
            .output()
            .unwrap();
        assert!(!out.exists(), "--device {device} wrote a file");
        (
            result.status.code(),
            String::from_utf8_lossy(&result.stderr).into_owned(),
        )
    };
    let (code, stderr) = run("gpu");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("expected auto, cpu, cuda or cuda:N"),
        "{stderr}"
    );
    let (code, stderr) = run("cuda:x");
    assert_eq!(code, Some(2), "{stderr}");
    // No machine here has 100 GPUs: the error names the device and what there is.
    let (code, stderr) = run("cuda:99");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("--device cuda") && stderr.contains("CUDA device"),
        "{stderr}"
    );
}

/// The dynamic section of an ELF file as `readelf -d` prints it.
fn dynamic_section(path: &str) -> String {
    let out = std::process::Command::new("readelf")
        .args(["-d", path])
        .output()
        .expect("readelf (binutils) runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_binary_finds_libtorch_and_keeps_its_cuda_library() {
    let bin = env!("CARGO_BIN_EXE_inr");
    let lib = env!("INR_LIBTORCH_LIB");
    let dynamic = dynamic_section(bin);
    assert!(
        dynamic.contains(&format!("[{lib}")),
        "no rpath to {lib}:\n{dynamic}"
    );
    if Path::new(lib).join("libtorch_cuda.so").exists() {
        assert!(dynamic.contains("[libtorch_cuda.so]"), "{dynamic}");
    }
    // Runs without the environment file: no LD_LIBRARY_PATH.
    let result = std::process::Command::new(bin)
        .env_remove("LD_LIBRARY_PATH")
        .args(["encode", "--help"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&result.stdout).contains("cuda:N"));
}

/// `inr decode` writes an encoded rectilinear grid as .vtr: the stored
/// coordinates, the decoder's values; a .vti name for it is refused.
#[test]
fn rectilinear_files_decode_to_vtr() {
    let dir = tempfile::tempdir().unwrap();
    let cth = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cth/cth.vtr"
    );
    let file = dir.path().join("cth.inr");
    let status = inr()
        .args([
            "encode",
            cth,
            "-o",
            file.to_str().unwrap(),
            "--width",
            "8",
            "--blocks",
            "1",
        ])
        .args(["--steps", "20", "--device", "cpu"])
        .status()
        .unwrap();
    assert!(status.success());
    let dataset = inr_vtk::vtkxml::read(Path::new(cth)).unwrap();
    let decoder = Decoder::open(&file).unwrap();
    let vtr = dir.path().join("cth.vtr");
    let status = inr()
        .args([
            "decode",
            file.to_str().unwrap(),
            "-o",
            vtr.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let written = inr_vtk::vtkxml::read(&vtr).unwrap();
    assert_eq!(written.grid, dataset.grid);
    let grid = decoder
        .decode_grid(&Default::default(), &Default::default())
        .unwrap();
    for (a, b) in written.arrays.iter().zip(&grid.arrays) {
        assert_eq!(a.name, b.name);
        assert!(a
            .values
            .iter()
            .zip(&b.values)
            .all(|(x, y)| *x == f64::from(*y)));
    }
    let refused = inr()
        .args(["decode", file.to_str().unwrap(), "-o"])
        .arg(dir.path().join("cth.vti"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains(".vtr"));
}

#[test]
fn ecnr_from_the_command_line_with_its_options_and_a_level_of_detail() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ecnr.inr");
    let json = dir.path().join("report.json");
    let isabel = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/isabel/isabel.pvd"
    );
    let result = inr()
        .args([
            "encode",
            isabel,
            "-o",
            out.to_str().unwrap(),
            "--time-steps",
            "2",
        ])
        .args([
            "--method", "ecnr", "--ratio", "100", "--epochs", "2", "--block", "8,8,4",
        ])
        .args(["--latent-dim", "4", "--device", "cpu", "--seed", "1"])
        .args(["--report-json", json.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains("ECNR: 3 scales, 8x8x4 blocks, latent 4"),
        "{stdout}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["method"], "ecnr");
    assert_eq!(report["network"]["latent_dim"], 4);
    assert_eq!(report["training"]["scales"].as_array().unwrap().len(), 3);
    assert!(report["ratio"].as_f64().unwrap() >= 100.0);
    let info = inr()
        .args(["info", out.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("ecnr"), "{text}");
    // The coarsest scale alone differs from the whole model, probed at one point.
    let probe = |detail: &str| {
        let o = inr()
            .args([
                "probe",
                out.to_str().unwrap(),
                "101",
                "203",
                "31",
                "--detail",
                detail,
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_ne!(probe("1"), probe("0"));
}

#[test]
fn stsr_from_the_command_line_then_a_latent_blend() {
    let dir = tempfile::tempdir().unwrap();
    let cth = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cth/cth.vtr"
    );
    let encode = |name: &str, extra: &[&str]| {
        let out = dir.path().join(format!("{name}.inr"));
        let json = dir.path().join(format!("{name}.json"));
        let result = inr()
            .args(["encode", cth, "-o", out.to_str().unwrap()])
            .args(["--vars", "Pressure,X Velocity", "--method", "stsr"])
            .args(["--width", "8", "--stsr-blocks", "1", "--latent-length", "4"])
            .args(["--steps", "30", "--device", "cpu", "--seed", "2"])
            .args(["--report-json", json.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(report["method"], "stsr");
        assert_eq!(report["network"]["latent_dim"], 4);
        (out, report)
    };
    // A plain auto-decoder by default; --vad is the paper's.
    let (out, report) = encode("plain", &[]);
    assert!(report["network"]["vad"].is_null(), "{report}");
    let (_, vad) = encode("vad", &["--vad", "--kld-weight", "0.01"]);
    assert_eq!(vad["network"]["vad"]["kld_weight"], 0.01);
    let refused = inr()
        .args(["encode", cth, "-o", "never.inr", "--method", "stsr"])
        .args(["--kld-weight", "0.01"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--vad"));

    let vti = dir.path().join("blend.vti");
    let decoded = inr()
        .args(["decode", out.to_str().unwrap(), "-o", vti.to_str().unwrap()])
        .args(["--latent", "Pressure,X Velocity,0.5", "--dims", "9,5,5"])
        .output()
        .unwrap();
    assert!(
        decoded.status.success(),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    let text = std::fs::read(&vti).unwrap();
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("Name=\"Pressure~X Velocity@0.5\""),
        "{text:.2000}"
    );
    assert!(!text.contains("Name=\"Pressure\""));
}

/// A Cinema database of 2 x 3 views (theta, phi) of 16 x 16 RGBA squares
/// whose place follows theta, in `dir`.
fn cinema(dir: &Path) {
    std::fs::create_dir_all(dir.join("image")).unwrap();
    let mut csv = String::from("theta,phi,FILE\n");
    for (i, theta) in [-180.0, -60.0, 60.0].iter().enumerate() {
        for (j, phi) in [-30.0, 30.0].iter().enumerate() {
            let mut px = vec![0u8; 16 * 16 * 4];
            for y in 4..10 {
                for x in 4 * i..4 * i + 6 {
                    px[(y * 16 + x) * 4..][..4].copy_from_slice(&[
                        200,
                        40 + 100 * j as u8,
                        30,
                        255,
                    ]);
                }
            }
            let name = format!("image/{i}_{j}.png");
            let file = std::fs::File::create(dir.join(&name)).unwrap();
            let mut enc = png::Encoder::new(file, 16, 16);
            enc.set_color(png::ColorType::Rgba);
            enc.write_header().unwrap().write_image_data(&px).unwrap();
            csv += &format!("{theta},{phi},{name}\n");
        }
    }
    std::fs::write(dir.join("data.csv"), csv).unwrap();
}

#[test]
fn nervi_from_a_cinema_database_then_a_view() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("views.cdb");
    cinema(&db);
    let out = dir.path().join("views.inr");
    let json = dir.path().join("report.json");
    let result = inr()
        .args(["encode", db.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args([
            "--method", "nervi", "--width", "8", "--steps", "60", "--device", "cpu",
        ])
        .args(["--nervi-mlp-width", "16", "--levels", "2"])
        .args(["--report-json", json.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for word in [
        "PSNR",
        "SSIM",
        "6 images of 16 x 16",
        "upscale",
        "file (decoder)",
    ] {
        assert!(stdout.contains(word), "{word} missing from\n{stdout}");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["method"], "nervi");
    assert_eq!(
        report["file_bytes"].as_u64(),
        Some(std::fs::metadata(&out).unwrap().len())
    );
    assert_eq!(report["raw_bytes"].as_u64(), Some(6 * 16 * 16 * 4));
    assert_eq!(report["training"]["steps"].as_u64(), Some(60));
    assert_eq!(report["channels"].as_u64(), Some(8));
    let psnr = report["file_quality"]["psnr"].as_f64().unwrap();
    assert!(psnr.is_finite() && psnr > 5.0, "{psnr}");
    let d = Decoder::open(&out).unwrap();
    let set = d.image_set().unwrap();
    assert_eq!((set.width, set.height, set.view_count()), (16, 16, 6));
    assert_eq!(set.parameters, ["theta", "phi"]);
    let png = dir.path().join("v.png");
    let decode = inr()
        .args([
            "decode",
            out.to_str().unwrap(),
            "--params",
            "theta=0,phi=10",
            "-o",
            png.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        decode.status.success(),
        "{}",
        String::from_utf8_lossy(&decode.stderr)
    );
    // Not a database: a clear error and nothing written.
    let bad = inr()
        .args([
            "encode",
            dir.path().to_str().unwrap(),
            "-o",
            "x.inr",
            "--method",
            "nervi",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("data.csv"));
    assert!(!dir.path().join("x.inr").exists());
}

#[test]
fn an_error_bound_alone_searches_the_network_size_and_holds() {
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("analytic.vti");
    write_analytic(&vti);
    let out = dir.path().join("bounded.inr");
    let json = dir.path().join("report.json");
    let result = inr()
        .args(["encode", vti.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--max-rel-error", "0.02", "--blocks", "1", "--steps", "40"])
        .args(["--device", "cpu", "--report-json", json.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains("network sizes tried: ratio 100 -> "),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let bound = &report["error_bound"];
    let tried = bound["searched"].as_array().unwrap();
    assert!(tried.len() >= 2, "{tried:?}");
    // The file written is the smallest of the sizes tried.
    let smallest = (tried.iter())
        .map(|t| t[1].as_u64().unwrap())
        .filter(|&b| b > 0)
        .min()
        .unwrap();
    assert_eq!(report["file_bytes"].as_u64(), Some(smallest));
    assert_eq!(std::fs::metadata(&out).unwrap().len(), smallest);
    let variables = report["variables"].as_array().unwrap();
    for (v, b) in variables.iter().zip(bound["bounds"].as_array().unwrap()) {
        let (err, b) = (v["max_abs_error"].as_f64().unwrap(), b.as_f64().unwrap());
        assert!(err <= b && b > 0.0, "{}: {err} > {b}", v["name"]);
    }
    let decoder = Decoder::open(&out).unwrap();
    assert!(decoder.metadata().corrections.is_some());
    let info = inr()
        .args(["info", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains("error bound:"));
}
