//! The MC-INR family in the decoder: routing, branched networks and blending
//! against an f64 reference written from docs/format.md; grids, pieces,
//! meshes and threads; borders with and without blending; damaged files.

use inr::decode::{DecodeOptions, Decoder, GridRequest, PointTimes};
use inr::format::WeightEncoding;
use inr::mesh::generate::box_mesh;
use inr::model::shared_codebook;
use inr::model::McInr;
use inr_testkit::reference::reference_mc_inr;
use inr_testkit::synthetic::{ClusterSpec, SyntheticSpec};

fn clusters(blend_width: f64) -> ClusterSpec {
    ClusterSpec {
        clusters: 5,
        splits: 2,
        branch_blocks: 1,
        blend_width,
    }
}

fn build(spec: &SyntheticSpec, c: &ClusterSpec) -> (McInr, Decoder) {
    let (model, bytes) = spec.build_mc_inr(c).unwrap();
    let d = Decoder::from_bytes(bytes).unwrap();
    (model, d)
}

fn loaded(d: &Decoder) -> &McInr {
    d.model()
        .get()
        .unwrap_or_else(|| panic!("not MC-INR: {:?}", d.model()))
}

const THREADS: DecodeOptions = DecodeOptions {
    threads: 2,
    progress: None,
    detail: 0,
    blend: None,
};

/// Largest |fast - reference| over each output's range, at random points
/// and times (also a little outside the bounds).
fn worst_error(d: &Decoder, n: usize, seed: u64) -> f64 {
    inr_testkit::reference::worst_relative_error(d, n, seed, &|meta, coords| {
        reference_mc_inr(loaded(d), meta, coords)
    })
}

#[test]
fn points_match_the_reference_with_and_without_blending() {
    for (blend, encoding) in [
        (0.0, WeightEncoding::F32),
        (0.6, WeightEncoding::F32),
        (0.6, WeightEncoding::F16),
        (
            0.3,
            WeightEncoding::Codebook {
                bits: 9,
                prune_zeros: false,
            },
        ),
    ] {
        let mut spec = SyntheticSpec::small(11);
        spec.encoding = encoding;
        let (written, d) = build(&spec, &clusters(blend));
        assert_eq!(loaded(&d).leaves.len(), 7, "5 roots, 2 split in two");
        if encoding == WeightEncoding::F32 {
            assert_eq!(loaded(&d), &written, "the model round trips exactly");
        }
        let worst = worst_error(&d, 3000, 5);
        eprintln!("blend {blend}, {encoding:?}: worst error {worst:.2e}");
        assert!(worst < 2e-5, "worst error {worst}");
    }
}

/// Hidden and head weights of all clusters index one table per role in a
/// "codebooks" section; first layers and biases are stored exactly.
#[test]
fn codebooks_are_shared_by_all_clusters() {
    use inr::format::{InrFile, TensorEncoding};
    use inr::model::{shared_codebook, Layer};
    let mut spec = SyntheticSpec::small(4);
    spec.encoding = WeightEncoding::Codebook {
        bits: 6,
        prune_zeros: false,
    };
    let (written, d) = build(&spec, &clusters(0.0));
    let mut snapped = written.clone();
    shared_codebook::snap(&mut snapped.leaves, 6);
    assert_eq!(loaded(&d), &snapped, "the file holds the snapped weights");
    assert_ne!(snapped, written);
    for (a, b) in written.leaves.iter().zip(&snapped.leaves) {
        let (Layer::Sine { dense: x, .. }, Layer::Sine { dense: y, .. }) =
            (&a.trunk[0], &b.trunk[0])
        else {
            panic!("the trunk starts with a sine layer")
        };
        assert_eq!(x, y, "first layers are not quantized");
    }
    let (_, bytes) = spec.build_mc_inr(&clusters(0.0)).unwrap();
    let file = InrFile::from_bytes(bytes).unwrap();
    let meta = file.metadata();
    let books = meta
        .sections
        .iter()
        .position(|s| s.name == "codebooks")
        .expect("a codebooks section") as u32;
    let json = meta.model.to_string();
    let mut tables = std::collections::BTreeSet::new();
    let model = inr::model::McInrMeta::from_value(&meta.model).unwrap();
    for node in model.nodes.iter().filter_map(|n| n.network.as_ref()) {
        let tensors = node
            .trunk
            .iter()
            .chain(node.branches.iter().flatten())
            .flat_map(|l| inr::model::residual_siren::layer_tensors(std::slice::from_ref(l)));
        for t in tensors {
            if let TensorEncoding::Codebook { codebook, .. } = &t.encoding {
                assert_eq!(codebook.section, books, "{json}");
                tables.insert(codebook.offset);
            }
        }
    }
    assert_eq!(tables.len(), 2, "one hidden and one head table: {tables:?}");
}

#[test]
fn static_three_input_model_on_a_mesh() {
    let mut spec = SyntheticSpec::small(3);
    spec.times = None;
    spec.mesh = Some(box_mesh([5, 4, 3], [-1.0, 0.0, 2.0], [1.0, 0.5, 3.0], true));
    let (_, d) = build(&spec, &clusters(0.2));
    assert_eq!(loaded(&d).inputs, 3);
    assert!(worst_error(&d, 1000, 9) < 2e-5);
    // Nodes and cell centroids decode as point queries do, bit for bit.
    let mesh = d.mesh().unwrap().clone();
    let nodes = d.decode_nodes(&[], None, &THREADS).unwrap();
    let mut p = vec![0f32; mesh.num_points()];
    d.evaluate(
        &mesh.points,
        PointTimes::Fixed(None),
        &[0],
        &mut p,
        &THREADS,
    )
    .unwrap();
    assert_eq!(bits(&nodes[0]), bits(&p));
    let centers = mesh.cell_centers();
    let mut c = vec![0f32; mesh.num_cells()];
    d.evaluate(&centers, PointTimes::Fixed(None), &[2], &mut c, &THREADS)
        .unwrap();
    assert_eq!(bits(&nodes[2]), bits(&c));
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn grids_pieces_subsets_and_threads_agree_bit_for_bit() {
    let spec = SyntheticSpec::small(21);
    let (_, d) = build(&spec, &clusters(0.5));
    let req = GridRequest {
        dims: Some([30, 22, 14]),
        time: Some(0.7),
        ..Default::default()
    };
    let whole = d.decode_grid(&req, &THREADS).unwrap();
    let one = d
        .decode_grid(
            &req,
            &DecodeOptions {
                threads: 1,
                ..Default::default()
            },
        )
        .unwrap();
    for (a, b) in whole.arrays.iter().zip(&one.arrays) {
        assert_eq!(bits(&a.values), bits(&b.values), "{}", a.name);
    }
    // A sub-extent equals the same region of the whole grid.
    let e = [4, 20, 3, 17, 2, 11];
    let part = d
        .decode_grid(
            &GridRequest {
                extent: Some(e),
                variables: vec![1],
                ..req.clone()
            },
            &THREADS,
        )
        .unwrap();
    let mut q = 0;
    for k in e[4]..=e[5] {
        for j in e[2]..=e[3] {
            for i in e[0]..=e[1] {
                let w = i + 30 * (j + 22 * k);
                assert_eq!(
                    bits(&part.arrays[0].values[3 * q..3 * q + 3]),
                    bits(&whole.arrays[1].values[3 * w..3 * w + 3])
                );
                q += 1;
            }
        }
    }
    // Grid points are point queries.
    let g = &whole.grid;
    let mut pts = Vec::new();
    for k in 0..14 {
        for j in 0..22 {
            for i in 0..30 {
                pts.extend([g.axes[0][i], g.axes[1][j], g.axes[2][k]]);
            }
        }
    }
    let mut p = vec![0f32; 30 * 22 * 14];
    d.evaluate(&pts, PointTimes::Fixed(Some(0.7)), &[0], &mut p, &THREADS)
        .unwrap();
    assert_eq!(bits(&p), bits(&whole.arrays[0].values));
}

/// Along a line through cluster borders: the largest change between
/// neighbouring samples where the routed leaf stays the same (the networks'
/// own variation), and where it changes: a jump at the border without
/// blending; with it, no step larger than the blend's own smooth variation.
#[test]
fn blending_removes_the_jumps_at_cluster_borders() {
    let mut spec = SyntheticSpec::small(4);
    spec.times = None;
    let mut results = Vec::new();
    for blend in [0.0, 2.0] {
        let (_, d) = build(&spec, &clusters(blend));
        let b = d.bounds();
        let n = 20_000;
        let mut pts = Vec::new();
        for i in 0..n {
            let s = i as f64 / (n - 1) as f64;
            pts.extend([
                b[0] + s * (b[1] - b[0]),
                b[2] + s * (b[3] - b[2]),
                0.5 * (b[4] + b[5]),
            ]);
        }
        let mut v = vec![0f32; n];
        d.evaluate(&pts, PointTimes::Fixed(None), &[0], &mut v, &THREADS)
            .unwrap();
        let range = d.metadata().variables[0].range[0];
        let leaf = |i: usize| {
            let p = &pts[3 * i..3 * i + 3];
            loaded(&d).route([p[0], p[1], p[2]]).leaf()
        };
        let (mut within, mut across, mut borders) = (0f64, 0f64, 0);
        for i in 1..n {
            let step = (v[i] - v[i - 1]).abs() as f64 / (range[1] - range[0]);
            if leaf(i) == leaf(i - 1) {
                within = within.max(step);
            } else {
                across = across.max(step);
                borders += 1;
            }
        }
        eprintln!("blend {blend}: {borders} borders, largest step within a cluster {within:.3e}, across {across:.3e}");
        assert!(borders >= 1, "the line crosses a border");
        results.push((within, across));
    }
    let ((within0, across0), (within1, across1)) = (results[0], results[1]);
    assert!(
        across0 > 1000.0 * within0,
        "separate networks jump at a border"
    );
    // Blending: the weights change by at most 1.5 per band width, between
    // values at most a range apart: a bound on any step of the blend.
    let bound = 1.5 / 2.0 * 12.5 / 20_000.0 + within0;
    assert!(within1.max(across1) < bound, "blending leaves a jump");
    assert!(within1.max(across1) < across0 / 100.0);
}

#[test]
fn damaged_files_fail_cleanly() {
    let mut spec = SyntheticSpec::small(8);
    spec.width = 6;
    spec.blocks = 1;
    spec.dims = [4, 3, 2];
    let c = ClusterSpec {
        clusters: 2,
        splits: 1,
        branch_blocks: 0,
        blend_width: 0.5,
    };
    let (_, bytes) = spec.build_mc_inr(&c).unwrap();
    let decode = |b: Vec<u8>| -> Option<Vec<Vec<f32>>> {
        let d = Decoder::from_bytes(b).ok()?;
        let g = d.decode_grid(&GridRequest::default(), &THREADS).ok()?;
        Some(g.arrays.into_iter().map(|a| a.values).collect())
    };
    let original = decode(bytes.clone()).expect("the intact file decodes");
    for i in 0..bytes.len() {
        for mutated in [bytes[..i].to_vec(), {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            b
        }] {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode(mutated)));
            match r {
                Err(_) => panic!("panic at byte {i}"),
                Ok(Some(v)) => assert_eq!(v, original, "byte {i} changed the values"),
                Ok(None) => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// shared codebooks across clusters

fn shared_codebook_model() -> McInr {
    let spec = ClusterSpec {
        clusters: 6,
        splits: 0,
        branch_blocks: 1,
        blend_width: 0.0,
    };
    inr_testkit::synthetic::mc_inr(&spec, 12, 2, &[1, 3], &[[0.0, 1.0]; 3], 7)
}

#[test]
fn hidden_and_head_weights_share_a_table_first_layers_and_biases_stay_f32() {
    let m = shared_codebook_model();
    let mut q = m.clone();
    shared_codebook::snap(&mut q.leaves, 5);
    let mut levels: [Vec<f32>; shared_codebook::ROLES] = Default::default();
    for net in &q.leaves {
        for (role, v) in shared_codebook::tensors(net) {
            levels[role as usize].extend_from_slice(v);
        }
    }
    for l in &mut levels {
        l.sort_by(f32::total_cmp);
        l.dedup();
    }
    // Six clusters' hidden 12 x 12 weights and 12 x 1 / 12 x 3 heads:
    // 32 levels each over all clusters.
    assert_eq!(levels[shared_codebook::Role::Hidden as usize].len(), 32);
    assert_eq!(levels[shared_codebook::Role::Head as usize].len(), 32);
    assert!(levels[shared_codebook::Role::First as usize].len() > 200);
    for (a, b) in m.leaves.iter().zip(&q.leaves) {
        for ((role, x), (_, y)) in shared_codebook::tensors(a)
            .into_iter()
            .zip(shared_codebook::tensors(b))
        {
            if matches!(
                role,
                shared_codebook::Role::First | shared_codebook::Role::Bias
            ) {
                assert_eq!(x, y);
            }
        }
    }
}

#[test]
fn snapping_keeps_values_close() {
    let m = shared_codebook_model();
    let mut q = m.clone();
    shared_codebook::snap(&mut q.leaves, 8);
    for (a, b) in m.leaves.iter().zip(&q.leaves) {
        for ((_, x), (_, y)) in shared_codebook::tensors(a)
            .into_iter()
            .zip(shared_codebook::tensors(b))
        {
            let range = x.iter().fold(0f32, |r, v| r.max(v.abs())).max(1e-6);
            for (u, v) in x.iter().zip(y) {
                assert!((u - v).abs() <= 0.05 * range, "{u} -> {v}");
            }
        }
    }
}
