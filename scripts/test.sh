#!/usr/bin/env bash
# Sets up what the tests need and runs the whole test suite.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_rust

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy -D warnings"
cargo clippy --all-targets --locked -- -D warnings

log "cargo test"
cargo test --locked 2>&1 | tee "$CARGO_TARGET_DIR/test.log"

# One closing line for the whole suite, summed over the test binaries.
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "\nsuite: %d passed, %d failed, %d skipped\n", p, f, i }' \
  "$CARGO_TARGET_DIR/test.log"
