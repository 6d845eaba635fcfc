//! Corrections (format section 10.9): the decoder adds exactly `u × step`
//! at the stored sites of stored steps (whole grids, extents, cells, mesh
//! pieces) and nothing anywhere else; bad corrections are refused, never a
//! panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use inr::corrections::site_lattice;
use inr::corrections::write::{add, Units};
use inr::decode::{DecodeOptions, Decoder, GridRequest, PointTimes};
use inr::format::{InrFile, Metadata};
use inr::mesh::extract::MeshRequest;
use inr_testkit::synthetic::SyntheticSpec;

/// A pattern of units per step, variable and component: sparse spikes in
/// the first component, a ramp (Lorenzo's case) in the second, dense
/// noise in the third.
fn units(meta: &Metadata) -> Units {
    (0..meta.time_steps())
        .map(|s| {
            meta.variables
                .iter()
                .map(|var| {
                    let n: usize = site_lattice(&meta.domain, var.association).iter().product();
                    (0..var.components as usize)
                        .map(|c| {
                            (0..n as i64)
                                .map(|q| match c {
                                    0 => i64::from(q % 97 == s as i64) * (q % 5 - 2),
                                    1 => q % 7 - 3 + s as i64,
                                    _ => (q * 7919 + s as i64) % 11 - 5,
                                })
                                .collect()
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// `bytes` with the pattern's corrections; steps differ per variable.
fn corrected(bytes: &[u8]) -> (Vec<u8>, Units, Vec<Vec<f64>>) {
    let meta = InrFile::from_bytes(bytes.to_vec())
        .unwrap()
        .metadata()
        .clone();
    let u = units(&meta);
    let step: Vec<Vec<f64>> = meta
        .variables
        .iter()
        .enumerate()
        .map(|(v, var)| {
            vec![
                1e-3 * (v + 1) as f64 * (var.range[0][1] - var.range[0][0]);
                var.components as usize
            ]
        })
        .collect();
    let bound = step
        .iter()
        .map(|s| s.iter().map(|x| x * 0.6).collect())
        .collect();
    (add(bytes, bound, step.clone(), &u).unwrap(), u, step)
}

fn opts(threads: usize) -> DecodeOptions<'static> {
    DecodeOptions {
        threads,
        ..DecodeOptions::default()
    }
}

/// `network + u × step` as the decoder computes it.
fn fix(network: f32, u: i64, step: f64) -> f32 {
    (network as f64 + u as f64 * step) as f32
}

#[test]
fn grid_values_are_the_network_plus_the_corrections_at_stored_sites_only() {
    let plain = SyntheticSpec::small(3).build().unwrap().1;
    let (bytes, u, step) = corrected(&plain);
    assert_eq!(
        InrFile::from_bytes(bytes.clone()).unwrap().header().minor,
        1
    );
    let (net, fixed) = (
        Decoder::from_bytes(plain).unwrap(),
        Decoder::from_bytes(bytes).unwrap(),
    );
    let times = fixed.metadata().time.clone().unwrap().values;
    for (s, &t) in times.iter().enumerate() {
        let req = GridRequest {
            time: Some(t),
            ..GridRequest::default()
        };
        let a = net.decode_grid(&req, &opts(1)).unwrap();
        let b = fixed.decode_grid(&req, &opts(2)).unwrap();
        for (v, (x, y)) in a.arrays.iter().zip(&b.arrays).enumerate() {
            let n = x.components;
            for (i, (&p, &q)) in x.values.iter().zip(&y.values).enumerate() {
                assert_eq!(
                    q,
                    fix(p, u[s][v][i % n][i / n], step[v][i % n]),
                    "step {s} {} value {i}",
                    x.name
                );
            }
        }
        // A sub-extent holds the same values as that part of the whole.
        let e = [3, 10, 2, 19, 5, 9];
        let sub = fixed
            .decode_grid(
                &GridRequest {
                    extent: Some(e),
                    ..req.clone()
                },
                &opts(1),
            )
            .unwrap();
        let dims = b.grid.dims();
        for (y, w) in sub.arrays.iter().zip(&b.arrays) {
            let cells = y.association == inr::format::Association::Cell;
            let d = if cells { dims.map(|x| x - 1) } else { dims };
            let hi = if cells {
                [e[1] - 1, e[3] - 1, e[5] - 1]
            } else {
                [e[1], e[3], e[5]]
            };
            let mut t = 0;
            for k in e[4]..=hi[2] {
                for j in e[2]..=hi[1] {
                    for i in e[0]..=hi[0] {
                        let site = i + d[0] * (j + d[1] * k);
                        let n = y.components;
                        assert_eq!(&y.values[t * n..][..n], &w.values[site * n..][..n]);
                        t += 1;
                    }
                }
            }
        }
    }
    // Between steps, on another grid and at points: the network's values.
    let between = GridRequest {
        time: Some(0.25),
        ..GridRequest::default()
    };
    let other = GridRequest {
        dims: Some([7, 5, 3]),
        time: Some(0.5),
        ..GridRequest::default()
    };
    for req in [between, other] {
        let a = net.decode_grid(&req, &opts(1)).unwrap();
        let b = fixed.decode_grid(&req, &opts(1)).unwrap();
        for (x, y) in a.arrays.iter().zip(&b.arrays) {
            assert_eq!(x.values, y.values);
        }
    }
    let point = [-1.5 + 0.5 * 4.0, 0.25 + 0.25 * 7.0, 10.0];
    let (mut p, mut q) = ([0f32; 4], [0f32; 4]);
    net.evaluate(
        &point,
        PointTimes::Fixed(Some(0.5)),
        &[0, 1],
        &mut p,
        &opts(1),
    )
    .unwrap();
    fixed
        .evaluate(
            &point,
            PointTimes::Fixed(Some(0.5)),
            &[0, 1],
            &mut q,
            &opts(1),
        )
        .unwrap();
    assert_eq!(p, q);
}

#[test]
fn mesh_pieces_keep_their_stored_points_corrections_and_refinement_adds_none() {
    let mut spec = SyntheticSpec::small(4);
    spec.mesh = Some(inr_testkit::meshes::mixed_linear([3, 3, 2]));
    let plain = spec.build().unwrap().1;
    let (bytes, u, step) = corrected(&plain);
    let (net, fixed) = (
        Decoder::from_bytes(plain).unwrap(),
        Decoder::from_bytes(bytes).unwrap(),
    );
    let t = Some(0.5);
    let stored_net = net.decode_nodes(&[], t, &opts(1)).unwrap();
    let stored = fixed.decode_nodes(&[], t, &opts(2)).unwrap();
    let vars = fixed.metadata().variables.clone();
    for (v, (a, b)) in stored_net.iter().zip(&stored).enumerate() {
        let n = vars[v].components as usize;
        for (i, (&p, &q)) in a.iter().zip(b).enumerate() {
            assert_eq!(q, fix(p, u[1][v][i % n][i / n], step[v][i % n]));
        }
    }
    for level in [0, 1] {
        let view = fixed
            .mesh_view(&MeshRequest {
                level,
                piece: 1,
                pieces: 3,
            })
            .unwrap();
        for (v, var) in vars.iter().enumerate() {
            let n = var.components as usize;
            let mut got = vec![0f32; fixed.mesh_value_count(&view.mesh, v).unwrap()];
            fixed
                .decode_view_into(&view, &[v], t, &mut [&mut got[..]], &opts(1))
                .unwrap();
            let mut plain_view = vec![0f32; got.len()];
            net.decode_view_into(&view, &[v], t, &mut [&mut plain_view[..]], &opts(1))
                .unwrap();
            let cells = var.association == inr::format::Association::Cell;
            for (k, tuple) in got.chunks_exact(n).enumerate() {
                let stored_site = if cells {
                    (level == 0).then(|| view.source_cells[k] as usize)
                } else {
                    usize::try_from(view.source_points[k]).ok()
                };
                match stored_site {
                    Some(site) => {
                        assert_eq!(tuple, &stored[v][site * n..][..n], "{} {k}", var.name)
                    }
                    None => assert_eq!(tuple, &plain_view[k * n..][..n], "{} {k}", var.name),
                }
            }
        }
    }
}

/// The native grid at every stored step (each reads its corrections).
fn every_step(d: &Decoder) -> inr::Result<Vec<Vec<f32>>> {
    let mut out = Vec::new();
    for &t in &d.metadata().time.as_ref().unwrap().values {
        let req = GridRequest {
            time: Some(t),
            ..GridRequest::default()
        };
        out.extend(
            d.decode_grid(&req, &opts(1))?
                .arrays
                .into_iter()
                .map(|a| a.values),
        );
    }
    Ok(out)
}

/// Opens and decodes every step, catching panics: whether it decoded.
fn outcome(bytes: Vec<u8>) -> Result<bool, String> {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let decoded = Decoder::from_bytes(bytes).and_then(|d| every_step(&d).map(|_| ()));
        match decoded {
            Ok(()) => Ok(true),
            Err(e) if e.to_string().trim().is_empty() => Err(format!("empty message: {e:?}")),
            Err(_) => Ok(false),
        }
    }));
    r.map_err(|_| "panicked".to_string())?
}

#[test]
fn contradicting_corrections_are_refused_at_open() {
    let mut spec = SyntheticSpec::small(5);
    spec.dims = [6, 5, 4];
    let (bytes, _, _) = corrected(&spec.build().unwrap().1);
    let file = InrFile::from_bytes(bytes.clone()).unwrap();
    type Edit = Box<dyn Fn(&mut Metadata)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "step above twice the bound",
            Box::new(|m| m.corrections.as_mut().unwrap().step[0][0] = 1e9),
        ),
        (
            "zero step",
            Box::new(|m| m.corrections.as_mut().unwrap().step[1][2] = 0.0),
        ),
        (
            "NaN bound",
            Box::new(|m| m.corrections.as_mut().unwrap().bound[2][0] = f64::NAN),
        ),
        (
            "a component missing",
            Box::new(|m| {
                m.corrections.as_mut().unwrap().bound[1].pop();
            }),
        ),
        (
            "a variable missing",
            Box::new(|m| {
                m.corrections.as_mut().unwrap().step.pop();
            }),
        ),
        (
            "a time step missing",
            Box::new(|m| {
                m.corrections.as_mut().unwrap().sections.pop();
            }),
        ),
        (
            "a section out of range",
            Box::new(|m| m.corrections.as_mut().unwrap().sections[0] = 99),
        ),
    ];
    for (what, edit) in edits {
        let (builder, mut meta) = inr::format::FileBuilder::from_file(&file).unwrap();
        edit(&mut meta);
        // The writer does not check: the reader must.
        let bad = builder.to_bytes(meta).unwrap();
        assert!(Decoder::from_bytes(bad).is_err(), "{what} opened");
    }
    // Every byte changed: refused or (padding) the same decode, never a panic.
    let reference = every_step(&Decoder::from_bytes(bytes.clone()).unwrap()).unwrap();
    let mut decoded = 0;
    for i in 0..bytes.len() {
        let mut m = bytes.clone();
        m[i] ^= 0x5a;
        if outcome(m.clone()).unwrap_or_else(|e| panic!("byte {i}: {e}")) {
            let got = every_step(&Decoder::from_bytes(m).unwrap()).unwrap();
            assert_eq!(got, reference, "byte {i} changed the decode");
            decoded += 1;
        }
    }
    // Only the padding no checksum covers may change and still decode.
    let table = &file.metadata().sections;
    let meta_end = 40 + u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    let mut uncovered = table[0].offset - meta_end;
    for w in table.windows(2) {
        uncovered += w[1].offset - (w[0].offset + w[0].stored_length);
    }
    assert_eq!(decoded, uncovered, "changed files that still decode");
}

#[test]
fn coarser_levels_of_detail_get_no_corrections() {
    let mut spec = inr_testkit::ecnr::EcnrSpec::small(21);
    spec.times = Some(vec![0.0, 1.0, 2.5]);
    let plain = spec.build().unwrap();
    let (bytes, u, step) = corrected(&plain);
    let (net, fixed) = (
        Decoder::from_bytes(plain).unwrap(),
        Decoder::from_bytes(bytes).unwrap(),
    );
    let req = GridRequest {
        time: Some(1.0),
        ..GridRequest::default()
    };
    for detail in [0, 1, 2, 9] {
        let o = DecodeOptions { detail, ..opts(1) };
        let a = net.decode_grid(&req, &o).unwrap();
        let b = fixed.decode_grid(&req, &o).unwrap();
        let full = detail == 0 || detail >= 3; // three scales
        for (v, (x, y)) in a.arrays.iter().zip(&b.arrays).enumerate() {
            let n = x.components;
            for (i, (&p, &q)) in x.values.iter().zip(&y.values).enumerate() {
                let want = if full {
                    fix(p, u[1][v][i % n][i / n], step[v][i % n])
                } else {
                    p
                };
                assert_eq!(q, want, "detail {detail} {} value {i}", x.name);
            }
        }
    }
}
