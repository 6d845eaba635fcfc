//! Status codes, the thread-local last error, and the boundary that turns
//! Rust results and panics into status codes.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::Error;

/// Result of every libinr call.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum inr_status {
    /// Success.
    INR_OK = 0,
    /// A required pointer argument was NULL.
    INR_ERROR_NULL_ARGUMENT = 1,
    /// An argument is out of range or inconsistent (index, dims, extent, time,
    /// buffer length, a mesh query on a structured file, ...).
    INR_ERROR_INVALID_ARGUMENT = 2,
    /// A caller buffer is smaller than the result.
    INR_ERROR_BUFFER_TOO_SMALL = 3,
    /// The operating system failed to open or read the file.
    INR_ERROR_IO = 4,
    /// The file is not an .inr file (bad magic bytes).
    INR_ERROR_NOT_INR = 5,
    /// The file's major format version is not supported.
    INR_ERROR_UNSUPPORTED_VERSION = 6,
    /// The file ends before the data it declares.
    INR_ERROR_TRUNCATED = 7,
    /// A checksum does not match: the file is corrupted.
    INR_ERROR_CHECKSUM = 8,
    /// The file is malformed or inconsistent.
    INR_ERROR_CORRUPT = 9,
    /// The file declares sizes beyond the library's limits.
    INR_ERROR_LIMIT = 10,
    /// The file uses a feature this library version does not implement.
    INR_ERROR_UNSUPPORTED = 11,
    /// The progress callback cancelled the operation.
    INR_ERROR_CANCELLED = 12,
    /// An internal error (a bug in libinr); the message says more.
    INR_ERROR_INTERNAL = 13,
}

impl From<&Error> for inr_status {
    fn from(e: &Error) -> Self {
        use inr_status::*;
        match e {
            Error::Io { .. } => INR_ERROR_IO,
            Error::BadMagic => INR_ERROR_NOT_INR,
            Error::UnsupportedVersion { .. } => INR_ERROR_UNSUPPORTED_VERSION,
            Error::Truncated(_) => INR_ERROR_TRUNCATED,
            Error::ChecksumMismatch { .. } => INR_ERROR_CHECKSUM,
            Error::OutOfBounds(_) | Error::Invalid(_) | Error::Shape(_) => INR_ERROR_CORRUPT,
            Error::LimitExceeded(_) => INR_ERROR_LIMIT,
            Error::Unsupported(_) => INR_ERROR_UNSUPPORTED,
            Error::InvalidArgument(_) => INR_ERROR_INVALID_ARGUMENT,
            Error::Cancelled => INR_ERROR_CANCELLED,
            // The encoder's; the decoder never returns them.
            Error::Training(_) | Error::Libtorch(_) => INR_ERROR_INTERNAL,
        }
    }
}

/// A failure at the boundary: a status and its message.
pub(crate) struct Failure(pub inr_status, pub String);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure((&e).into(), e.to_string())
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// A C string from a message, with interior NULs replaced.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

fn set_last_error(message: &str) {
    LAST_ERROR.with(|e| *e.borrow_mut() = c_string(message));
}

/// Runs the body of an exported function: converts its error or panic into
/// a status code and records the message for `inr_last_error_message`.
pub(crate) fn boundary(f: impl FnOnce() -> FfiResult) -> inr_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => inr_status::INR_OK,
        Ok(Err(Failure(status, message))) => {
            set_last_error(&message);
            status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error in libinr: {what}"));
            inr_status::INR_ERROR_INTERNAL
        }
    }
}

/// A failure for a NULL argument.
pub(crate) fn null(name: &str) -> Failure {
    Failure(
        inr_status::INR_ERROR_NULL_ARGUMENT,
        format!("{name} is NULL"),
    )
}

/// A failure for a bad argument.
pub(crate) fn invalid(message: impl Into<String>) -> Failure {
    Failure(inr_status::INR_ERROR_INVALID_ARGUMENT, message.into())
}

/// Writes `value` through `out`, which must not be NULL.
///
/// # Safety
/// `out` must be NULL or valid for writes of a `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, name: &str, value: T) -> FfiResult {
    if out.is_null() {
        return Err(null(name));
    }
    out.write(value);
    Ok(())
}

/// The message of the last failed libinr call on the calling thread, or ""
/// if none failed. The string lives until the next failing call on this
/// thread; successful calls leave it unchanged. Never NULL.
#[no_mangle]
pub extern "C" fn inr_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// A static, human-readable name of a status code, e.g. "INR_ERROR_CHECKSUM";
/// "INR_UNKNOWN_STATUS" for a value that is not one. Takes an `int` so that
/// any value is safe to pass. Never NULL.
#[no_mangle]
pub extern "C" fn inr_status_name(status: i32) -> *const c_char {
    use inr_status::*;
    const ALL: [inr_status; 14] = [
        INR_OK,
        INR_ERROR_NULL_ARGUMENT,
        INR_ERROR_INVALID_ARGUMENT,
        INR_ERROR_BUFFER_TOO_SMALL,
        INR_ERROR_IO,
        INR_ERROR_NOT_INR,
        INR_ERROR_UNSUPPORTED_VERSION,
        INR_ERROR_TRUNCATED,
        INR_ERROR_CHECKSUM,
        INR_ERROR_CORRUPT,
        INR_ERROR_LIMIT,
        INR_ERROR_UNSUPPORTED,
        INR_ERROR_CANCELLED,
        INR_ERROR_INTERNAL,
    ];
    let Some(&status) = ALL.iter().find(|&&s| s as i32 == status) else {
        return c"INR_UNKNOWN_STATUS".as_ptr();
    };
    let s: &'static CStr = match status {
        INR_OK => c"INR_OK",
        INR_ERROR_NULL_ARGUMENT => c"INR_ERROR_NULL_ARGUMENT",
        INR_ERROR_INVALID_ARGUMENT => c"INR_ERROR_INVALID_ARGUMENT",
        INR_ERROR_BUFFER_TOO_SMALL => c"INR_ERROR_BUFFER_TOO_SMALL",
        INR_ERROR_IO => c"INR_ERROR_IO",
        INR_ERROR_NOT_INR => c"INR_ERROR_NOT_INR",
        INR_ERROR_UNSUPPORTED_VERSION => c"INR_ERROR_UNSUPPORTED_VERSION",
        INR_ERROR_TRUNCATED => c"INR_ERROR_TRUNCATED",
        INR_ERROR_CHECKSUM => c"INR_ERROR_CHECKSUM",
        INR_ERROR_CORRUPT => c"INR_ERROR_CORRUPT",
        INR_ERROR_LIMIT => c"INR_ERROR_LIMIT",
        INR_ERROR_UNSUPPORTED => c"INR_ERROR_UNSUPPORTED",
        INR_ERROR_CANCELLED => c"INR_ERROR_CANCELLED",
        INR_ERROR_INTERNAL => c"INR_ERROR_INTERNAL",
    };
    s.as_ptr()
}
