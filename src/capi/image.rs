//! Files of rendered images (NeRVI) through the C ABI: the collection's
//! size and views, and one decoded image per time and view.

use std::ffi::c_char;

use crate::capi::decode::{inr_decode_options, outputs_arg, time_arg, variables_arg, with_options};
use crate::capi::error::{boundary, invalid, null, write_out, FfiResult};
use crate::capi::inr_status;
use crate::capi::model::{inr_model, model_ref};
use crate::decode::{ImageRequest, ImageSet};

fn image_set(m: &inr_model) -> FfiResult<&ImageSet> {
    m.decoder.image_set().ok_or_else(|| {
        crate::Error::Unsupported(format!(
            "this {} file holds a field, not images",
            m.decoder.metadata().domain.kind_name()
        ))
        .into()
    })
}

/// The view as a slice of exactly the file's parameter count.
unsafe fn view_arg<'a>(m: &inr_model, view: *const f64, n_view: usize) -> FfiResult<&'a [f64]> {
    let p = image_set(m)?.parameters.len();
    if n_view != p {
        return Err(invalid(format!(
            "{n_view} view values for {p} view parameters"
        )));
    }
    if view.is_null() {
        return Err(null("view"));
    }
    Ok(std::slice::from_raw_parts(view, n_view))
}

/// Width and height in pixels of the images of an images file (NeRVI);
/// INR_ERROR_UNSUPPORTED for other files.
#[no_mangle]
pub unsafe extern "C" fn inr_image_size(
    model: *const inr_model,
    width: *mut u64,
    height: *mut u64,
) -> inr_status {
    boundary(|| {
        let set = image_set(model_ref(model)?)?;
        if width.is_null() || height.is_null() {
            return Err(null(if width.is_null() { "width" } else { "height" }));
        }
        *width = set.width as u64;
        *height = set.height as u64;
        Ok(())
    })
}

/// Number of view parameters of an images file (e.g. 2 for theta and phi).
#[no_mangle]
pub unsafe extern "C" fn inr_view_parameter_count(
    model: *const inr_model,
    out: *mut usize,
) -> inr_status {
    boundary(|| write_out(out, "out", image_set(model_ref(model)?)?.parameters.len()))
}

/// The name of view parameter `index` (NUL-terminated UTF-8), owned by the
/// model.
#[no_mangle]
pub unsafe extern "C" fn inr_view_parameter_name(
    model: *const inr_model,
    index: usize,
    out: *mut *const c_char,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let n = image_set(m)?.parameters.len();
        let name = m
            .view_parameters
            .get(index)
            .ok_or_else(|| invalid(format!("view parameter {index} (the file has {n})")))?;
        write_out(out, "out", name.as_ptr())
    })
}

/// Number of stored views (parameter tuples) of an images file.
#[no_mangle]
pub unsafe extern "C" fn inr_view_count(model: *const inr_model, out: *mut usize) -> inr_status {
    boundary(|| write_out(out, "out", image_set(model_ref(model)?)?.view_count()))
}

/// Copies the stored views into `out` (`capacity` doubles, at least
/// views x parameters): view after view, one value per parameter. Any view
/// between them can be decoded; values beyond each parameter's stored range
/// are clamped to it.
#[no_mangle]
pub unsafe extern "C" fn inr_views(
    model: *const inr_model,
    out: *mut f64,
    capacity: usize,
) -> inr_status {
    boundary(|| {
        let set = image_set(model_ref(model)?)?;
        if capacity < set.views.len() {
            return Err(invalid(format!(
                "capacity {capacity} for {} values",
                set.views.len()
            )));
        }
        if out.is_null() {
            return Err(null("out"));
        }
        std::ptr::copy_nonoverlapping(set.views.as_ptr(), out, set.views.len());
        Ok(())
    })
}

/// Decodes one image of an images file at `time` (NaN: the first step;
/// clamped to the stored range; static files ignore it) and `view`
/// (`n_view` values, one per view parameter, each clamped to its stored
/// range), for `n_variables` variables (0: all; `variables` may be NULL).
/// `outputs[i]` receives variable i's values, `output_lens[i]` floats,
/// exactly width x height x components: pixel after pixel, the top row
/// first (as in image files; VTK's image data starts at the bottom),
/// components interleaved, in physical units.
#[no_mangle]
pub unsafe extern "C" fn inr_decode_image(
    model: *const inr_model,
    time: f64,
    view: *const f64,
    n_view: usize,
    variables: *const usize,
    n_variables: usize,
    outputs: *const *mut f32,
    output_lens: *const usize,
    options: *const inr_decode_options,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let set = image_set(m)?;
        let view = view_arg(m, view, n_view)?;
        let vars = variables_arg(m, variables, n_variables)?;
        let mut outs = outputs_arg(outputs, output_lens, vars.len())?;
        let meta = m.decoder.metadata();
        for (i, (&v, o)) in vars.iter().zip(&outs).enumerate() {
            let want = set.width * set.height * meta.variables[v].components as usize;
            if o.len() != want {
                return Err(invalid(format!(
                    "output_lens[{i}] = {} for {want} values",
                    o.len()
                )));
            }
        }
        let req = ImageRequest {
            time: time_arg(time),
            view: view.to_vec(),
            variables: vars,
        };
        let img = with_options(options, |o| m.decoder.decode_image(&req, o))?;
        for (o, a) in outs.iter_mut().zip(&img.arrays) {
            o.copy_from_slice(&a.values);
        }
        Ok(())
    })
}

/// Decodes the composite of an images file (NeRVI's `mask x color + (1 -
/// mask) x background`) as 8-bit RGBA into `out` (`out_len` bytes, exactly
/// width x height x 4): pixel after pixel, the top row first, alpha 255.
/// Time and view as `inr_decode_image`. INR_ERROR_UNSUPPORTED when the file
/// names no composite.
#[no_mangle]
pub unsafe extern "C" fn inr_decode_image_rgba(
    model: *const inr_model,
    time: f64,
    view: *const f64,
    n_view: usize,
    out: *mut u8,
    out_len: usize,
    options: *const inr_decode_options,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let set = image_set(m)?;
        let view = view_arg(m, view, n_view)?;
        let want = set.width * set.height * 4;
        if out_len != want {
            return Err(invalid(format!("out_len {out_len} for {want} bytes")));
        }
        if out.is_null() {
            return Err(null("out"));
        }
        let rgba = with_options(options, |o| m.decoder.decode_rgba(time_arg(time), view, o))?;
        std::slice::from_raw_parts_mut(out, out_len).copy_from_slice(&rgba);
        Ok(())
    })
}
