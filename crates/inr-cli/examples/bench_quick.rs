//! A shorter decoder benchmark than `inr bench` (64^3 and 128^3 grids), for
//! quick comparisons while working on the kernels.
fn main() -> inr_core::Result<()> {
    let options = inr_cli::decode_bench::BenchOptions {
        grids: vec![64, 128],
        repeat: 2,
        sgemm_size: 1024,
        ..Default::default()
    };
    print!("{}", inr_cli::decode_bench::run(&options)?);
    Ok(())
}
