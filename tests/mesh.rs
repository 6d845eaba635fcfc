//! Unstructured files: the mesh comes back exactly, node and cell values
//! match the reference evaluator, bad meshes are rejected.

use inr::decode::{DecodeOptions, Decoder};
use inr::mesh::extract::MeshRequest;
use inr::mesh::generate::box_mesh;
use inr_testkit::reference::reference_eval;
use inr_testkit::synthetic::SyntheticSpec;

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
    let Some(m) = d.model().get::<inr::model::ResidualSiren>() else {
        panic!("not a residual SIREN");
    };
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
        ..Default::default()
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

/// The box mesh of `spec` with the cells of one quarter (x and y above the
/// middle) left out: an L-shaped, non-convex mesh.
fn l_shaped(tetrahedra: bool) -> inr::mesh::Mesh {
    let full = box_mesh([4, 4, 2], [-1.0, 0.0, 2.0], [1.0, 0.5, 3.0], tetrahedra);
    let per_box = if tetrahedra { 6 } else { 1 };
    let mut mesh = full.clone();
    mesh.offsets = vec![0];
    mesh.connectivity.clear();
    mesh.types.clear();
    for c in 0..full.num_cells() {
        let b = c / per_box;
        let (i, j) = (b % 4, (b / 4) % 4);
        if i >= 2 && j >= 2 {
            continue;
        }
        let ids = &full.connectivity[full.offsets[c] as usize..full.offsets[c + 1] as usize];
        mesh.connectivity.extend_from_slice(ids);
        mesh.offsets.push(mesh.connectivity.len() as u64);
        mesh.types.push(full.types[c]);
    }
    mesh
}

fn l_shaped_decoder(tetrahedra: bool) -> Decoder {
    let mut s = spec(tetrahedra);
    s.mesh = Some(l_shaped(tetrahedra));
    let (_, bytes) = s.build().unwrap();
    Decoder::from_bytes(bytes).unwrap()
}

const ONE_THREAD: DecodeOptions = DecodeOptions {
    threads: 1,
    progress: None,
    detail: 0,
    blend: None,
};

#[test]
fn resampling_marks_the_points_outside_a_non_convex_mesh() {
    for tets in [false, true] {
        let d = l_shaped_decoder(tets);
        let grid = d.sampling_grid(Some([17, 13, 5])).unwrap();
        let extent = grid.whole_extent();
        let n = 17 * 13 * 5;
        let vars = d.variable_indices(&[]).unwrap();
        let mut values: Vec<Vec<f32>> = vars
            .iter()
            .map(|&v| vec![0f32; d.resample_value_count(&extent, v).unwrap()])
            .collect();
        let mut mask = vec![7u8; n];
        {
            let mut outs: Vec<&mut [f32]> = values.iter_mut().map(|v| v.as_mut_slice()).collect();
            d.resample_into(
                &grid,
                &extent,
                &vars,
                Some(0.5),
                f32::NAN,
                &mut outs,
                Some(&mut mask),
                &ONE_THREAD,
            )
            .unwrap();
        }
        // Inside the L: x in the low half or y in the low half (faces count).
        let (mid_x, mid_y) = (0.0, 0.25);
        let mut inside_points = Vec::new();
        for k in 0..5 {
            for j in 0..13 {
                for i in 0..17 {
                    let p = [grid.axes[0][i], grid.axes[1][j], grid.axes[2][k]];
                    let q = i + 17 * (j + 13 * k);
                    let want = p[0] <= mid_x + 1e-9 || p[1] <= mid_y + 1e-9;
                    assert_eq!(mask[q] == 1, want, "tets {tets}: point {p:?}");
                    assert!(mask[q] <= 1);
                    if want {
                        inside_points.extend(p);
                    }
                }
            }
        }
        let inside = mask.iter().filter(|&&m| m == 1).count();
        assert!(inside > n / 2 && inside < n, "{inside} of {n}");
        // Inside: the network's values there; outside: the fill value.
        let mut want = vec![0f32; inside * 5];
        d.evaluate(
            &inside_points,
            inr::PointTimes::Fixed(Some(0.5)),
            &vars,
            &mut want,
            &ONE_THREAD,
        )
        .unwrap();
        let mut next = 0;
        for q in 0..n {
            let comps = [1, 3, 1];
            let mut col = 0;
            for (v, &c) in comps.iter().enumerate() {
                for k in 0..c {
                    let got = values[v][q * c + k];
                    if mask[q] == 1 {
                        assert_eq!(got.to_bits(), want[next * 5 + col].to_bits(), "point {q}");
                    } else {
                        assert!(got.is_nan());
                    }
                    col += 1;
                }
            }
            next += usize::from(mask[q] == 1);
        }
        // A sub-extent equals the same region of the whole grid, bit for bit.
        let sub = [3, 11, 2, 12, 1, 3];
        let mut part: Vec<f32> = vec![0f32; d.resample_value_count(&sub, 1).unwrap()];
        let mut sub_mask = vec![0u8; 9 * 11 * 3];
        d.resample_into(
            &grid,
            &sub,
            &[1],
            Some(0.5),
            f32::NAN,
            &mut [&mut part[..]],
            Some(&mut sub_mask),
            &DecodeOptions::default(),
        )
        .unwrap();
        let mut q = 0;
        for k in 1..=3 {
            for j in 2..=12 {
                for i in 3..=11 {
                    let w = i + 17 * (j + 13 * k);
                    assert_eq!(sub_mask[q], mask[w]);
                    for c in 0..3 {
                        assert_eq!(part[3 * q + c].to_bits(), values[1][3 * w + c].to_bits());
                    }
                    q += 1;
                }
            }
        }
    }
}

#[test]
fn resampling_arguments_are_checked() {
    let d = l_shaped_decoder(true);
    let grid = d.sampling_grid(Some([4, 4, 4])).unwrap();
    let e = grid.whole_extent();
    let mut out = vec![0f32; 63];
    let err = d
        .resample_into(
            &grid,
            &e,
            &[0],
            None,
            0.0,
            &mut [&mut out[..]],
            None,
            &ONE_THREAD,
        )
        .unwrap_err();
    assert!(err.to_string().contains("64 needed"), "{err}");
    let mut short_mask = vec![0u8; 10];
    assert!(d
        .inside_mask(&grid, &e, &mut short_mask, &ONE_THREAD)
        .is_err());
    assert!(d.resample_value_count(&e, 9).is_err());
    // Structured files have no mesh to resample.
    let (_, bytes) = SyntheticSpec::small(1).build().unwrap();
    let s = Decoder::from_bytes(bytes).unwrap();
    let g = s.sampling_grid(Some([4, 4, 4])).unwrap();
    let mut mask = vec![0u8; 64];
    assert!(s.inside_mask(&g, &e, &mut mask, &ONE_THREAD).is_err());
}

#[test]
fn pieces_decode_like_the_whole_mesh() {
    let d = l_shaped_decoder(true);
    let mesh = d.mesh().unwrap().clone();
    let whole = d.decode_nodes(&[], Some(0.5), &ONE_THREAD).unwrap();
    let mut cells_seen = vec![0u32; mesh.num_cells()];
    for piece in 0..3 {
        let view = d
            .mesh_view(&MeshRequest {
                level: 0,
                piece,
                pieces: 3,
            })
            .unwrap();
        let vars = [0usize, 1, 2];
        let mut bufs: Vec<Vec<f32>> = vars
            .iter()
            .map(|&v| vec![0f32; d.mesh_value_count(&view.mesh, v).unwrap()])
            .collect();
        let mut outs: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        d.decode_mesh_into(
            &view.mesh,
            &vars,
            Some(0.5),
            &mut outs,
            &DecodeOptions::default(),
        )
        .unwrap();
        for (p, &src) in view.source_points.iter().enumerate() {
            let s = src as usize;
            assert_eq!(bufs[0][p].to_bits(), whole[0][s].to_bits());
            for c in 0..3 {
                assert_eq!(bufs[1][3 * p + c].to_bits(), whole[1][3 * s + c].to_bits());
            }
        }
        for (c, &src) in view.source_cells.iter().enumerate() {
            cells_seen[src as usize] += 1;
            assert_eq!(bufs[2][c].to_bits(), whole[2][src as usize].to_bits());
        }
    }
    assert!(cells_seen.iter().all(|&n| n == 1));
}

#[test]
fn a_refined_mesh_decodes_at_its_new_points() {
    for tets in [false, true] {
        let d = l_shaped_decoder(tets);
        let mesh = d.mesh().unwrap().clone();
        let view = d
            .mesh_view(&MeshRequest {
                level: 2,
                ..MeshRequest::default()
            })
            .unwrap();
        assert_eq!(view.mesh.num_cells(), 64 * mesh.num_cells());
        assert_eq!(&view.mesh.points[..mesh.points.len()], &mesh.points[..]);
        let mut pressure = vec![0f32; d.mesh_value_count(&view.mesh, 0).unwrap()];
        d.decode_mesh_into(
            &view.mesh,
            &[0],
            None,
            &mut [&mut pressure[..]],
            &ONE_THREAD,
        )
        .unwrap();
        let mut want = vec![0f32; view.mesh.num_points()];
        d.evaluate(
            &view.mesh.points,
            inr::PointTimes::Fixed(None),
            &[0],
            &mut want,
            &ONE_THREAD,
        )
        .unwrap();
        assert_eq!(
            pressure.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        // Bad requests are errors.
        let bad = MeshRequest {
            level: 0,
            piece: 3,
            pieces: 3,
        };
        assert!(d.mesh_view(&bad).is_err());
        let huge = MeshRequest {
            level: 30,
            ..MeshRequest::default()
        };
        let err = d.mesh_view(&huge).unwrap_err();
        assert!(matches!(err, inr::Error::LimitExceeded(_)), "{err}");
    }
}

#[test]
fn every_cell_type_round_trips_exactly_through_the_file_and_vtu() {
    for f32_points in [false, true] {
        let mesh = inr_testkit::meshes::every_cell_type(f32_points);
        mesh.validate(mesh.num_points() as u64, mesh.num_cells() as u64)
            .unwrap();
        let mut s = spec(true);
        s.mesh = Some(mesh.clone());
        let (_, bytes) = s.build().unwrap();
        let d = Decoder::from_bytes(bytes).unwrap();
        assert_eq!(d.mesh().unwrap(), &mesh);
        // And through inr decode's .vtu writer and the VTK XML reader.
        let dir = tempfile::tempdir().unwrap();
        let vtu = dir.path().join("cells.vtu");
        inr_vtk::vti::write_unstructured_grid(&vtu, &mesh, &[]).unwrap();
        let back = inr_vtk::vtkxml::read_series(&vtu).unwrap();
        match &back.steps[0].1.grid {
            inr_vtk::vtkxml::Grid::Unstructured(m) => assert_eq!(m, &mesh),
            g => panic!("{g:?}"),
        }
    }
    let mixed = inr_testkit::meshes::mixed_linear([5, 4, 3]);
    mixed
        .validate(mixed.num_points() as u64, mixed.num_cells() as u64)
        .unwrap();
    let types: std::collections::BTreeSet<u8> = mixed.types.iter().copied().collect();
    assert_eq!(types.into_iter().collect::<Vec<_>>(), [10, 11, 12, 13, 14]);
    let mut s = spec(false);
    s.mesh = Some(mixed.clone());
    let (_, bytes) = s.build().unwrap();
    assert_eq!(Decoder::from_bytes(bytes).unwrap().mesh().unwrap(), &mixed);
}

#[test]
fn a_mixed_mesh_locates_and_refines() {
    let mixed = inr_testkit::meshes::mixed_linear([5, 4, 3]);
    let mut s = spec(false);
    s.mesh = Some(mixed.clone());
    let (_, bytes) = s.build().unwrap();
    let d = Decoder::from_bytes(bytes).unwrap();
    // The cubes fill [0, 1]^3: every grid point is inside.
    let grid = d.sampling_grid(Some([11, 9, 7])).unwrap();
    let mut mask = vec![0u8; 11 * 9 * 7];
    d.inside_mask(&grid, &grid.whole_extent(), &mut mask, &ONE_THREAD)
        .unwrap();
    assert!(mask.iter().all(|&m| m == 1));
    let fine = d
        .mesh_view(&MeshRequest {
            level: 1,
            ..MeshRequest::default()
        })
        .unwrap();
    let children = |t: u8| if t == 14 { 10 } else { 8 };
    let want: usize = mixed.types.iter().map(|&t| children(t)).sum();
    assert_eq!(fine.mesh.num_cells(), want);
}
