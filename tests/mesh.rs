//! Unstructured files: the mesh comes back exactly, node and cell values
//! match the reference evaluator, bad meshes are rejected.

mod common;

use common::reference_eval;
use inr::decode::{DecodeOptions, Decoder};
use inr::model::Model;
use inr::synthetic::{box_mesh, SyntheticSpec};

fn spec(tetrahedra: bool) -> SyntheticSpec {
    let mut s = SyntheticSpec::small(21);
    s.mesh = Some(box_mesh(
        [4, 3, 2],
        [-1.0, 0.0, 2.0],
        [1.0, 0.5, 3.0],
        tetrahedra,
    ));
    s
}

#[test]
fn mesh_round_trips_exactly() {
    for tets in [true, false] {
        let s = spec(tets);
        let (_, bytes) = s.build().unwrap();
        let d = Decoder::from_bytes(bytes).unwrap();
        let mesh = d.mesh().unwrap();
        assert_eq!(mesh, s.mesh.as_ref().unwrap());
        assert_eq!(
            mesh.num_cells(),
            if tets { 4 * 3 * 2 * 6 } else { 4 * 3 * 2 }
        );
        assert_eq!(d.bounds(), [-1.0, 1.0, 0.0, 0.5, 2.0, 3.0]);
        assert!(d.native_grid().is_none());
    }
}

#[test]
fn node_and_cell_values_match_the_reference() {
    let s = spec(true);
    let (_, bytes) = s.build().unwrap();
    let d = Decoder::from_bytes(bytes).unwrap();
    let Model::ResidualSiren(m) = d.model();
    let meta = d.metadata().clone();
    let vals = d
        .decode_nodes(&[], Some(0.5), &DecodeOptions::default())
        .unwrap();
    let mesh = d.mesh().unwrap();
    assert_eq!(vals[0].len(), mesh.num_points());
    assert_eq!(vals[1].len(), 3 * mesh.num_points());
    assert_eq!(vals[2].len(), mesh.num_cells());
    let ranges: Vec<[f64; 2]> = meta
        .variables
        .iter()
        .flat_map(|v| v.range.clone())
        .collect();
    let close = |got: f32, want: f64, o: usize| {
        let err = (got as f64 - want).abs() / (ranges[o][1] - ranges[o][0]);
        assert!(err < 2e-5, "output {o}: {got} vs {want}");
    };
    for p in 0..mesh.num_points() {
        let xyz = &mesh.points[3 * p..3 * p + 3];
        let want = reference_eval(m, &meta, &[xyz[0], xyz[1], xyz[2], 0.5]);
        close(vals[0][p], want[0], 0);
        for c in 0..3 {
            close(vals[1][3 * p + c], want[1 + c], 1 + c);
        }
    }
    let centers = mesh.cell_centers();
    for c in 0..mesh.num_cells() {
        let xyz = &centers[3 * c..3 * c + 3];
        let want = reference_eval(m, &meta, &[xyz[0], xyz[1], xyz[2], 0.5]);
        close(vals[2][c], want[4], 4);
    }
}

#[test]
fn structured_files_have_no_mesh_and_bad_meshes_are_rejected() {
    let (_, bytes) = SyntheticSpec::small(1).build().unwrap();
    assert!(Decoder::from_bytes(bytes).unwrap().mesh().is_err());
    let mut bad = spec(true);
    bad.mesh.as_mut().unwrap().connectivity[5] = 10_000;
    let (_, bytes) = bad.build().unwrap();
    let err = Decoder::from_bytes(bytes).unwrap().mesh().unwrap_err();
    assert!(err.to_string().contains("beyond the point count"), "{err}");
    let mut bad = spec(false);
    bad.mesh.as_mut().unwrap().types[0] = 10; // a tetra with 8 points
    let (_, bytes) = bad.build().unwrap();
    assert!(Decoder::from_bytes(bytes).unwrap().mesh().is_err());
}

/// Every truncation and every single-byte change of a small unstructured
/// file gives an error or the original mesh and values: never a panic.
#[test]
fn damaged_mesh_files_fail_cleanly() {
    let mut s = spec(true);
    s.mesh = Some(box_mesh([2, 1, 1], [0.0; 3], [1.0; 3], true));
    s.width = 8;
    s.blocks = 1;
    let (_, bytes) = s.build().unwrap();
    let opts = DecodeOptions {
        threads: 1,
        progress: None,
    };
    let outcome = |b: Vec<u8>| -> Option<(inr::mesh::Mesh, Vec<Vec<f32>>)> {
        let d = Decoder::from_bytes(b).ok()?;
        let mesh = d.mesh().ok()?.clone();
        let values = d.decode_nodes(&[], None, &opts).ok()?;
        Some((mesh, values))
    };
    let original = outcome(bytes.clone()).expect("the intact file decodes");
    for i in 0..bytes.len() {
        for mutated in [bytes[..i].to_vec(), {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            b
        }] {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outcome(mutated)));
            match r {
                Err(_) => panic!("panic at byte {i}"),
                Ok(Some(o)) => assert_eq!(o, original, "byte {i} changed the decoded data"),
                Ok(None) => {}
            }
        }
    }
}
