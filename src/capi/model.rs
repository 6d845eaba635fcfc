//! Opening and closing models.

use std::ffi::{c_char, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::capi::error::{boundary, c_string, null, write_out, FfiResult};
use crate::capi::inr_status;
use crate::decode::Decoder;

/// An open .inr file with its model loaded. Opaque. Thread-safe: one model
/// may be queried from many threads at once; only `inr_close` must not race
/// with other calls on the same model.
pub struct inr_model {
    pub(crate) decoder: Decoder,
    pub(crate) names: Vec<CString>,
    pub(crate) units: Vec<Option<CString>>,
    pub(crate) family: CString,
    /// View parameter names of an images file.
    pub(crate) view_parameters: Vec<CString>,
}

impl inr_model {
    fn new(decoder: Decoder) -> Box<inr_model> {
        let meta = decoder.metadata();
        Box::new(inr_model {
            names: meta.variables.iter().map(|v| c_string(&v.name)).collect(),
            units: meta
                .variables
                .iter()
                .map(|v| v.units.as_deref().map(c_string))
                .collect(),
            family: c_string(meta.model_family()),
            view_parameters: (decoder.image_set()).map_or_else(Vec::new, |s| {
                s.parameters.iter().map(|p| c_string(p)).collect()
            }),
            decoder,
        })
    }
}

/// Borrows the model behind a handle.
///
/// # Safety
/// `model` must be NULL or a live handle from `inr_open*`.
pub(crate) unsafe fn model_ref<'a>(model: *const inr_model) -> FfiResult<&'a inr_model> {
    model.as_ref().ok_or_else(|| null("model"))
}

unsafe fn store(out: *mut *mut inr_model, decoder: Decoder) -> FfiResult {
    write_out(out, "out", Box::into_raw(inr_model::new(decoder)))
}

/// Opens the .inr file at `path` (a NUL-terminated path, bytes as the
/// operating system takes them), verifies its
/// header, metadata and checksums, loads its model, and stores a new handle in
/// `*out`. Free it with `inr_close`. Sections that are not needed yet (e.g.
/// a mesh) are read on first use.
///
/// Errors: INR_ERROR_NULL_ARGUMENT, INR_ERROR_IO, INR_ERROR_NOT_INR,
/// INR_ERROR_UNSUPPORTED_VERSION, INR_ERROR_TRUNCATED, INR_ERROR_CHECKSUM,
/// INR_ERROR_CORRUPT, INR_ERROR_LIMIT, INR_ERROR_UNSUPPORTED.
#[no_mangle]
pub unsafe extern "C" fn inr_open(path: *const c_char, out: *mut *mut inr_model) -> inr_status {
    boundary(|| {
        if path.is_null() {
            return Err(null("path"));
        }
        if out.is_null() {
            return Err(null("out"));
        }
        // Paths are bytes on Unix, not necessarily UTF-8.
        let path = std::ffi::OsStr::from_bytes(CStr::from_ptr(path).to_bytes());
        store(out, Decoder::open(Path::new(path))?)
    })
}

/// Opens a .inr file held in memory: `len` bytes at `data`, which are copied
/// (the caller may free them on return). Otherwise as `inr_open`.
#[no_mangle]
pub unsafe extern "C" fn inr_open_memory(
    data: *const u8,
    len: usize,
    out: *mut *mut inr_model,
) -> inr_status {
    boundary(|| {
        if data.is_null() {
            return Err(null("data"));
        }
        if out.is_null() {
            return Err(null("out"));
        }
        let bytes = std::slice::from_raw_parts(data, len).to_vec();
        store(out, Decoder::from_bytes(bytes)?)
    })
}

/// Closes a model and frees everything it owns, including the strings it
/// handed out. NULL is allowed and does nothing.
#[no_mangle]
pub unsafe extern "C" fn inr_close(model: *mut inr_model) {
    if !model.is_null() {
        // Dropping frees plain memory only; nothing here can panic.
        drop(Box::from_raw(model));
    }
}

// The header promises concurrent use of one model: make that a compile error
// to break.
const _: fn() = || {
    fn thread_safe<T: Send + Sync>() {}
    thread_safe::<inr_model>();
};
