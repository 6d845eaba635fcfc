//! Meshes for tests: every cell type the format stores, and a mixed mesh of
//! the linear 3D types.

use inr_core::mesh::generate::{box_points, cubes, kuhn_tetrahedra};
use inr_core::mesh::{CellType, Mesh};

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
    let mut mesh = Mesh {
        points: box_points(n, [0.0; 3], [1.0; 3]),
        offsets: vec![0],
        connectivity: Vec::new(),
        types: Vec::new(),
        points_f32: true,
    };
    for ([i, j, k], v) in cubes(n) {
        match (i + j + k) % 5 {
            0 => mesh.push_cell(CellType::Hexahedron, &v),
            1 => mesh.push_cell(
                CellType::Voxel,
                &[v[0], v[1], v[3], v[2], v[4], v[5], v[7], v[6]],
            ),
            2 => {
                // Two wedges: triangles in the xy faces, extruded along
                // z; VTK's base triangle faces away from the top one.
                mesh.push_cell(CellType::Wedge, &[v[0], v[2], v[1], v[4], v[6], v[5]]);
                mesh.push_cell(CellType::Wedge, &[v[0], v[3], v[2], v[4], v[7], v[6]]);
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
                    mesh.push_cell(CellType::Pyramid, &[v[f[0]], v[f[1]], v[f[2]], v[f[3]], c]);
                }
            }
            _ => {
                for tet in kuhn_tetrahedra(&v) {
                    mesh.push_cell(CellType::Tetra, &tet);
                }
            }
        }
    }
    mesh
}
