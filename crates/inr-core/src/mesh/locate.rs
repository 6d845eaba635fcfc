//! Point location: which 3D cell of a mesh contains a point. Resampling a
//! mesh onto a regular grid marks the grid points that lie inside it (as
//! VTK's `vtkValidPointMask` does), millions of queries against millions of
//! cells, so the cells are indexed by a bounding-volume hierarchy and each
//! query tests only the few cells whose boxes hold the point.
//!
//! The locator stores the hierarchy and the cells' boxes, not the points:
//! every query takes the mesh it was built over. It is `Send + Sync`, so
//! queries can run in parallel.
//!
//! Inside tests follow VTK's cell definitions and point orderings: tetrahedra
//! by barycentric coordinates; hexahedra, voxels, wedges and pyramids by
//! inverting their isoparametric maps with Newton's method, as VTK's
//! `EvaluatePosition` does; quadratic cells by their corner points.

use rayon::prelude::*;

use super::Mesh;

/// How far outside a cell's parametric domain a point may lie and still
/// count as inside: points on shared faces and on the boundary are inside.
const PARAMETRIC_TOL: f64 = 1e-6;
/// Cell boxes are padded by this fraction of their size (the sum of their
/// extents), enough to hold every point the inside tests accept: going
/// `PARAMETRIC_TOL` outside in each parametric coordinate moves a point by
/// at most about 3e-6 of the size.
const BOX_PAD: f64 = 1e-5;
/// Newton iterations before giving up; converging ones take a handful.
const NEWTON_ITERATIONS: usize = 20;
/// Largest parametric step of a converged Newton iteration: convergence is
/// quadratic, so the error left after it is far below `PARAMETRIC_TOL`.
const NEWTON_CONVERGED: f64 = 1e-8;
/// A Jacobian whose determinant is below this fraction of the product of its
/// column lengths is singular: the cell is degenerate there.
const SINGULAR: f64 = 1e-12;
/// Most cells in a leaf of the hierarchy.
const LEAF_CELLS: usize = 4;
/// Subtrees over at least this many cells are built in parallel.
const PARALLEL_CELLS: usize = 1 << 14;
/// Deepest path through the hierarchy: each level at least halves the cells,
/// and a mesh has at most 2^32 cells (`MAX_MESH_ITEMS`).
const MAX_DEPTH: usize = 64;

/// The linear 3D shapes the cells reduce to (quadratic cells by their corners).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    Tetra,
    Hexahedron,
    /// Stored in VTK's voxel order, read in hexahedron order.
    Voxel,
    Wedge,
    Pyramid,
}

/// Corner points of a cell, in the shape's order (voxels as hexahedra).
pub(super) type Corners = [[f64; 3]; 8];

/// Voxel point of each hexahedron corner: voxels number their points
/// x fastest, then y, then z; hexahedra go around each face.
const VOXEL_AS_HEX: [usize; 8] = [0, 1, 3, 2, 4, 5, 7, 6];

/// Parametric corner of each hexahedron point (also the pyramid's base).
const HEX_CORNERS: [[bool; 3]; 8] = [
    [false, false, false],
    [true, false, false],
    [true, true, false],
    [false, true, false],
    [false, false, true],
    [true, false, true],
    [true, true, true],
    [false, true, true],
];

impl Shape {
    /// The shape of a VTK cell type; `None` for cells without volume.
    pub(super) fn of(vtk_type: u8) -> Option<Shape> {
        use super::CellType::*;
        Some(match super::CellType::from_code(vtk_type)? {
            Tetra | QuadraticTetra => Shape::Tetra,
            Voxel => Shape::Voxel,
            Hexahedron | QuadraticHexahedron => Shape::Hexahedron,
            Wedge | QuadraticWedge => Shape::Wedge,
            Pyramid | QuadraticPyramid => Shape::Pyramid,
            _ => return None,
        })
    }

    /// Number of corner points.
    pub(super) fn corners(self) -> usize {
        match self {
            Shape::Tetra => 4,
            Shape::Hexahedron | Shape::Voxel => 8,
            Shape::Wedge => 6,
            Shape::Pyramid => 5,
        }
    }

    /// Where Newton's method starts: at or near the parametric center.
    fn center(self) -> [f64; 3] {
        match self {
            Shape::Tetra => [0.25; 3],
            Shape::Hexahedron | Shape::Voxel => [0.5; 3],
            Shape::Wedge => [1.0 / 3.0, 1.0 / 3.0, 0.5],
            Shape::Pyramid => [0.5, 0.5, 0.2],
        }
    }

    /// Whether parametric coordinates lie in the cell, within `tol`.
    fn in_domain(self, u: [f64; 3], tol: f64) -> bool {
        let unit = |x: f64| x >= -tol && x <= 1.0 + tol;
        match self {
            Shape::Tetra => u.iter().all(|&x| x >= -tol) && u[0] + u[1] + u[2] <= 1.0 + tol,
            Shape::Hexahedron | Shape::Voxel | Shape::Pyramid => u.iter().all(|&x| unit(x)),
            Shape::Wedge => u[0] >= -tol && u[1] >= -tol && u[0] + u[1] <= 1.0 + tol && unit(u[2]),
        }
    }

    /// VTK's interpolation functions at `u` and their derivatives in r, s, t.
    fn weights(self, u: [f64; 3]) -> ([f64; 8], [[f64; 3]; 8]) {
        let [r, s, t] = u;
        let mut w = [0.0; 8];
        let mut dw = [[0.0; 3]; 8];
        // A linear factor along one parametric axis: u at the far end, 1 - u
        // at the near one, and its derivative.
        let f = |far: bool, x: f64| if far { (x, 1.0) } else { (1.0 - x, -1.0) };
        match self {
            Shape::Tetra => {
                w[..4].copy_from_slice(&[1.0 - r - s - t, r, s, t]);
                dw[..4].copy_from_slice(&[
                    [-1.0; 3],
                    [1.0, 0.0, 0.0],
                    [0.0, 1.0, 0.0],
                    [0.0, 0.0, 1.0],
                ]);
            }
            Shape::Hexahedron | Shape::Voxel => {
                for (k, c) in HEX_CORNERS.iter().enumerate() {
                    let ((a, da), (b, db), (g, dg)) = (f(c[0], r), f(c[1], s), f(c[2], t));
                    w[k] = a * b * g;
                    dw[k] = [da * b * g, a * db * g, a * b * dg];
                }
            }
            Shape::Wedge => {
                let tri = [1.0 - r - s, r, s];
                let dtri = [[-1.0, -1.0], [1.0, 0.0], [0.0, 1.0]];
                for k in 0..6 {
                    let (g, dg) = f(k >= 3, t);
                    w[k] = tri[k % 3] * g;
                    dw[k] = [dtri[k % 3][0] * g, dtri[k % 3][1] * g, tri[k % 3] * dg];
                }
            }
            Shape::Pyramid => {
                for (k, c) in HEX_CORNERS[..4].iter().enumerate() {
                    let ((a, da), (b, db)) = (f(c[0], r), f(c[1], s));
                    w[k] = a * b * (1.0 - t);
                    dw[k] = [da * b * (1.0 - t), a * db * (1.0 - t), -a * b];
                }
                w[4] = t;
                dw[4] = [0.0, 0.0, 1.0];
            }
        }
        (w, dw)
    }
}

/// Position and Jacobian columns (derivatives in r, s, t) of a cell's
/// isoparametric map at parametric coordinates `u`.
pub(super) fn map(shape: Shape, c: &Corners, u: [f64; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let (w, dw) = shape.weights(u);
    let mut x = [0.0; 3];
    let mut jac = [[0.0; 3]; 3];
    for k in 0..shape.corners() {
        for a in 0..3 {
            x[a] += w[k] * c[k][a];
            for (col, d) in jac.iter_mut().zip(dw[k]) {
                col[a] += d * c[k][a];
            }
        }
    }
    (x, jac)
}

/// The parametric coordinates of `p` in a cell, or `None` when the map is
/// singular on the way or Newton's method does not converge (degenerate
/// cells, points far outside).
pub(super) fn parametric(shape: Shape, c: &Corners, p: [f64; 3]) -> Option<[f64; 3]> {
    if shape == Shape::Tetra {
        // The map is linear: one solve is exact.
        let (x, jac) = map(shape, c, [0.0; 3]);
        return solve(jac, sub(p, x));
    }
    let mut u = shape.center();
    for _ in 0..NEWTON_ITERATIONS {
        let (x, jac) = map(shape, c, u);
        let step = solve(jac, sub(p, x))?;
        // Keeping iterates near the cell stops a diverging run from
        // overflowing; a point inside never needs them farther out.
        for a in 0..3 {
            u[a] = (u[a] + step[a]).clamp(-1.0, 2.0);
        }
        if step.iter().all(|d| d.abs() < NEWTON_CONVERGED) {
            return Some(u);
        }
    }
    None
}

/// Whether `p` lies in a cell, within the tolerance.
fn cell_holds(shape: Shape, c: &Corners, p: [f64; 3]) -> bool {
    if shape == Shape::Pyramid {
        // Every (r, s) maps to the apex, where the map is singular: Newton
        // cannot settle there, so points at the apex of a pyramid with
        // volume are inside without it.
        let (lo, hi) = padded_box(&c[..5]);
        let size: f64 = (0..3).map(|a| hi[a] - lo[a]).sum();
        let apex = c[4];
        if (0..3).all(|a| (p[a] - apex[a]).abs() <= PARAMETRIC_TOL * size) {
            return regular(&map(shape, c, shape.center()).1);
        }
    }
    parametric(shape, c, p).is_some_and(|u| shape.in_domain(u, PARAMETRIC_TOL))
}

/// Whether a Jacobian (by columns) is far enough from singular to invert;
/// false when it is not finite.
fn regular(jac: &[[f64; 3]; 3]) -> bool {
    let [c0, c1, c2] = *jac;
    det3(c0, c1, c2).abs() > SINGULAR * norm(c0) * norm(c1) * norm(c2)
}

/// The solution of `jac * x = b` (Cramer's rule; `jac` by columns), or
/// `None` when `jac` is singular or not finite.
fn solve(jac: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    if !regular(&jac) {
        return None;
    }
    let [c0, c1, c2] = jac;
    let det = det3(c0, c1, c2);
    Some([
        det3(b, c1, c2) / det,
        det3(c0, b, c2) / det,
        det3(c0, c1, b) / det,
    ])
}

fn det3(a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> f64 {
    a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
        + a[2] * (b[0] * c[1] - b[1] * c[0])
}

fn norm(a: [f64; 3]) -> f64 {
    (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt()
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// The bounding box of some points, padded to hold every point that the
/// inside tests accept.
fn padded_box(points: &[[f64; 3]]) -> ([f64; 3], [f64; 3]) {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in points {
        for a in 0..3 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let pad = BOX_PAD * (0..3).map(|a| hi[a] - lo[a]).sum::<f64>();
    (lo.map(|x| x - pad), hi.map(|x| x + pad))
}

/// The shape and corners of cell `c`, or `None` for a cell without volume.
/// Reads through `get` so that a mesh other than the one indexed gives
/// wrong answers rather than a panic.
pub(super) fn cell_corners(mesh: &Mesh, c: usize) -> Option<(Shape, Corners)> {
    let shape = Shape::of(*mesh.types.get(c)?)?;
    let (start, end) = (*mesh.offsets.get(c)?, *mesh.offsets.get(c + 1)?);
    let ids = mesh.connectivity.get(start as usize..end as usize)?;
    if ids.len() < shape.corners() {
        return None;
    }
    let mut corners = [[0.0; 3]; 8];
    for (k, corner) in corners.iter_mut().take(shape.corners()).enumerate() {
        let id = if shape == Shape::Voxel {
            ids[VOXEL_AS_HEX[k]]
        } else {
            ids[k]
        };
        let i = usize::try_from(id).ok()?.checked_mul(3)?;
        corner.copy_from_slice(mesh.points.get(i..i.checked_add(3)?)?);
    }
    Some((shape, corners))
}

/// A box, rounded outwards to f32 to halve the index's memory.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bounds {
    lo: [f32; 3],
    hi: [f32; 3],
}

impl Bounds {
    const EMPTY: Bounds = Bounds {
        lo: [f32::INFINITY; 3],
        hi: [f32::NEG_INFINITY; 3],
    };

    /// The box of f64 bounds, rounded outwards.
    fn outside(lo: [f64; 3], hi: [f64; 3]) -> Bounds {
        Bounds {
            lo: lo.map(f32_below),
            hi: hi.map(f32_above),
        }
    }

    fn holds(&self, p: [f64; 3]) -> bool {
        (0..3).all(|a| p[a] >= self.lo[a] as f64 && p[a] <= self.hi[a] as f64)
    }

    /// Twice the center along `axis` (the order is all that matters).
    fn center(&self, axis: usize) -> f64 {
        self.lo[axis] as f64 + self.hi[axis] as f64
    }

    fn grow(&mut self, other: &Bounds) {
        for a in 0..3 {
            self.lo[a] = self.lo[a].min(other.lo[a]);
            self.hi[a] = self.hi[a].max(other.hi[a]);
        }
    }
}

/// A node of the hierarchy: a box and either two children or up to
/// `LEAF_CELLS` cells.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Node {
    bounds: Bounds,
    /// Inner node: index of the second child (the first follows the node).
    /// Leaf: index of its first cell in `CellLocator::cells`.
    link: u32,
    /// Cells of a leaf; 0 for an inner node.
    count: u32,
}

/// A 3D cell and its padded box.
#[derive(Clone, Copy, Debug, PartialEq)]
struct CellBox {
    bounds: Bounds,
    cell: u32,
}

/// An index over the 3D cells of a mesh for point location. Built once
/// (deterministically, in parallel), queried from any number of threads.
/// It holds about 44 bytes per cell and no copy of the points: queries take
/// the mesh it was built over.
#[derive(Clone, Debug, PartialEq)]
pub struct CellLocator {
    /// Depth-first: the root first, each inner node followed by its first child.
    nodes: Vec<Node>,
    /// Cells, leaf by leaf, with their boxes: testing a box is much
    /// cheaper than reading a cell's points (`MAX_MESH_ITEMS` makes every id
    /// fit in u32).
    cells: Vec<CellBox>,
    /// Cells of the mesh indexed, to refuse queries against another mesh.
    num_cells: usize,
}

impl CellLocator {
    /// Builds the index over the mesh's 3D cells (cells of other dimensions
    /// hold no points and are left out).
    pub fn new(mesh: &Mesh) -> CellLocator {
        let mut cells: Vec<CellBox> = (0..mesh.num_cells())
            .into_par_iter()
            .filter_map(|c| cell_box(mesh, c))
            .collect();
        let empty = Node {
            bounds: Bounds::EMPTY,
            link: 0,
            count: 0,
        };
        let mut nodes = vec![empty; subtree_nodes(cells.len())];
        build(&mut cells, &mut nodes, 0, 0);
        CellLocator {
            nodes,
            cells,
            num_cells: mesh.num_cells(),
        }
    }

    /// The cell containing `p` (any one when several do, e.g. on a shared
    /// face), or `None`. `mesh` must be the mesh the locator was built over;
    /// for a mesh with another cell count the answer is `None`.
    pub fn find_cell(&self, mesh: &Mesh, p: [f64; 3]) -> Option<usize> {
        if mesh.num_cells() != self.num_cells || self.nodes.is_empty() {
            return None;
        }
        // Second children still to visit.
        let mut pending = [0u32; MAX_DEPTH];
        let mut top = 0;
        let mut at = 0usize;
        loop {
            let node = &self.nodes[at];
            if node.bounds.holds(p) {
                if node.count == 0 {
                    pending[top] = node.link;
                    top += 1;
                    at += 1;
                    continue;
                }
                let first = node.link as usize;
                let leaf = &self.cells[first..first + node.count as usize];
                let holds =
                    |b: &&CellBox| b.bounds.holds(p) && contains_in(mesh, b.cell as usize, p);
                if let Some(b) = leaf.iter().find(holds) {
                    return Some(b.cell as usize);
                }
            }
            if top == 0 {
                return None;
            }
            top -= 1;
            at = pending[top] as usize;
        }
    }

    /// Whether `p` is inside the mesh: in some 3D cell, within a parametric
    /// tolerance of 1e-6 (points on faces and on the boundary are inside).
    pub fn contains(&self, mesh: &Mesh, p: [f64; 3]) -> bool {
        self.find_cell(mesh, p).is_some()
    }
}

/// Whether cell `c` of the mesh holds `p`.
fn contains_in(mesh: &Mesh, c: usize, p: [f64; 3]) -> bool {
    cell_corners(mesh, c).is_some_and(|(shape, corners)| cell_holds(shape, &corners, p))
}

/// A 3D cell's box, padded to hold every point the cell's test accepts.
fn cell_box(mesh: &Mesh, c: usize) -> Option<CellBox> {
    let (shape, corners) = cell_corners(mesh, c)?;
    let (lo, hi) = padded_box(&corners[..shape.corners()]);
    Some(CellBox {
        bounds: Bounds::outside(lo, hi),
        cell: u32::try_from(c).ok()?,
    })
}

/// The largest f32 not above `x`.
fn f32_below(x: f64) -> f32 {
    let f = x as f32;
    if f as f64 > x {
        -next_up(-f)
    } else {
        f
    }
}

/// The smallest f32 not below `x`.
fn f32_above(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) < x {
        next_up(f)
    } else {
        f
    }
}

/// The next f32 towards +infinity (`f32::next_up` is newer than this
/// crate's minimum Rust); `f` is below +infinity and not NaN.
fn next_up(f: f32) -> f32 {
    if f == 0.0 {
        f32::from_bits(1)
    } else if f > 0.0 {
        f32::from_bits(f.to_bits() + 1)
    } else {
        f32::from_bits(f.to_bits() - 1)
    }
}

/// Cells in the first child of a node over `n > LEAF_CELLS` cells: the
/// largest `LEAF_CELLS * 2^k` below `n`. The first child is then a complete
/// tree of full leaves, so the size of every subtree is known before it is
/// built and subtrees can be built in parallel into their own slices.
fn first_child_cells(n: usize) -> usize {
    let mut first = LEAF_CELLS;
    while 2 * first < n {
        first *= 2;
    }
    first
}

/// Nodes of the subtree over `n` cells.
fn subtree_nodes(n: usize) -> usize {
    match n {
        0 => 0,
        1..=LEAF_CELLS => 1,
        _ => {
            let first = first_child_cells(n);
            // The first child is complete: 2 * leaves - 1 nodes.
            1 + (2 * (first / LEAF_CELLS) - 1) + subtree_nodes(n - first)
        }
    }
}

/// Builds the subtree over `items` into `nodes` (exactly
/// `subtree_nodes(items.len())` long), whose first node has index
/// `first_node` and whose first cell goes to `first_item` of the cell list.
fn build(items: &mut [CellBox], nodes: &mut [Node], first_item: usize, first_node: usize) {
    let Some((root, rest)) = nodes.split_first_mut() else {
        return;
    };
    root.bounds = bounding(items);
    // Indices fit in u32: there are at most 2^32 cells, and fewer nodes.
    if items.len() <= LEAF_CELLS {
        root.link = first_item as u32;
        root.count = items.len() as u32;
        return;
    }
    // Split along the axis where the box centers spread most, ordering ties
    // by cell id so that the build is deterministic.
    let axis = widest_axis(items);
    let first = first_child_cells(items.len());
    items.select_nth_unstable_by(first, |a, b| {
        a.bounds
            .center(axis)
            .total_cmp(&b.bounds.center(axis))
            .then(a.cell.cmp(&b.cell))
    });
    let first_nodes = subtree_nodes(first);
    let (items_a, items_b) = items.split_at_mut(first);
    let (nodes_a, nodes_b) = rest.split_at_mut(first_nodes);
    let second_item = first_item + first;
    let second_node = first_node + 1 + first_nodes;
    root.link = second_node as u32;
    if first >= PARALLEL_CELLS {
        rayon::join(
            || build(items_a, nodes_a, first_item, first_node + 1),
            || build(items_b, nodes_b, second_item, second_node),
        );
    } else {
        build(items_a, nodes_a, first_item, first_node + 1);
        build(items_b, nodes_b, second_item, second_node);
    }
}

/// The box holding all the cells' boxes.
fn bounding(items: &[CellBox]) -> Bounds {
    let mut bounds = Bounds::EMPTY;
    for item in items {
        bounds.grow(&item.bounds);
    }
    bounds
}

/// The axis along which the cells' box centers spread most.
fn widest_axis(items: &[CellBox]) -> usize {
    let spread = |a: usize| {
        let centers = items.iter().map(|i| i.bounds.center(a));
        let (lo, hi) = centers.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        hi - lo
    };
    let s = [spread(0), spread(1), spread(2)];
    (0..3).fold(0, |best, a| if s[a] > s[best] { a } else { best })
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::mesh::generate::box_mesh;
    use crate::mesh::test_cells::{single, HEX, PYRAMID, TET, VOXEL, WEDGE};

    /// The mesh with only the cells `keep` accepts (points unchanged).
    fn subset(mesh: &Mesh, keep: impl Fn(usize) -> bool) -> Mesh {
        let mut out = Mesh {
            points: mesh.points.clone(),
            offsets: vec![0],
            connectivity: Vec::new(),
            types: Vec::new(),
            points_f32: mesh.points_f32,
        };
        for c in (0..mesh.num_cells()).filter(|&c| keep(c)) {
            let ids = &mesh.connectivity[mesh.offsets[c] as usize..mesh.offsets[c + 1] as usize];
            out.connectivity.extend_from_slice(ids);
            out.offsets.push(out.connectivity.len() as u64);
            out.types.push(mesh.types[c]);
        }
        out
    }

    fn mean(points: &[[f64; 3]]) -> [f64; 3] {
        let n = points.len() as f64;
        std::array::from_fn(|a| points.iter().map(|p| p[a]).sum::<f64>() / n)
    }

    fn lerp(a: [f64; 3], b: [f64; 3], t: f64) -> [f64; 3] {
        std::array::from_fn(|i| a[i] + t * (b[i] - a[i]))
    }

    /// Faces of each linear type, by point index in VTK's order.
    fn faces(vtk_type: u8) -> Vec<Vec<usize>> {
        let f: &[&[usize]] = match vtk_type {
            10 => &[&[0, 1, 3], &[1, 2, 3], &[2, 0, 3], &[0, 2, 1]],
            11 => &[
                &[0, 4, 6, 2],
                &[1, 3, 7, 5],
                &[0, 1, 5, 4],
                &[2, 6, 7, 3],
                &[0, 2, 3, 1],
                &[4, 5, 7, 6],
            ],
            12 => &[
                &[0, 4, 7, 3],
                &[1, 2, 6, 5],
                &[0, 1, 5, 4],
                &[3, 7, 6, 2],
                &[0, 3, 2, 1],
                &[4, 5, 6, 7],
            ],
            13 => &[
                &[0, 1, 2],
                &[3, 5, 4],
                &[0, 3, 4, 1],
                &[1, 4, 5, 2],
                &[2, 5, 3, 0],
            ],
            14 => &[
                &[0, 3, 2, 1],
                &[0, 1, 4],
                &[1, 2, 4],
                &[2, 3, 4],
                &[3, 0, 4],
            ],
            _ => unreachable!(),
        };
        f.iter().map(|f| f.to_vec()).collect()
    }

    /// Checks one cell: its centroid and points just inside each face are
    /// in it, points just outside are not.
    fn check_cell(vtk_type: u8, linear_type: u8, points: &[[f64; 3]]) {
        let mesh = single(vtk_type, points);
        mesh.validate(points.len() as u64, 1).unwrap();
        let locator = CellLocator::new(&mesh);
        let corners = &points[..Shape::of(vtk_type).unwrap().corners()];
        let center = mean(corners);
        assert_eq!(locator.find_cell(&mesh, center), Some(0), "type {vtk_type}");
        for face in faces(linear_type) {
            let on = mean(&face.iter().map(|&k| corners[k]).collect::<Vec<_>>());
            assert!(locator.contains(&mesh, on), "type {vtk_type} face {face:?}");
            assert!(
                locator.contains(&mesh, lerp(on, center, 1e-3)),
                "type {vtk_type} face {face:?}"
            );
            assert!(
                !locator.contains(&mesh, lerp(on, center, -1e-3)),
                "type {vtk_type} face {face:?}"
            );
            assert!(
                !locator.contains(&mesh, lerp(on, center, -0.5)),
                "type {vtk_type} face {face:?}"
            );
        }
        for &corner in corners {
            assert!(
                locator.contains(&mesh, corner),
                "type {vtk_type} corner {corner:?}"
            );
        }
    }

    /// Corners followed by mid-edge nodes, as VTK's quadratic cells list them.
    fn quadratic(linear_type: u8, corners: &[[f64; 3]]) -> Vec<[f64; 3]> {
        let mut points = corners.to_vec();
        points.extend(
            crate::mesh::refine::edges_of(linear_type)
                .expect("a linear 3D type")
                .iter()
                .map(|&[a, b]| lerp(corners[a], corners[b], 0.5)),
        );
        points
    }

    #[test]
    fn each_linear_cell_type_alone() {
        check_cell(10, 10, &TET);
        check_cell(12, 12, &HEX);
        check_cell(11, 11, &VOXEL);
        check_cell(13, 13, &WEDGE);
        check_cell(14, 14, &PYRAMID);
    }

    #[test]
    fn quadratic_cells_by_their_corners() {
        check_cell(24, 10, &quadratic(10, &TET));
        check_cell(25, 12, &quadratic(12, &HEX));
        check_cell(26, 13, &quadratic(13, &WEDGE));
        check_cell(27, 14, &quadratic(14, &PYRAMID));
    }

    #[test]
    fn voxel_order_differs_from_hexahedron_order() {
        // The voxel's points in hexahedron order are the same box.
        let hex: Vec<[f64; 3]> = VOXEL_AS_HEX.iter().map(|&k| VOXEL[k]).collect();
        check_cell(12, 12, &hex);
        // Read as a hexahedron, the voxel's own order twists the cell:
        // (1.05, 0.45) is at r = 1.0625 of its bow-tie faces.
        let p = [1.05, 0.45, 0.0];
        let voxel = single(11, &VOXEL);
        assert!(CellLocator::new(&voxel).contains(&voxel, p));
        let twisted = single(12, &VOXEL);
        assert!(!CellLocator::new(&twisted).contains(&twisted, p));
    }

    #[test]
    fn points_near_the_tolerance() {
        let hex: Vec<[f64; 3]> = VOXEL_AS_HEX.iter().map(|&k| VOXEL[k]).collect();
        let mesh = single(12, &hex);
        let locator = CellLocator::new(&mesh);
        // The face x = 2 of a cell 1 wide: 1e-6 is the parametric tolerance.
        assert!(locator.contains(&mesh, [2.0 + 1e-9, 0.25, 0.0]));
        assert!(locator.contains(&mesh, [2.0 + 5e-7, 0.25, 0.0]));
        assert!(!locator.contains(&mesh, [2.0 + 2e-6, 0.25, 0.0]));
        assert!(!locator.contains(&mesh, [2.0 + 1e-4, 0.25, 0.0]));
    }

    #[test]
    fn pyramid_apex_and_near_it() {
        let mesh = single(14, &PYRAMID);
        let locator = CellLocator::new(&mesh);
        let apex = PYRAMID[4];
        assert!(locator.contains(&mesh, apex));
        let base = mean(&PYRAMID[..4]);
        for t in [1e-12, 1e-9, 1e-6, 1e-3] {
            assert!(locator.contains(&mesh, lerp(apex, base, t)), "{t}");
            assert!(
                !locator.contains(&mesh, lerp(apex, base, -t.max(1e-5))),
                "{t}"
            );
        }
    }

    #[test]
    fn distorted_hexahedron_against_its_trilinear_map() {
        let mut c = [[0.0; 3]; 8];
        c.copy_from_slice(&HEX);
        let mesh = single(12, &HEX);
        let locator = CellLocator::new(&mesh);
        let n = 12;
        let at = |i: usize| (i as f64 + 0.5) / n as f64;
        for i in 0..n {
            for j in 0..n {
                for k in 0..n {
                    let u = [at(i), at(j), at(k)];
                    let (p, _) = map(Shape::Hexahedron, &c, u);
                    assert!(locator.contains(&mesh, p), "{u:?}");
                    let back = parametric(Shape::Hexahedron, &c, p).unwrap();
                    assert!(
                        (0..3).all(|a| (back[a] - u[a]).abs() < 1e-9),
                        "{u:?} {back:?}"
                    );
                    // Just outside each face of the parametric cube.
                    for a in 0..3 {
                        for v in [-0.02, 1.02] {
                            let mut w = u;
                            w[a] = v;
                            let (q, _) = map(Shape::Hexahedron, &c, w);
                            assert!(!locator.contains(&mesh, q), "{w:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn wedge_and_pyramid_against_their_maps() {
        let mut w = [[0.0; 3]; 8];
        w[..6].copy_from_slice(&WEDGE);
        let mut y = [[0.0; 3]; 8];
        y[..5].copy_from_slice(&PYRAMID);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..2000 {
            let u: [f64; 3] = std::array::from_fn(|_| rng.gen_range(0.01..0.99));
            if u[0] + u[1] < 0.99 {
                let (p, _) = map(Shape::Wedge, &w, u);
                let back = parametric(Shape::Wedge, &w, p).unwrap();
                assert!(
                    (0..3).all(|a| (back[a] - u[a]).abs() < 1e-9),
                    "{u:?} {back:?}"
                );
            }
            let (p, _) = map(Shape::Pyramid, &y, u);
            let back = parametric(Shape::Pyramid, &y, p).unwrap();
            assert!(
                (0..3).all(|a| (back[a] - u[a]).abs() < 1e-8),
                "{u:?} {back:?}"
            );
        }
    }

    /// Random points in and around `lo..hi`, away from the planes `avoid`
    /// (axis, value) where rounding could decide either way.
    fn random_points(
        lo: [f64; 3],
        hi: [f64; 3],
        avoid: &[(usize, f64)],
        n: usize,
    ) -> Vec<[f64; 3]> {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut out = Vec::new();
        while out.len() < n {
            let p: [f64; 3] = std::array::from_fn(|a| {
                let pad = 0.2 * (hi[a] - lo[a]);
                rng.gen_range(lo[a] - pad..hi[a] + pad)
            });
            let near = |(a, v): (usize, f64)| (p[a] - v).abs() < 1e-6;
            let planes = (0..3).flat_map(|a| [(a, lo[a]), (a, hi[a])]);
            if !planes.chain(avoid.iter().copied()).any(near) {
                out.push(p);
            }
        }
        out
    }

    fn in_box(p: [f64; 3], lo: [f64; 3], hi: [f64; 3]) -> bool {
        (0..3).all(|a| p[a] >= lo[a] && p[a] <= hi[a])
    }

    #[test]
    fn random_points_against_a_box() {
        let (lo, hi) = ([-1.0, 0.5, 2.0], [3.0, 1.5, 4.5]);
        for tetrahedra in [false, true] {
            let mesh = box_mesh([5, 3, 4], lo, hi, tetrahedra);
            let locator = CellLocator::new(&mesh);
            let mut inside = 0;
            for p in random_points(lo, hi, &[], 5000) {
                let expected = in_box(p, lo, hi);
                assert_eq!(
                    locator.contains(&mesh, p),
                    expected,
                    "{p:?} tets {tetrahedra}"
                );
                if let Some(c) = locator.find_cell(&mesh, p) {
                    assert!(contains_in(&mesh, c, p));
                    inside += 1;
                }
            }
            assert!(inside > 1500, "{inside}");
        }
    }

    #[test]
    fn random_points_against_an_l_shape() {
        let (lo, hi) = ([0.0, 0.0, 0.0], [1.0, 1.0, 0.5]);
        for tetrahedra in [false, true] {
            let full = box_mesh([4, 4, 2], lo, hi, tetrahedra);
            let centers = full.cell_centers();
            // Leave out the quarter x > 0.5, y > 0.5.
            let mesh = subset(&full, |c| centers[3 * c] < 0.5 || centers[3 * c + 1] < 0.5);
            assert_eq!(mesh.num_cells() * 4, full.num_cells() * 3);
            let locator = CellLocator::new(&mesh);
            for p in random_points(lo, hi, &[(0, 0.5), (1, 0.5)], 5000) {
                let expected = in_box(p, lo, hi) && !(p[0] > 0.5 && p[1] > 0.5);
                assert_eq!(
                    locator.contains(&mesh, p),
                    expected,
                    "{p:?} tets {tetrahedra}"
                );
            }
        }
    }

    #[test]
    fn shared_faces_edges_and_mesh_corners_are_inside() {
        for tetrahedra in [false, true] {
            let mesh = box_mesh([2, 2, 2], [0.0; 3], [1.0; 3], tetrahedra);
            let locator = CellLocator::new(&mesh);
            let on = [
                [0.5, 0.25, 0.25],
                [0.25, 0.5, 0.75],
                [0.5, 0.5, 0.5],
                [0.5, 0.5, 0.1],
                [0.0, 0.0, 0.0],
                [1.0, 1.0, 1.0],
                [1.0, 0.0, 1.0],
                [0.0, 1.0, 0.5],
                [1.0, 0.3, 0.7],
                [0.25, 0.25, 0.25],
                [0.75, 0.75, 0.75],
            ];
            for p in on {
                assert!(locator.contains(&mesh, p), "{p:?} tets {tetrahedra}");
            }
            for p in [
                [1.001, 0.5, 0.5],
                [-0.001, 0.0, 0.0],
                [0.5, 0.5, 1.01],
                [2.0, 2.0, 2.0],
            ] {
                assert!(!locator.contains(&mesh, p), "{p:?} tets {tetrahedra}");
            }
        }
    }

    #[test]
    fn index_agrees_with_testing_every_cell() {
        // Large enough to build in parallel; jittered so that boxes overlap
        // irregularly.
        let (lo, hi) = ([0.0; 3], [2.0, 2.0, 1.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (cells, tetrahedra) in [([20, 20, 10], true), ([12, 12, 6], false)] {
            let mut mesh = box_mesh(cells, lo, hi, tetrahedra);
            for x in mesh.points.iter_mut() {
                *x += rng.gen_range(-0.02..0.02);
            }
            let locator = CellLocator::new(&mesh);
            assert_eq!(locator, CellLocator::new(&mesh), "deterministic build");
            assert_eq!(locator.cells.len(), mesh.num_cells());
            for p in random_points(lo, hi, &[], 500) {
                let any = (0..mesh.num_cells())
                    .into_par_iter()
                    .any(|c| contains_in(&mesh, c, p));
                assert_eq!(locator.contains(&mesh, p), any, "{p:?}");
            }
        }
    }

    #[test]
    fn cells_without_volume_contain_nothing() {
        let mut mesh = box_mesh([2, 2, 1], [0.0; 3], [1.0; 3], false);
        // Quads, triangles, pixels, lines and vertices on the same points.
        let cells: [(u8, &[u64]); 7] = [
            (9, &[0, 1, 4, 3]),
            (5, &[0, 1, 4]),
            (8, &[0, 1, 3, 4]),
            (3, &[0, 13]),
            (1, &[4]),
            (7, &[0, 1, 2, 5, 4]),
            (22, &[0, 2, 8, 1, 5, 4]),
        ];
        mesh.offsets = vec![0];
        mesh.connectivity.clear();
        mesh.types.clear();
        for (t, ids) in cells {
            mesh.connectivity.extend_from_slice(ids);
            mesh.offsets.push(mesh.connectivity.len() as u64);
            mesh.types.push(t);
        }
        mesh.validate(mesh.num_points() as u64, 7).unwrap();
        let locator = CellLocator::new(&mesh);
        assert!(locator.nodes.is_empty());
        for p in random_points([0.0; 3], [1.0; 3], &[], 200)
            .into_iter()
            .chain([[0.25, 0.25, 0.0], [0.0; 3]])
        {
            assert!(!locator.contains(&mesh, p));
        }
    }

    #[test]
    fn degenerate_cells_contain_nothing() {
        let flat_hex: Vec<[f64; 3]> = HEX.iter().map(|p| [p[0], p[1], 0.0]).collect();
        let cases: Vec<(u8, Vec<[f64; 3]>)> = vec![
            (10, vec![[0.0; 3]; 4]),
            (
                10,
                vec![[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]],
            ),
            (12, vec![[0.5; 3]; 8]),
            (12, flat_hex),
            (11, VOXEL.iter().map(|p| [p[0], 0.0, p[2]]).collect()),
            (13, WEDGE.iter().map(|p| [p[0], p[1], 0.0]).collect()),
            (14, PYRAMID.iter().map(|p| [p[0], p[1], 0.0]).collect()),
            (14, vec![[1.0, 2.0, 3.0]; 5]),
            (25, vec![[0.0; 3]; 20]),
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for (t, points) in cases {
            let mesh = single(t, &points);
            let locator = CellLocator::new(&mesh);
            let center = mean(&points);
            let mut probes = vec![center, points[0], points[points.len() - 1]];
            probes.extend((0..200).map(|_| center.map(|x| x + rng.gen_range(-1.0..1.0))));
            for p in probes {
                assert!(!locator.contains(&mesh, p), "type {t} {p:?}");
            }
        }
    }

    #[test]
    fn collapsed_hexahedron_still_locates() {
        // A wedge written as a hexahedron with repeated points, as meshers do.
        let c = HEX;
        let points = [c[0], c[1], c[2], c[2], c[4], c[5], c[6], c[6]];
        let mesh = single(12, &points);
        let locator = CellLocator::new(&mesh);
        assert!(locator.contains(&mesh, mean(&[c[0], c[1], c[2], c[4], c[5], c[6]])));
        assert!(!locator.contains(&mesh, [5.0, 5.0, 5.0]));
    }

    #[test]
    fn odd_queries() {
        let mesh = box_mesh([2, 2, 2], [0.0; 3], [1.0; 3], true);
        let locator = CellLocator::new(&mesh);
        for p in [
            [f64::NAN; 3],
            [f64::INFINITY, 0.5, 0.5],
            [0.5, f64::NEG_INFINITY, 0.5],
        ] {
            assert!(!locator.contains(&mesh, p));
        }
        // Another mesh: refused rather than read out of bounds.
        let other = box_mesh([1, 1, 1], [0.0; 3], [1.0; 3], false);
        assert_eq!(locator.find_cell(&other, [0.5; 3]), None);
        let empty = Mesh {
            points: Vec::new(),
            offsets: vec![0],
            connectivity: Vec::new(),
            types: Vec::new(),
            points_f32: false,
        };
        assert!(!CellLocator::new(&empty).contains(&empty, [0.0; 3]));
    }

    #[test]
    fn huge_coordinates_do_not_panic() {
        let points: Vec<[f64; 3]> = HEX.iter().map(|p| p.map(|x| x * 1e300 - 5e299)).collect();
        let mesh = single(12, &points);
        let locator = CellLocator::new(&mesh);
        let _ = locator.contains(&mesh, mean(&points));
        let _ = locator.contains(&mesh, [0.0; 3]);
    }

    #[test]
    fn subtree_sizes_and_rounding() {
        for n in 1..2000 {
            if n > LEAF_CELLS {
                let first = first_child_cells(n);
                assert!(first < n && 2 * first >= n);
            }
            let leaves = n.div_ceil(LEAF_CELLS);
            assert_eq!(subtree_nodes(n), 2 * leaves - 1, "{n}");
        }
        for x in [0.1, -0.1, 1e-50, -1e-50, 0.0, 3.0, 1e39, -1e39, 1.0 / 3.0] {
            assert!(
                (f32_below(x) as f64) <= x && (f32_above(x) as f64) >= x,
                "{x}"
            );
            assert!(
                f32_above(x) as f64 - f32_below(x) as f64 <= 2.0 * (x.abs() * 1.2e-7).max(1.5e-45)
                    || x.abs() > 3e38
            );
        }
    }

    #[test]
    fn locator_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<CellLocator>();
    }
}
