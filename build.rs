//! Gives the shared library a versioned SONAME (libinr.so.1), so programs
//! linked against it record the ABI major version they need. Keep the number
//! in step with INR_ABI_VERSION_MAJOR in src/capi/mod.rs.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libinr.so.1");
    }
}
