#!/usr/bin/env bash
# Builds and runs the C API tests (tests/c) three ways: plainly, under
# valgrind's memcheck (definite leaks and invalid accesses fail), and built
# with AddressSanitizer + UndefinedBehaviorSanitizer. tests/c is configured
# standalone, finding libinr through the source tree's cmake/INRConfig.cmake.
# Ends with `c-tests: N passed, N failed`; exits non-zero on any failure.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

start=$(date +%s)
jobs=$(nproc 2>/dev/null || echo 2)

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: this project needs a Rust toolchain (rustup) on PATH" >&2
  exit 1
fi
apt_install cmake valgrind

log "cargo build --release --locked --bin inr"
cargo build --release --locked --bin inr
INR_CLI="$(inr_bin)"

if [ ! -f "$ROOT/cmake/INRConfig.cmake" ]; then
  echo "$ROOT/cmake/INRConfig.cmake is missing: the C tests find libinr through it" >&2
  exit 1
fi

passed=0
failed=0
failures=()

# run_ctest <what> <build dir> [ctest args...]: runs the tests, adds up the
# counts from ctest's summary line.
run_ctest() {
  local what="$1" dir="$2"
  shift 2
  log "ctest ($what)"
  local out="$dir/ctest-$what.log" rc=0
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j"$jobs" "$@") 2>&1 | tee "$out" || rc=$?
  local line total bad
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "ctest ($what) did not run (status $rc)" >&2
    failed=$((failed + 1))
    failures+=("$what: ctest did not run")
    return
  fi
  bad=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
  if [ "$bad" -gt 0 ]; then
    failures+=("$what: $(grep -E '^[[:space:]]+[0-9]+ - ' "$out" | sed -E 's/^[[:space:]]+//' | tr '\n' ';')")
  fi
}

# configure_build <build dir> [cmake args...]
configure_build() {
  local dir="$1"
  shift
  # A fresh build dir each run: CMake refuses a cache made from another clone
  # (CI clones afresh), and the C build takes seconds.
  rm -rf "$dir"
  cmake -S "$ROOT/tests/c" -B "$dir" -DINR_DIR="$ROOT/cmake" -DINR_CLI="$INR_CLI" \
    -DINR_C_TESTS_WERROR=ON "$@"
  cmake --build "$dir" -j"$jobs"
}

# 1. plain, and 2. the same programs under valgrind
build="$CARGO_TARGET_DIR/ctest-build"
log "configure and build tests/c in $build"
configure_build "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINR_C_TESTS_VALGRIND=ON
run_ctest plain "$build" -LE valgrind
t_plain=$(date +%s)
run_ctest valgrind "$build" -L valgrind
t_valgrind=$(date +%s)

# 3. AddressSanitizer + UBSan (the C code; libinr's allocations go through
#    ASan's malloc too)
asan="$CARGO_TARGET_DIR/ctest-build-asan"
log "configure and build tests/c with -fsanitize=address,undefined in $asan"
configure_build "$asan" -DCMAKE_BUILD_TYPE=Debug -DINR_C_TESTS_SANITIZE=address,undefined
run_ctest asan-ubsan "$asan"
end=$(date +%s)

log "known library bugs (capi_known_bugs passes while they reproduce)"
"$build/test_capi" known_bugs "$build/data/img.inr" "$build/data/tets.inr" | grep -E 'KNOWN BUG|NOT reproduced' || true

printf '\ntimes: build+plain %ss, valgrind %ss, asan+ubsan build+run %ss, total %ss\n' \
  "$((t_plain - start))" "$((t_valgrind - t_plain))" "$((end - t_valgrind))" "$((end - start))"
for f in "${failures[@]}"; do
  echo "FAILED: $f"
done
echo "c-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
