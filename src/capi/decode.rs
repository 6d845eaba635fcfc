//! Decoding through the C ABI: points, grids, options and progress.

use std::ffi::c_void;

use crate::capi::error::{boundary, invalid, null, write_out, FfiResult};
use crate::capi::inr_status;
use crate::capi::model::{inr_model, model_ref};
use crate::decode::{Blend, DecodeOptions, PointTimes};
use crate::sampling::{Extent, SamplingGrid};

/// A progress callback: receives the fraction done (0 to 1) and the
/// `user_data` of the options; returns false to cancel the decode (which then
/// fails with INR_ERROR_CANCELLED). It is called on the thread that called
/// the decode function: once before the work starts, about every 50 ms, and
/// once with 1.0 at the end, so GUI code may update widgets from it.
pub type inr_progress_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, fraction: f64) -> bool>;

/// Options of the decode functions. Pass NULL for the defaults (all cores,
/// no progress, every scale). Zero-initialize and set the fields you need.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct inr_decode_options {
    /// Worker threads; 0 = one per available core.
    pub threads: u32,
    /// Optional progress callback with cancellation (may be NULL).
    pub progress: inr_progress_callback,
    /// Passed to `progress` unchanged.
    pub user_data: *mut c_void,
    /// Level of detail of multiscale (ECNR) files: 0 = all scales (the
    /// stored data); K = only the coarsest K scales, a quicker, smoother
    /// preview (all of them when K exceeds their number). Other model
    /// families ignore it.
    pub detail: u32,
    /// Latent interpolation of models that embed variables (stsr_inr):
    /// 0 = none; `v + 1` decodes every requested variable with its latent
    /// vector and range blended toward those of variable `v` by
    /// `blend_alpha` (0 = the variable itself, 1 = variable `v`). Other
    /// families fail with INR_ERROR_UNSUPPORTED when it is set.
    pub blend_with: u32,
    /// The blend's weight; finite.
    pub blend_alpha: f64,
}

/// The C callback as the decoder's progress closure. `Sync` because the
/// decoder calls it only on the calling thread (see `decode::parallel`),
/// where the caller's `user_data` lives.
struct CProgress {
    callback: unsafe extern "C" fn(*mut c_void, f64) -> bool,
    user_data: *mut c_void,
}
// SAFETY: see the type's comment: never called from another thread.
unsafe impl Sync for CProgress {}

impl CProgress {
    fn call(&self, fraction: f64) -> bool {
        // SAFETY: the caller handed us a valid function for its user_data.
        unsafe { (self.callback)(self.user_data, fraction) }
    }
}

/// Runs `f` with the decoder options described by `options` (may be NULL).
pub(crate) unsafe fn with_options<T>(
    options: *const inr_decode_options,
    f: impl FnOnce(&DecodeOptions) -> T,
) -> T {
    let o = options.as_ref().copied();
    let progress = o.and_then(|o| {
        o.progress.map(|callback| CProgress {
            callback,
            user_data: o.user_data,
        })
    });
    let closure = |x: f64| progress.as_ref().is_none_or(|p| p.call(x));
    let opts = DecodeOptions {
        threads: o.map_or(0, |o| o.threads as usize),
        progress: progress
            .as_ref()
            .map(|_| &closure as &(dyn Fn(f64) -> bool + Sync)),
        detail: o.map_or(0, |o| o.detail),
        blend: o.filter(|o| o.blend_with > 0).map(|o| Blend {
            with: (o.blend_with - 1) as usize,
            alpha: o.blend_alpha,
        }),
    };
    f(&opts)
}

/// The variable list: `n == 0` means all variables.
pub(crate) unsafe fn variables_arg(
    m: &inr_model,
    variables: *const usize,
    n: usize,
) -> FfiResult<Vec<usize>> {
    if n == 0 {
        return Ok((0..m.decoder.metadata().variables.len()).collect());
    }
    if variables.is_null() {
        return Err(null("variables"));
    }
    let v = std::slice::from_raw_parts(variables, n).to_vec();
    let count = m.decoder.metadata().variables.len();
    if let Some(bad) = v.iter().find(|&&i| i >= count) {
        return Err(invalid(format!(
            "variable index {bad} (the file has {count})"
        )));
    }
    Ok(v)
}

/// A time argument: NaN means "the first stored step".
pub(crate) fn time_arg(time: f64) -> Option<f64> {
    (!time.is_nan()).then_some(time)
}

/// Output buffers: `n` pointers with their lengths in floats.
pub(crate) unsafe fn outputs_arg<'a>(
    outputs: *const *mut f32,
    lens: *const usize,
    n: usize,
) -> FfiResult<Vec<&'a mut [f32]>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if outputs.is_null() || lens.is_null() {
        return Err(null(if outputs.is_null() {
            "outputs"
        } else {
            "output_lens"
        }));
    }
    let ptrs = std::slice::from_raw_parts(outputs, n);
    let lens = std::slice::from_raw_parts(lens, n);
    ptrs.iter()
        .zip(lens)
        .enumerate()
        .map(|(i, (&p, &len))| {
            if p.is_null() {
                return Err(null(&format!("outputs[{i}]")));
            }
            Ok(std::slice::from_raw_parts_mut(p, len))
        })
        .collect()
}

pub(crate) unsafe fn dims_arg(dims: *const u64) -> FfiResult<Option<[usize; 3]>> {
    if dims.is_null() {
        return Ok(None);
    }
    let d = std::slice::from_raw_parts(dims, 3);
    let conv = |v: u64| usize::try_from(v).map_err(|_| invalid(format!("dims {d:?}")));
    Ok(Some([conv(d[0])?, conv(d[1])?, conv(d[2])?]))
}

pub(crate) unsafe fn extent_arg(grid: &SamplingGrid, extent: *const i64) -> FfiResult<Extent> {
    if extent.is_null() {
        return Ok(grid.whole_extent());
    }
    let e = std::slice::from_raw_parts(extent, 6);
    let mut out = [0usize; 6];
    for (o, &v) in out.iter_mut().zip(e) {
        *o =
            usize::try_from(v).map_err(|_| invalid(format!("extent {e:?} has negative bounds")))?;
    }
    grid.check_extent(&out)?;
    Ok(out)
}

/// Evaluates `n_points` points. `xyz` holds 3 * n_points doubles (x, y, z per
/// point, in the data's coordinates; points outside the domain are
/// extrapolated by the network). Times: `times` (n_points doubles) gives one
/// time per point; if NULL, all points use `time` (NaN = the first stored
/// step); static files ignore time, and times outside the stored range are
/// clamped to it. `variables` lists `n_variables` variable indices
/// (n_variables = 0: all variables, and `variables` may be NULL).
///
/// Layout of `out` (`out_len` floats, exactly n_points * C where C is the sum
/// of the components of the chosen variables): point after point, the
/// components of each chosen variable in the order given, in physical units.
/// Safe to call from many threads on the same model.
#[no_mangle]
pub unsafe extern "C" fn inr_query_points(
    model: *const inr_model,
    xyz: *const f64,
    n_points: usize,
    times: *const f64,
    time: f64,
    variables: *const usize,
    n_variables: usize,
    out: *mut f32,
    out_len: usize,
    options: *const inr_decode_options,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let vars = variables_arg(m, variables, n_variables)?;
        if n_points == 0 {
            return Ok(());
        }
        if xyz.is_null() || out.is_null() {
            return Err(null(if xyz.is_null() { "xyz" } else { "out" }));
        }
        let n3 = n_points
            .checked_mul(3)
            .ok_or_else(|| invalid("too many points"))?;
        let points = std::slice::from_raw_parts(xyz, n3);
        let t = if times.is_null() {
            PointTimes::Fixed(time_arg(time))
        } else {
            PointTimes::PerPoint(std::slice::from_raw_parts(times, n_points))
        };
        let out = std::slice::from_raw_parts_mut(out, out_len);
        with_options(options, |o| m.decoder.evaluate(points, t, &vars, out, o))?;
        Ok(())
    })
}

/// Floats per point that `inr_query_points` writes for these variables (the
/// sum of their components).
#[no_mangle]
pub unsafe extern "C" fn inr_query_components(
    model: *const inr_model,
    variables: *const usize,
    n_variables: usize,
    out: *mut usize,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let vars = variables_arg(m, variables, n_variables)?;
        let meta = m.decoder.metadata();
        write_out(
            out,
            "out",
            vars.iter()
                .map(|&v| meta.variables[v].components as usize)
                .sum(),
        )
    })
}

/// Origin and spacing (3 doubles each) of the sampling grid of `dims`
/// points per axis over the domain's bounds (`dims` NULL: the stored grid).
/// At the native dims of an image file this is the stored geometry. For a
/// rectilinear file at its native dims use `inr_grid_coordinates` instead
/// (INR_ERROR_INVALID_ARGUMENT here).
#[no_mangle]
pub unsafe extern "C" fn inr_grid_geometry(
    model: *const inr_model,
    dims: *const u64,
    origin: *mut f64,
    spacing: *mut f64,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let grid = m.decoder.sampling_grid(dims_arg(dims)?)?;
        let (o, s) = grid.uniform.ok_or_else(|| {
            invalid("the stored rectilinear grid is not uniform: use inr_grid_coordinates")
        })?;
        if origin.is_null() || spacing.is_null() {
            return Err(null(if origin.is_null() {
                "origin"
            } else {
                "spacing"
            }));
        }
        std::ptr::copy_nonoverlapping(o.as_ptr(), origin, 3);
        std::ptr::copy_nonoverlapping(s.as_ptr(), spacing, 3);
        Ok(())
    })
}

/// Floats that `inr_decode_grid` writes for `variable` on the sampling grid
/// `dims` (NULL: stored grid) restricted to `extent` (6 values, VTK's
/// inclusive point extent x0, x1, y0, y1, z0, z1; NULL: whole grid): tuples
/// times components, where tuples are the extent's points for point data
/// and the cells between them for cell data.
#[no_mangle]
pub unsafe extern "C" fn inr_grid_value_count(
    model: *const inr_model,
    dims: *const u64,
    extent: *const i64,
    variable: usize,
    out: *mut usize,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let grid = m.decoder.sampling_grid(dims_arg(dims)?)?;
        let e = extent_arg(&grid, extent)?;
        let v = variables_arg(m, &variable, 1)?[0];
        let var = &m.decoder.metadata().variables[v];
        let n = m.decoder.tuples(&grid, &e, var.association) * var.components as usize;
        write_out(out, "out", n)
    })
}

/// Decodes a sampling grid: `dims` points per axis over the domain's bounds
/// (NULL: the stored grid), restricted to `extent` (NULL: whole grid; see
/// `inr_grid_value_count`), at `time` (NaN: first step), for `n_variables`
/// variables (0: all, `variables` may be NULL). `outputs[i]` receives
/// variable i's values, `output_lens[i]` floats, exactly what
/// `inr_grid_value_count` says: tuples in VTK order (x fastest), components
/// interleaved, in physical units. Point data is evaluated at the grid
/// points, cell data at the cell centers. Buffers must not overlap. Each
/// MPI rank / thread can decode its own extent; the values equal those of
/// the whole grid bit for bit.
#[no_mangle]
pub unsafe extern "C" fn inr_decode_grid(
    model: *const inr_model,
    dims: *const u64,
    extent: *const i64,
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
        let grid = m.decoder.sampling_grid(dims_arg(dims)?)?;
        let e = extent_arg(&grid, extent)?;
        let mut outs = outputs_arg(outputs, output_lens, vars.len())?;
        with_options(options, |o| {
            m.decoder
                .decode_grid_into(&grid, &e, &vars, time_arg(time), &mut outs, o)
        })?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_options_mean_defaults() {
        let threads =
            unsafe { with_options(std::ptr::null(), |o| (o.threads, o.progress.is_none())) };
        assert_eq!(threads, (0, true));
    }

    #[test]
    fn boundary_turns_panics_into_internal_errors() {
        let s = boundary(|| panic!("boom"));
        assert_eq!(s, inr_status::INR_ERROR_INTERNAL);
        let msg = unsafe { std::ffi::CStr::from_ptr(crate::capi::inr_last_error_message()) };
        assert!(msg.to_str().unwrap().contains("boom"));
    }
}
