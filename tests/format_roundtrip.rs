//! Round trips of the `.inr` container: every metadata field, every domain
//! kind, the section table, every tensor encoding, plain and compressed
//! metadata, version handling, unknown fields, and a residual SIREN written
//! and loaded again.

use std::collections::BTreeMap;

use inr::decode::{DecodeOptions, Decoder, GridRequest};
use inr::format::header::HEADER_LEN;
use inr::format::tensor::Location;
use inr::format::{
    ArrayRef, Association, Compression, DType, Domain, FileBuilder, Header, InrFile, Metadata,
    SectionEntry, TensorEncoding, TensorRef, TimeAxis, Variable, WeightEncoding,
};
use inr::model::ResidualSiren;
use inr::Error;
use inr_testkit::synthetic::{residual_siren, SirenShape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------
// helpers

/// Generator string with characters that JSON must escape.
const GENERATOR: &str =
    "inr-test 0.1.0 \"quoted\" \\ back\tslash\nnew line, unicode \u{e9}\u{1F600} \u{1}";

fn variables() -> Vec<Variable> {
    vec![
        Variable {
            name: "pressure".into(),
            components: 1,
            association: Association::Point,
            range: vec![[-3.0e5, 1.2e6]],
            units: Some("Pa".into()),
        },
        Variable {
            name: "velocity \u{3b1}".into(),
            components: 3,
            association: Association::Point,
            // awkward doubles: they must come back bit for bit
            range: vec![
                [-0.1, 1.0 / 3.0],
                [5e-324, 6.022_140_76e23],
                [-1e-300, 1e300],
            ],
            units: Some("m/s".into()),
        },
        Variable {
            name: "density".into(),
            components: 1,
            association: Association::Cell,
            range: vec![[0.5, 0.5]],
            units: None,
        },
    ]
}

fn attributes() -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert("source".into(), "/data/run 42/output.vti".into());
    a.insert("encoder.settings".into(), "{\"epochs\": 300}".into());
    a.insert("empty".into(), String::new());
    a.insert("\u{fc}nicode key".into(), "\u{2713}".into());
    a
}

fn total_components(vars: &[Variable]) -> usize {
    vars.iter().map(|v| v.components as usize).sum()
}

fn small_siren(inputs: usize, outputs: usize, seed: u64) -> ResidualSiren {
    let bounds: Vec<[f64; 2]> = (0..inputs)
        .map(|i| [-1.0 - i as f64, 2.0 + i as f64])
        .collect();
    let shape = SirenShape {
        inputs,
        width: 8,
        blocks: 1,
        outputs,
        first_w0: 3.0,
    };
    residual_siren(shape, &bounds, seed)
}

fn assert_f64_bits(a: f64, b: f64, what: &str) {
    assert_eq!(a.to_bits(), b.to_bits(), "{what}: {a:e} != {b:e}");
}

/// Compares two metadata blocks field by field (floats bit for bit), then as a whole.
fn assert_metadata_eq(got: &Metadata, want: &Metadata) {
    assert_eq!(got.generator, want.generator);
    assert_eq!(got.domain, want.domain);
    if let (
        Domain::Image {
            origin: o1,
            spacing: s1,
            ..
        },
        Domain::Image {
            origin: o2,
            spacing: s2,
            ..
        },
    ) = (&got.domain, &want.domain)
    {
        for a in 0..3 {
            assert_f64_bits(o1[a], o2[a], "origin");
            assert_f64_bits(s1[a], s2[a], "spacing");
        }
    }
    assert_eq!(got.time.is_some(), want.time.is_some());
    if let (Some(t1), Some(t2)) = (&got.time, &want.time) {
        assert_eq!(t1.values.len(), t2.values.len());
        for (a, b) in t1.values.iter().zip(&t2.values) {
            assert_f64_bits(*a, *b, "time");
        }
    }
    assert_eq!(got.variables.len(), want.variables.len());
    for (v, w) in got.variables.iter().zip(&want.variables) {
        assert_eq!(v.name, w.name);
        assert_eq!(v.components, w.components);
        assert_eq!(v.association, w.association);
        assert_eq!(v.units, w.units);
        assert_eq!(v.range.len(), w.range.len());
        for (r, s) in v.range.iter().zip(&w.range) {
            assert_f64_bits(r[0], s[0], "range min");
            assert_f64_bits(r[1], s[1], "range max");
        }
    }
    assert_eq!(got.attributes, want.attributes);
    assert_eq!(got.model, want.model);
    assert_eq!(got.sections, want.sections);
    assert_eq!(got, want);
}

/// Checks the section table against the raw file and the bytes that were
/// appended to each section: names, compression, aligned non-overlapping
/// offsets after the metadata, lengths, CRC-32 of the stored bytes, and that
/// `read_section` gives back the original bytes.
fn check_sections(file: &InrFile, bytes: &[u8], expected: &[(&str, Compression, Vec<u8>)]) {
    let table = &file.metadata().sections;
    assert_eq!(table.len(), expected.len());
    let mut end = HEADER_LEN as u64 + file.header().metadata_stored_len;
    for (i, (entry, (name, compression, raw))) in table.iter().zip(expected).enumerate() {
        assert_eq!(entry.name, *name);
        assert_eq!(entry.compression, *compression);
        assert_eq!(entry.length, raw.len() as u64, "section {i} length");
        assert_eq!(
            entry.offset % 8,
            0,
            "section {i} offset {} is not 8-aligned",
            entry.offset
        );
        assert!(entry.offset >= end, "section {i} overlaps what precedes it");
        end = entry.offset + entry.stored_length;
        assert!(end <= bytes.len() as u64);
        let stored = &bytes[entry.offset as usize..end as usize];
        assert_eq!(entry.crc32, crc32fast::hash(stored), "section {i} crc32");
        match compression {
            Compression::None => {
                assert_eq!(entry.stored_length, entry.length);
                assert_eq!(stored, &raw[..]);
            }
            Compression::Zstd => {
                let decoded = zstd::stream::decode_all(stored).unwrap();
                assert_eq!(decoded, *raw);
            }
        }
        assert_eq!(
            file.read_section(i as u32).unwrap(),
            *raw,
            "read_section({i})"
        );
    }
    assert_eq!(
        end,
        bytes.len() as u64,
        "the file ends with its last section"
    );
    assert!(matches!(
        file.read_section(table.len() as u32),
        Err(Error::OutOfBounds(_))
    ));
}

fn decode_small(d: &Decoder) -> Vec<Vec<u32>> {
    let req = GridRequest {
        dims: Some([3, 4, 2]),
        ..Default::default()
    };
    let opts = DecodeOptions {
        threads: 1,
        ..Default::default()
    };
    let g = d.decode_grid(&req, &opts).unwrap();
    g.arrays
        .iter()
        .map(|a| a.values.iter().map(|v| v.to_bits()).collect())
        .collect()
}

// ---------------------------------------------------------------------------
// every metadata field, the section table, bytes and files

/// Name, compression and decoded bytes of each section.
type ExpectedSections = Vec<(&'static str, Compression, Vec<u8>)>;

/// A builder with four sections (zstd weights, a plain one, two empty ones)
/// and the metadata to write with it.
fn image_file(compress_metadata: bool) -> (FileBuilder, Metadata, ExpectedSections) {
    let vars = variables();
    let model = small_siren(4, total_components(&vars), 7);
    let mut b = FileBuilder::new();
    b.compress_metadata = compress_metadata;
    let weights = b.new_section("weights", Compression::Zstd);
    let mut model_value = model.write(&mut b, weights, WeightEncoding::F32).unwrap();
    // extra model fields survive as part of the free-form model object
    model_value["note"] = serde_json::json!({"nested": [1, 2.5, "x", null, true]});
    let plain = b.new_section("plain \u{e9}", Compression::None);
    let payload: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
    assert_eq!(b.append(plain, &payload[..1000]).offset, 0);
    assert_eq!(b.append(plain, &payload[1000..]).offset, 1000);
    b.new_section("empty zstd", Compression::Zstd);
    b.new_section("", Compression::None);
    let metadata = Metadata {
        generator: GENERATOR.into(),
        domain: Domain::Image {
            dims: [5, 4, 3],
            origin: [-1.5, 1.0 / 3.0, 1e-7],
            spacing: [0.5, 0.1, 2.0],
        },
        time: Some(TimeAxis {
            values: vec![-1.0, 0.1, 1.0 / 3.0, 1e10],
        }),
        variables: vars,
        model: model_value,
        sections: vec![SectionEntry {
            name: "ignored: the builder replaces the table".into(),
            offset: 1,
            stored_length: 2,
            length: 3,
            compression: Compression::None,
            crc32: 4,
        }],
        attributes: attributes(),
        corrections: None,
    };
    // the raw bytes each section must decode to
    let mut weights_raw = Vec::new();
    {
        let mut b2 = FileBuilder::new();
        let s = b2.new_section("w", Compression::None);
        model.write(&mut b2, s, WeightEncoding::F32).unwrap();
        let m = Metadata {
            sections: vec![],
            ..metadata.clone()
        };
        let bytes = b2.to_bytes(m).unwrap();
        let f = InrFile::from_bytes(bytes).unwrap();
        weights_raw.extend(f.read_section(0).unwrap());
    }
    let expected = vec![
        ("weights", Compression::Zstd, weights_raw),
        ("plain \u{e9}", Compression::None, payload),
        ("empty zstd", Compression::Zstd, Vec::new()),
        ("", Compression::None, Vec::new()),
    ];
    (b, metadata, expected)
}

#[test]
fn every_metadata_field_and_the_section_table_round_trip() {
    for compress_metadata in [true, false] {
        let (builder, metadata, expected) = image_file(compress_metadata);
        let bytes = builder.to_bytes(metadata.clone()).unwrap();
        let file = InrFile::from_bytes(bytes.clone()).unwrap();

        let h = file.header();
        assert_eq!((h.major, h.minor), (1, 0));
        let want_compression = if compress_metadata {
            Compression::Zstd
        } else {
            Compression::None
        };
        assert_eq!(h.metadata_compression, want_compression);
        assert_eq!(file.file_len(), bytes.len() as u64);
        assert_eq!(&bytes[0..8], &inr::format::MAGIC);
        assert_eq!(
            crc32fast::hash(&bytes[40..40 + h.metadata_stored_len as usize]),
            h.metadata_crc32
        );

        // everything but the section table is as given; the table is the real one
        let want = Metadata {
            sections: file.metadata().sections.clone(),
            ..metadata.clone()
        };
        assert_metadata_eq(file.metadata(), &want);
        assert_eq!(file.metadata().model_family(), "residual_siren");
        assert_eq!(file.metadata().time_steps(), 4);
        assert_eq!(file.metadata().total_components(), 5);
        assert_eq!(file.metadata().variable_index("density"), Some(2));
        check_sections(&file, &bytes, &expected);

        // the same through a file on disk
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roundtrip.inr");
        let (builder, metadata2, _) = image_file(compress_metadata);
        builder.write(metadata2, &path).unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk, bytes, "FileBuilder::write and to_bytes agree");
        let opened = InrFile::open(&path).unwrap();
        assert_eq!(opened.header(), file.header());
        assert_metadata_eq(opened.metadata(), file.metadata());
        check_sections(&opened, &on_disk, &expected);

        // and the file decodes, identically from memory and from disk
        let d1 = Decoder::from_bytes(bytes).unwrap();
        let d2 = Decoder::open(&path).unwrap();
        assert_eq!(decode_small(&d1), decode_small(&d2));
    }
}

#[test]
fn no_time_axis_no_attributes_no_units_are_omitted_and_come_back_empty() {
    let vars = vec![Variable {
        name: "t".into(),
        components: 2,
        association: Association::Cell,
        range: vec![[0.0, 1.0], [-2.0, -1.0]],
        units: None,
    }];
    let model = small_siren(3, 2, 1);
    let mut b = FileBuilder::new();
    b.compress_metadata = false;
    let s = b.new_section("weights", Compression::None);
    let model_value = model.write(&mut b, s, WeightEncoding::F32).unwrap();
    let metadata = Metadata {
        generator: String::new(),
        domain: Domain::Image {
            dims: [1, 1, 1],
            origin: [0.0; 3],
            spacing: [1.0; 3],
        },
        time: None,
        variables: vars,
        model: model_value,
        sections: vec![],
        attributes: BTreeMap::new(),
        corrections: None,
    };
    let bytes = b.to_bytes(metadata.clone()).unwrap();
    let file = InrFile::from_bytes(bytes.clone()).unwrap();
    let json = &bytes[HEADER_LEN..HEADER_LEN + file.header().metadata_stored_len as usize];
    let text = std::str::from_utf8(json).unwrap();
    for absent in ["\"time\"", "\"attributes\"", "\"units\""] {
        assert!(
            !text.contains(absent),
            "{absent} written although empty: {text}"
        );
    }
    let want = Metadata {
        sections: file.metadata().sections.clone(),
        ..metadata
    };
    assert_metadata_eq(file.metadata(), &want);
    assert_eq!(file.metadata().time_steps(), 1);
    Decoder::from_bytes(bytes).unwrap();
}

// ---------------------------------------------------------------------------
// domains

fn read_f64s(file: &InrFile, a: &ArrayRef) -> Vec<f64> {
    assert_eq!(a.dtype, DType::F64);
    assert_eq!(a.bytes, None);
    let section = file.read_section(a.section).unwrap();
    let raw = &section[a.offset as usize..(a.offset + a.count * 8) as usize];
    raw.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn rectilinear_domain_coordinates_round_trip() {
    for compression in [Compression::None, Compression::Zstd] {
        let xs = vec![-1.0, -0.25, 0.0, 1.0 / 3.0, 7.5];
        let ys = vec![1e-9, 2e-9];
        let zs = vec![100.0, 101.0, 1e6];
        let vars = variables();
        let model = small_siren(3, total_components(&vars), 3);
        let mut b = FileBuilder::new();
        let w = b.new_section("weights", Compression::Zstd);
        let model_value = model.write(&mut b, w, WeightEncoding::F32).unwrap();
        let c = b.new_section("coordinates", compression);
        b.append(c, &[0xAB; 3]); // arrays need not start at offset 0
        let x = b.push_f64_array(c, &xs);
        let y = b.push_f64_array(c, &ys);
        let z = b.push_f64_array(c, &zs);
        assert_eq!((x.offset, y.offset, z.offset), (3, 3 + 40, 3 + 56));
        let metadata = Metadata {
            generator: "rect".into(),
            domain: Domain::Rectilinear {
                dims: [5, 2, 3],
                x,
                y,
                z,
            },
            time: None,
            variables: vars,
            model: model_value,
            sections: vec![],
            attributes: BTreeMap::new(),
            corrections: None,
        };
        let bytes = b.to_bytes(metadata.clone()).unwrap();
        let file = InrFile::from_bytes(bytes.clone()).unwrap();
        let want = Metadata {
            sections: file.metadata().sections.clone(),
            ..metadata
        };
        assert_metadata_eq(file.metadata(), &want);
        assert_eq!(file.metadata().sections[1].compression, compression);
        let Domain::Rectilinear { dims, x, y, z } = &file.metadata().domain else {
            panic!("not rectilinear: {:?}", file.metadata().domain)
        };
        assert_eq!(*dims, [5, 2, 3]);
        for (a, want) in [(x, &xs), (y, &ys), (z, &zs)] {
            let got = read_f64s(&file, a);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want.iter()) {
                assert_f64_bits(*g, *w, "coordinate");
            }
        }
        let d = Decoder::from_bytes(bytes).unwrap();
        let g = d.native_grid().unwrap();
        assert_eq!(g.axes, [xs.clone(), ys.clone(), zs.clone()]);
        assert_eq!(d.bounds(), [-1.0, 7.5, 1e-9, 2e-9, 100.0, 1e6]);
    }
}

#[test]
fn unstructured_and_images_domains_round_trip() {
    let vars = variables();
    let model = small_siren(3, total_components(&vars), 5);

    // --- unstructured: points f64, connectivity delta-varint, offsets u64, types u8
    let mut b = FileBuilder::new();
    let w = b.new_section("weights", Compression::Zstd);
    let model_value = model.write(&mut b, w, WeightEncoding::F32).unwrap();
    let mesh = b.new_section("mesh", Compression::Zstd);
    let coords: Vec<f64> = (0..12).map(|i| i as f64 * 0.25 - 1.0).collect();
    let points = b.push_f64_array(mesh, &coords);
    // ids 0 1 2 3 (a tetrahedron) then 3 1 (a line): deltas 0 1 1 1 0 -2
    let varint = [0u8, 2, 2, 2, 0, 3];
    let at = b.append(mesh, &varint);
    let connectivity = ArrayRef {
        section: mesh,
        offset: at.offset,
        count: 6,
        dtype: DType::DeltaVarint,
        bytes: Some(6),
    };
    let offs: Vec<u8> = [0u64, 4, 6].iter().flat_map(|v| v.to_le_bytes()).collect();
    let at = b.append(mesh, &offs);
    let offsets = ArrayRef {
        section: mesh,
        offset: at.offset,
        count: 3,
        dtype: DType::U64,
        bytes: None,
    };
    let at = b.append(mesh, &[10, 3]);
    let types = ArrayRef {
        section: mesh,
        offset: at.offset,
        count: 2,
        dtype: DType::U8,
        bytes: None,
    };
    let domain = Domain::Unstructured {
        num_points: 4,
        num_cells: 2,
        bounds: [-1.0, 1.75, -0.5, 0.5, 0.0, 1e-3],
        points,
        connectivity,
        offsets,
        types,
    };
    let metadata = Metadata {
        generator: "mesh".into(),
        domain: domain.clone(),
        time: None,
        variables: vars.clone(),
        model: model_value,
        sections: vec![],
        attributes: attributes(),
        corrections: None,
    };
    let bytes = b.to_bytes(metadata.clone()).unwrap();
    let file = InrFile::from_bytes(bytes.clone()).unwrap();
    let want = Metadata {
        sections: file.metadata().sections.clone(),
        ..metadata
    };
    assert_metadata_eq(file.metadata(), &want);
    assert_eq!(file.metadata().domain.kind_name(), "unstructured");
    assert_eq!(file.metadata().domain.dims(), None);
    let Domain::Unstructured {
        points,
        connectivity,
        offsets,
        types,
        ..
    } = &file.metadata().domain
    else {
        unreachable!()
    };
    assert_eq!(read_f64s(&file, points), coords);
    let mesh_bytes = file.read_section(connectivity.section).unwrap();
    let c0 = connectivity.offset as usize;
    assert_eq!(&mesh_bytes[c0..c0 + 6], &varint);
    let o0 = offsets.offset as usize;
    assert_eq!(&mesh_bytes[o0..o0 + 24], &offs[..]);
    assert_eq!(
        &mesh_bytes[types.offset as usize..types.offset as usize + 2],
        &[10, 3]
    );
    assert_eq!(mesh_bytes.len(), 96 + 6 + 24 + 2);
    // The decoder reads the mesh back through its own path.
    let d = Decoder::from_bytes(bytes).unwrap();
    let m = d.mesh().unwrap();
    assert_eq!(m.points, coords);
    assert_eq!(m.connectivity, [0, 1, 2, 3, 3, 1]);
    assert_eq!(m.offsets, [0, 4, 6]);
    assert_eq!(m.types, [10, 3]);
    assert!(d.native_grid().is_none());

    // --- images (NeRVI): views f64, parameter names
    let mut b = FileBuilder::new();
    b.compress_metadata = false;
    let w = b.new_section("weights", Compression::None);
    let model_value = model.write(&mut b, w, WeightEncoding::F16).unwrap();
    let v = b.new_section("views", Compression::None);
    let view_values = [0.0, 90.0, 45.0, -30.0, 1.0 / 7.0, 1e-5];
    let views = b.push_f64_array(v, &view_values);
    let metadata = Metadata {
        generator: "images".into(),
        domain: Domain::Images {
            width: 640,
            height: 480,
            views,
            parameters: vec!["theta".into(), "phi".into()],
        },
        time: Some(TimeAxis { values: vec![0.0] }),
        variables: vars,
        model: model_value,
        sections: vec![],
        attributes: BTreeMap::new(),
        corrections: None,
    };
    let bytes = b.to_bytes(metadata.clone()).unwrap();
    let file = InrFile::from_bytes(bytes.clone()).unwrap();
    let want = Metadata {
        sections: file.metadata().sections.clone(),
        ..metadata
    };
    assert_metadata_eq(file.metadata(), &want);
    assert_eq!(file.metadata().domain.kind_name(), "images");
    let Domain::Images { views, .. } = &file.metadata().domain else {
        unreachable!()
    };
    assert_eq!(read_f64s(&file, views), view_values);
    match Decoder::from_bytes(bytes) {
        Err(Error::Unsupported(msg)) => assert!(msg.contains("images"), "{msg}"),
        Err(e) => panic!("expected Unsupported, got {e:?}"),
        Ok(_) => panic!("an images domain must not decode"),
    }
}

// ---------------------------------------------------------------------------
// tensor encodings

/// Values with a spread of magnitudes, exact zeros, and a few specials.
fn tensor_values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| match i % 10 {
            0 | 3 | 7 => 0.0,
            1 => rng.gen_range(-1e-6f32..1e-6),
            2 => rng.gen_range(-100.0f32..100.0),
            _ => rng.gen_range(-1.0f32..1.0),
        })
        .collect()
}

struct Stored {
    file: InrFile,
    sections: Vec<Vec<u8>>,
    tensors: Vec<TensorRef>,
}

impl Stored {
    fn decode(&self, t: &TensorRef) -> Vec<f32> {
        let get = |i: u32| -> inr::Result<&[u8]> {
            self.sections
                .get(i as usize)
                .map(Vec::as_slice)
                .ok_or_else(|| Error::OutOfBounds(format!("section {i}")))
        };
        t.decode(&get).unwrap()
    }
}

/// Writes tensors (alternating between a plain and a zstd section) into a file
/// whose model object lists them, reads the file back and returns the refs
/// as parsed from the file.
fn store_tensors(list: &[(&[f32], &[u64], WeightEncoding)], compress_metadata: bool) -> Stored {
    let mut b = FileBuilder::new();
    b.compress_metadata = compress_metadata;
    let plain = b.new_section("plain", Compression::None);
    let packed = b.new_section("packed", Compression::Zstd);
    let mut refs = Vec::new();
    for (i, (values, shape, enc)) in list.iter().enumerate() {
        let s = if i % 2 == 0 { plain } else { packed };
        refs.push(b.push_tensor(s, values, shape, *enc).unwrap());
    }
    let metadata = Metadata {
        generator: "tensors".into(),
        domain: Domain::Image {
            dims: [2, 2, 2],
            origin: [0.0; 3],
            spacing: [1.0; 3],
        },
        time: None,
        variables: variables(),
        model: serde_json::json!({"family": "test_tensors", "tensors": refs}),
        sections: vec![],
        attributes: BTreeMap::new(),
        corrections: None,
    };
    let file = InrFile::from_bytes(b.to_bytes(metadata).unwrap()).unwrap();
    let tensors: Vec<TensorRef> =
        serde_json::from_value(file.metadata().model["tensors"].clone()).unwrap();
    assert_eq!(tensors, refs, "tensor refs round trip through the JSON");
    let sections = (0..file.metadata().sections.len() as u32)
        .map(|i| file.read_section(i).unwrap())
        .collect();
    Stored {
        file,
        sections,
        tensors,
    }
}

#[test]
fn f32_and_f16_tensors_round_trip() {
    let mut values = tensor_values(600, 11);
    values.extend([
        f32::MIN_POSITIVE,
        1e-40, // subnormal
        -0.0,
        f32::MAX,
        65504.0,
        70000.0, // beyond f16: infinity in f16
        -1e-8,   // f16 subnormal range / underflow
        1.0 / 3.0,
    ]);
    let n = values.len() as u64;
    let shapes: [&[u64]; 3] = [&[n], &[2, n / 2], &[1, 1, n]];
    let mut list: Vec<(&[f32], &[u64], WeightEncoding)> = Vec::new();
    for shape in shapes {
        list.push((&values, shape, WeightEncoding::F32));
        list.push((&values, shape, WeightEncoding::F16));
    }
    let empty: &[f32] = &[];
    list.push((empty, &[0, 5], WeightEncoding::F32));
    list.push((&values[..1], &[], WeightEncoding::F16)); // a scalar
    for compress_metadata in [false, true] {
        let stored = store_tensors(&list, compress_metadata);
        for (t, (vals, shape, enc)) in stored.tensors.iter().zip(&list) {
            assert_eq!(t.shape, *shape);
            assert_eq!(t.numel().unwrap(), vals.len() as u64);
            let got = stored.decode(t);
            assert_eq!(got.len(), vals.len());
            for (i, (g, v)) in got.iter().zip(vals.iter()).enumerate() {
                let want = match enc {
                    WeightEncoding::F32 => *v,
                    _ => half::f16::from_f32(*v).to_f32(),
                };
                assert_eq!(
                    g.to_bits(),
                    want.to_bits(),
                    "{enc:?} element {i}: {g:e} vs {want:e} (input {v:e})"
                );
            }
        }
        assert!(stored.file.metadata().sections.iter().all(|s| s.length > 0));
    }
}

#[test]
fn codebook_tensors_round_trip() {
    let values = tensor_values(3000, 12);
    let distinct = {
        let mut v: Vec<u32> = values.iter().map(|x| x.to_bits()).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let shape: &[u64] = &[60, 50];
    let mut list: Vec<(&[f32], &[u64], WeightEncoding)> = Vec::new();
    for bits in [1u8, 4, 9, 16] {
        for prune_zeros in [false, true] {
            list.push((
                &values,
                shape,
                WeightEncoding::Codebook { bits, prune_zeros },
            ));
        }
    }
    // few distinct values: the codebook is exact even at 1 bit
    let two = [0.5f32, -0.25, 0.5, 0.5, -0.25, 0.0];
    list.push((
        &two,
        &[6],
        WeightEncoding::Codebook {
            bits: 1,
            prune_zeros: true,
        },
    ));
    // all zeros, pruned: nothing kept
    let zeros = [0.0f32; 17];
    list.push((
        &zeros,
        &[17],
        WeightEncoding::Codebook {
            bits: 4,
            prune_zeros: true,
        },
    ));
    let stored = store_tensors(&list, true);
    let mut previous_error = f64::INFINITY;
    for (t, (vals, _, enc)) in stored.tensors.iter().zip(&list) {
        let WeightEncoding::Codebook { bits, prune_zeros } = *enc else {
            unreachable!()
        };
        let TensorEncoding::Codebook {
            bits: b,
            codebook,
            codebook_len,
            indices: _,
            mask,
        } = &t.encoding
        else {
            panic!("not a codebook: {:?}", t.encoding)
        };
        assert_eq!(*b, bits);
        assert_eq!(mask.is_some(), prune_zeros);
        assert!(*codebook_len >= 1 && *codebook_len <= 1 << bits);
        let Location { section, offset } = *codebook;
        let sec = &stored.sections[section as usize];
        let table: Vec<f32> = sec[offset as usize..(offset + codebook_len * 4) as usize]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let got = stored.decode(t);
        assert_eq!(got.len(), vals.len());
        let mut err_sum = 0f64;
        for (i, (&g, &v)) in got.iter().zip(vals.iter()).enumerate() {
            if prune_zeros && v == 0.0 {
                assert_eq!(
                    g.to_bits(),
                    0f32.to_bits(),
                    "{enc:?}: pruned element {i} decodes to {g:e}"
                );
                continue;
            }
            assert!(
                table.contains(&g),
                "{enc:?}: element {i} = {g:e} is not a codebook value"
            );
            // the stored index is that of a nearest codebook value
            let best = table
                .iter()
                .map(|&c| (c as f64 - v as f64).abs())
                .fold(f64::INFINITY, f64::min);
            let err = (g as f64 - v as f64).abs();
            assert!(
                err <= best * (1.0 + 1e-6) + 1e-12,
                "{enc:?}: element {i}: {v:e} -> {g:e}, nearest is {best:e} away"
            );
            err_sum += err;
        }
        let exact = if prune_zeros { distinct - 1 } else { distinct } <= (1usize << bits);
        if exact || vals.len() < 20 {
            assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                vals.iter()
                    .map(|v| if *v == 0.0 { 0 } else { v.to_bits() })
                    .collect::<Vec<_>>(),
                "{enc:?}: few distinct values must be stored exactly"
            );
        }
        if vals.len() == values.len() && !prune_zeros {
            let mean = err_sum / vals.len() as f64;
            assert!(
                mean <= previous_error,
                "{bits} bits: mean error {mean:e} above that of fewer bits"
            );
            previous_error = mean;
        }
    }
}

// ---------------------------------------------------------------------------
// metadata storage and versions

fn simple_file(compress_metadata: bool) -> (Metadata, Vec<u8>) {
    let (builder, metadata, _) = image_file(compress_metadata);
    let bytes = builder.to_bytes(metadata.clone()).unwrap();
    (metadata, bytes)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn plain_metadata_is_json_text_in_the_file_and_compressed_metadata_is_zstd() {
    // plain
    let (_, bytes) = simple_file(false);
    let file = InrFile::from_bytes(bytes.clone()).unwrap();
    let h = *file.header();
    assert_eq!(h.metadata_compression, Compression::None);
    assert_eq!(h.metadata_len, h.metadata_stored_len);
    let json = &bytes[HEADER_LEN..HEADER_LEN + h.metadata_len as usize];
    assert_eq!(json[0], b'{');
    assert_eq!(*json.last().unwrap(), b'}');
    let text = std::str::from_utf8(json).unwrap();
    assert!(text.contains("\"generator\":"), "{text}");
    assert!(text.contains("\"kind\":\"image\""));
    assert!(text.contains("\"pressure\""));
    assert!(find(&bytes, b"\"residual_siren\"").is_some());
    assert_eq!(
        serde_json::to_vec(file.metadata()).unwrap(),
        json,
        "the stored text is the serialized metadata"
    );

    // compressed
    let (_, zbytes) = simple_file(true);
    let zfile = InrFile::from_bytes(zbytes.clone()).unwrap();
    let zh = *zfile.header();
    assert_eq!(zh.metadata_compression, Compression::Zstd);
    let stored = &zbytes[HEADER_LEN..HEADER_LEN + zh.metadata_stored_len as usize];
    assert_eq!(&stored[..4], &[0x28, 0xB5, 0x2F, 0xFD], "zstd frame magic");
    assert!(zh.metadata_stored_len < zh.metadata_len);
    let decoded = zstd::stream::decode_all(stored).unwrap();
    assert_eq!(decoded.len() as u64, zh.metadata_len);
    // the same JSON text either way, but for the section offsets
    let without_sections = |text: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(text).unwrap();
        v.as_object_mut().unwrap().remove("sections").unwrap();
        v
    };
    assert!(
        without_sections(&decoded) == without_sections(json),
        "compressed and plain metadata differ"
    );
    assert!(find(&zbytes, b"\"generator\":").is_none());
    let want = Metadata {
        sections: zfile.metadata().sections.clone(),
        ..file.metadata().clone()
    };
    assert_metadata_eq(zfile.metadata(), &want);

    // a default builder stores plain metadata, `new` compresses
    assert!(!FileBuilder::default().compress_metadata);
    assert!(FileBuilder::new().compress_metadata);
}

fn patch_version(bytes: &[u8], major: u16, minor: u16) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[8..10].copy_from_slice(&major.to_le_bytes());
    b[10..12].copy_from_slice(&minor.to_le_bytes());
    let crc = crc32fast::hash(&b[0..36]);
    b[36..40].copy_from_slice(&crc.to_le_bytes());
    b
}

#[test]
fn newer_minor_versions_are_accepted_other_majors_rejected() {
    for compress in [false, true] {
        let (_, bytes) = simple_file(compress);
        let reference = InrFile::from_bytes(bytes.clone()).unwrap();
        let expected_decode = decode_small(&Decoder::from_bytes(bytes.clone()).unwrap());
        for minor in [0u16, 1, 7, u16::MAX] {
            let patched = patch_version(&bytes, 1, minor);
            let file = InrFile::from_bytes(patched.clone()).unwrap();
            assert_eq!(file.header().minor, minor);
            assert_eq!(file.header().major, 1);
            assert_metadata_eq(file.metadata(), reference.metadata());
            assert_eq!(
                decode_small(&Decoder::from_bytes(patched).unwrap()),
                expected_decode
            );
        }
        for (major, minor) in [(0u16, 0u16), (2, 0), (2, 5), (u16::MAX, 0)] {
            let patched = patch_version(&bytes, major, minor);
            match InrFile::from_bytes(patched.clone()) {
                Err(Error::UnsupportedVersion {
                    major: m,
                    minor: n,
                    supported,
                }) => {
                    assert_eq!((m, n, supported), (major, minor, 1));
                }
                Err(e) => panic!("major {major}: expected UnsupportedVersion, got {e:?}"),
                Ok(_) => panic!("major {major} accepted"),
            }
            let msg = Decoder::from_bytes(patched).err().unwrap().to_string();
            assert!(msg.contains(&format!("{major}.{minor}")), "{msg}");
        }
        // the header serializer agrees with the writer
        let h = *reference.header();
        assert_eq!(&h.to_bytes()[..], &bytes[..HEADER_LEN]);
        assert_eq!(
            Header::parse(&bytes[..HEADER_LEN], bytes.len() as u64).unwrap(),
            h
        );
    }
}

// ---------------------------------------------------------------------------
// unknown fields

/// Rebuilds a file with new (plain) metadata JSON, moving the sections so that
/// they follow it; the section table inside `meta` is rewritten to match.
fn rebuild_with_json(bytes: &[u8], mut meta: serde_json::Value) -> Vec<u8> {
    let file = InrFile::from_bytes(bytes.to_vec()).unwrap();
    let table = file.metadata().sections.clone();
    let stored: Vec<&[u8]> = table
        .iter()
        .map(|s| &bytes[s.offset as usize..(s.offset + s.stored_length) as usize])
        .collect();
    // room for the JSON, padded with spaces (JSON whitespace) to a fixed size
    let mut room = serde_json::to_vec(&meta).unwrap().len() + 64;
    loop {
        let mut offset = (HEADER_LEN + room).div_ceil(8) as u64 * 8;
        for (i, s) in stored.iter().enumerate() {
            meta["sections"][i]["offset"] = offset.into();
            offset = (offset + s.len() as u64).div_ceil(8) * 8;
        }
        let mut json = serde_json::to_vec(&meta).unwrap();
        if json.len() > room {
            room = json.len() + 64;
            continue;
        }
        json.resize(room, b' ');
        let header = Header {
            major: 1,
            minor: 3,
            metadata_compression: Compression::None,
            metadata_stored_len: json.len() as u64,
            metadata_len: json.len() as u64,
            metadata_crc32: crc32fast::hash(&json),
        };
        let mut out = header.to_bytes().to_vec();
        out.extend_from_slice(&json);
        for (i, s) in stored.iter().enumerate() {
            out.resize(meta["sections"][i]["offset"].as_u64().unwrap() as usize, 0);
            out.extend_from_slice(s);
        }
        return out;
    }
}

#[test]
fn unknown_metadata_fields_are_ignored() {
    let (_, bytes) = simple_file(true);
    let original = InrFile::from_bytes(bytes.clone()).unwrap();
    let expected_decode = decode_small(&Decoder::from_bytes(bytes.clone()).unwrap());

    // unchanged JSON, rebuilt by hand: the same file contents
    let plain = serde_json::to_value(original.metadata()).unwrap();
    let rebuilt = rebuild_with_json(&bytes, plain.clone());
    assert_eq!(
        decode_small(&Decoder::from_bytes(rebuilt).unwrap()),
        expected_decode
    );

    let mut extended = plain;
    extended["future_top_level"] = serde_json::json!({"a": [1, 2, {"b": null}], "c": "d"});
    extended["checksum_algorithm"] = "blake3".into();
    extended["domain"]["crs"] = "EPSG:4326".into();
    extended["time"]["calendar"] = "gregorian".into();
    extended["time"]["units"] = "s".into();
    extended["variables"][0]["quantity"] = "air_pressure".into();
    extended["variables"][1]["vector"] = true.into();
    extended["sections"][0]["hash"] = "00ff".into();
    extended["model"]["training"] = serde_json::json!({"epochs": 500, "loss": 1.5e-4});
    extended["model"]["layers"][0]["activation_note"] = "sine".into();
    extended["model"]["layers"][0]["weight"]["quantizer"] = "none".into();
    extended["model"]["layers"][0]["weight"]["encoding"]["endianness"] = "little".into();
    let rebuilt = rebuild_with_json(&bytes, extended);
    let text = String::from_utf8_lossy(&rebuilt);
    assert!(text.contains("future_top_level") && text.contains("EPSG:4326"));
    let file = InrFile::from_bytes(rebuilt.clone()).unwrap();
    assert_eq!(file.header().minor, 3);
    let want = Metadata {
        sections: file.metadata().sections.clone(),
        ..original.metadata().clone()
    };
    // the free-form model object keeps what it was given; everything else drops unknown fields
    let mut got = file.metadata().clone();
    assert!(got.model.get("training").is_some());
    got.model = want.model.clone();
    assert_metadata_eq(&got, &want);
    for (a, b) in file
        .metadata()
        .sections
        .iter()
        .zip(&original.metadata().sections)
    {
        assert_eq!(
            (a.stored_length, a.length, a.crc32, a.compression),
            (b.stored_length, b.length, b.crc32, b.compression)
        );
    }
    assert_eq!(
        decode_small(&Decoder::from_bytes(rebuilt).unwrap()),
        expected_decode
    );
}

// ---------------------------------------------------------------------------
// models

fn load_siren(bytes: Vec<u8>) -> ResidualSiren {
    let file = InrFile::from_bytes(bytes).unwrap();
    ResidualSiren::from_file(&file).unwrap()
}

fn siren_file(
    model: &ResidualSiren,
    encoding: WeightEncoding,
    compression: Compression,
    with_time: bool,
) -> Vec<u8> {
    let outputs = model.outputs();
    let mut b = FileBuilder::new();
    let s = b.new_section("weights", compression);
    let model_value = model.write(&mut b, s, encoding).unwrap();
    let metadata = Metadata {
        generator: "siren".into(),
        domain: Domain::Image {
            dims: [4, 4, 4],
            origin: [0.0; 3],
            spacing: [1.0; 3],
        },
        time: with_time.then(|| TimeAxis {
            values: vec![0.0, 1.0],
        }),
        variables: vec![Variable {
            name: "v".into(),
            components: outputs as u32,
            association: Association::Point,
            range: vec![[-1.0, 1.0]; outputs],
            units: None,
        }],
        model: model_value,
        sections: vec![],
        attributes: BTreeMap::new(),
        corrections: None,
    };
    b.to_bytes(metadata).unwrap()
}

#[test]
fn residual_siren_round_trips_exactly_with_f32_weights() {
    for (inputs, width, blocks, outputs, seed) in
        [(3, 8, 0, 1, 1u64), (4, 12, 2, 5, 2), (3, 32, 3, 9, 3)]
    {
        let bounds: Vec<[f64; 2]> = (0..inputs)
            .map(|i| [i as f64 - 3.3, 2.0 * i as f64 + 1.7])
            .collect();
        let shape = SirenShape {
            inputs,
            width,
            blocks,
            outputs,
            first_w0: 3.7,
        };
        let model = residual_siren(shape, &bounds, seed);
        for compression in [Compression::None, Compression::Zstd] {
            let bytes = siren_file(&model, WeightEncoding::F32, compression, inputs == 4);
            let loaded = load_siren(bytes.clone());
            assert_eq!(
                loaded, model,
                "{inputs} inputs, width {width}, {blocks} blocks"
            );
            assert_eq!(loaded.layers.len(), blocks + 2);
            assert_eq!(loaded.parameter_count(), model.parameter_count());
            for (a, b) in loaded
                .input_scale
                .iter()
                .chain(&loaded.input_shift)
                .zip(model.input_scale.iter().chain(&model.input_shift))
            {
                assert_f64_bits(*a, *b, "input normalization");
            }
            let d = Decoder::from_bytes(bytes).unwrap();
            assert_eq!(d.model().parameter_count(), model.parameter_count());
        }

        // f16: every weight is the f16 rounding of the original
        let loaded = load_siren(siren_file(
            &model,
            WeightEncoding::F16,
            Compression::Zstd,
            inputs == 4,
        ));
        let flat = |m: &ResidualSiren| -> Vec<f32> {
            m.layers
                .iter()
                .flat_map(|l| match l {
                    inr::model::Layer::Sine { dense, .. } | inr::model::Layer::Linear { dense } => {
                        [dense.weight.clone(), dense.bias.clone()].concat()
                    }
                    inr::model::Layer::ResidualSine { first, second, .. } => [
                        first.weight.clone(),
                        first.bias.clone(),
                        second.weight.clone(),
                        second.bias.clone(),
                    ]
                    .concat(),
                })
                .collect()
        };
        let want: Vec<u32> = flat(&model)
            .iter()
            .map(|&v| half::f16::from_f32(v).to_f32().to_bits())
            .collect();
        assert_eq!(
            flat(&loaded)
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            want
        );

        // codebook: loads with the same structure; biases are never pruned
        let enc = WeightEncoding::Codebook {
            bits: 6,
            prune_zeros: true,
        };
        let loaded = load_siren(siren_file(&model, enc, Compression::Zstd, inputs == 4));
        assert_eq!(loaded.parameter_count(), model.parameter_count());
        assert_eq!(loaded.layers.len(), model.layers.len());
    }
}

/// Regression: the writer used to lay out sections for one metadata length
/// and then write metadata of another (the compressed length can oscillate
/// with the digits of the offsets), so about 3% of files had their metadata
/// overwritten by the first section.
#[test]
fn files_written_by_the_builder_always_open() {
    let mut bad = Vec::new();
    for seed in 0..300u64 {
        let inputs = 3 + (seed % 2) as usize;
        let width = 4 + (seed % 13) as usize;
        let bounds: Vec<[f64; 2]> = (0..inputs)
            .map(|i| [i as f64 - 3.3 * seed as f64, 2.0 * i as f64 + 1.7])
            .collect();
        let shape = SirenShape {
            inputs,
            width,
            blocks: (seed % 3) as usize,
            outputs: 1 + (seed % 5) as usize,
            first_w0: 3.7,
        };
        let model = residual_siren(shape, &bounds, seed);
        let encodings = [
            WeightEncoding::F32,
            WeightEncoding::F16,
            WeightEncoding::Codebook {
                bits: 6,
                prune_zeros: true,
            },
        ];
        for (k, enc) in encodings.into_iter().enumerate() {
            let compression = if k == 1 {
                Compression::None
            } else {
                Compression::Zstd
            };
            let bytes = siren_file(&model, enc, compression, inputs == 4);
            let stored = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
            let first = InrFile::from_bytes(bytes.clone()).map(|f| f.metadata().sections[0].offset);
            match first {
                Ok(offset) => assert!(40 + stored <= offset),
                Err(e) => bad.push(format!("seed {seed} {enc:?}: {e}")),
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} files do not open:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
