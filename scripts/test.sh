#!/usr/bin/env bash
# Sets up what the tests need and runs the whole test suite: Rust (fmt,
# clippy, unit and integration tests, the header check), the C API suite
# (ctest, valgrind, AddressSanitizer), the CMake package checks, the
# encoder's tests with libtorch (a PyTorch venv in ~/.cache/inr, made once),
# and the ParaView reader plugin's tests (pvpython, pvbatch under MPI, Xvfb).
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_rust
LOG="$CARGO_TARGET_DIR/test-logs"
mkdir -p "$LOG"

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy -D warnings (the workspace less the encoder)"
cargo clippy --all-targets --locked -- -D warnings

log "cargo tree: the decoding core and libinr depend on no clap, vtkio or tch"
for pkg in inr-core inr; do
  if cargo tree --locked --edges normal,build --package "$pkg" --prefix none | grep -Eq '^(clap|vtkio|tch|torch-sys) '; then
    echo "FAILED: $pkg depends on $(cargo tree --locked --edges normal,build --package "$pkg" --prefix none | grep -E '^(clap|vtkio|tch|torch-sys) ' | sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
done

log "cargo test"
cargo test --locked 2>&1 | tee "$LOG/cargo.log"
rust=$(awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "%d %d %d", p, f, i }' "$LOG/cargo.log")
read -r rust_passed rust_failed rust_skipped <<< "$rust"

log "C API tests (ctest, valgrind, ASan/UBSan)"
c_status=0
bash scripts/test-c.sh 2>&1 | tee "$LOG/c.log" || c_status=$?
read -r c_passed c_failed < <(awk '/^c-tests:/ { print $2, $4 }' "$LOG/c.log" | tail -n 1)

log "CMake package, install, pkg-config, examples"
cmake_status=0
bash scripts/test-cmake.sh 2>&1 | tee "$LOG/cmake.log" || cmake_status=$?
cmake_passed=$(grep -c '^ok: ' "$LOG/cmake.log" || true)
cmake_failed=$(( cmake_status != 0 ? 1 : 0 ))

log "encoder (crate inr-encode, libtorch through tch; inr-cli with --features encoder)"
bash scripts/setup-torch.sh > "$LOG/torch-setup.log" 2>&1 || { cat "$LOG/torch-setup.log"; exit 1; }
(
  source "$HOME/.cache/inr/torch-env.sh"
  cargo clippy --all-targets --locked --package inr-encode --package inr-cli --features inr-cli/encoder -- -D warnings
  cargo test --locked --package inr-encode
  cargo test --locked --package inr-cli --features encoder --test encode
) 2>&1 | tee "$LOG/encoder.log"
enc=$(awk '/^test result:/ { p += $4; f += $6 } END { printf "%d %d", p, f }' "$LOG/encoder.log")
read -r enc_passed enc_failed <<< "$enc"
rust_passed=$(( rust_passed + enc_passed ))
rust_failed=$(( rust_failed + enc_failed ))

log "ParaView reader plugin (build, pvpython, pvbatch under MPI, rendering)"
plugin_status=0
bash scripts/test-plugin.sh 2>&1 | tee "$LOG/plugin.log" || plugin_status=$?
plugin_passed=$(grep -c '^ok: ' "$LOG/plugin.log" || true)
plugin_failed=$(( plugin_status != 0 ? 1 : 0 ))

passed=$(( rust_passed + ${c_passed:-0} + cmake_passed + plugin_passed ))
failed=$(( rust_failed + ${c_failed:-0} + cmake_failed + plugin_failed + (c_status != 0 && ${c_failed:-0} == 0 ? 1 : 0) ))
printf '\nsuite: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$rust_skipped"
[ "$failed" -eq 0 ]
