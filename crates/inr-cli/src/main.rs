//! The `inr` command line tool; everything lives in [`inr_cli`] so that it
//! is documented and tested with the library.

fn main() -> std::process::ExitCode {
    inr_cli::main()
}
