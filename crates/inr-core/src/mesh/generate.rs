//! Meshes made from a description: a box of hexahedra or tetrahedra, for
//! resampling targets, the `inr synthetic` command and tests.

use super::{CellType, Mesh};

/// A box `[lo, hi]` of `cells` hexahedra per axis, each split into 6
/// tetrahedra around its main diagonal (the Kuhn subdivision, conforming
/// across faces), or kept as hexahedra. Points are f32 as simulation meshes
/// often are.
pub fn box_mesh(cells: [usize; 3], lo: [f64; 3], hi: [f64; 3], tetrahedra: bool) -> Mesh {
    let mut mesh = Mesh {
        points: box_points(cells, lo, hi),
        offsets: vec![0],
        connectivity: Vec::new(),
        types: Vec::new(),
        points_f32: true,
    };
    for (_, v) in cubes(cells) {
        if tetrahedra {
            for tet in kuhn_tetrahedra(&v) {
                mesh.push_cell(CellType::Tetra, &tet);
            }
        } else {
            mesh.push_cell(CellType::Hexahedron, &v);
        }
    }
    mesh
}

/// The points of a box `[lo, hi]` of `cells` cubes per axis, x fastest, each
/// coordinate rounded to f32.
pub fn box_points(cells: [usize; 3], lo: [f64; 3], hi: [f64; 3]) -> Vec<f64> {
    let n = cells.map(|c| c + 1);
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
    points
}

/// Each cube `[i, j, k]` of a box of `cells` cubes per axis (x fastest),
/// with its corners' point ids (points numbered x fastest) in VTK's
/// hexahedron order: the bottom face counter-clockwise, then the top.
pub fn cubes(cells: [usize; 3]) -> impl Iterator<Item = ([usize; 3], [u64; 8])> {
    let n = cells.map(|c| c + 1);
    let id = move |i: usize, j: usize, k: usize| (i + n[0] * (j + n[1] * k)) as u64;
    (0..cells[2]).flat_map(move |k| {
        (0..cells[1]).flat_map(move |j| {
            (0..cells[0]).map(move |i| {
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
                ([i, j, k], v)
            })
        })
    })
}

/// The 6 tetrahedra of a cube with corners `v` (VTK hexahedron order), one
/// per path from corner 0 to corner 6 along the cube's edges.
pub fn kuhn_tetrahedra(v: &[u64; 8]) -> [[u64; 4]; 6] {
    [[1, 2], [1, 5], [3, 2], [3, 7], [4, 5], [4, 7]].map(|p| [v[0], v[p[0]], v[p[1]], v[6]])
}
