//! Uniform refinement: every cell split into smaller cells, level after
//! level, the result conforming (neighbors share the new points of their
//! common edges and faces) and oriented as its source.
//!
//! Per level, following VTK's cell definitions and point orderings:
//! tetrahedra into 8 (4 at the corners, the inner octahedron cut along its
//! shortest diagonal), hexahedra and voxels into 8, wedges into 8, pyramids
//! into 6 pyramids and 4 tetrahedra, triangles, quads and pixels into 4,
//! lines into 2; vertices stay. New points are edge midpoints, centers of
//! quadrilateral faces and centers of hexahedra. Each is the mean of its
//! corners summed in the order of their coordinates, so a piece of a mesh
//! (a parallel rank's cells, numbered its own way) refines to bit-identical
//! coordinates.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::{CellType, Mesh, MAX_MESH_ITEMS};
use crate::error::{Error, Result};

/// Deepest refinement accepted (each level multiplies 3D cells by 8).
const MAX_LEVEL: u32 = 12;
/// Largest refined mesh accepted, in bytes of points, cells and cell origins.
const MAX_OUTPUT_BYTES: u128 = 16 << 30;

/// A mesh refined `level` times, and where each of its points and cells came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Refined {
    pub mesh: Mesh,
    /// For each cell of `mesh`, the cell of the source mesh it lies in.
    pub source_cell: Vec<u64>,
    /// Points 0..source_points are the source mesh's points, same ids, same order; the rest are new.
    pub source_points: usize,
}

/// The edges of a linear VTK cell type, by point index (`None` for types
/// this module does not refine).
#[cfg(test)]
pub(crate) fn edges_of(vtk_type: u8) -> Option<&'static [[usize; 2]]> {
    Kind::of(vtk_type).map(Kind::edges)
}

/// Refines every cell `level` times (level 0: a copy of the mesh, of any
/// cell types). The mesh must have passed `Mesh::validate`. Refuses, before
/// allocating, cell types it cannot refine (`Error::Unsupported`) and
/// results over `MAX_MESH_ITEMS` points or cells, over 16 GiB, or deeper
/// than 12 levels (`Error::LimitExceeded`). New points are f64 averages, so
/// a refined mesh has `points_f32` false.
pub fn refine(mesh: &Mesh, level: u32) -> Result<Refined> {
    let source_points = mesh.num_points();
    if level == 0 {
        return Ok(Refined {
            mesh: mesh.clone(),
            source_cell: (0..mesh.num_cells() as u64).collect(),
            source_points,
        });
    }
    let plan = plan(mesh, level)?;
    check_limits(&plan[plan.len() - 1])?;
    let (mut refined, mut source_cell) = refine_once(mesh, &plan[0], &plan[1]);
    for censuses in plan[1..].windows(2) {
        let (next, parents) = refine_once(&refined, &censuses[0], &censuses[1]);
        source_cell = parents.iter().map(|&p| source_cell[p as usize]).collect();
        refined = next;
    }
    Ok(Refined {
        mesh: refined,
        source_cell,
        source_points,
    })
}

/// Point and cell counts and connectivity length that `refine` would produce, computed without building it (used to refuse huge requests before allocating).
///
/// Exact for meshes whose cells meet only at whole shared faces and edges
/// (and have no repeated points); otherwise an estimate. Errors as `refine`
/// does for unsupported cell types and levels above 12, and when a count
/// would not fit in u64.
pub fn refined_sizes(mesh: &Mesh, level: u32) -> Result<(u64, u64, u64)> {
    if level == 0 {
        let (p, c, n) = (mesh.num_points(), mesh.num_cells(), mesh.connectivity.len());
        return Ok((p as u64, c as u64, n as u64));
    }
    let last = plan(mesh, level)?.pop().unwrap_or_default();
    let fit = |n: u128| {
        u64::try_from(n)
            .map_err(|_| Error::LimitExceeded(format!("refinement to level {level}: {n} items")))
    };
    Ok((
        fit(last.points)?,
        fit(last.num_cells())?,
        fit(last.connectivity())?,
    ))
}

/// The census of the mesh and of each level of its refinement.
fn plan(mesh: &Mesh, level: u32) -> Result<Vec<Census>> {
    if level > MAX_LEVEL {
        return Err(Error::LimitExceeded(format!(
            "refinement level {level} (at most {MAX_LEVEL})"
        )));
    }
    let mut plan = vec![Census::of(mesh)?];
    for _ in 0..level {
        let next = plan[plan.len() - 1].refined();
        plan.push(next);
    }
    Ok(plan)
}

/// Refuses refined meshes too large to build.
fn check_limits(census: &Census) -> Result<()> {
    let (points, cells) = (census.points, census.num_cells());
    if points > MAX_MESH_ITEMS as u128 || cells > MAX_MESH_ITEMS as u128 {
        return Err(Error::LimitExceeded(format!(
            "refined mesh of {points} points and {cells} cells (at most {MAX_MESH_ITEMS} each)"
        )));
    }
    // Points, offsets, types, origins and connectivity.
    let bytes = 24 * points + 17 * cells + 8 * census.connectivity();
    if bytes > MAX_OUTPUT_BYTES {
        return Err(Error::LimitExceeded(format!(
            "refined mesh of {bytes} bytes (at most {MAX_OUTPUT_BYTES})"
        )));
    }
    Ok(())
}

/// The cell kinds this module refines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Vertex,
    Line,
    Triangle,
    Pixel,
    Quad,
    Tetra,
    Voxel,
    Hexahedron,
    Wedge,
    Pyramid,
}

const KINDS: [Kind; 10] = [
    Kind::Vertex,
    Kind::Line,
    Kind::Triangle,
    Kind::Pixel,
    Kind::Quad,
    Kind::Tetra,
    Kind::Voxel,
    Kind::Hexahedron,
    Kind::Wedge,
    Kind::Pyramid,
];

/// New points, edges, triangles and quadrilaterals inside one cell at one
/// level (not on its faces or edges, which neighbors share).
struct Interior {
    points: u128,
    edges: u128,
    triangles: u128,
    quads: u128,
}

impl Kind {
    fn of(vtk_type: u8) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.vtk() == vtk_type)
    }

    fn vtk(self) -> u8 {
        let t = match self {
            Kind::Vertex => CellType::Vertex,
            Kind::Line => CellType::Line,
            Kind::Triangle => CellType::Triangle,
            Kind::Pixel => CellType::Pixel,
            Kind::Quad => CellType::Quad,
            Kind::Tetra => CellType::Tetra,
            Kind::Voxel => CellType::Voxel,
            Kind::Hexahedron => CellType::Hexahedron,
            Kind::Wedge => CellType::Wedge,
            Kind::Pyramid => CellType::Pyramid,
        };
        t.code()
    }

    fn points(self) -> usize {
        match self {
            Kind::Vertex => 1,
            Kind::Line => 2,
            Kind::Triangle => 3,
            Kind::Pixel | Kind::Quad | Kind::Tetra => 4,
            Kind::Voxel | Kind::Hexahedron => 8,
            Kind::Wedge => 6,
            Kind::Pyramid => 5,
        }
    }

    /// Edges, by point index in VTK's order (for tetrahedra, hexahedra,
    /// wedges and pyramids also the order of VTK's quadratic mid-edge nodes).
    fn edges(self) -> &'static [[usize; 2]] {
        match self {
            Kind::Vertex => &[],
            Kind::Line => &[[0, 1]],
            Kind::Triangle => &[[0, 1], [1, 2], [2, 0]],
            Kind::Pixel => &[[0, 1], [1, 3], [3, 2], [2, 0]],
            Kind::Quad => &[[0, 1], [1, 2], [2, 3], [3, 0]],
            Kind::Tetra => &[[0, 1], [1, 2], [2, 0], [0, 3], [1, 3], [2, 3]],
            Kind::Voxel => &[
                [0, 1],
                [1, 3],
                [3, 2],
                [2, 0],
                [4, 5],
                [5, 7],
                [7, 6],
                [6, 4],
                [0, 4],
                [1, 5],
                [3, 7],
                [2, 6],
            ],
            Kind::Hexahedron => &[
                [0, 1],
                [1, 2],
                [2, 3],
                [3, 0],
                [4, 5],
                [5, 6],
                [6, 7],
                [7, 4],
                [0, 4],
                [1, 5],
                [2, 6],
                [3, 7],
            ],
            Kind::Wedge => &[
                [0, 1],
                [1, 2],
                [2, 0],
                [3, 4],
                [4, 5],
                [5, 3],
                [0, 3],
                [1, 4],
                [2, 5],
            ],
            Kind::Pyramid => &[
                [0, 1],
                [1, 2],
                [2, 3],
                [3, 0],
                [0, 4],
                [1, 4],
                [2, 4],
                [3, 4],
            ],
        }
    }

    /// Triangular faces (a triangle is its own face).
    fn triangles(self) -> &'static [[usize; 3]] {
        match self {
            Kind::Triangle => &[[0, 1, 2]],
            Kind::Tetra => &[[0, 1, 3], [1, 2, 3], [2, 0, 3], [0, 2, 1]],
            Kind::Wedge => &[[0, 1, 2], [3, 5, 4]],
            Kind::Pyramid => &[[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]],
            _ => &[],
        }
    }

    /// Quadrilateral faces (a quad or pixel is its own face).
    fn quads(self) -> &'static [[usize; 4]] {
        match self {
            Kind::Pixel => &[[0, 1, 3, 2]],
            Kind::Quad => &[[0, 1, 2, 3]],
            Kind::Voxel => &[
                [0, 4, 6, 2],
                [1, 3, 7, 5],
                [0, 1, 5, 4],
                [2, 6, 7, 3],
                [0, 2, 3, 1],
                [4, 5, 7, 6],
            ],
            Kind::Hexahedron => &[
                [0, 4, 7, 3],
                [1, 2, 6, 5],
                [0, 1, 5, 4],
                [3, 7, 6, 2],
                [0, 3, 2, 1],
                [4, 5, 6, 7],
            ],
            Kind::Wedge => &[[0, 3, 4, 1], [1, 4, 5, 2], [2, 5, 3, 0]],
            Kind::Pyramid => &[[0, 3, 2, 1]],
            _ => &[],
        }
    }

    /// The children of one cell, by kind.
    fn children(self) -> &'static [(Kind, u128)] {
        match self {
            Kind::Vertex => &[(Kind::Vertex, 1)],
            Kind::Line => &[(Kind::Line, 2)],
            Kind::Triangle => &[(Kind::Triangle, 4)],
            Kind::Pixel => &[(Kind::Pixel, 4)],
            Kind::Quad => &[(Kind::Quad, 4)],
            Kind::Tetra => &[(Kind::Tetra, 8)],
            Kind::Voxel => &[(Kind::Voxel, 8)],
            Kind::Hexahedron => &[(Kind::Hexahedron, 8)],
            Kind::Wedge => &[(Kind::Wedge, 8)],
            Kind::Pyramid => &[(Kind::Pyramid, 6), (Kind::Tetra, 4)],
        }
    }

    /// What one refinement creates inside a cell: the body center and its 6
    /// edges and 12 faces in a hexahedron; the octahedron's diagonal and its
    /// 8 faces in a tetrahedron; the 3 edges, 4 triangles and 6 quads of the
    /// middle layer in a wedge; the 4 edges from the base center, the 12
    /// triangles and the middle quad in a pyramid. (A 2D cell's inside is
    /// its own face's.)
    fn interior(self) -> Interior {
        let (points, edges, triangles, quads) = match self {
            Kind::Voxel | Kind::Hexahedron => (1, 6, 0, 12),
            Kind::Tetra => (0, 1, 8, 0),
            Kind::Wedge => (0, 3, 4, 6),
            Kind::Pyramid => (0, 4, 12, 1),
            _ => (0, 0, 0, 0),
        };
        Interior {
            points,
            edges,
            triangles,
            quads,
        }
    }
}

/// A name for the error message about an unsupported VTK cell type.
fn type_name(vtk_type: u8) -> &'static str {
    match vtk_type {
        2 => "poly-vertex",
        4 => "poly-line",
        6 => "triangle strip",
        7 => "polygon",
        21 => "quadratic edge",
        22 => "quadratic triangle",
        23 => "quadratic quad",
        24 => "quadratic tetra",
        25 => "quadratic hexahedron",
        26 => "quadratic wedge",
        27 => "quadratic pyramid",
        _ => "unknown",
    }
}

/// The kind of cell `c` and its point ids.
fn cell(mesh: &Mesh, c: usize) -> Result<(Kind, &[u64])> {
    let t = mesh.types[c];
    let kind = Kind::of(t).ok_or_else(|| {
        Error::Unsupported(format!(
            "refining VTK cell type {t} ({}), cell {c}",
            type_name(t)
        ))
    })?;
    let ids = &mesh.connectivity[mesh.offsets[c] as usize..mesh.offsets[c + 1] as usize];
    if ids.len() != kind.points() {
        return Err(Error::InvalidArgument(format!(
            "cell {c} of VTK type {t} has {} points",
            ids.len()
        )));
    }
    Ok((kind, ids))
}

/// Counts that determine the sizes of a refined mesh: points, distinct
/// edges, triangular and quadrilateral faces (keyed by their sorted point
/// ids, as refinement shares them), and cells by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Census {
    points: u128,
    edges: u128,
    triangles: u128,
    quads: u128,
    cells: [u128; KINDS.len()],
}

impl Census {
    fn of(mesh: &Mesh) -> Result<Census> {
        let mut edges = HashSet::new();
        let mut triangles = HashSet::new();
        let mut quads = HashSet::new();
        let mut cells = [0; KINDS.len()];
        for c in 0..mesh.num_cells() {
            let (kind, ids) = cell(mesh, c)?;
            cells[kind as usize] += 1;
            edges.extend(kind.edges().iter().map(|e| sorted(e.map(|k| ids[k]))));
            triangles.extend(kind.triangles().iter().map(|f| sorted(f.map(|k| ids[k]))));
            quads.extend(kind.quads().iter().map(|f| sorted(f.map(|k| ids[k]))));
        }
        Ok(Census {
            points: mesh.num_points() as u128,
            edges: edges.len() as u128,
            triangles: triangles.len() as u128,
            quads: quads.len() as u128,
            cells,
        })
    }

    /// The census one level of refinement later: each edge splits in 2 and
    /// gets a midpoint, each face splits in 4 with 3 (triangle) or 4 (quad,
    /// around its new center) new edges, and each cell adds its interior.
    fn refined(&self) -> Census {
        let mut next = Census {
            points: self.points + self.edges + self.quads,
            edges: 2 * self.edges + 3 * self.triangles + 4 * self.quads,
            triangles: 4 * self.triangles,
            quads: 4 * self.quads,
            cells: [0; KINDS.len()],
        };
        for kind in KINDS {
            let n = self.cells[kind as usize];
            let inside = kind.interior();
            next.points += n * inside.points;
            next.edges += n * inside.edges;
            next.triangles += n * inside.triangles;
            next.quads += n * inside.quads;
            for &(child, count) in kind.children() {
                next.cells[child as usize] += n * count;
            }
        }
        next
    }

    fn num_cells(&self) -> u128 {
        self.cells.iter().sum()
    }

    fn connectivity(&self) -> u128 {
        KINDS
            .iter()
            .map(|&k| self.cells[k as usize] * k.points() as u128)
            .sum()
    }
}

fn sorted<const N: usize>(mut ids: [u64; N]) -> [u64; N] {
    ids.sort_unstable();
    ids
}

/// A point of a cell's refinement, by the cell's points it is the mean of.
#[derive(Clone, Copy, Debug)]
enum Local {
    Corner(usize),
    /// An edge midpoint, shared with the cells around the edge.
    Edge([usize; 2]),
    /// A quadrilateral face's center, shared with the cell behind the face.
    Face([usize; 4]),
    /// The center of a hexahedron or voxel, its own.
    Body,
}

/// How one kind of cell splits: its points (corners and new ones) and its
/// children as lists of those points.
struct Scheme {
    points: Vec<Local>,
    children: Vec<(Kind, Vec<usize>)>,
}

/// The schemes of every kind; tetrahedra have one per octahedron diagonal.
struct Schemes {
    by_kind: Vec<Scheme>,
    tetra: [Scheme; 3],
}

static SCHEMES: LazyLock<Schemes> = LazyLock::new(|| Schemes {
    by_kind: KINDS.iter().map(|&k| scheme(k)).collect(),
    tetra: [0, 1, 2].map(tetra_scheme),
});

/// Parametric corner of each point of the tensor-product cells, in VTK's
/// orders (hexahedra and quads go around a face; voxels and pixels number
/// x fastest).
const LINE_CORNERS: [[usize; 3]; 2] = [[0, 0, 0], [1, 0, 0]];
const QUAD_CORNERS: [[usize; 3]; 4] = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]];
const PIXEL_CORNERS: [[usize; 3]; 4] = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]];
const HEX_CORNERS: [[usize; 3]; 8] = [
    [0, 0, 0],
    [1, 0, 0],
    [1, 1, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 0, 1],
    [1, 1, 1],
    [0, 1, 1],
];
const VOXEL_CORNERS: [[usize; 3]; 8] = [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [1, 1, 0],
    [0, 0, 1],
    [1, 0, 1],
    [0, 1, 1],
    [1, 1, 1],
];

/// Corner and edge points of a tetrahedron, edges in VTK's quadratic order:
/// 4 = (0,1), 5 = (1,2), 6 = (2,0), 7 = (0,3), 8 = (1,3), 9 = (2,3).
const TETRA_CORNER_CHILDREN: [[usize; 4]; 4] =
    [[0, 4, 6, 7], [4, 1, 5, 8], [6, 5, 2, 9], [7, 8, 9, 3]];
/// The octahedron's 4 tetrahedra around each of its diagonals (4-9, 5-7,
/// 6-8), oriented as the parent.
const TETRA_OCTAHEDRON: [[[usize; 4]; 4]; 3] = [
    [[4, 9, 5, 6], [4, 9, 6, 7], [4, 9, 7, 8], [4, 9, 8, 5]],
    [[5, 7, 6, 4], [5, 7, 9, 6], [5, 7, 8, 9], [5, 7, 4, 8]],
    [[6, 8, 4, 5], [6, 8, 5, 9], [6, 8, 9, 7], [6, 8, 7, 4]],
];

fn scheme(kind: Kind) -> Scheme {
    match kind {
        Kind::Vertex => Scheme {
            points: vec![Local::Corner(0)],
            children: vec![(Kind::Vertex, vec![0])],
        },
        Kind::Line => lattice_scheme(kind, 1, &LINE_CORNERS),
        Kind::Quad => lattice_scheme(kind, 2, &QUAD_CORNERS),
        Kind::Pixel => lattice_scheme(kind, 2, &PIXEL_CORNERS),
        Kind::Hexahedron => lattice_scheme(kind, 3, &HEX_CORNERS),
        Kind::Voxel => lattice_scheme(kind, 3, &VOXEL_CORNERS),
        Kind::Triangle => triangle_scheme(),
        Kind::Tetra => tetra_scheme(0),
        Kind::Wedge => wedge_scheme(),
        Kind::Pyramid => pyramid_scheme(),
    }
}

/// Lines, quads, pixels, hexahedra and voxels: the lattice of 3 points per
/// axis over the parametric cell, and its 2^dim sub-cells with their points
/// in the cell's own order, so children keep the parent's orientation.
fn lattice_scheme(kind: Kind, dim: usize, corners: &[[usize; 3]]) -> Scheme {
    let index = |n: [usize; 3]| n[0] + 3 * n[1] + 9 * n[2];
    let axis = |a: usize| if a < dim { 3 } else { 1 };
    let mut points = Vec::new();
    for z in 0..axis(2) {
        for y in 0..axis(1) {
            for x in 0..axis(0) {
                // The corners at this lattice point's ends: 1 for a corner,
                // 2 for an edge midpoint, 4 for a face center, 8 for the body.
                let ends: Vec<usize> = (0..corners.len())
                    .filter(|&k| {
                        (0..3).all(|a| [x, y, z][a] == 1 || [x, y, z][a] == 2 * corners[k][a])
                    })
                    .collect();
                points.push(match ends.len() {
                    1 => Local::Corner(ends[0]),
                    2 => Local::Edge([ends[0], ends[1]]),
                    4 => Local::Face([ends[0], ends[1], ends[2], ends[3]]),
                    _ => Local::Body,
                });
            }
        }
    }
    let mut children = Vec::new();
    let halves = |a: usize| if a < dim { 2 } else { 1 };
    for z in 0..halves(2) {
        for y in 0..halves(1) {
            for x in 0..halves(0) {
                let at = |c: &[usize; 3]| index([x + c[0], y + c[1], z + c[2]]);
                children.push((kind, corners.iter().map(at).collect()));
            }
        }
    }
    Scheme { points, children }
}

/// Points 3, 4, 5: midpoints of edges (0,1), (1,2), (2,0). The middle child
/// is the parent turned half a turn, so it keeps its orientation.
fn triangle_scheme() -> Scheme {
    use Local::{Corner, Edge};
    let points = vec![
        Corner(0),
        Corner(1),
        Corner(2),
        Edge([0, 1]),
        Edge([1, 2]),
        Edge([2, 0]),
    ];
    let children = [[0, 3, 5], [3, 1, 4], [5, 4, 2], [4, 5, 3]];
    Scheme {
        points,
        children: children
            .iter()
            .map(|c| (Kind::Triangle, c.to_vec()))
            .collect(),
    }
}

fn tetra_scheme(diagonal: usize) -> Scheme {
    use Local::{Corner, Edge};
    let mut points: Vec<Local> = (0..4).map(Corner).collect();
    points.extend(Kind::Tetra.edges().iter().map(|&e| Edge(e)));
    let tets = TETRA_CORNER_CHILDREN
        .iter()
        .chain(&TETRA_OCTAHEDRON[diagonal]);
    Scheme {
        points,
        children: tets.map(|c| (Kind::Tetra, c.to_vec())).collect(),
    }
}

/// The wedge as a triangle times a segment: its points on three layers
/// (bottom, middle, top), each layer a refined triangle's 6 points; the
/// children are the 4 sub-triangles of both halves.
fn wedge_scheme() -> Scheme {
    use Local::{Corner, Edge, Face};
    let mut points: Vec<Local> = (0..6).map(Corner).collect();
    // 6..=14: the edges; 15..=17: the quad faces' centers.
    points.extend(Kind::Wedge.edges().iter().map(|&e| Edge(e)));
    points.extend([Face([0, 1, 4, 3]), Face([1, 2, 5, 4]), Face([2, 0, 3, 5])]);
    // Per layer: corners 0, 1, 2 and midpoints of (0,1), (1,2), (2,0) of the
    // triangle at that height.
    let layers = [
        [0, 1, 2, 6, 7, 8],
        [12, 13, 14, 15, 16, 17],
        [3, 4, 5, 9, 10, 11],
    ];
    let triangles = [[0, 3, 5], [3, 1, 4], [5, 4, 2], [4, 5, 3]];
    let mut children = Vec::new();
    for half in 0..2 {
        for t in triangles {
            let (low, high) = (layers[half], layers[half + 1]);
            let child = [
                low[t[0]], low[t[1]], low[t[2]], high[t[0]], high[t[1]], high[t[2]],
            ];
            children.push((Kind::Wedge, child.to_vec()));
        }
    }
    Scheme { points, children }
}

/// Points 5..=12: the edges in VTK's quadratic order ((0,1), (1,2), (2,3),
/// (3,0), then (0,4) .. (3,4)); 13: the base center. Children: a pyramid at
/// each base corner and one at the apex, an upside-down one under the apex
/// one (apex at the base center), and a tetrahedron on each base edge.
fn pyramid_scheme() -> Scheme {
    use Local::{Corner, Edge, Face};
    let mut points: Vec<Local> = (0..5).map(Corner).collect();
    points.extend(Kind::Pyramid.edges().iter().map(|&e| Edge(e)));
    points.push(Face([0, 1, 2, 3]));
    let pyramids = [
        [0, 5, 13, 8, 9],
        [5, 1, 6, 13, 10],
        [13, 6, 2, 7, 11],
        [8, 13, 7, 3, 12],
        [9, 10, 11, 12, 4],
        [9, 12, 11, 10, 13],
    ];
    let tets = [
        [5, 13, 9, 10],
        [6, 13, 10, 11],
        [7, 13, 11, 12],
        [8, 13, 12, 9],
    ];
    let children = pyramids
        .iter()
        .map(|c| (Kind::Pyramid, c.to_vec()))
        .chain(tets.iter().map(|c| (Kind::Tetra, c.to_vec())))
        .collect();
    Scheme { points, children }
}

/// One level of refinement being built.
struct Level<'a> {
    source: &'a Mesh,
    /// The source's points, then the new ones.
    points: Vec<f64>,
    edges: HashMap<[u64; 2], u64>,
    faces: HashMap<[u64; 4], u64>,
    offsets: Vec<u64>,
    connectivity: Vec<u64>,
    types: Vec<u8>,
    parents: Vec<u64>,
}

/// Refines every cell once; the censuses of the source and of the result
/// size the buffers. Returns the mesh and each new cell's parent.
fn refine_once(source: &Mesh, now: &Census, expected: &Census) -> (Mesh, Vec<u64>) {
    let cells = expected.num_cells() as usize;
    let mut level = Level {
        source,
        points: Vec::with_capacity(3 * expected.points as usize),
        edges: HashMap::with_capacity(now.edges as usize),
        faces: HashMap::with_capacity(now.quads as usize),
        offsets: Vec::with_capacity(cells + 1),
        connectivity: Vec::with_capacity(expected.connectivity() as usize),
        types: Vec::with_capacity(cells),
        parents: Vec::with_capacity(cells),
    };
    level.points.extend_from_slice(&source.points);
    level.offsets.push(0);
    for c in 0..source.num_cells() {
        level.refine_cell(c);
    }
    let mesh = Mesh {
        points: level.points,
        offsets: level.offsets,
        connectivity: level.connectivity,
        types: level.types,
        points_f32: false,
    };
    (mesh, level.parents)
}

impl Level<'_> {
    fn refine_cell(&mut self, c: usize) {
        // `plan` has checked every cell.
        let Ok((kind, ids)) = cell(self.source, c) else {
            return;
        };
        let scheme = match kind {
            Kind::Tetra => &SCHEMES.tetra[self.shortest_diagonal(ids)],
            _ => &SCHEMES.by_kind[kind as usize],
        };
        let mut local = [0u64; 27];
        for (id, point) in local.iter_mut().zip(&scheme.points) {
            *id = self.resolve(*point, ids);
        }
        for (kind, child) in &scheme.children {
            self.connectivity.extend(child.iter().map(|&k| local[k]));
            self.offsets.push(self.connectivity.len() as u64);
            self.types.push(kind.vtk());
            self.parents.push(c as u64);
        }
    }

    /// The octahedron diagonal (0: 01-23, 1: 12-03, 2: 20-13) joining the
    /// closest edge midpoints, the first on ties: short diagonals keep
    /// children well shaped. From coordinates only, so every piece of a
    /// mesh chooses alike.
    fn shortest_diagonal(&self, ids: &[u64]) -> usize {
        let p = |k: usize| point(&self.points, ids[k]);
        // Twice the diagonal: (a + b) - (c + d) for edges ab and cd.
        let length = |[a, b, c, d]: [usize; 4]| {
            (0..3)
                .map(|i| {
                    let x = (p(a)[i] + p(b)[i]) - (p(c)[i] + p(d)[i]);
                    x * x
                })
                .sum::<f64>()
        };
        let lengths = [
            length([0, 1, 2, 3]),
            length([1, 2, 0, 3]),
            length([2, 0, 1, 3]),
        ];
        (1..3).fold(
            0,
            |best, d| if lengths[d] < lengths[best] { d } else { best },
        )
    }

    /// The id of a point of the cell's refinement, creating it if new.
    fn resolve(&mut self, point: Local, ids: &[u64]) -> u64 {
        let Level {
            points,
            edges,
            faces,
            ..
        } = self;
        match point {
            Local::Corner(k) => ids[k],
            Local::Edge(e) => {
                let key = sorted(e.map(|k| ids[k]));
                *edges.entry(key).or_insert_with(|| push_mean(points, &key))
            }
            Local::Face(f) => {
                let key = sorted(f.map(|k| ids[k]));
                *faces.entry(key).or_insert_with(|| push_mean(points, &key))
            }
            Local::Body => push_mean(points, ids),
        }
    }
}

fn point(points: &[f64], id: u64) -> [f64; 3] {
    let i = 3 * id as usize;
    [points[i], points[i + 1], points[i + 2]]
}

/// Appends the mean of some points and returns its id. The points are
/// summed in the order of their coordinates, not of their ids, so that the
/// same points give the same bits however a mesh numbers them.
fn push_mean(points: &mut Vec<f64>, ids: &[u64]) -> u64 {
    let mut buffer = [[0.0; 3]; 8];
    let corners = &mut buffer[..ids.len()];
    for (corner, &id) in corners.iter_mut().zip(ids) {
        *corner = point(points, id);
    }
    corners.sort_unstable_by(|a, b| {
        (a[0].total_cmp(&b[0]))
            .then(a[1].total_cmp(&b[1]))
            .then(a[2].total_cmp(&b[2]))
    });
    let id = (points.len() / 3) as u64;
    for a in 0..3 {
        let sum = corners.iter().fold(0.0, |s, p| s + p[a]);
        points.push(sum / corners.len() as f64);
    }
    id
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::mesh::generate::{box_mesh, cubes};
    use crate::mesh::locate::{cell_corners, map, Shape};
    use crate::mesh::test_cells::{single, HEX, PYRAMID, TET, VOXEL, WEDGE};

    fn det(j: [[f64; 3]; 3]) -> f64 {
        let [a, b, c] = j;
        a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
            + a[2] * (b[0] * c[1] - b[1] * c[0])
    }

    fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    }

    fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
        [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
    }

    fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
        a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    }

    /// Quadrature points and weights exact for the Jacobian determinant of
    /// each shape over its parametric domain.
    fn quadrature(shape: Shape) -> Vec<([f64; 3], f64)> {
        let g = [0.5 - 0.5 / 3f64.sqrt(), 0.5 + 0.5 / 3f64.sqrt()];
        match shape {
            Shape::Tetra => vec![([0.25; 3], 1.0 / 6.0)],
            Shape::Wedge => {
                let tri = [[0.5, 0.0], [0.5, 0.5], [0.0, 0.5]];
                let mut q = Vec::new();
                for t in g {
                    q.extend(tri.iter().map(|rs| ([rs[0], rs[1], t], 1.0 / 12.0)));
                }
                q
            }
            _ => {
                let mut q = Vec::new();
                for t in g {
                    for s in g {
                        q.extend(g.iter().map(|&r| ([r, s, t], 0.125)));
                    }
                }
                q
            }
        }
    }

    /// The Jacobian determinants at the quadrature points, signed so that
    /// cells in VTK's orientation are positive (a VTK wedge's base turns
    /// away from its top, the other way round from its parametric axes).
    fn jacobians(mesh: &Mesh, c: usize) -> Vec<(f64, f64)> {
        let (shape, corners) = cell_corners(mesh, c).unwrap();
        let sign = if shape == Shape::Wedge { -1.0 } else { 1.0 };
        let q = quadrature(shape);
        q.iter()
            .map(|&(u, w)| (sign * det(map(shape, &corners, u).1), w))
            .collect()
    }

    /// Signed volume of a 3D cell (positive in VTK's orientation).
    fn volume(mesh: &Mesh, c: usize) -> f64 {
        jacobians(mesh, c).iter().map(|(j, w)| j * w).sum()
    }

    fn point_of(mesh: &Mesh, id: u64) -> [f64; 3] {
        point(&mesh.points, id)
    }

    fn ids(mesh: &Mesh, c: usize) -> &[u64] {
        &mesh.connectivity[mesh.offsets[c] as usize..mesh.offsets[c + 1] as usize]
    }

    /// The direction of a 1D or 2D cell: a line's tangent, a face's normal.
    fn direction(mesh: &Mesh, c: usize) -> [f64; 3] {
        let p: Vec<[f64; 3]> = ids(mesh, c).iter().map(|&i| point_of(mesh, i)).collect();
        match mesh.types[c] {
            3 => sub(p[1], p[0]),
            5 | 8 => cross(sub(p[1], p[0]), sub(p[2], p[0])),
            9 => cross(sub(p[2], p[0]), sub(p[3], p[1])),
            _ => unreachable!(),
        }
    }

    fn push_cell(mesh: &mut Mesh, vtk_type: u8, ids: &[u64]) {
        mesh.connectivity.extend_from_slice(ids);
        mesh.offsets.push(mesh.connectivity.len() as u64);
        mesh.types.push(vtk_type);
    }

    /// One cell of each 3D kind.
    fn single_cells() -> Vec<Mesh> {
        vec![
            single(10, &TET),
            single(12, &HEX),
            single(11, &VOXEL),
            single(13, &WEDGE),
            single(14, &PYRAMID),
        ]
    }

    /// One cell of each lower-dimensional kind.
    fn flat_cells() -> Vec<Mesh> {
        vec![
            single(5, &TET[..3]),
            single(9, &HEX[..4]),
            single(8, &[VOXEL[0], VOXEL[1], VOXEL[2], VOXEL[3]]),
            single(3, &TET[..2]),
            single(1, &TET[..1]),
        ]
    }

    /// A conforming mesh of hexahedra, wedges (the column i = 0, each hex
    /// cut in two) and pyramids (the column i = j = 1, each hex split
    /// around its center), with boundary quads, triangles, a line and a
    /// vertex on it. Without jitter its faces are planar (a graded,
    /// sheared lattice); `jitter` moves every point at random.
    fn mixed_mesh(jitter: f64) -> Mesh {
        let x = [0.0, 0.3, 0.55, 1.0];
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut mesh = Mesh {
            points: Vec::new(),
            offsets: vec![0],
            connectivity: Vec::new(),
            types: Vec::new(),
            points_f32: false,
        };
        for k in 0..4 {
            for j in 0..4 {
                for i in 0..4 {
                    let p = [x[i] + 0.2 * x[j], x[j] + 0.1 * x[k], 0.8 * x[k]];
                    mesh.points
                        .extend(p.map(|v| v + jitter * rng.gen_range(-1.0..1.0)));
                }
            }
        }
        let id = |i: usize, j: usize, k: usize| (i + 4 * (j + 4 * k)) as u64;
        for ([i, j, k], v) in cubes([3, 3, 3]) {
            if i == 0 {
                push_cell(&mut mesh, 13, &[v[0], v[2], v[1], v[4], v[6], v[5]]);
                push_cell(&mut mesh, 13, &[v[0], v[3], v[2], v[4], v[7], v[6]]);
                if k == 0 {
                    push_cell(&mut mesh, 5, &[v[0], v[2], v[1]]);
                }
            } else if i == 1 && j == 1 {
                let center = (mesh.points.len() / 3) as u64;
                let corners: Vec<[f64; 3]> = v.iter().map(|&i| point(&mesh.points, i)).collect();
                for a in 0..3 {
                    mesh.points
                        .push(corners.iter().map(|p| p[a]).sum::<f64>() / 8.0);
                }
                // Each face turned inwards, towards the apex.
                for f in Kind::Hexahedron.quads() {
                    push_cell(&mut mesh, 14, &[v[f[3]], v[f[2]], v[f[1]], v[f[0]], center]);
                }
            } else {
                push_cell(&mut mesh, 12, &v);
                if k == 0 {
                    push_cell(&mut mesh, 9, &[v[0], v[3], v[2], v[1]]);
                }
            }
        }
        push_cell(&mut mesh, 3, &[id(3, 3, 3), id(3, 3, 2)]);
        push_cell(&mut mesh, 1, &[id(3, 3, 3)]);
        mesh
    }

    fn jittered_tets() -> Mesh {
        let mut mesh = box_mesh([3, 2, 2], [0.0; 3], [1.5, 1.0, 1.0], true);
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for x in mesh.points.iter_mut() {
            *x += rng.gen_range(-0.03..0.03);
        }
        mesh
    }

    /// Every mesh the tests refine.
    fn all_meshes() -> Vec<Mesh> {
        let mut meshes = single_cells();
        meshes.extend(flat_cells());
        meshes.extend([
            box_mesh([2, 2, 2], [0.0; 3], [1.0; 3], false),
            box_mesh([2, 2, 2], [0.0; 3], [1.0; 3], true),
            jittered_tets(),
            mixed_mesh(0.0),
            mixed_mesh(0.04),
        ]);
        meshes
    }

    /// How many times each face of the 3D cells occurs, triangles and
    /// quads apart.
    fn face_counts(mesh: &Mesh) -> (HashMap<[u64; 3], usize>, HashMap<[u64; 4], usize>) {
        let (mut triangles, mut quads) = (HashMap::new(), HashMap::new());
        for c in 0..mesh.num_cells() {
            let (kind, ids) = cell(mesh, c).unwrap();
            if Shape::of(kind.vtk()).is_none() {
                continue;
            }
            for f in kind.triangles() {
                *triangles.entry(sorted(f.map(|k| ids[k]))).or_insert(0) += 1;
            }
            for f in kind.quads() {
                *quads.entry(sorted(f.map(|k| ids[k]))).or_insert(0) += 1;
            }
        }
        (triangles, quads)
    }

    /// Faces on the boundary (used by one cell), triangles and quads; every
    /// face is used by one or two cells.
    fn boundary_faces(mesh: &Mesh) -> (usize, usize) {
        let (triangles, quads) = face_counts(mesh);
        assert!(triangles
            .values()
            .chain(quads.values())
            .all(|&n| n == 1 || n == 2));
        let once = |counts: Vec<usize>| counts.into_iter().filter(|&n| n == 1).count();
        (
            once(triangles.into_values().collect()),
            once(quads.into_values().collect()),
        )
    }

    #[test]
    fn box_counts() {
        let hexes = box_mesh([2, 2, 2], [0.0; 3], [1.0; 3], false);
        let r = refine(&hexes, 2).unwrap();
        assert_eq!(r.mesh.num_cells(), 8 * 64);
        assert_eq!(r.mesh.num_points(), 9 * 9 * 9);
        let r = refine(&hexes, 1).unwrap();
        assert_eq!((r.mesh.num_cells(), r.mesh.num_points()), (64, 125));
        let tets = box_mesh([2, 2, 2], [0.0; 3], [1.0; 3], true);
        for level in 1..=3 {
            let r = refine(&tets, level).unwrap();
            assert_eq!(r.mesh.num_cells(), tets.num_cells() << (3 * level));
            let distinct: HashSet<[u64; 3]> = r
                .mesh
                .points
                .chunks_exact(3)
                .map(|p| [p[0].to_bits(), p[1].to_bits(), p[2].to_bits()])
                .collect();
            assert_eq!(distinct.len(), r.mesh.num_points(), "level {level}");
        }
        // The Kuhn tetrahedra of a box refine onto its lattice.
        assert_eq!(refine(&tets, 1).unwrap().mesh.num_points(), 5 * 5 * 5);
    }

    #[test]
    fn children_per_kind_and_level() {
        // (type, level) -> children by type. Pyramids: 6 pyramids and 4
        // tets, then 36 and 6 * 4 + 4 * 8, then 216 and 36 * 4 + 56 * 8.
        let pyramids = [(6, 4), (36, 56), (216, 592)];
        let mut meshes = single_cells();
        meshes.extend(flat_cells());
        for mesh in meshes {
            let t = mesh.types[0];
            for level in 1..=3u32 {
                let r = refine(&mesh, level).unwrap();
                let count = |u: u8| r.mesh.types.iter().filter(|&&v| v == u).count();
                let expected = match t {
                    14 => vec![
                        (14, pyramids[level as usize - 1].0),
                        (10, pyramids[level as usize - 1].1),
                    ],
                    10..=13 => vec![(t, 8usize.pow(level))],
                    5 | 8 | 9 => vec![(t, 4usize.pow(level))],
                    3 => vec![(t, 2usize.pow(level))],
                    _ => vec![(t, 1)],
                };
                let total: usize = expected.iter().map(|e| e.1).sum();
                assert_eq!(r.mesh.num_cells(), total, "type {t} level {level}");
                for (u, n) in expected {
                    assert_eq!(count(u), n, "type {t} level {level}");
                }
                assert!(r.source_cell.iter().all(|&s| s == 0));
            }
        }
    }

    #[test]
    fn sizes_match_refine_and_meshes_validate() {
        for mesh in all_meshes() {
            for level in 0..=3 {
                let r = refine(&mesh, level).unwrap();
                let m = &r.mesh;
                let sizes = (
                    m.num_points() as u64,
                    m.num_cells() as u64,
                    m.connectivity.len() as u64,
                );
                assert_eq!(
                    refined_sizes(&mesh, level).unwrap(),
                    sizes,
                    "types {:?} level {level}",
                    mesh.types
                );
                m.validate(sizes.0, sizes.1).unwrap();
                assert_eq!(r.source_points, mesh.num_points());
                assert_eq!(&m.points[..mesh.points.len()], &mesh.points[..]);
                assert_eq!(r.source_cell.len(), m.num_cells());
                assert!(
                    r.source_cell.windows(2).all(|w| w[0] <= w[1]),
                    "cells in source order"
                );
                assert_eq!(m.points_f32, level == 0 && mesh.points_f32);
            }
        }
    }

    #[test]
    fn deterministic() {
        let mesh = mixed_mesh(0.04);
        assert_eq!(refine(&mesh, 2).unwrap(), refine(&mesh, 2).unwrap());
    }

    #[test]
    fn volume_is_preserved() {
        let mut meshes = single_cells();
        meshes.extend([
            box_mesh([2, 2, 2], [0.0; 3], [1.0; 3], true),
            jittered_tets(),
            mixed_mesh(0.0),
        ]);
        for mesh in meshes {
            let cells3d = |m: &Mesh| {
                (0..m.num_cells())
                    .filter(|&c| Shape::of(m.types[c]).is_some())
                    .collect::<Vec<_>>()
            };
            let before: Vec<f64> = cells3d(&mesh).iter().map(|&c| volume(&mesh, c)).collect();
            let total: f64 = before.iter().sum();
            for level in 1..=3 {
                let r = refine(&mesh, level).unwrap();
                let mut per_source = vec![0.0; mesh.num_cells()];
                for c in cells3d(&r.mesh) {
                    per_source[r.source_cell[c] as usize] += volume(&r.mesh, c);
                }
                let after: f64 = per_source.iter().sum();
                assert!(
                    (after - total).abs() <= 1e-12 * total.abs(),
                    "{:?} level {level}: {after} vs {total}",
                    mesh.types
                );
                for (&c, v) in cells3d(&mesh).iter().zip(&before) {
                    assert!(
                        (per_source[c] - v).abs() <= 1e-12 * v.abs(),
                        "cell {c} level {level}"
                    );
                }
            }
        }
    }

    #[test]
    fn orientation_is_kept() {
        // The test cells are in VTK's orientation (but box_mesh's Kuhn
        // tetrahedra alternate).
        for mesh in single_cells()
            .into_iter()
            .chain([mixed_mesh(0.0), mixed_mesh(0.04)])
        {
            for c in (0..mesh.num_cells()).filter(|&c| Shape::of(mesh.types[c]).is_some()) {
                assert!(
                    jacobians(&mesh, c).iter().all(|j| j.0 > 0.0),
                    "{:?} cell {c}",
                    mesh.types
                );
            }
        }
        for mesh in all_meshes() {
            for level in 1..=3 {
                let r = refine(&mesh, level).unwrap();
                for c in 0..r.mesh.num_cells() {
                    let s = r.source_cell[c] as usize;
                    match Shape::of(mesh.types[s]) {
                        Some(_) => {
                            // Children turn as their source does.
                            let sign = jacobians(&mesh, s)[0].0.signum();
                            assert!(jacobians(&mesh, s).iter().all(|j| j.0 * sign > 0.0));
                            let kept = jacobians(&r.mesh, c).iter().all(|j| j.0 * sign > 0.0);
                            let child = r.mesh.types[c];
                            assert!(
                                kept,
                                "{:?} level {level} child {c} of type {child}",
                                mesh.types
                            );
                        }
                        None if mesh.types[s] != 1 => {
                            assert!(dot(direction(&mesh, s), direction(&r.mesh, c)) > 0.0);
                        }
                        None => {}
                    }
                }
            }
        }
    }
    #[test]
    fn refined_meshes_conform() {
        let mut meshes = single_cells();
        meshes.extend([
            box_mesh([2, 2, 2], [0.0; 3], [1.0; 3], false),
            jittered_tets(),
            mixed_mesh(0.04),
        ]);
        for mesh in meshes {
            let (triangles, quads) = boundary_faces(&mesh);
            for level in 1..=3 {
                let r = refine(&mesh, level).unwrap();
                let scale = 1 << (2 * level);
                assert_eq!(
                    boundary_faces(&r.mesh),
                    (scale * triangles, scale * quads),
                    "{:?} level {level}",
                    mesh.types
                );
            }
        }
    }

    /// The cells `keep` of a mesh with their points renumbered backwards
    /// (so that sorting by id orders them differently).
    fn piece(mesh: &Mesh, keep: &[usize]) -> Mesh {
        let mut new_id = HashMap::new();
        for &c in keep {
            for &i in ids(mesh, c) {
                let next = new_id.len();
                new_id.entry(i).or_insert(next);
            }
        }
        let n = new_id.len();
        let mut points = vec![0.0; 3 * n];
        for (&old, &rank) in &new_id {
            let id = n - 1 - rank;
            points[3 * id..3 * id + 3].copy_from_slice(&point_of(mesh, old));
        }
        let mut out = Mesh {
            points,
            offsets: vec![0],
            connectivity: Vec::new(),
            types: Vec::new(),
            points_f32: mesh.points_f32,
        };
        for &c in keep {
            let renumbered: Vec<u64> = ids(mesh, c)
                .iter()
                .map(|i| (n - 1 - new_id[i]) as u64)
                .collect();
            push_cell(&mut out, mesh.types[c], &renumbered);
        }
        out
    }

    /// Index of each source cell's first child.
    fn first_children(r: &Refined, sources: usize) -> Vec<usize> {
        let mut first = vec![usize::MAX; sources + 1];
        for (c, &s) in r.source_cell.iter().enumerate().rev() {
            first[s as usize] = c;
        }
        first[sources] = r.mesh.num_cells();
        first
    }

    #[test]
    fn a_piece_refines_to_the_same_bits() {
        for mesh in [mixed_mesh(0.04), jittered_tets()] {
            let keep: Vec<usize> = (0..mesh.num_cells()).filter(|c| c % 3 != 1).collect();
            let part = piece(&mesh, &keep);
            let level = 2;
            let (whole, sub) = (refine(&mesh, level).unwrap(), refine(&part, level).unwrap());
            let whole_first = first_children(&whole, mesh.num_cells());
            let sub_first = first_children(&sub, part.num_cells());
            for (i, &c) in keep.iter().enumerate() {
                let (a, b) = (whole_first[c], sub_first[i]);
                let n = sub_first[i + 1] - b;
                assert_eq!(whole_first[c + 1] - a, n);
                for k in 0..n {
                    assert_eq!(whole.mesh.types[a + k], sub.mesh.types[b + k]);
                    let (p, q) = (ids(&whole.mesh, a + k), ids(&sub.mesh, b + k));
                    for (&p, &q) in p.iter().zip(q) {
                        let bits = |m: &Mesh, i| point_of(m, i).map(f64::to_bits);
                        assert_eq!(
                            bits(&whole.mesh, p),
                            bits(&sub.mesh, q),
                            "cell {c} child {k}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn level_zero_is_a_copy_of_any_mesh() {
        let mut mesh = single(24, &[[0.0; 3]; 10]);
        mesh.points_f32 = true;
        let r = refine(&mesh, 0).unwrap();
        assert_eq!(r.mesh, mesh);
        assert_eq!((r.source_cell, r.source_points), (vec![0], 10));
        assert_eq!(refined_sizes(&mesh, 0).unwrap(), (10, 1, 10));
    }

    #[test]
    fn unsupported_types_are_named() {
        for (t, n) in [
            (24, 10),
            (25, 20),
            (26, 15),
            (27, 13),
            (7, 5),
            (4, 3),
            (22, 6),
        ] {
            let mut mesh = box_mesh([1, 1, 1], [0.0; 3], [1.0; 3], false);
            mesh.points.extend(std::iter::repeat_n(0.5, 3 * 20));
            push_cell(&mut mesh, t, &(0..n).collect::<Vec<u64>>());
            mesh.validate(mesh.num_points() as u64, 2).unwrap();
            for result in [
                refine(&mesh, 1).map(|_| ()),
                refined_sizes(&mesh, 2).map(|_| ()),
            ] {
                match result {
                    Err(Error::Unsupported(m)) => assert!(m.contains(&format!("type {t} ")), "{m}"),
                    other => panic!("type {t}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn oversize_requests_are_refused_before_allocating() {
        let one = single(12, &HEX);
        assert!(matches!(refine(&one, 13), Err(Error::LimitExceeded(_))));
        assert!(matches!(
            refined_sizes(&one, 13),
            Err(Error::LimitExceeded(_))
        ));
        // 8^10 cells fit the item limit but not the byte limit.
        let side = (1u64 << 10) + 1;
        assert_eq!(
            refined_sizes(&one, 10).unwrap(),
            (side * side * side, 1 << 30, 8 << 30)
        );
        assert!(matches!(refine(&one, 10), Err(Error::LimitExceeded(_))));
        // Too many cells.
        let big = box_mesh([10, 10, 10], [0.0; 3], [1.0; 3], false);
        assert!(matches!(refine(&big, 8), Err(Error::LimitExceeded(_))));
        assert_eq!(refined_sizes(&big, 8).unwrap().1, 1000 << 24);
        // Level 8 is accepted when it fits.
        let line = single(3, &TET[..2]);
        let r = refine(&line, 8).unwrap();
        assert_eq!((r.mesh.num_cells(), r.mesh.num_points()), (256, 257));
    }

    #[test]
    fn new_points_are_midpoints_and_centers() {
        let r = refine(&single(12, &HEX), 1).unwrap();
        let m = &r.mesh;
        let mean = |ids: &[usize]| -> [f64; 3] {
            std::array::from_fn(|a| ids.iter().map(|&k| HEX[k][a]).sum::<f64>() / ids.len() as f64)
        };
        let near = |p: [f64; 3], q: [f64; 3]| (0..3).all(|a| (p[a] - q[a]).abs() < 1e-15);
        let has = |q: [f64; 3]| (0..m.num_points() as u64).any(|i| near(point_of(m, i), q));
        for e in Kind::Hexahedron.edges() {
            assert!(has(mean(e)));
        }
        for f in Kind::Hexahedron.quads() {
            assert!(has(mean(f)));
        }
        assert!(has(mean(&[0, 1, 2, 3, 4, 5, 6, 7])));
        assert_eq!(m.num_points(), 27);
    }
}
