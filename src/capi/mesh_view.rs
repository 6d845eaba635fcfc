//! Meshes made from the stored one through the C ABI: a piece of its cells
//! (one MPI rank's share) refined any number of times, and values at them.

use crate::capi::decode::{inr_decode_options, outputs_arg, time_arg, variables_arg, with_options};
use crate::capi::error::{boundary, invalid, null, write_out, FfiResult};
use crate::capi::inr_status;
use crate::capi::mesh::{copy_cells, copy_points, write_sizes};
use crate::capi::model::{inr_model, model_ref};
use crate::mesh::extract::{MeshRequest, MeshView};

/// A mesh made from the stored mesh of an unstructured file by
/// `inr_mesh_view_new`: some of its cells, refined. Opaque; owns its arrays
/// (it does not refer to the model). Free it with `inr_mesh_view_free`.
/// Read-only after creation: safe to use from many threads.
pub struct inr_mesh_view {
    view: MeshView,
}

unsafe fn view_ref<'a>(view: *const inr_mesh_view) -> FfiResult<&'a MeshView> {
    view.as_ref().map(|v| &v.view).ok_or_else(|| null("view"))
}

/// Makes a mesh from the stored mesh of `model`: piece `piece` of
/// `n_pieces` (the stored cells cut into `n_pieces` contiguous ranges in
/// file order, so that the pieces of all ranks together hold every cell
/// exactly once; 0 of 1 is the whole mesh), with the points those cells use,
/// then refined `level` times: each tetrahedron into 8 tetrahedra, each
/// hexahedron or voxel into 8, each wedge into 8 wedges, each pyramid into
/// 6 pyramids and 4 tetrahedra, each triangle or quad into 4, each line into
/// 2 (new points at edge midpoints, face and cell centers, shared by the
/// cells around them: the refined mesh is conforming). Refining a piece
/// gives exactly the cells of the refined whole that lie in it, with
/// bit-identical coordinates.
///
/// Errors: INR_ERROR_INVALID_ARGUMENT (structured file, piece >= n_pieces,
/// n_pieces 0), INR_ERROR_UNSUPPORTED (refining quadratic or polygonal
/// cells), INR_ERROR_LIMIT (the refined mesh would exceed 2^32 points or
/// cells or 16 GiB).
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_view_new(
    model: *const inr_model,
    level: u32,
    piece: u64,
    n_pieces: u64,
    out: *mut *mut inr_mesh_view,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let convert = |v: u64| {
            usize::try_from(v).map_err(|_| invalid(format!("piece {piece} of {n_pieces}")))
        };
        let request = MeshRequest {
            level,
            piece: convert(piece)?,
            pieces: convert(n_pieces)?,
        };
        let view = m.decoder.mesh_view(&request)?;
        write_out(out, "out", Box::into_raw(Box::new(inr_mesh_view { view })))
    })
}

/// Frees a mesh view. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_view_free(view: *mut inr_mesh_view) {
    if !view.is_null() {
        drop(Box::from_raw(view));
    }
}

/// Points, cells and connectivity length of a mesh view.
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_view_sizes(
    view: *const inr_mesh_view,
    n_points: *mut u64,
    n_cells: *mut u64,
    connectivity_len: *mut u64,
) -> inr_status {
    boundary(|| write_sizes(&view_ref(view)?.mesh, n_points, n_cells, connectivity_len))
}

/// The view's points: `len` must be 3 * n_points doubles. The stored points
/// a view keeps are exact copies of the stored coordinates.
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_view_points(
    view: *const inr_mesh_view,
    out: *mut f64,
    len: usize,
) -> inr_status {
    boundary(|| copy_points(&view_ref(view)?.mesh, out, len))
}

/// The view's cells, in the layout of `inr_mesh_cells`.
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_view_cells(
    view: *const inr_mesh_view,
    offsets: *mut i64,
    offsets_len: usize,
    connectivity: *mut i64,
    connectivity_len: usize,
    types: *mut u8,
    types_len: usize,
) -> inr_status {
    boundary(|| {
        copy_cells(
            &view_ref(view)?.mesh,
            (offsets, offsets_len),
            (connectivity, connectivity_len),
            (types, types_len),
        )
    })
}

/// Where the view's parts come from: `point_sources` (n_points values, or
/// NULL) receives each point's id in the stored mesh, -1 for a point made by
/// refinement; `cell_sources` (n_cells values, or NULL) each cell's stored
/// cell. Lengths must match `inr_mesh_view_sizes`.
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_view_sources(
    view: *const inr_mesh_view,
    point_sources: *mut i64,
    point_sources_len: usize,
    cell_sources: *mut i64,
    cell_sources_len: usize,
) -> inr_status {
    boundary(|| {
        let v = view_ref(view)?;
        let wrong = |what: &str, len: usize, need: usize| {
            invalid(format!("{what}: {len} values for {need}"))
        };
        if !point_sources.is_null() && point_sources_len != v.source_points.len() {
            return Err(wrong(
                "point_sources",
                point_sources_len,
                v.source_points.len(),
            ));
        }
        if !cell_sources.is_null() && cell_sources_len != v.source_cells.len() {
            return Err(wrong(
                "cell_sources",
                cell_sources_len,
                v.source_cells.len(),
            ));
        }
        if !point_sources.is_null() {
            std::ptr::copy_nonoverlapping(
                v.source_points.as_ptr(),
                point_sources,
                point_sources_len,
            );
        }
        if !cell_sources.is_null() {
            std::slice::from_raw_parts_mut(cell_sources, cell_sources_len)
                .iter_mut()
                .zip(&v.source_cells)
                .for_each(|(d, &s)| *d = s as i64);
        }
        Ok(())
    })
}

/// Floats that `inr_decode_mesh_view` writes for `variable`: the view's
/// points (point data) or cells (cell data) times components.
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_view_value_count(
    model: *const inr_model,
    view: *const inr_mesh_view,
    variable: usize,
    out: *mut usize,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let n = m
            .decoder
            .mesh_value_count(&view_ref(view)?.mesh, variable)?;
        write_out(out, "out", n)
    })
}

/// Decodes variables at a mesh view made from this model's mesh: point data
/// at its points, cell data at its cell centroids, at `time` (NaN: first
/// step). Buffers as in `inr_decode_nodes`, each `inr_mesh_view_value_count`
/// floats. At the stored points of a view the values equal those of
/// `inr_decode_nodes` bit for bit, corrections included (an error-bounded
/// file's corrections apply at stored points, and at the cells of an
/// unrefined view, at a stored time step).
#[no_mangle]
pub unsafe extern "C" fn inr_decode_mesh_view(
    model: *const inr_model,
    view: *const inr_mesh_view,
    variables: *const usize,
    n_variables: usize,
    time: f64,
    outputs: *const *mut f32,
    output_lens: *const usize,
    options: *const inr_decode_options,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let view = view_ref(view)?;
        let vars = variables_arg(m, variables, n_variables)?;
        let mut outs = outputs_arg(outputs, output_lens, vars.len())?;
        with_options(options, |o| {
            m.decoder
                .decode_view_into(view, &vars, time_arg(time), &mut outs, o)
        })?;
        Ok(())
    })
}
