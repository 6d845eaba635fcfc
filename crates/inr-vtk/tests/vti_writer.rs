//! Round trips through `inr_vtk::vti::write_image_data` / `read_image_data`, and
//! reads of real ParaView-written `.vti` files from the shared data set.

use std::path::Path;

use inr_core::Error;
use inr_vtk::vti::{read_image_data, write_image_data, Association, Values, VtiArray, VtiImage};

const ISABEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/isabel/isabel_02.vti"
);
const FINGERS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/viscous_fingers/001_density_001_064_2.0.vti"
);

/// Deterministic values that exercise sign, magnitude and fractional bits.
fn values(n: usize, seed: f32) -> Vec<f32> {
    (0..n)
        .map(|i| (i as f32 * 0.731 + seed).sin() * 10f32.powi(i as i32 % 7 - 3))
        .collect()
}

fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

fn array<'a>(name: &'a str, components: usize, assoc: Association, v: &'a [f32]) -> VtiArray<'a> {
    VtiArray {
        name,
        components,
        association: assoc,
        values: Values::F32(v),
    }
}

fn find<'a>(image: &'a VtiImage, name: &str) -> &'a inr_vtk::vti::VtiOwnedArray {
    image
        .arrays
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("array {name} missing"))
}

fn finite_range(v: &[f64]) -> (f64, f64) {
    assert!(v.iter().all(|x| x.is_finite()), "non-finite value");
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

#[test]
fn three_variables_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three.vti");
    let extent = [0, 3, 0, 2, 0, 1]; // 4x3x2 points, 3x2x1 cells
    let (origin, spacing) = ([0.5, -1.25, 2.0], [0.25, 0.5, 1.5]);
    let scalar = values(24, 0.1);
    let vector = values(24 * 3, 0.7);
    let cell = values(6, 1.3);
    let arrays = [
        array("pressure", 1, Association::Point, &scalar),
        array("velocity", 3, Association::Point, &vector),
        array("cell_id", 1, Association::Cell, &cell),
    ];
    write_image_data(&path, extent, origin, spacing, &arrays).unwrap();

    let image = read_image_data(&path).unwrap();
    assert_eq!(image.extent, extent);
    assert_eq!(image.origin, origin);
    assert_eq!(image.spacing, spacing);
    assert_eq!(image.arrays.len(), 3);
    for (a, v) in arrays.iter().zip([&scalar, &vector, &cell]) {
        let got = find(&image, a.name);
        assert_eq!(got.association, a.association, "{}", a.name);
        assert_eq!(got.components, a.components, "{}", a.name);
        assert_eq!(got.values, widen(v), "{}", a.name);
    }
}

#[test]
fn written_markup_is_what_paraview_expects() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("markup.vti");
    let vector = values(8 * 3, 0.2);
    let arrays = [array("v", 3, Association::Point, &vector)];
    write_image_data(&path, [0, 1, 0, 1, 0, 1], [0.0; 3], [1.0; 3], &arrays).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(
        r#"<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">"#
    ));
    assert!(
        text.contains(r#"<ImageData WholeExtent="0 1 0 1 0 1" Origin="0 0 0" Spacing="1 1 1">"#)
    );
    assert!(text.contains(r#"<Piece Extent="0 1 0 1 0 1" "#));
    assert!(text.contains(r#"<PointData Vectors="v">"#));
    assert!(text
        .contains(r#"<DataArray type="Float32" Name="v" format="binary" NumberOfComponents="3">"#));
}

#[test]
fn wrong_value_counts_are_rejected_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.vti");
    let extent = [0, 3, 0, 2, 0, 1]; // 24 points, 6 cells
    let points = values(24, 0.0);
    let short = values(23, 0.0);
    let cases = [
        array("short", 1, Association::Point, &short),
        array("cells_given_points", 1, Association::Cell, &points),
        array("not_three", 3, Association::Point, &points),
        array("no_components", 0, Association::Point, &points),
        array("", 1, Association::Point, &points),
    ];
    for bad in cases {
        let ok = array("ok", 1, Association::Point, &points);
        let result = write_image_data(&path, extent, [0.0; 3], [1.0; 3], &[ok, bad]);
        assert!(
            matches!(result, Err(Error::InvalidArgument(_))),
            "{:?}: {result:?}",
            bad.name
        );
        assert!(!path.exists());
    }
    let twice = [
        array("a", 1, Association::Point, &points),
        array("a", 1, Association::Point, &points),
    ];
    let result = write_image_data(&path, extent, [0.0; 3], [1.0; 3], &twice);
    assert!(matches!(result, Err(Error::InvalidArgument(_))));
}

#[test]
fn bad_geometry_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.vti");
    let one = [1.0f32];
    let a = [array("a", 1, Association::Point, &one)];
    let point = [0, 0, 0, 0, 0, 0];
    for (extent, origin, spacing) in [
        ([1, 0, 0, 0, 0, 0], [0.0; 3], [1.0; 3]),
        ([0, 0, 0, 0, 1 << 40, 1 << 40], [0.0; 3], [1.0; 3]),
        (point, [f64::NAN, 0.0, 0.0], [1.0; 3]),
        (point, [0.0; 3], [1.0, 0.0, 1.0]),
        (point, [0.0; 3], [1.0, 1e300, 1.0]),
    ] {
        let result = write_image_data(&path, extent, origin, spacing, &a);
        assert!(
            matches!(result, Err(Error::InvalidArgument(_))),
            "{result:?}"
        );
        assert!(!path.exists());
    }
}

#[test]
fn missing_directory_is_an_io_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_dir");
    let path = missing.join("out.vti");
    let v = values(8, 0.0);
    let a = [array("a", 1, Association::Point, &v)];
    let result = write_image_data(&path, [0, 1, 0, 1, 0, 1], [0.0; 3], [1.0; 3], &a);
    assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
    assert!(!missing.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn overwriting_replaces_the_file_and_leaves_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.vti");
    for seed in [0.0, 5.0] {
        let v = values(8, seed);
        let a = [array("a", 1, Association::Point, &v)];
        write_image_data(&path, [0, 1, 0, 1, 0, 1], [0.0; 3], [1.0; 3], &a).unwrap();
        assert_eq!(read_image_data(&path).unwrap().arrays[0].values, widen(&v));
    }
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["out.vti"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o600, 0o600, "owner must be able to read and write");
    }
}

#[test]
fn flat_sub_extent_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flat.vti");
    let extent = [2, 5, 0, 3, 1, 1]; // 4x4x1 points
    let scalar = values(16, 0.3);
    let pair = values(32, 0.9);
    let arrays = [
        array("s", 1, Association::Point, &scalar),
        array("uv", 2, Association::Point, &pair),
    ];
    write_image_data(&path, extent, [1.0, 2.0, 3.0], [0.125; 3], &arrays).unwrap();
    let image = read_image_data(&path).unwrap();
    assert_eq!(image.extent, extent);
    assert_eq!(image.origin, [1.0, 2.0, 3.0]);
    assert_eq!(find(&image, "s").values, widen(&scalar));
    assert_eq!(find(&image, "uv").components, 2);
    assert_eq!(find(&image, "uv").values, widen(&pair));
}

#[test]
fn negative_sub_extent_with_cells_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub.vti");
    let extent = [-3, -1, 4, 6, 10, 13]; // 3x3x4 points, 2x2x3 cells
    let cell = values(12, 2.0);
    let arrays = [array("c", 1, Association::Cell, &cell)];
    write_image_data(&path, extent, [0.0; 3], [1.0; 3], &arrays).unwrap();
    let image = read_image_data(&path).unwrap();
    assert_eq!(image.extent, extent);
    assert_eq!(find(&image, "c").values, widen(&cell));
}

/// VTK counts one cell along an axis with one point, so this file is valid;
/// vtkio 0.6.3 counted zero cells there and dropped the array, the reader
/// (`inr_vtk::vtkxml`) counts as VTK does and reads it back.
#[test]
fn flat_cell_array_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flat_cells.vti");
    let cell = values(9, 0.0); // 3x3x1 cells
    let arrays = [array("c", 1, Association::Cell, &cell)];
    write_image_data(&path, [0, 3, 0, 3, 0, 0], [0.0; 3], [1.0; 3], &arrays).unwrap();
    let image = read_image_data(&path).unwrap();
    assert_eq!(find(&image, "c").association, Association::Cell);
    assert_eq!(find(&image, "c").values, widen(&cell));
}

#[test]
fn missing_and_malformed_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let missing = read_image_data(&dir.path().join("none.vti"));
    assert!(matches!(missing, Err(Error::Io { .. })), "{missing:?}");

    // Appended data that ends long before the declared array: vtkio 0.6.3
    // slices past the end here, which must not escape as a panic.
    let truncated = dir.path().join("truncated.vti");
    let markup = r#"<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">
<ImageData WholeExtent="0 9 0 9 0 9" Origin="0 0 0" Spacing="1 1 1">
<Piece Extent="0 9 0 9 0 9"><PointData>
<DataArray type="Float32" Name="f" format="appended" offset="0"/>
</PointData><CellData/></Piece></ImageData>
<AppendedData encoding="base64">_AAAA</AppendedData></VTKFile>"#;
    std::fs::write(&truncated, markup).unwrap();
    assert!(read_image_data(&truncated).is_err());

    let garbage = dir.path().join("garbage.vti");
    std::fs::write(&garbage, b"not xml at all").unwrap();
    assert!(read_image_data(&garbage).is_err());
}

/// Written by VTK 9.2.6's `vtkXMLImageDataWriter` (the VTK of ParaView 5.11)
/// with appended base64 data, no compression and its default `UInt32`
/// headers: Float64 and 3-component Float32 point arrays, an Int32 cell array.
const VTK_APPENDED_BASE64: &str = r#"<?xml version="1.0"?>
<VTKFile type="ImageData" version="0.1" byte_order="LittleEndian" header_type="UInt32">
  <ImageData WholeExtent="1 3 0 1 5 6" Origin="-1 0.5 2" Spacing="0.5 2 0.25" Direction="1 0 0 0 1 0 0 0 1">
    <Piece Extent="1 3 0 1 5 6"                                                       >
      <PointData>
        <DataArray type="Float64" Name="temp" format="appended" RangeMin="-3"                   RangeMax="13.5"                 offset="0"                   />
        <DataArray type="Float32" Name="wind" NumberOfComponents="3" format="appended" RangeMin="0.27950849719"        RangeMax="7.3633382375"         offset="136"                 />
      </PointData>
      <CellData>
        <DataArray type="Int32" Name="id" format="appended" RangeMin="-7"                   RangeMax="42"                   offset="336"                 />
      </CellData>
    </Piece>
  </ImageData>
  <AppendedData encoding="base64">
   _YAAAAAAAAAAAAAjAAAAAAAAA+L8AAAAAAAAAAAAAAAAAAPg/AAAAAAAACEAAAAAAAAASQAAAAAAAABhAAAAAAAAAHkAAAAAAAAAiQAAAAAAAACVAAAAAAAAAKEAAAAAAAAArQA==kAAAAAAAAAAAAAA+AACAPgAAwD4AAAA/AAAgPwAAQD8AAGA/AACAPwAAkD8AAKA/AACwPwAAwD8AANA/AADgPwAA8D8AAABAAAAIQAAAEEAAABhAAAAgQAAAKEAAADBAAAA4QAAAQEAAAEhAAABQQAAAWEAAAGBAAABoQAAAcEAAAHhAAACAQAAAhEAAAIhAAACMQA==CAAAAPn///8qAAAA
  </AppendedData>
</VTKFile>
"#;

#[test]
fn reads_vtk_written_appended_base64_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vtk.vti");
    std::fs::write(&path, VTK_APPENDED_BASE64).unwrap();
    let image = read_image_data(&path).unwrap();
    assert_eq!(image.extent, [1, 3, 0, 1, 5, 6]);
    assert_eq!(image.origin, [-1.0, 0.5, 2.0]);
    assert_eq!(image.spacing, [0.5, 2.0, 0.25]);
    let temp = find(&image, "temp");
    let want: Vec<f64> = (0..12).map(|i| f64::from(i) * 1.5 - 3.0).collect();
    assert_eq!((temp.components, &temp.values), (1, &want));
    let wind = find(&image, "wind");
    let want: Vec<f64> = (0..36).map(|i| f64::from(i) / 8.0).collect();
    assert_eq!((wind.components, &wind.values), (3, &want));
    let id = find(&image, "id");
    assert_eq!(id.association, Association::Cell);
    assert_eq!(id.values, [-7.0, 42.0]);
}

/// `isabel_02.vti` is ParaView-written with raw appended Float64 data and
/// FieldData (skipped).
#[test]
fn reads_paraview_isabel_file() {
    let image = read_image_data(Path::new(ISABEL)).unwrap();
    assert_eq!(image.extent, [0, 124, 0, 124, 0, 24]);
    assert!((image.spacing[0] - 4.0080321286).abs() < 1e-6);
    let a = find(&image, "velocityMag");
    assert_eq!((a.association, a.components), (Association::Point, 1));
    assert_eq!(a.values.len(), 125 * 125 * 25);
    let (min, max) = finite_range(&a.values);
    // The file's own RangeMin/RangeMax attributes.
    assert_eq!(min, 0.0);
    assert!((max - 68.245477692).abs() < 1e-6, "max {max}");
}

/// The viscous-fingers files are zlib-compressed (`vtkZLibDataCompressor`),
/// appended raw, with UInt64 headers.
#[test]
fn reads_paraview_viscous_fingers_file() {
    let image = read_image_data(Path::new(FINGERS)).unwrap();
    assert_eq!(image.extent, [0, 63, 0, 63, 0, 63]);
    let a = find(&image, "ImageFile");
    assert_eq!(a.values.len(), 64 * 64 * 64);
    let (min, max) = finite_range(&a.values);
    assert!(min < max);
}

#[test]
fn rectilinear_grid_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grid.vtr");
    // Uneven coordinates with bits a float32 would lose.
    let x = [-7.5, -7.390620231628418, -7.28125, 0.1 + 1e-12];
    let y = [0.0, 1.0 / 3.0, 2.5];
    let z = [10.0, 10.000000001];
    let points = values(4 * 3 * 2, 0.5);
    let cells = values(3 * 2, 1.5);
    let arrays = [
        array("p", 1, Association::Point, &points),
        array("c", 1, Association::Cell, &cells),
    ];
    inr_vtk::vti::write_rectilinear_grid(&path, [0, 3, 0, 2, 0, 1], [&x, &y, &z], &arrays).unwrap();
    let data = inr_vtk::vtkxml::read(&path).unwrap();
    let inr_vtk::vtkxml::Grid::Rectilinear {
        extent,
        x: rx,
        y: ry,
        z: rz,
    } = &data.grid
    else {
        panic!("not a rectilinear grid: {:?}", data.grid);
    };
    assert_eq!(*extent, [0, 3, 0, 2, 0, 1]);
    assert_eq!(
        (rx.as_slice(), ry.as_slice(), rz.as_slice()),
        (&x[..], &y[..], &z[..])
    );
    assert_eq!(data.arrays[0].values, widen(&points));
    assert_eq!(data.arrays[1].values, widen(&cells));
    assert_eq!(
        data.arrays[1].association,
        inr_core::format::Association::Cell
    );
    // Coordinates that do not match the extent, or do not increase, write nothing.
    let other = dir.path().join("bad.vtr");
    let short = [0.0, 1.0];
    let err =
        inr_vtk::vti::write_rectilinear_grid(&other, [0, 3, 0, 2, 0, 1], [&short, &y, &z], &arrays);
    assert!(matches!(err, Err(Error::InvalidArgument(_))), "{err:?}");
    let falling = [3.0, 2.0, 1.0, 0.0];
    let err = inr_vtk::vti::write_rectilinear_grid(
        &other,
        [0, 3, 0, 2, 0, 1],
        [&falling, &y, &z],
        &arrays,
    );
    assert!(matches!(err, Err(Error::InvalidArgument(_))), "{err:?}");
    assert!(!other.exists());
}
