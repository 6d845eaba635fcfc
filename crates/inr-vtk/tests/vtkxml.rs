//! `inr_vtk::vtkxml`: reading the VTK XML files users have.
//!
//! Real ParaView/VTK-written files from `../shared/data` (raw and base64
//! appended data, inline base64, zlib, UInt32 and UInt64 headers, image,
//! rectilinear and unstructured grids, `.pvd` series), files written by
//! `inr_vtk::vti::write_image_data`, files built here byte by byte for every
//! format and element type, and hostile variants of those: every
//! truncation, every single-byte change, headers claiming huge sizes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flate2::write::ZlibEncoder;
use flate2::Compression;
use inr_core::Error;
use inr_vtk::vti::{write_image_data, Values, VtiArray};
use inr_vtk::vtkxml::{read, read_bytes, read_series, Array, Association, Dataset, Grid, Series};

macro_rules! data {
    ($file:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/", $file)
    };
}

const ISABEL: &str = data!("isabel/isabel_02.vti");
const ISABEL_PVD: &str = data!("isabel/isabel.pvd");
const FINGERS: &str = data!("viscous_fingers/001_density_001_064_2.0.vti");
const CTH: &str = data!("cth/cth.vtr");
const DISK: &str = data!("disk_out_ref/disk_out_ref.vtu");
const DISK_TETS: &str = data!("disk_out_ref/disk_out_ref_tets.vtu");
const MUG_PVD: &str = data!("mug/mug.pvd");

// ---------------------------------------------------------------------------
// allocation probe: the largest single allocation made by the current thread

struct PeakAlloc;

thread_local! {
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = PEAK.try_with(|p| p.set(p.get().max(size)));
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Runs `f`, returning its result and the largest allocation it made.
fn peak_alloc<T>(f: impl FnOnce() -> T) -> (T, usize) {
    PEAK.with(|p| p.set(0));
    let out = f();
    (out, PEAK.with(Cell::get))
}

// ---------------------------------------------------------------------------
// helpers

fn array<'a>(d: &'a Dataset, name: &str) -> &'a Array {
    d.array(name)
        .unwrap_or_else(|| panic!("{}: array {name:?} missing", d.path.display()))
}

fn finite_range(v: &[f64]) -> (f64, f64) {
    assert!(v.iter().all(|x| x.is_finite()), "non-finite value");
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

fn image_parts(d: &Dataset) -> ([i64; 6], [f64; 3], [f64; 3]) {
    match &d.grid {
        Grid::Image {
            extent,
            origin,
            spacing,
        } => (*extent, *origin, *spacing),
        other => panic!("not image data: {other:?}"),
    }
}

struct Mesh<'a> {
    points: &'a [f64],
    points_f32: bool,
    connectivity: &'a [u64],
    offsets: &'a [u64],
    types: &'a [u8],
}

fn mesh(d: &Dataset) -> Mesh<'_> {
    match &d.grid {
        Grid::Unstructured(m) => Mesh {
            points: &m.points,
            points_f32: m.points_f32,
            connectivity: &m.connectivity,
            offsets: &m.offsets,
            types: &m.types,
        },
        other => panic!("not unstructured: {other:?}"),
    }
}

fn strictly_increasing(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] < w[1])
}

// ---------------------------------------------------------------------------
// real files

#[test]
fn isabel_raw_appended_float64() {
    let d = read(Path::new(ISABEL)).unwrap();
    let (extent, origin, spacing) = image_parts(&d);
    assert_eq!(extent, [0, 124, 0, 124, 0, 24]);
    assert_eq!(origin, [0.0; 3]);
    assert_eq!(spacing, [4.0080321286, 4.0080321286, 4.0408163266]);
    assert_eq!(d.grid.num_points(), 125 * 125 * 25);
    assert_eq!(d.grid.num_cells(), 124 * 124 * 24);
    // FieldData (ClusterID, TimeStep) is skipped.
    assert_eq!(d.arrays.len(), 1);
    let a = array(&d, "velocityMag");
    assert_eq!(a.association, Association::Point);
    assert_eq!(a.components, 1);
    assert_eq!(a.source_type, "Float64");
    assert_eq!(a.values.len(), 125 * 125 * 25);
    let (min, max) = finite_range(&a.values);
    // The file's RangeMin="0" RangeMax="68.245477692".
    assert_eq!(min, 0.0);
    assert!((max - 68.245477692).abs() < 1e-8, "max {max}");
    // Obtained independently at development time with Python's standard
    // library: find b"_" after b"<AppendedData", skip the 32 bytes of the
    // two FieldData arrays and the 8-byte UInt64 size header of
    // velocityMag (offset="32"), then struct.unpack_from("<390625d", ...).
    // Index 195060 is point (x=60, y=60, z=12).
    assert_eq!(a.values[85], 5.912972586387648);
    assert_eq!(a.values[195060], 9.660614950267169);
    assert_eq!(a.values[390624], 8.555639594081303);
    assert_eq!(d.path, Path::new(ISABEL));
}

#[test]
fn viscous_fingers_zlib_raw_appended_float32() {
    let d = read(Path::new(FINGERS)).unwrap();
    let (extent, origin, spacing) = image_parts(&d);
    assert_eq!(extent, [0, 63, 0, 63, 0, 63]);
    assert_eq!((origin, spacing), ([0.0; 3], [1.0; 3]));
    assert_eq!(d.arrays.len(), 1);
    let a = array(&d, "ImageFile");
    assert_eq!((a.association, a.components), (Association::Point, 1));
    assert_eq!(a.source_type, "Float32");
    assert_eq!(a.values.len(), 64 * 64 * 64);
    let (min, max) = finite_range(&a.values);
    // RangeMin="0" RangeMax="76.763237" (the Float32 maximum, printed to 8
    // significant digits); Float32 values widen exactly.
    assert_eq!(min, 0.0);
    assert!((max - 76.763237).abs() < 1e-5, "max {max}");
    assert!(a.values.iter().all(|&v| v == f64::from(v as f32)));
}

#[test]
fn cth_rectilinear_cell_arrays() {
    let d = read(Path::new(CTH)).unwrap();
    let Grid::Rectilinear { extent, x, y, z } = &d.grid else {
        panic!("not rectilinear: {:?}", d.grid);
    };
    assert_eq!(*extent, [0, 128, 0, 64, 0, 64]);
    assert_eq!((x.len(), y.len(), z.len()), (129, 65, 65));
    assert!(strictly_increasing(x) && strictly_increasing(y) && strictly_increasing(z));
    assert_eq!((x[0], x[128]), (-7.5, 4.0));
    assert_eq!((y[0], y[64], z[0], z[64]), (-3.0, 3.0, -3.0, 3.0));
    assert_eq!(d.grid.num_points(), 129 * 65 * 65);
    assert_eq!(d.grid.num_cells(), 128 * 64 * 64);
    let names: Vec<&str> = d.arrays.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Pressure",
            "Void Volume Fraction",
            "X Velocity",
            "Y Velocity",
            "Z Velocity",
            "Volume Fraction for Armor Plate",
            "Mass for Armor Plate",
            "Volume Fraction for Body, Nose",
            "Mass for Body, Nose",
        ]
    );
    for a in &d.arrays {
        assert_eq!(a.association, Association::Cell, "{}", a.name);
        assert_eq!(
            (a.components, a.values.len()),
            (1, 128 * 64 * 64),
            "{}",
            a.name
        );
        assert_eq!(a.source_type, "Float32");
        let (min, max) = finite_range(&a.values);
        if a.name.starts_with("Volume Fraction") || a.name == "Void Volume Fraction" {
            assert!(min >= 0.0 && max <= 1.0, "{}: [{min}, {max}]", a.name);
        }
    }
    let (min, max) = finite_range(&array(&d, "Pressure").values);
    assert!(min < 0.0 && max > 1e11, "pressure [{min}, {max}]");
}

#[test]
fn disk_out_ref_hexahedra() {
    let d = read(Path::new(DISK)).unwrap();
    let m = mesh(&d);
    assert_eq!(m.points.len(), 8499 * 3);
    assert!(m.points_f32);
    assert!(m.points.iter().all(|p| p.is_finite()));
    assert_eq!(m.types.len(), 7472);
    assert!(m.types.iter().all(|&t| t == 12), "all hexahedra");
    assert_eq!(m.offsets.len(), 7472 + 1);
    assert!(m
        .offsets
        .iter()
        .enumerate()
        .all(|(i, &o)| o == 8 * i as u64));
    assert_eq!(m.connectivity.len(), 7472 * 8);
    assert!(m.connectivity.iter().all(|&id| id < 8499));
    assert_eq!(d.grid.num_points(), 8499);
    assert_eq!(d.grid.num_cells(), 7472);

    let names: Vec<&str> = d.arrays.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Temp", "V", "Pres", "AsH3", "GaMe3", "CH4", "H2"]);
    for a in &d.arrays {
        assert_eq!(a.association, Association::Point);
        assert_eq!(a.values.len(), 8499 * a.components, "{}", a.name);
        finite_range(&a.values);
    }
    assert_eq!(array(&d, "V").components, 3);
    // The file's RangeMin/RangeMax of Temp.
    let (min, max) = finite_range(&array(&d, "Temp").values);
    assert_eq!((min, max), (293.1499938964844, 913.1500244140625));
}

#[test]
fn disk_out_ref_tetrahedra_share_the_points() {
    let hex = read(Path::new(DISK)).unwrap();
    let tets = read(Path::new(DISK_TETS)).unwrap();
    let m = mesh(&tets);
    assert_eq!(m.types.len(), 44832);
    assert!(m.types.iter().all(|&t| t == 10), "all tetrahedra");
    assert!(m
        .offsets
        .iter()
        .enumerate()
        .all(|(i, &o)| o == 4 * i as u64));
    assert_eq!(m.connectivity.len(), 44832 * 4);
    assert_eq!(m.points, mesh(&hex).points);
    assert_eq!(tets.arrays, hex.arrays);
}

#[test]
fn mug_series_of_21_steps_on_one_mesh() {
    let s = read_series(Path::new(MUG_PVD)).unwrap();
    assert_eq!(s.steps.len(), 21);
    let times = s.times();
    // "0", "0.1", ... "2" in the file; i / 10 rounds to the same doubles.
    let expected: Vec<f64> = (0..21).map(|i| f64::from(i) / 10.0).collect();
    assert_eq!(times, expected);
    let first = &s.steps[0].1;
    assert_eq!(mesh(first).points.len(), 3774 * 3);
    assert_eq!(mesh(first).types.len(), 2476);
    for (i, (_, d)) in s.steps.iter().enumerate() {
        assert!(d.path.ends_with(format!("mug_{i:02}.vtu")), "{:?}", d.path);
        assert_eq!(d.grid, first.grid, "step {i} mesh differs");
        let names: Vec<&str> = d.arrays.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["convected", "diffused"]);
        for a in &d.arrays {
            assert_eq!(a.values.len(), 3774);
            finite_range(&a.values);
        }
    }
    // The initial condition is zero everywhere (RangeMax="0"); it evolves.
    assert!(first
        .arrays
        .iter()
        .all(|a| a.values.iter().all(|&v| v == 0.0)));
    let last = &s.steps[20].1;
    assert!(array(last, "diffused").values.iter().any(|&v| v != 0.0));
}

#[test]
fn isabel_series_of_4_steps() {
    let s = read_series(Path::new(ISABEL_PVD)).unwrap();
    assert_eq!(s.times(), [2.0, 3.0, 4.0, 5.0]);
    for (i, (_, d)) in s.steps.iter().enumerate() {
        assert!(d.path.ends_with(format!("isabel_{:02}.vti", i + 2)));
        assert_eq!(image_parts(d).0, [0, 124, 0, 124, 0, 24]);
    }
    let v = |i: usize| &s.steps[i].1.arrays[0].values;
    assert_ne!(v(0), v(1), "steps must differ");
    assert_eq!(
        v(0)[195060],
        9.660614950267169,
        "same values as the single read"
    );
}

#[test]
fn single_file_is_a_one_step_series() {
    let s = read_series(Path::new(CTH)).unwrap();
    assert_eq!(s.times(), [0.0]);
    assert_eq!(s.steps[0].1, read(Path::new(CTH)).unwrap());
}

// ---------------------------------------------------------------------------
// files written by inr_vtk::vti

#[test]
fn vti_writer_output_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.vti");
    let extent = [-2, 1, 3, 5, 0, 1]; // 4x3x2 points, 3x2x1 cells
    let scalar: Vec<f32> = (0..24).map(|i| (i as f32 * 0.37).sin() * 1e3).collect();
    let vector: Vec<f32> = (0..72).map(|i| i as f32 / 7.0 - 3.0).collect();
    let cell: Vec<f32> = (0..6).map(|i| -(i as f32) * 1e-5).collect();
    let arrays = [
        VtiArray {
            name: "s",
            components: 1,
            association: inr_vtk::vti::Association::Point,
            values: Values::F32(&scalar),
        },
        VtiArray {
            name: "v",
            components: 3,
            association: inr_vtk::vti::Association::Point,
            values: Values::F32(&vector),
        },
        VtiArray {
            name: "c",
            components: 1,
            association: inr_vtk::vti::Association::Cell,
            values: Values::F32(&cell),
        },
    ];
    write_image_data(&path, extent, [0.5, -1.0, 2.0], [0.25, 0.5, 2.0], &arrays).unwrap();
    let d = read(&path).unwrap();
    assert_eq!(
        image_parts(&d),
        (extent, [0.5, -1.0, 2.0], [0.25, 0.5, 2.0])
    );
    let widen = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    for (a, (assoc, comps, v)) in d.arrays.iter().zip([
        (Association::Point, 1, &scalar),
        (Association::Point, 3, &vector),
        (Association::Cell, 1, &cell),
    ]) {
        assert_eq!((a.association, a.components), (assoc, comps), "{}", a.name);
        assert_eq!(a.values, widen(v), "{}", a.name);
        assert_eq!(a.source_type, "Float32");
    }
}

// ---------------------------------------------------------------------------
// files built here

/// One array to encode: element type, values as little-endian bytes.
struct Payload {
    section: &'static str,
    name: &'static str,
    ty: &'static str,
    components: usize,
    bytes: Vec<u8>,
}

fn le<T: Copy, const N: usize>(values: &[T], to: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| to(v)).collect()
}

/// Arrays of every element type on a 3x2x2 grid (12 points, 2 cells).
fn payloads() -> Vec<Payload> {
    let p = |section, name, ty, components, bytes| Payload {
        section,
        name,
        ty,
        components,
        bytes,
    };
    let f64s: Vec<f64> = (0..12).map(|i| f64::from(i) * 1.5 - 3.0).collect();
    let f32s: Vec<f32> = (0..36).map(|i| i as f32 / 8.0).collect();
    let i8s: Vec<i8> = (0..12).map(|i| (i * 23 - 128) as i8).collect();
    let u16s: Vec<u16> = (0..12).map(|i| 65535 - i * 1000).collect();
    let i64s: Vec<i64> = vec![-(1 << 40), 1 << 50];
    let u32s: Vec<u32> = vec![7, u32::MAX];
    vec![
        p(
            "PointData",
            "f64",
            "Float64",
            1,
            le(&f64s, f64::to_le_bytes),
        ),
        p(
            "PointData",
            "vec",
            "Float32",
            3,
            le(&f32s, f32::to_le_bytes),
        ),
        p("PointData", "i8", "Int8", 1, le(&i8s, i8::to_le_bytes)),
        p("PointData", "u16", "UInt16", 1, le(&u16s, u16::to_le_bytes)),
        p("CellData", "i64", "Int64", 1, le(&i64s, i64::to_le_bytes)),
        p("CellData", "u32", "UInt32", 1, le(&u32s, u32::to_le_bytes)),
    ]
}

/// What `payloads()` must decode to, in the reader's order.
fn expected() -> Vec<(&'static str, Association, usize, Vec<f64>)> {
    vec![
        (
            "f64",
            Association::Point,
            1,
            (0..12).map(|i| f64::from(i) * 1.5 - 3.0).collect(),
        ),
        (
            "vec",
            Association::Point,
            3,
            (0..36).map(|i| f64::from(i) / 8.0).collect(),
        ),
        (
            "i8",
            Association::Point,
            1,
            (0..12).map(|i| f64::from((i * 23 - 128) as i8)).collect(),
        ),
        (
            "u16",
            Association::Point,
            1,
            (0..12).map(|i| f64::from(65535 - i * 1000)).collect(),
        ),
        (
            "i64",
            Association::Cell,
            1,
            vec![-(2f64.powi(40)), 2f64.powi(50)],
        ),
        ("u32", Association::Cell, 1, vec![7.0, f64::from(u32::MAX)]),
    ]
}

fn check_decoded(d: &Dataset) {
    let got: Vec<_> = d
        .arrays
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.association,
                a.components,
                a.values.clone(),
            )
        })
        .collect();
    assert_eq!(got, expected());
}

/// How the binary payloads are packed into the file.
#[derive(Clone, Copy, Debug)]
struct Packing {
    header64: bool,
    /// zlib block size, or no compression.
    zlib_block: Option<usize>,
    /// Appended encoding: "raw" or "base64"; or "binary" for inline base64.
    mode: &'static str,
}

fn words(values: &[u64], header64: bool) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| {
            if header64 {
                v.to_le_bytes().to_vec()
            } else {
                u32::try_from(v).unwrap().to_le_bytes().to_vec()
            }
        })
        .collect()
}

fn b64(bytes: &[u8]) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

/// Header and data of one array as VTK lays them out: `(header, data)`.
fn encode(bytes: &[u8], packing: Packing) -> (Vec<u8>, Vec<u8>) {
    match packing.zlib_block {
        None => (
            words(&[bytes.len() as u64], packing.header64),
            bytes.to_vec(),
        ),
        Some(block) => {
            let mut sizes = Vec::new();
            let mut data = Vec::new();
            for chunk in bytes.chunks(block) {
                let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
                z.write_all(chunk).unwrap();
                let c = z.finish().unwrap();
                sizes.push(c.len() as u64);
                data.extend_from_slice(&c);
            }
            let last = bytes.len() % block;
            let mut head = vec![sizes.len() as u64, block as u64, last as u64];
            head.extend(sizes);
            (words(&head, packing.header64), data)
        }
    }
}

/// The bytes of one payload in the text or the appended section: base64
/// encodes header and data together when uncompressed and separately when
/// compressed, as VTK does.
fn serialize(bytes: &[u8], packing: Packing) -> Vec<u8> {
    let (head, data) = encode(bytes, packing);
    match (packing.mode, packing.zlib_block) {
        ("raw", _) => [head, data].concat(),
        (_, None) => b64(&[head, data].concat()),
        (_, Some(_)) => [b64(&head), b64(&data)].concat(),
    }
}

/// A `.vti` file holding `payloads()` (12 points, 2 cells) plus a FieldData
/// array, laid out as `packing` says. Returns the file and the end of the
/// last byte any array needs.
fn build_vti(packing: Packing) -> (Vec<u8>, usize) {
    let mut appended = Vec::new();
    let mut markup = String::new();
    let header = if packing.header64 { "UInt64" } else { "UInt32" };
    let compressor = if packing.zlib_block.is_some() {
        r#" compressor="vtkZLibDataCompressor""#
    } else {
        ""
    };
    markup.push_str(&format!(
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"ImageData\" version=\"1.0\" \
         byte_order=\"LittleEndian\" header_type=\"{header}\"{compressor}>\n  \
         <ImageData WholeExtent=\"0 2 0 1 0 1\" Origin=\"0 0 0\" Spacing=\"1 1 1\" \
         Direction=\"1 0 0 0 1 0 0 0 1\">\n"
    ));
    let mut array_xml = |name: &str, ty: &str, comps: usize, bytes: &[u8], extra: &str| {
        let encoded = serialize(bytes, packing);
        let body = if packing.mode == "binary" {
            format!(
                "format=\"binary\"{extra}>\n{}\n</DataArray>\n",
                String::from_utf8(encoded).unwrap()
            )
        } else {
            let s = format!(
                "format=\"appended\" offset=\"{}\"{extra}/>\n",
                appended.len()
            );
            appended.extend_from_slice(&encoded);
            s
        };
        format!("<DataArray type=\"{ty}\" Name=\"{name}\" NumberOfComponents=\"{comps}\" {body}")
    };
    // FieldData first, so its bytes come first in the appended section.
    let field = array_xml(
        "TimeStep",
        "Float64",
        1,
        &2.5f64.to_le_bytes(),
        " NumberOfTuples=\"1\"",
    );
    markup.push_str(&format!("<FieldData>\n{field}</FieldData>\n"));
    markup.push_str("<Piece Extent=\"0 2 0 1 0 1\">\n");
    for section in ["PointData", "CellData"] {
        markup.push_str(&format!("<{section}>\n"));
        for p in payloads().iter().filter(|p| p.section == section) {
            markup.push_str(&array_xml(p.name, p.ty, p.components, &p.bytes, ""));
        }
        markup.push_str(&format!("</{section}>\n"));
    }
    markup.push_str("</Piece>\n</ImageData>\n");
    let mut file = markup.into_bytes();
    let mut data_end = file.len();
    if packing.mode != "binary" {
        file.extend_from_slice(
            format!("<AppendedData encoding=\"{}\">\n   _", packing.mode).as_bytes(),
        );
        file.extend_from_slice(&appended);
        data_end = file.len();
        file.extend_from_slice(b"\n  </AppendedData>\n");
    }
    file.extend_from_slice(b"</VTKFile>\n");
    (file, data_end)
}

const PACKINGS: [Packing; 8] = [
    Packing {
        header64: true,
        zlib_block: None,
        mode: "raw",
    },
    Packing {
        header64: false,
        zlib_block: None,
        mode: "raw",
    },
    Packing {
        header64: true,
        zlib_block: Some(16),
        mode: "raw",
    },
    Packing {
        header64: false,
        zlib_block: Some(32768),
        mode: "raw",
    },
    Packing {
        header64: false,
        zlib_block: None,
        mode: "base64",
    },
    Packing {
        header64: true,
        zlib_block: Some(20),
        mode: "base64",
    },
    Packing {
        header64: true,
        zlib_block: None,
        mode: "binary",
    },
    Packing {
        header64: false,
        zlib_block: Some(8),
        mode: "binary",
    },
];

/// `file` with the first `from` replaced by `to` (the file holds raw bytes,
/// so this works on bytes, not text).
fn replace_once(file: &[u8], from: &str, to: &str) -> Vec<u8> {
    let at = file
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from:?} not in the file"));
    [&file[..at], to.as_bytes(), &file[at + from.len()..]].concat()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn every_layout_and_element_type_decodes() {
    let dir = tempfile::tempdir().unwrap();
    for packing in PACKINGS {
        let (file, _) = build_vti(packing);
        let path = write(dir.path(), "built.vti", &file);
        let d = read(&path).unwrap_or_else(|e| panic!("{packing:?}: {e}"));
        assert_eq!(image_parts(&d).0, [0, 2, 0, 1, 0, 1]);
        check_decoded(&d);
        let types: Vec<&str> = d.arrays.iter().map(|a| a.source_type.as_str()).collect();
        assert_eq!(
            types,
            ["Float64", "Float32", "Int8", "UInt16", "Int64", "UInt32"]
        );
    }
}

#[test]
fn ascii_unstructured_grid_with_int32_cells() {
    let dir = tempfile::tempdir().unwrap();
    // A tetrahedron and a triangle sharing three points.
    let text = r#"<VTKFile type="UnstructuredGrid" version="0.1" byte_order="LittleEndian">
  <UnstructuredGrid>
    <Piece NumberOfPoints="5" NumberOfCells="2">
      <PointData Scalars="t">
        <DataArray type="Float64" Name="t" format="ascii">0.5 -1 2e3 nan 4</DataArray>
      </PointData>
      <CellData>
        <DataArray type="Int16" Name="id" format="ascii">
          -7 300
        </DataArray>
      </CellData>
      <Points>
        <DataArray type="Float64" NumberOfComponents="3" format="ascii">
          0 0 0  1 0 0  0 1 0  0 0 1  1 1 1
        </DataArray>
      </Points>
      <Cells>
        <DataArray type="Int32" Name="connectivity" format="ascii">0 1 2 3 1 2 4</DataArray>
        <DataArray type="Int32" Name="offsets" format="ascii">4 7</DataArray>
        <DataArray type="UInt8" Name="types" format="ascii">10 5</DataArray>
      </Cells>
    </Piece>
  </UnstructuredGrid>
</VTKFile>
"#;
    let path = write(dir.path(), "a.vtu", text.as_bytes());
    let d = read(&path).unwrap();
    let m = mesh(&d);
    assert!(!m.points_f32);
    assert_eq!(m.points[9..15], [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
    assert_eq!(m.connectivity, [0, 1, 2, 3, 1, 2, 4]);
    assert_eq!(m.offsets, [0, 4, 7]);
    assert_eq!(m.types, [10, 5]);
    let t = &array(&d, "t").values;
    assert_eq!(t[..3], [0.5, -1.0, 2000.0]);
    assert!(t[3].is_nan());
    assert_eq!(array(&d, "id").values, [-7.0, 300.0]);
    assert_eq!(array(&d, "id").association, Association::Cell);

    // Point ids out of range, decreasing offsets, negative ids: errors.
    for (from, to) in [
        ("0 1 2 3 1 2 4<", "0 1 2 3 1 2 5<"),
        ("4 7<", "7 4<"),
        ("0 1 2 3 1 2 4<", "0 1 2 3 1 2 -4<"),
        ("10 5<", "42 5<"),
        ("-7 300", "-7 300 1"),
        ("-7 300", "-7 40000"),
    ] {
        let bad = text.replacen(from, to, 1);
        assert_ne!(bad, text);
        let path = write(dir.path(), "bad.vtu", bad.as_bytes());
        let err = read(&path).unwrap_err();
        assert!(err.to_string().contains("bad.vtu"), "{err}");
    }
}

#[test]
fn pvd_is_sorted_and_resolved_relative_to_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("steps")).unwrap();
    let (file, _) = build_vti(PACKINGS[0]);
    for name in ["a.vti", "b.vti", "c.vti"] {
        write(&dir.path().join("steps"), name, &file);
    }
    let pvd = r#"<?xml version="1.0"?>
<VTKFile type="Collection" version="0.1">
  <Collection>
    <DataSet timestep="1.5" part="0" file="steps/b.vti"/>
    <DataSet timestep="-2" part="0" file="steps/a.vti"></DataSet>
    <DataSet timestep="10" file="steps/c.vti"/>
  </Collection>
</VTKFile>"#;
    let path = write(dir.path(), "s.pvd", pvd.as_bytes());
    let s: Series = read_series(&path).unwrap();
    assert_eq!(s.times(), [-2.0, 1.5, 10.0]);
    let names: Vec<_> = s
        .steps
        .iter()
        .map(|(_, d)| d.path.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a.vti", "b.vti", "c.vti"]);
    assert!(s.steps[0].1.path.starts_with(dir.path()));

    let missing = pvd.replace("steps/c.vti", "steps/none.vti");
    let path = write(dir.path(), "m.pvd", missing.as_bytes());
    match read_series(&path) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("steps/none.vti")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let parts = pvd.replace(r#"timestep="10" file"#, r#"timestep="1.5" part="1" file"#);
    let path = write(dir.path(), "p.pvd", parts.as_bytes());
    assert!(matches!(read_series(&path), Err(Error::Unsupported(_))));
    let empty = r#"<VTKFile type="Collection"><Collection/></VTKFile>"#;
    let path = write(dir.path(), "e.pvd", empty.as_bytes());
    assert!(matches!(read_series(&path), Err(Error::Invalid(_))));
}

#[test]
fn unsupported_features_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = build_vti(PACKINGS[0]);
    let cases = [
        ("LittleEndian", "BigEndian", "BigEndian"),
        (
            "header_type=\"UInt64\"",
            "header_type=\"UInt64\" compressor=\"vtkLZ4DataCompressor\"",
            "vtkLZ4DataCompressor",
        ),
        (
            "Direction=\"1 0 0 0 1 0",
            "Direction=\"0 1 0 1 0 0",
            "Direction",
        ),
        (
            "</Piece>",
            "</Piece><Piece Extent=\"0 2 0 1 0 1\"></Piece>",
            "single-piece",
        ),
        ("type=\"Int8\"", "type=\"Bit\"", "\"Bit\""),
    ];
    for (from, to, needle) in cases {
        let changed = replace_once(&file, from, to);
        let path = write(dir.path(), "u.vti", &changed);
        match read(&path) {
            Err(Error::Unsupported(msg)) => {
                assert!(msg.contains(needle) && msg.contains("u.vti"), "{msg}")
            }
            other => panic!("{to}: expected Unsupported, got {other:?}"),
        }
    }
    let path = write(dir.path(), "x.vtp", &file);
    assert!(matches!(read(&path), Err(Error::Unsupported(_))));
    let path = write(dir.path(), "wrong.vtu", &file);
    match read(&path) {
        Err(Error::Invalid(msg)) => assert!(msg.contains("ImageData"), "{msg}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    let missing = read(&dir.path().join("none.vti"));
    assert!(matches!(missing, Err(Error::Io { .. })), "{missing:?}");
}

// ---------------------------------------------------------------------------
// hostile files

fn read_no_panic(path: &Path) -> Result<Dataset, Error> {
    catch_unwind(AssertUnwindSafe(|| read(path)))
        .unwrap_or_else(|_| panic!("read panicked on {}", path.display()))
}

/// The sweeps parse in memory (`read_bytes`, the same parser `read` uses
/// after loading the file): tens of thousands of files, most of the time
/// would go to writing them.
fn parse_no_panic(bytes: &[u8], what: &str) -> Result<Dataset, Error> {
    catch_unwind(AssertUnwindSafe(|| {
        read_bytes(Path::new("sweep.vti"), bytes)
    }))
    .unwrap_or_else(|_| panic!("read panicked on {what}"))
}

/// Every prefix of the file: no panic, and an error whenever the cut
/// removes bytes some point or cell array needs.
#[test]
fn every_truncation_is_an_error_or_harmless() {
    for packing in [PACKINGS[0], PACKINGS[2], PACKINGS[5], PACKINGS[7]] {
        let (file, data_end) = build_vti(packing);
        for len in 0..file.len() {
            let what = format!("{packing:?}: prefix of {len} bytes");
            match parse_no_panic(&file[..len], &what) {
                Ok(d) => {
                    assert!(len >= data_end, "{what} read");
                    check_decoded(&d);
                }
                // Inline data: the markup must be complete.
                Err(_) if packing.mode == "binary" || len < data_end => {}
                Err(e) => panic!("{what}: {e}"),
            }
        }
    }
    // Through the file system once, for the smallest layout.
    let dir = tempfile::tempdir().unwrap();
    let (file, data_end) = build_vti(PACKINGS[0]);
    let path = dir.path().join("t.vti");
    for len in (0..data_end).step_by(7) {
        std::fs::write(&path, &file[..len]).unwrap();
        assert!(read_no_panic(&path).is_err());
    }
}

/// Every single-byte change (several values per offset): no panic, and any
/// file still read has a consistent shape.
#[test]
fn every_byte_change_is_handled() {
    for packing in [PACKINGS[0], PACKINGS[2], PACKINGS[5], PACKINGS[7]] {
        let (file, _) = build_vti(packing);
        let (mut ok, mut err) = (0, 0);
        let mut changed = file.clone();
        for at in 0..file.len() {
            for value in [file[at] ^ 0x01, file[at] ^ 0x80, b'<', b'9', 0xff, b'='] {
                if value == file[at] {
                    continue;
                }
                changed[at] = value;
                let what = format!("{packing:?}: byte {at} set to {value}");
                match parse_no_panic(&changed, &what) {
                    Ok(d) => {
                        ok += 1;
                        for a in &d.arrays {
                            let tuples = match a.association {
                                Association::Point => d.grid.num_points(),
                                Association::Cell => d.grid.num_cells(),
                            };
                            assert_eq!(a.values.len(), tuples * a.components, "{what}");
                        }
                    }
                    Err(e) => {
                        err += 1;
                        assert!(e.to_string().contains("sweep.vti"), "{what}: {e}");
                    }
                }
            }
            changed[at] = file[at];
        }
        assert!(ok > 0 && err > 0, "{packing:?}: {ok} read, {err} errors");
    }
}

/// A one-array ImageData file whose appended raw section is `appended`.
fn crafted(extent: &str, header: &str, compressor: &str, appended: &[u8]) -> Vec<u8> {
    let mut file = format!(
        "<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\"LittleEndian\" \
         header_type=\"{header}\"{compressor}>\n<ImageData WholeExtent=\"{extent}\" \
         Origin=\"0 0 0\" Spacing=\"1 1 1\">\n<Piece Extent=\"{extent}\">\n<PointData>\n\
         <DataArray type=\"Float32\" Name=\"f\" format=\"appended\" offset=\"0\"/>\n\
         </PointData>\n</Piece>\n</ImageData>\n<AppendedData encoding=\"raw\">\n_"
    )
    .into_bytes();
    file.extend_from_slice(appended);
    file.extend_from_slice(b"\n</AppendedData>\n</VTKFile>\n");
    file
}

#[test]
fn huge_declared_sizes_fail_fast_without_allocating() {
    const ZLIB: &str = r#" compressor="vtkZLibDataCompressor""#;
    // 1024^3 points of Float32: 4 GiB that the file only claims.
    const BIG: &str = "0 1023 0 1023 0 1023";
    let u64s = |v: &[u64]| words(v, true);
    let u32s = |v: &[u64]| words(v, false);
    let mut tiny_block = ZlibEncoder::new(Vec::new(), Compression::default());
    tiny_block.write_all(&[0u8; 4096]).unwrap();
    let tiny_block = tiny_block.finish().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // 2^40 blocks: their size words alone would be 8 TiB.
        (
            "many blocks",
            crafted(BIG, "UInt64", ZLIB, &u64s(&[1 << 40, 32768, 0])),
        ),
        // The grid's 4 GiB in 32 KiB blocks, block sizes absent.
        (
            "absent block sizes",
            crafted(BIG, "UInt32", ZLIB, &u32s(&[1 << 17, 32768, 0, 100, 100])),
        ),
        // One 4 GiB block from a 4 KiB deflate stream: beyond zlib's ratio.
        (
            "inflation ratio",
            crafted(
                BIG,
                "UInt64",
                ZLIB,
                &[
                    u64s(&[1, 1 << 32, 0, tiny_block.len() as u64]),
                    tiny_block.clone(),
                ]
                .concat(),
            ),
        ),
        // Block sizes summing past the file.
        (
            "compressed past the end",
            crafted(
                "0 3 0 0 0 0",
                "UInt64",
                ZLIB,
                &u64s(&[2, 8, 0, 1 << 60, 1 << 60]),
            ),
        ),
        // A 2^40-byte block header for a 16-byte array.
        (
            "block size mismatch",
            crafted("0 3 0 0 0 0", "UInt64", ZLIB, &u64s(&[1, 1 << 40, 0, 10])),
        ),
        // Uncompressed: 2^62 bytes declared, and 4 GiB declared for the grid.
        (
            "size header",
            crafted("0 3 0 0 0 0", "UInt64", "", &u64s(&[1 << 62])),
        ),
        (
            "grid-sized header",
            crafted(BIG, "UInt64", "", &u64s(&[1 << 32, 0])),
        ),
        // An extent beyond the per-array limit.
        (
            "huge extent",
            crafted("0 1099511627775 0 0 0 0", "UInt64", "", &u64s(&[0])),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, file) in cases {
        let path = write(dir.path(), "huge.vti", &file);
        let start = Instant::now();
        let (result, peak) = peak_alloc(|| read_no_panic(&path));
        let elapsed = start.elapsed();
        let err = result.expect_err(what);
        assert!(err.to_string().contains("huge.vti"), "{what}: {err}");
        assert!(peak < 1 << 20, "{what}: allocated {peak} bytes ({err})");
        assert!(elapsed < Duration::from_secs(1), "{what}: took {elapsed:?}");
    }

    // Many arrays pointing at one zlib stream that inflates 1000-fold: each
    // is legal alone, together they would decode far more than the file.
    let mut bomb = ZlibEncoder::new(Vec::new(), Compression::best());
    bomb.write_all(&vec![0u8; 1 << 22]).unwrap();
    let bomb = bomb.finish().unwrap();
    let mut file = crafted(
        "0 1023 0 1023 0 0",
        "UInt64",
        ZLIB,
        &[u64s(&[1, 1 << 22, 0, bomb.len() as u64]), bomb].concat(),
    );
    let again = br#"<DataArray type="Float32" Name="f" format="appended" offset="0"/>"#;
    let at = file.windows(again.len()).position(|w| w == again).unwrap() + again.len();
    let copies: Vec<u8> = (0..1000)
        .flat_map(|i| {
            format!(
                "\n<DataArray type=\"Float32\" Name=\"f{i}\" format=\"appended\" offset=\"0\"/>"
            )
            .into_bytes()
        })
        .collect();
    file.splice(at..at, copies);
    let path = write(dir.path(), "huge.vti", &file);
    let start = Instant::now();
    let err = read_no_panic(&path).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded(_)), "{err}");
    assert!(err.to_string().contains("overlap"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(1));

    // Unstructured: counts far beyond the limit.
    let vtu = r#"<VTKFile type="UnstructuredGrid" version="0.1"><UnstructuredGrid>
<Piece NumberOfPoints="1000000000000" NumberOfCells="1">
<Points><DataArray type="Float32" NumberOfComponents="3" format="ascii">0 0 0</DataArray></Points>
<Cells><DataArray type="Int64" Name="connectivity" format="ascii">0</DataArray>
<DataArray type="Int64" Name="offsets" format="ascii">1</DataArray>
<DataArray type="UInt8" Name="types" format="ascii">1</DataArray></Cells>
</Piece></UnstructuredGrid></VTKFile>"#;
    let path = write(dir.path(), "huge.vtu", vtu.as_bytes());
    let (result, peak) = peak_alloc(|| read_no_panic(&path));
    assert!(matches!(result, Err(Error::LimitExceeded(_))), "{result:?}");
    assert!(peak < 1 << 20);
    let offsets = vtu.replace("1000000000000", "1").replace(
        ">1</DataArray>\n<DataArray type=\"UInt8\"",
        ">4000000000</DataArray>\n<DataArray type=\"UInt8\"",
    );
    let path = write(dir.path(), "huge.vtu", offsets.as_bytes());
    let (result, peak) = peak_alloc(|| read_no_panic(&path));
    assert!(matches!(result, Err(Error::LimitExceeded(_))), "{result:?}");
    assert!(peak < 1 << 20);
}
