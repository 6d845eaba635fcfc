//! The meshes a decoder serves besides the stored one: a piece of it (a
//! share of the cells for one of several parallel processes, with the
//! points those cells use), refined any number of times, with the stored
//! point and cell each part came from.

use crate::error::{Error, Result};

use super::refine::refine;
use super::Mesh;

/// Which mesh to make from the stored one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeshRequest {
    /// Times every cell is refined (0: the stored cells).
    pub level: u32,
    /// This piece of `pieces`: cells `[n * piece / pieces, n * (piece + 1) /
    /// pieces)` of the stored mesh's `n` (contiguous, so the pieces of all
    /// processes together hold every cell once).
    pub piece: usize,
    pub pieces: usize,
}

impl Default for MeshRequest {
    fn default() -> Self {
        MeshRequest {
            level: 0,
            piece: 0,
            pieces: 1,
        }
    }
}

/// A mesh made from the stored one, and where its parts came from.
#[derive(Clone, Debug, PartialEq)]
pub struct MeshView {
    pub mesh: Mesh,
    /// Per point, the stored point it is (-1 for a point made by refinement).
    pub source_points: Vec<i64>,
    /// Per cell, the stored cell it lies in.
    pub source_cells: Vec<u64>,
}

/// The stored cells of piece `piece` of `pieces`.
pub fn piece_cells(
    num_cells: usize,
    piece: usize,
    pieces: usize,
) -> Result<std::ops::Range<usize>> {
    if pieces == 0 || piece >= pieces {
        return Err(Error::InvalidArgument(format!(
            "piece {piece} of {pieces} (pieces count from 0 and there must be at least one)"
        )));
    }
    let at = |p: usize| ((num_cells as u128 * p as u128) / pieces as u128) as usize;
    Ok(at(piece)..at(piece + 1))
}

/// Makes the mesh `req` asks for from `mesh`.
pub fn extract(mesh: &Mesh, req: &MeshRequest) -> Result<MeshView> {
    let cells = piece_cells(mesh.num_cells(), req.piece, req.pieces)?;
    let (part, points) = if cells.len() == mesh.num_cells() {
        (mesh.clone(), (0..mesh.num_points() as i64).collect())
    } else {
        sub_mesh(mesh, cells.clone())
    };
    let refined = refine(&part, req.level)?;
    let mut source_points = points;
    source_points.resize(refined.mesh.num_points(), -1);
    let source_cells = refined
        .source_cell
        .iter()
        .map(|&c| c + cells.start as u64)
        .collect();
    Ok(MeshView {
        mesh: refined.mesh,
        source_points,
        source_cells,
    })
}

/// The cells `cells` of `mesh` with only the points they use, renumbered in
/// the order of their stored ids; and the stored id of each point.
fn sub_mesh(mesh: &Mesh, cells: std::ops::Range<usize>) -> (Mesh, Vec<i64>) {
    let (lo, hi) = (
        mesh.offsets[cells.start] as usize,
        mesh.offsets[cells.end] as usize,
    );
    let used = &mesh.connectivity[lo..hi];
    let mut ids: Vec<u64> = used.to_vec();
    ids.sort_unstable();
    ids.dedup();
    // Stored id -> new id by binary search: no table the size of the whole mesh.
    let new_id = |id: u64| ids.binary_search(&id).expect("a used point") as u64;
    let points = ids
        .iter()
        .flat_map(|&id| {
            let p = 3 * id as usize;
            mesh.points[p..p + 3].iter().copied()
        })
        .collect();
    let part = Mesh {
        points,
        offsets: mesh.offsets[cells.start..=cells.end]
            .iter()
            .map(|&o| o - lo as u64)
            .collect(),
        connectivity: used.iter().map(|&id| new_id(id)).collect(),
        types: mesh.types[cells].to_vec(),
        points_f32: mesh.points_f32,
    };
    (part, ids.into_iter().map(|id| id as i64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::generate::box_mesh;

    #[test]
    fn pieces_cover_every_cell_once() {
        for n in [0, 1, 7, 48] {
            for pieces in [1, 2, 3, 5] {
                let mut next = 0;
                for p in 0..pieces {
                    let r = piece_cells(n, p, pieces).unwrap();
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, n);
            }
        }
        assert!(piece_cells(10, 2, 2).is_err());
        assert!(piece_cells(10, 0, 0).is_err());
    }

    #[test]
    fn a_piece_keeps_its_cells_and_their_points() {
        let mesh = box_mesh([3, 2, 2], [0.0; 3], [1.0; 3], true);
        let whole = extract(&mesh, &MeshRequest::default()).unwrap();
        assert_eq!(whole.mesh, mesh);
        let mut seen = vec![0; mesh.num_cells()];
        for piece in 0..3 {
            let v = extract(
                &mesh,
                &MeshRequest {
                    level: 0,
                    piece,
                    pieces: 3,
                },
            )
            .unwrap();
            v.mesh
                .validate(v.mesh.num_points() as u64, v.mesh.num_cells() as u64)
                .unwrap();
            for (c, &src) in v.source_cells.iter().enumerate() {
                seen[src as usize] += 1;
                let ids = |m: &Mesh, c: usize| {
                    m.connectivity[m.offsets[c] as usize..m.offsets[c + 1] as usize].to_vec()
                };
                // The same corners, through the point map.
                let mapped: Vec<u64> = ids(&v.mesh, c)
                    .iter()
                    .map(|&p| v.source_points[p as usize] as u64)
                    .collect();
                assert_eq!(mapped, ids(&mesh, src as usize));
            }
            for (p, &src) in v.source_points.iter().enumerate() {
                let s = 3 * src as usize;
                assert_eq!(v.mesh.points[3 * p..3 * p + 3], mesh.points[s..s + 3]);
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
    }
}
