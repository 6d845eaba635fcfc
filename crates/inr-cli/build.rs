//! With `--features encoder`: the `inr` binary finds libtorch by itself (an
//! rpath to its lib directory, so no environment file is needed to run it),
//! and keeps libtorch_cuda.so as a dependency when the installed PyTorch has
//! one. The linker's default --as-needed drops it, since no symbol of it is
//! referenced directly, and libtorch then sees no GPU.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // torch-sys (`links = "tch"`) passes its lib directory to its dependents.
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{lib}");
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg-bins=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
    // For the test that checks what the binary needs.
    println!("cargo:rustc-env=INR_LIBTORCH_LIB={lib}");
}
