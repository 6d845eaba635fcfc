//! Unstructured meshes through the C ABI: the stored mesh and values at it.

use crate::capi::decode::{inr_decode_options, outputs_arg, time_arg, variables_arg};
use crate::capi::error::{boundary, invalid, null, write_out, FfiResult};
use crate::capi::inr_status;
use crate::capi::model::{inr_model, model_ref};
use crate::mesh::Mesh;

/// The mesh of a model handle, read on first use.
unsafe fn mesh_of<'a>(model: *const inr_model) -> FfiResult<&'a Mesh> {
    Ok(model_ref(model)?.decoder.mesh()?)
}

/// Sizes of the stored mesh of an unstructured file: points, cells, and the
/// length of the connectivity array. The mesh is read (and verified) on the
/// first mesh call. INR_ERROR_INVALID_ARGUMENT for structured files.
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_sizes(
    model: *const inr_model,
    n_points: *mut u64,
    n_cells: *mut u64,
    connectivity_len: *mut u64,
) -> inr_status {
    boundary(|| write_sizes(mesh_of(model)?, n_points, n_cells, connectivity_len))
}

/// The mesh points, exactly as stored: `len` must be 3 * n_points doubles
/// (x, y, z per point).
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_points(
    model: *const inr_model,
    out: *mut f64,
    len: usize,
) -> inr_status {
    boundary(|| copy_points(mesh_of(model)?, out, len))
}

/// The cells in VTK's layout: `offsets` (n_cells + 1 values, starting at 0),
/// `connectivity` (connectivity_len point ids; cell c uses ids
/// offsets[c] .. offsets[c+1]-1) as 64-bit integers like vtkIdType, and
/// `types` (n_cells VTK cell type codes, e.g. 10 = VTK_TETRA). Each length
/// must match `inr_mesh_sizes`.
#[no_mangle]
pub unsafe extern "C" fn inr_mesh_cells(
    model: *const inr_model,
    offsets: *mut i64,
    offsets_len: usize,
    connectivity: *mut i64,
    connectivity_len: usize,
    types: *mut u8,
    types_len: usize,
) -> inr_status {
    boundary(|| {
        copy_cells(
            mesh_of(model)?,
            (offsets, offsets_len),
            (connectivity, connectivity_len),
            (types, types_len),
        )
    })
}

/// Floats that `inr_decode_nodes` writes for `variable`: nodes (point data)
/// or cells (cell data) times components.
#[no_mangle]
pub unsafe extern "C" fn inr_node_value_count(
    model: *const inr_model,
    variable: usize,
    out: *mut usize,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        write_out(out, "out", m.decoder.node_value_count(variable)?)
    })
}

/// Decodes variables at the stored mesh of an unstructured file: point data
/// at the nodes, cell data at the cell centroids (mean of the cell's
/// points), at `time` (NaN: first step). Buffers as in `inr_decode_grid`,
/// each `inr_node_value_count` floats, in node (or cell) order.
#[no_mangle]
pub unsafe extern "C" fn inr_decode_nodes(
    model: *const inr_model,
    variables: *const usize,
    n_variables: usize,
    time: f64,
    outputs: *const *mut f32,
    output_lens: *const usize,
    options: *const inr_decode_options,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let vars = variables_arg(m, variables, n_variables)?;
        let mut outs = outputs_arg(outputs, output_lens, vars.len())?;
        super::decode::with_options(options, |o| {
            m.decoder
                .decode_nodes_into(&vars, time_arg(time), &mut outs, o)
        })?;
        Ok(())
    })
}

/// Writes a mesh's point and cell counts and connectivity length; none of
/// them when one pointer is NULL.
pub(crate) unsafe fn write_sizes(
    mesh: &Mesh,
    n_points: *mut u64,
    n_cells: *mut u64,
    connectivity_len: *mut u64,
) -> FfiResult {
    if n_points.is_null() || n_cells.is_null() || connectivity_len.is_null() {
        return Err(null("n_points, n_cells or connectivity_len"));
    }
    write_out(n_points, "n_points", mesh.num_points() as u64)?;
    write_out(n_cells, "n_cells", mesh.num_cells() as u64)?;
    write_out(
        connectivity_len,
        "connectivity_len",
        mesh.connectivity.len() as u64,
    )
}

/// Copies a mesh's points into a caller's buffer of `len` doubles.
pub(crate) unsafe fn copy_points(mesh: &Mesh, out: *mut f64, len: usize) -> FfiResult {
    if out.is_null() {
        return Err(null("out"));
    }
    if len != mesh.points.len() {
        return Err(invalid(format!(
            "{len} doubles for {} coordinates",
            mesh.points.len()
        )));
    }
    std::ptr::copy_nonoverlapping(mesh.points.as_ptr(), out, len);
    Ok(())
}

/// Copies a mesh's cells (VTK layout) into the caller's three buffers.
pub(crate) unsafe fn copy_cells(
    mesh: &Mesh,
    (offsets, offsets_len): (*mut i64, usize),
    (connectivity, connectivity_len): (*mut i64, usize),
    (types, types_len): (*mut u8, usize),
) -> FfiResult {
    if offsets.is_null() || connectivity.is_null() || types.is_null() {
        return Err(null("offsets, connectivity or types"));
    }
    if offsets_len != mesh.offsets.len()
        || connectivity_len != mesh.connectivity.len()
        || types_len != mesh.types.len()
    {
        return Err(invalid(format!(
            "lengths {offsets_len}, {connectivity_len}, {types_len}; the mesh needs {}, {}, {}",
            mesh.offsets.len(),
            mesh.connectivity.len(),
            mesh.types.len()
        )));
    }
    // Counts are below 2^32 (the reader's limit), so they fit an i64.
    let o = std::slice::from_raw_parts_mut(offsets, offsets_len);
    o.iter_mut()
        .zip(&mesh.offsets)
        .for_each(|(d, &s)| *d = s as i64);
    let c = std::slice::from_raw_parts_mut(connectivity, connectivity_len);
    c.iter_mut()
        .zip(&mesh.connectivity)
        .for_each(|(d, &s)| *d = s as i64);
    std::ptr::copy_nonoverlapping(mesh.types.as_ptr(), types, types_len);
    Ok(())
}
