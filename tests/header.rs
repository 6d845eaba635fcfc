//! `include/inr.h` must be what cbindgen generates from the current source.
//! Regenerate with `scripts/gen-header.sh` (or `INR_UPDATE_HEADER=1 cargo test --test header`).

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = root.join("include/inr.h");
    if std::env::var_os("INR_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/inr.h");
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/inr.h is stale: run scripts/gen-header.sh and commit it"
    );
    let text = String::from_utf8(generated).unwrap();
    for f in [
        "inr_open",
        "inr_close",
        "inr_query_points",
        "inr_decode_grid",
        "inr_decode_nodes",
    ] {
        assert!(
            text.contains(&format!("{f}(")),
            "{f} missing from the header"
        );
    }
}
