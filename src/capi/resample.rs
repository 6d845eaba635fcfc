//! Resampling an unstructured file onto a regular grid through the C ABI,
//! with the points outside the mesh marked.

use crate::capi::decode::{
    dims_arg, extent_arg, inr_decode_options, outputs_arg, time_arg, variables_arg, with_options,
};
use crate::capi::error::{boundary, invalid, null, write_out, FfiResult};
use crate::capi::inr_status;
use crate::capi::model::{inr_model, model_ref};
use crate::decode::Decoder;
use crate::sampling::{Extent, SamplingGrid};

/// The grid of `dims` (required: a mesh has no native grid) and the extent.
unsafe fn grid_and_extent(
    decoder: &Decoder,
    dims: *const u64,
    extent: *const i64,
) -> FfiResult<(SamplingGrid, Extent)> {
    let dims = dims_arg(dims)?.ok_or_else(|| null("dims"))?;
    decoder.mesh()?;
    let grid = decoder.sampling_grid(Some(dims))?;
    let e = extent_arg(&grid, extent)?;
    Ok((grid, e))
}

/// Floats that `inr_resample_grid` writes for `variable`: the points of
/// `extent` (NULL: the whole grid of `dims`) times the variable's
/// components. On a resampled grid every variable is point data, cell
/// variables included (as VTK's probe filter makes them).
#[no_mangle]
pub unsafe extern "C" fn inr_resample_value_count(
    model: *const inr_model,
    dims: *const u64,
    extent: *const i64,
    variable: usize,
    out: *mut usize,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let (_, e) = grid_and_extent(&m.decoder, dims, extent)?;
        let n = m.decoder.resample_value_count(&e, variable)?;
        write_out(out, "out", n)
    })
}

/// Which points of a resampling grid lie inside the mesh of an unstructured
/// file: `mask` (`mask_len` bytes, the points of `extent` in VTK order)
/// receives 1 for a point in some 3D cell (faces and the boundary count as
/// inside, within a relative tolerance of about 1e-6 of the cell), 0 for
/// one outside: VTK's `vtkValidPointMask` convention. Cells are found with a
/// spatial index built on the first call. Lower-dimensional cells contain
/// no points; quadratic cells are located by their corner points.
#[no_mangle]
pub unsafe extern "C" fn inr_grid_inside_mask(
    model: *const inr_model,
    dims: *const u64,
    extent: *const i64,
    mask: *mut u8,
    mask_len: usize,
    options: *const inr_decode_options,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let (grid, e) = grid_and_extent(&m.decoder, dims, extent)?;
        if mask.is_null() {
            return Err(null("mask"));
        }
        let mask = std::slice::from_raw_parts_mut(mask, mask_len);
        with_options(options, |o| m.decoder.inside_mask(&grid, &e, mask, o))?;
        Ok(())
    })
}

/// Resamples an unstructured file onto the grid of `dims` points per axis
/// over the mesh's bounds (as `inr_grid_geometry` gives them), restricted to
/// `extent` (NULL: the whole grid): the network is evaluated only at the
/// points inside the mesh (see `inr_grid_inside_mask`); points outside get
/// `outside_value` (e.g. NaN, or 0 as VTK's probe filter) in every
/// component. Variables, time, options and buffers as in `inr_decode_grid`,
/// each buffer `inr_resample_value_count` floats. `mask`, unless NULL,
/// receives the inside mask (`mask_len` bytes, one per point). A piece
/// (extent) equals the same region of the whole grid bit for bit.
#[no_mangle]
pub unsafe extern "C" fn inr_resample_grid(
    model: *const inr_model,
    dims: *const u64,
    extent: *const i64,
    variables: *const usize,
    n_variables: usize,
    time: f64,
    outside_value: f32,
    outputs: *const *mut f32,
    output_lens: *const usize,
    mask: *mut u8,
    mask_len: usize,
    options: *const inr_decode_options,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let vars = variables_arg(m, variables, n_variables)?;
        let (grid, e) = grid_and_extent(&m.decoder, dims, extent)?;
        let mut outs = outputs_arg(outputs, output_lens, vars.len())?;
        let mask = if mask.is_null() {
            if mask_len != 0 {
                return Err(invalid("mask is NULL but mask_len is not 0"));
            }
            None
        } else {
            Some(std::slice::from_raw_parts_mut(mask, mask_len))
        };
        with_options(options, |o| {
            m.decoder.resample_into(
                &grid,
                &e,
                &vars,
                time_arg(time),
                outside_value,
                &mut outs,
                mask,
                o,
            )
        })?;
        Ok(())
    })
}
