//! Reference cells for the mesh modules' tests: one of each linear 3D type,
//! in VTK's point orders, not axis-aligned (but the voxel) and not regular,
//! so that the inversions and splits meet general shapes.

use super::Mesh;

pub const TET: [[f64; 3]; 4] = [
    [0.1, 0.2, 0.0],
    [1.3, 0.1, 0.2],
    [0.4, 1.2, -0.1],
    [0.5, 0.4, 1.1],
];
/// A distorted hexahedron: no face is planar.
pub const HEX: [[f64; 3]; 8] = [
    [0.0, 0.0, 0.0],
    [1.1, -0.1, 0.1],
    [1.3, 1.2, -0.1],
    [-0.1, 0.9, 0.05],
    [0.1, 0.05, 1.0],
    [0.9, 0.1, 1.3],
    [1.2, 1.0, 0.9],
    [0.05, 1.1, 1.2],
];
/// The box [1, 2] x [0, 0.5] x [-1, 1] in voxel order.
pub const VOXEL: [[f64; 3]; 8] = [
    [1.0, 0.0, -1.0],
    [2.0, 0.0, -1.0],
    [1.0, 0.5, -1.0],
    [2.0, 0.5, -1.0],
    [1.0, 0.0, 1.0],
    [2.0, 0.0, 1.0],
    [1.0, 0.5, 1.0],
    [2.0, 0.5, 1.0],
];
/// VTK order: the base triangle's normal points away from the top.
pub const WEDGE: [[f64; 3]; 6] = [
    [0.0, 0.0, 0.0],
    [0.0, 1.0, 0.0],
    [1.0, 0.0, 0.0],
    [0.1, 0.0, 1.0],
    [0.0, 1.1, 0.9],
    [1.1, 0.1, 1.2],
];
/// A planar base that is no parallelogram, so that pyramids split exactly.
pub const PYRAMID: [[f64; 3]; 5] = [
    [0.0, 0.0, 0.0],
    [1.0, 0.0, 0.0],
    [1.2, 1.0, 0.0],
    [0.0, 0.9, 0.0],
    [0.4, 0.6, 0.9],
];

/// A mesh of one cell of `vtk_type` on `points`.
pub fn single(vtk_type: u8, points: &[[f64; 3]]) -> Mesh {
    Mesh {
        points: points.iter().flatten().copied().collect(),
        offsets: vec![0, points.len() as u64],
        connectivity: (0..points.len() as u64).collect(),
        types: vec![vtk_type],
        points_f32: false,
    }
}
