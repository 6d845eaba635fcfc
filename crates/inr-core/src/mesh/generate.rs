//! Meshes made from a description: a box of hexahedra or tetrahedra, for
//! resampling targets, the `inr synthetic` command and tests.

use super::{CellType, Mesh};

/// A box `[lo, hi]` of `cells` hexahedra per axis, each split into 6
/// tetrahedra around its main diagonal (the Kuhn subdivision, conforming
/// across faces), or kept as hexahedra. Points are f32 as simulation meshes
/// often are.
pub fn box_mesh(cells: [usize; 3], lo: [f64; 3], hi: [f64; 3], tetrahedra: bool) -> Mesh {
    let n = [cells[0] + 1, cells[1] + 1, cells[2] + 1];
    let id = |i: usize, j: usize, k: usize| (i + n[0] * (j + n[1] * k)) as u64;
    let mut points = Vec::with_capacity(3 * n[0] * n[1] * n[2]);
    for k in 0..n[2] {
        for j in 0..n[1] {
            for i in 0..n[0] {
                for (a, idx) in [i, j, k].into_iter().enumerate() {
                    let x = lo[a] + (hi[a] - lo[a]) * idx as f64 / cells[a] as f64;
                    points.push(x as f32 as f64);
                }
            }
        }
    }
    let (mut offsets, mut connectivity, mut types) = (vec![0u64], Vec::new(), Vec::new());
    for k in 0..cells[2] {
        for j in 0..cells[1] {
            for i in 0..cells[0] {
                // VTK hexahedron order: bottom face counter-clockwise, then top.
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
                if tetrahedra {
                    // Paths from corner 0 to corner 6 along the cube's edges.
                    for path in [[1, 2], [1, 5], [3, 2], [3, 7], [4, 5], [4, 7]] {
                        connectivity.extend([v[0], v[path[0]], v[path[1]], v[6]]);
                        types.push(CellType::Tetra.code());
                        offsets.push(connectivity.len() as u64);
                    }
                } else {
                    connectivity.extend(v);
                    types.push(CellType::Hexahedron.code());
                    offsets.push(connectivity.len() as u64);
                }
            }
        }
    }
    Mesh {
        points,
        offsets,
        connectivity,
        types,
        points_f32: true,
    }
}
