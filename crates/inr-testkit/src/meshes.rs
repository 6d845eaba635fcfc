//! Meshes for tests: every cell type the format stores, and a mixed mesh of
//! the linear 3D types.

use inr_core::mesh::Mesh;

/// Points of one cell of each VTK type the format stores (linear, poly-
/// and quadratic types), each cell on its own points, `points_f32` as given.
pub fn every_cell_type(points_f32: bool) -> Mesh {
    let counts: [(u8, usize); 21] = [
        (1, 1),
        (2, 3),
        (3, 2),
        (4, 4),
        (5, 3),
        (6, 5),
        (7, 5),
        (8, 4),
        (9, 4),
        (10, 4),
        (11, 8),
        (12, 8),
        (13, 6),
        (14, 5),
        (21, 3),
        (22, 6),
        (23, 8),
        (24, 10),
        (25, 20),
        (26, 15),
        (27, 13),
    ];
    let mut mesh = Mesh {
        points: Vec::new(),
        offsets: vec![0],
        connectivity: Vec::new(),
        types: Vec::new(),
        points_f32,
    };
    for (c, &(t, n)) in counts.iter().enumerate() {
        for k in 0..n {
            let id = mesh.points.len() as u64 / 3;
            // Irregular coordinates (not exact in f32 unless asked).
            let p = [
                c as f64 + 0.1 * k as f64,
                (k as f64).sqrt(),
                1.0 / (1.0 + k as f64),
            ];
            mesh.points
                .extend(p.map(|v| if points_f32 { v as f32 as f64 } else { v }));
            mesh.connectivity.push(id);
        }
        mesh.offsets.push(mesh.connectivity.len() as u64);
        mesh.types.push(t);
    }
    mesh
}

/// A box of `n` cubes over [0, 1]^3, each cube one hexahedron, voxel, 2
/// wedges, 6 pyramids (around a point at its center) or 6 tetrahedra, in
/// turn: a mesh of every linear 3D type, in VTK's point orders.
pub fn mixed_linear(n: [usize; 3]) -> Mesh {
    let np = [n[0] + 1, n[1] + 1, n[2] + 1];
    let mut points = Vec::new();
    for k in 0..np[2] {
        for j in 0..np[1] {
            for i in 0..np[0] {
                points.extend(
                    [i, j, k]
                        .iter()
                        .zip(n)
                        .map(|(&v, d)| (v as f64 / d as f64) as f32 as f64),
                );
            }
        }
    }
    let id = |i: usize, j: usize, k: usize| (i + np[0] * (j + np[1] * k)) as u64;
    let mut mesh = Mesh {
        points,
        offsets: vec![0],
        connectivity: Vec::new(),
        types: Vec::new(),
        points_f32: true,
    };
    let push = |mesh: &mut Mesh, t: u8, ids: &[u64]| {
        mesh.connectivity.extend_from_slice(ids);
        mesh.offsets.push(mesh.connectivity.len() as u64);
        mesh.types.push(t);
    };
    for k in 0..n[2] {
        for j in 0..n[1] {
            for i in 0..n[0] {
                let v = [
                    id(i, j, k),
                    id(i + 1, j, k),
                    id(i + 1, j + 1, k),
                    id(i, j + 1, k),
                    id(i, j, k + 1),
                    id(i + 1, j, k + 1),
                    id(i + 1, j + 1, k + 1),
                    id(i, j + 1, k + 1),
                ];
                match (i + j + k) % 5 {
                    0 => push(&mut mesh, 12, &v),
                    1 => push(
                        &mut mesh,
                        11,
                        &[v[0], v[1], v[3], v[2], v[4], v[5], v[7], v[6]],
                    ),
                    2 => {
                        // Two wedges: triangles in the xy faces, extruded along
                        // z; VTK's base triangle faces away from the top one.
                        push(&mut mesh, 13, &[v[0], v[2], v[1], v[4], v[6], v[5]]);
                        push(&mut mesh, 13, &[v[0], v[3], v[2], v[4], v[7], v[6]]);
                    }
                    3 => {
                        let c = mesh.points.len() as u64 / 3;
                        for a in 0..3 {
                            let lo = mesh.points[3 * v[0] as usize + a];
                            let hi = mesh.points[3 * v[6] as usize + a];
                            mesh.points.push(((lo + hi) / 2.0) as f32 as f64);
                        }
                        // Each face a base whose normal points to the apex, as VTK's.
                        for f in [
                            [0, 1, 2, 3],
                            [4, 7, 6, 5],
                            [0, 4, 5, 1],
                            [1, 5, 6, 2],
                            [2, 6, 7, 3],
                            [3, 7, 4, 0],
                        ] {
                            push(&mut mesh, 14, &[v[f[0]], v[f[1]], v[f[2]], v[f[3]], c]);
                        }
                    }
                    _ => {
                        for path in [[1, 2], [1, 5], [3, 2], [3, 7], [4, 5], [4, 7]] {
                            push(&mut mesh, 10, &[v[0], v[path[0]], v[path[1]], v[6]]);
                        }
                    }
                }
            }
        }
    }
    mesh
}
