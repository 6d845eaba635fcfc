//! What a model describes: library version, domain, variables, time, model.

use std::ffi::{c_char, CStr};

use crate::capi::error::{boundary, invalid, null, write_out, Failure, FfiResult};
use crate::capi::model::{inr_model, model_ref};
use crate::capi::{inr_status, INR_ABI_VERSION_MAJOR, INR_ABI_VERSION_MINOR};
use crate::format::{Association, Domain, Variable};
use crate::model::ecnr::Ecnr;

/// The kind of domain a file describes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum inr_domain {
    /// A uniform grid (VTK image data).
    INR_DOMAIN_IMAGE = 0,
    /// A rectilinear grid (per-axis coordinates).
    INR_DOMAIN_RECTILINEAR = 1,
    /// An unstructured mesh.
    INR_DOMAIN_UNSTRUCTURED = 2,
    /// A collection of rendered images.
    INR_DOMAIN_IMAGES = 3,
}

/// Where a variable's values live.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum inr_association {
    /// At grid points or mesh nodes.
    INR_ASSOCIATION_POINT = 0,
    /// At cells (evaluated at cell centers).
    INR_ASSOCIATION_CELL = 1,
}

/// The library version, e.g. "0.1.0". Static; never NULL.
#[no_mangle]
pub extern "C" fn inr_version() -> *const c_char {
    const V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    V.as_ptr()
}

/// The C ABI version of the loaded library: `major << 16 | minor`. Compare
/// with INR_ABI_VERSION_MAJOR/MINOR from the header you compiled against.
#[no_mangle]
pub extern "C" fn inr_abi_version() -> u32 {
    (INR_ABI_VERSION_MAJOR << 16) | INR_ABI_VERSION_MINOR
}

/// Writes `src` into a caller array of `n` elements.
unsafe fn write_array<T: Copy>(out: *mut T, name: &str, src: &[T]) -> FfiResult {
    if out.is_null() {
        return Err(null(name));
    }
    std::ptr::copy_nonoverlapping(src.as_ptr(), out, src.len());
    Ok(())
}

fn variable(m: &inr_model, index: usize) -> FfiResult<&Variable> {
    let vars = &m.decoder.metadata().variables;
    vars.get(index).ok_or_else(|| {
        invalid(format!(
            "variable index {index} (the file has {})",
            vars.len()
        ))
    })
}

/// `component` of `v` as an index, or why it is none of its components.
fn component_of(v: &Variable, component: u32) -> FfiResult<usize> {
    if component < v.components {
        Ok(component as usize)
    } else {
        Err(invalid(format!(
            "component {component} of variable {:?} with {} components",
            v.name, v.components
        )))
    }
}

/// The kind of domain of the file.
#[no_mangle]
pub unsafe extern "C" fn inr_domain_kind(
    model: *const inr_model,
    out: *mut inr_domain,
) -> inr_status {
    boundary(|| {
        let kind = match &model_ref(model)?.decoder.metadata().domain {
            Domain::Image { .. } => inr_domain::INR_DOMAIN_IMAGE,
            Domain::Rectilinear { .. } => inr_domain::INR_DOMAIN_RECTILINEAR,
            Domain::Unstructured { .. } => inr_domain::INR_DOMAIN_UNSTRUCTURED,
            Domain::Images { .. } => inr_domain::INR_DOMAIN_IMAGES,
        };
        write_out(out, "out", kind)
    })
}

/// The domain's bounding box: writes 6 doubles to `out`:
/// xmin, xmax, ymin, ymax, zmin, zmax (VTK's order), in the data's units.
#[no_mangle]
pub unsafe extern "C" fn inr_bounds(model: *const inr_model, out: *mut f64) -> inr_status {
    boundary(|| write_array(out, "out", &model_ref(model)?.decoder.bounds()))
}

/// Points per axis of the stored grid of a structured (image or
/// rectilinear) file: writes 3 values to `out`. INR_ERROR_INVALID_ARGUMENT
/// for an unstructured file.
#[no_mangle]
pub unsafe extern "C" fn inr_native_dims(model: *const inr_model, out: *mut u64) -> inr_status {
    boundary(|| {
        let dims = model_ref(model)?
            .decoder
            .metadata()
            .domain
            .dims()
            .ok_or_else(|| invalid("the file has no structured grid"))?;
        write_array(out, "out", &dims)
    })
}

/// Origin and spacing of an image-data file: 3 doubles each.
/// INR_ERROR_INVALID_ARGUMENT for other domains.
#[no_mangle]
pub unsafe extern "C" fn inr_image_geometry(
    model: *const inr_model,
    origin: *mut f64,
    spacing: *mut f64,
) -> inr_status {
    boundary(|| {
        let Domain::Image {
            origin: o,
            spacing: s,
            ..
        } = &model_ref(model)?.decoder.metadata().domain
        else {
            return Err(invalid("the file is not image data"));
        };
        if origin.is_null() || spacing.is_null() {
            return Err(null(if origin.is_null() {
                "origin"
            } else {
                "spacing"
            }));
        }
        write_array(origin, "origin", o)?;
        write_array(spacing, "spacing", s)
    })
}

/// The coordinates along `axis` (0 = x, 1 = y, 2 = z) of the stored grid of
/// a structured file (uniform axes are expanded). Writes the number of
/// coordinates to `*count`; with `capacity` >= that number, also writes them
/// to `out` (which may be NULL when `capacity` is 0: a size query).
/// INR_ERROR_BUFFER_TOO_SMALL if `capacity` is non-zero but too small.
#[no_mangle]
pub unsafe extern "C" fn inr_grid_coordinates(
    model: *const inr_model,
    axis: u32,
    out: *mut f64,
    capacity: usize,
    count: *mut usize,
) -> inr_status {
    boundary(|| {
        let grid = model_ref(model)?
            .decoder
            .native_grid()
            .ok_or_else(|| invalid("the file has no structured grid"))?;
        let coords = grid
            .axes
            .get(axis as usize)
            .ok_or_else(|| invalid(format!("axis {axis} (0, 1 or 2)")))?;
        if count.is_null() {
            return Err(null("count"));
        }
        if capacity > 0 {
            if capacity < coords.len() {
                return Err(Failure(
                    inr_status::INR_ERROR_BUFFER_TOO_SMALL,
                    format!("{} coordinates, capacity {capacity}", coords.len()),
                ));
            }
            write_array(out, "out", coords)?;
        }
        write_out(count, "count", coords.len())
    })
}

/// Number of variables.
#[no_mangle]
pub unsafe extern "C" fn inr_variable_count(
    model: *const inr_model,
    out: *mut usize,
) -> inr_status {
    boundary(|| {
        write_out(
            out,
            "out",
            model_ref(model)?.decoder.metadata().variables.len(),
        )
    })
}

/// The name of variable `index` (NUL-terminated UTF-8), owned by the model.
#[no_mangle]
pub unsafe extern "C" fn inr_variable_name(
    model: *const inr_model,
    index: usize,
    out: *mut *const c_char,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        variable(m, index)?;
        write_out(out, "out", m.names[index].as_ptr())
    })
}

/// The units of variable `index`, or NULL written to `*out` when the file
/// does not say. Owned by the model.
#[no_mangle]
pub unsafe extern "C" fn inr_variable_units(
    model: *const inr_model,
    index: usize,
    out: *mut *const c_char,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        variable(m, index)?;
        write_out(
            out,
            "out",
            m.units[index]
                .as_ref()
                .map_or(std::ptr::null(), |u| u.as_ptr()),
        )
    })
}

/// The index of the variable called `name`; INR_ERROR_INVALID_ARGUMENT if
/// there is none.
#[no_mangle]
pub unsafe extern "C" fn inr_variable_find(
    model: *const inr_model,
    name: *const c_char,
    out: *mut usize,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        if name.is_null() {
            return Err(null("name"));
        }
        let name = CStr::from_ptr(name).to_string_lossy();
        let index = m.decoder.variable_indices(&[&name])?[0];
        write_out(out, "out", index)
    })
}

/// Number of components of variable `index` (1 for scalars, 3 for vectors).
#[no_mangle]
pub unsafe extern "C" fn inr_variable_components(
    model: *const inr_model,
    index: usize,
    out: *mut u32,
) -> inr_status {
    boundary(|| write_out(out, "out", variable(model_ref(model)?, index)?.components))
}

/// Whether variable `index` is point or cell data.
#[no_mangle]
pub unsafe extern "C" fn inr_variable_association(
    model: *const inr_model,
    index: usize,
    out: *mut inr_association,
) -> inr_status {
    boundary(|| {
        let a = match variable(model_ref(model)?, index)?.association {
            Association::Point => inr_association::INR_ASSOCIATION_POINT,
            Association::Cell => inr_association::INR_ASSOCIATION_CELL,
        };
        write_out(out, "out", a)
    })
}

/// The stored value range of one component of a variable: writes min and
/// max to `out[0]`, `out[1]`. It is the range of the original data that the
/// network's output interval maps to; decoded values may stray slightly
/// outside it.
#[no_mangle]
pub unsafe extern "C" fn inr_variable_range(
    model: *const inr_model,
    index: usize,
    component: u32,
    out: *mut f64,
) -> inr_status {
    boundary(|| {
        let v = variable(model_ref(model)?, index)?;
        write_array(out, "out", &v.range[component_of(v, component)?])
    })
}

/// The guaranteed largest absolute error of one component of a variable
/// at the stored sites (grid points or cells, mesh nodes or cells, pixels of
/// stored views) at every stored time step, where the file's corrections
/// apply: decodes of the native grid, the stored mesh or a piece of it
/// (its cells only unrefined), a stored view, at a stored time, with every
/// scale (no coarser level of detail, no latent blend). Between sites and
/// steps the value is the network's, with no bound. Writes 0 to `out` when
/// the file has no bound.
#[no_mangle]
pub unsafe extern "C" fn inr_error_bound(
    model: *const inr_model,
    index: usize,
    component: u32,
    out: *mut f64,
) -> inr_status {
    boundary(|| {
        let m = model_ref(model)?;
        let c = component_of(variable(m, index)?, component)?;
        let meta = m.decoder.metadata();
        let bound = meta.corrections.as_ref().map_or(0.0, |b| b.bound[index][c]);
        write_out(out, "out", bound)
    })
}

/// Number of stored time steps; 0 for a file without a time axis.
#[no_mangle]
pub unsafe extern "C" fn inr_time_step_count(
    model: *const inr_model,
    out: *mut usize,
) -> inr_status {
    boundary(|| {
        let meta = model_ref(model)?.decoder.metadata();
        write_out(out, "out", meta.time.as_ref().map_or(0, |t| t.values.len()))
    })
}

/// The stored time values (strictly increasing, in the data's units) into
/// `out`, which holds `capacity` doubles. INR_ERROR_BUFFER_TOO_SMALL if it
/// cannot hold them all. Any time in between can be decoded too.
#[no_mangle]
pub unsafe extern "C" fn inr_time_values(
    model: *const inr_model,
    out: *mut f64,
    capacity: usize,
) -> inr_status {
    boundary(|| {
        let meta = model_ref(model)?.decoder.metadata();
        let values = meta.time.as_ref().map_or(&[][..], |t| &t.values[..]);
        if values.is_empty() {
            return Ok(()); // nothing to write: `out` may be NULL
        }
        if capacity < values.len() {
            return Err(Failure(
                inr_status::INR_ERROR_BUFFER_TOO_SMALL,
                format!("{} time values, capacity {capacity}", values.len()),
            ));
        }
        write_array(out, "out", values)
    })
}

/// The model family, e.g. "residual_siren" (owned by the model).
#[no_mangle]
pub unsafe extern "C" fn inr_model_family(
    model: *const inr_model,
    out: *mut *const c_char,
) -> inr_status {
    boundary(|| write_out(out, "out", model_ref(model)?.family.as_ptr()))
}

/// Whether the model embeds its variables as latent vectors (stsr_inr):
/// then `inr_decode_options.blend_with` decodes blends between variables
/// (latent interpolation); other families refuse it.
#[no_mangle]
pub unsafe extern "C" fn inr_model_embeds_variables(
    model: *const inr_model,
    out: *mut bool,
) -> inr_status {
    boundary(|| write_out(out, "out", model_ref(model)?.decoder.embeds_variables()))
}

/// Number of scales of a multiscale (ECNR) model, its levels of detail:
/// `inr_decode_options.detail` K from 1 to that number decodes the coarsest
/// K scales, 0 all of them. 0 for the other families, which have a single
/// level and ignore `detail`.
#[no_mangle]
pub unsafe extern "C" fn inr_model_scales(model: *const inr_model, out: *mut u32) -> inr_status {
    boundary(|| {
        let scales = model_ref(model)?
            .decoder
            .model()
            .get::<Ecnr>()
            .map_or(0, |m| m.scales.len());
        // At most MAX_SCALES (16): validated on open.
        write_out(out, "out", u32::try_from(scales).unwrap_or(u32::MAX))
    })
}

/// Number of network parameters.
#[no_mangle]
pub unsafe extern "C" fn inr_parameter_count(model: *const inr_model, out: *mut u64) -> inr_status {
    boundary(|| {
        write_out(
            out,
            "out",
            model_ref(model)?.decoder.model().parameter_count(),
        )
    })
}

/// Size of the .inr file in bytes.
#[no_mangle]
pub unsafe extern "C" fn inr_file_size(model: *const inr_model, out: *mut u64) -> inr_status {
    boundary(|| write_out(out, "out", model_ref(model)?.decoder.file().file_len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::{inr_close, inr_open_memory};
    use inr_testkit::ecnr::EcnrSpec;
    use inr_testkit::synthetic::SyntheticSpec;

    /// Opens a file held in memory; the caller closes it.
    fn open(bytes: &[u8]) -> *mut inr_model {
        let mut model = std::ptr::null_mut();
        let status = unsafe { inr_open_memory(bytes.as_ptr(), bytes.len(), &mut model) };
        assert_eq!(status, inr_status::INR_OK);
        model
    }

    fn scales(model: *const inr_model) -> (inr_status, u32) {
        let mut n = u32::MAX;
        let status = unsafe { inr_model_scales(model, &mut n) };
        (status, n)
    }

    #[test]
    fn model_scales_counts_the_scales_of_ecnr_and_zero_otherwise() {
        for factors in [vec![4, 2, 1], vec![1], vec![8, 4, 2, 1]] {
            let spec = EcnrSpec {
                factors: factors.clone(),
                ..EcnrSpec::small(7)
            };
            let model = open(&spec.build().unwrap());
            assert_eq!(scales(model), (inr_status::INR_OK, factors.len() as u32));
            unsafe { inr_close(model) };
        }
        let (_, bytes) = SyntheticSpec::small(3).build().unwrap();
        let model = open(&bytes);
        assert_eq!(scales(model), (inr_status::INR_OK, 0));
        unsafe { inr_close(model) };
    }

    #[test]
    fn model_scales_rejects_null_arguments() {
        let model = open(&EcnrSpec::small(1).build().unwrap());
        let status = unsafe { inr_model_scales(model, std::ptr::null_mut()) };
        assert_eq!(status, inr_status::INR_ERROR_NULL_ARGUMENT);
        let mut n = 5;
        let status = unsafe { inr_model_scales(std::ptr::null(), &mut n) };
        assert_eq!(status, inr_status::INR_ERROR_NULL_ARGUMENT);
        assert_eq!(n, 5, "nothing written on failure");
        unsafe { inr_close(model) };
    }
}
