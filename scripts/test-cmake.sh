#!/usr/bin/env bash
# Checks libinr's C/C++ packaging end to end, non-interactively:
#  (a) the examples (examples/) built as a standalone consumer of the SOURCE
#      TREE (-DINR_DIR=<repo>/cmake), run, and their output compared with the
#      inr CLI (probe values, and the .vti of decode_grid array by array);
#      ParaView (pvpython) opens the .vti when it is installed;
#  (b) the top-level project built and installed to a prefix; the examples
#      built against the INSTALLED package (after moving the prefix, to prove
#      it relocatable), run, RPATH checked; pkg-config's inr.pc used to compile
#      probe.c with plain cc, shared and static.
# Work dirs: $CARGO_TARGET_DIR/cmake-*, wiped first. Exits non-zero on the
# first failure.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: this project needs a Rust toolchain (rustup) on PATH" >&2
  exit 1
fi
apt_install cmake pkg-config

W="$CARGO_TARGET_DIR"
DATA="$W/cmake-data"
EX_SRC="$W/cmake-ex-src"         # examples against the source tree
TOP="$W/cmake-build"             # top-level project
PREFIX="$W/cmake-prefix"         # its install prefix
MOVED="$W/cmake-prefix-moved"    # the same, moved elsewhere
EX_INST="$W/cmake-ex-inst"       # examples against the installed package
EX_PREFIX="$W/cmake-ex-prefix"   # the examples, installed
CONSUMER="$W/cmake-consumer"     # a minimal consumer: version and target checks
PC="$W/cmake-pc"                 # programs built with pkg-config
rm -rf "$DATA" "$EX_SRC" "$TOP" "$PREFIX" "$MOVED" "$EX_INST" "$EX_PREFIX" "$CONSUMER" "$PC"
mkdir -p "$DATA" "$PC"

checked=()
ok() { checked+=("$*"); printf 'ok: %s\n' "$*" >&2; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# Compares `name = value` lines (scalars or (v1, v2, v3)) as float32 values.
compare_probe() {
  python3 - "$1" "$2" <<'EOF'
import re, struct, sys
def values(path):
    out = {}
    for line in open(path):
        m = re.match(r'^(\S+) = \(?([^)]*)\)?$', line.strip())
        if m:
            out[m.group(1)] = [struct.unpack('f', struct.pack('f', float(v)))[0]
                               for v in m.group(2).split(',')]
    return out
a, b = values(sys.argv[1]), values(sys.argv[2])
if not a or a != b:
    sys.exit('probe values differ:\n  %s\n  %s' % (a, b))
print('  same values: ' + ', '.join('%s %s' % (k, v) for k, v in sorted(a.items())))
EOF
}

# Compares two .vti files: extent, origin, spacing, and every Float32 array
# bit for bit. Reads inline binary (both write it) and raw appended data.
compare_vti() {
  python3 - "$1" "$2" <<'EOF'
import base64, re, struct, sys

def attrs(text):
    return dict(re.findall(r'(\w+)="([^"]*)"', text))

def read_vti(path):
    data = open(path, 'rb').read()
    app = data.find(b'<AppendedData')
    xml = data[:app if app >= 0 else len(data)].decode()
    raw = data.index(b'_', app) + 1 if app >= 0 else None
    image = attrs(re.search(r'<ImageData([^>]*)>', xml).group(1))
    arrays = {}
    for assoc in ('PointData', 'CellData'):
        m = re.search(r'<%s[^>]*>(.*?)</%s>' % (assoc, assoc), xml, re.S)
        if not m:
            continue
        for head, body in re.findall(r'<DataArray([^>]*?)(?:/>|>([^<]*)</DataArray>)', m.group(1)):
            a = attrs(head)
            if a['type'] != 'Float32':
                sys.exit('%s: %s is %s, not Float32' % (path, a['Name'], a['type']))
            if a['format'] == 'appended':
                start = raw + int(a['offset'])
                (n,) = struct.unpack_from('<Q', data, start)
                blob = data[start + 8:start + 8 + n]
            elif a['format'] == 'binary':
                decoded = base64.b64decode(''.join(body.split()))
                (n,) = struct.unpack_from('<Q', decoded, 0)
                blob = decoded[8:8 + n]
            else:
                sys.exit('%s: unexpected format %s' % (path, a['format']))
            if len(blob) != n or n % 4:
                sys.exit('%s: array %s is cut short' % (path, a['Name']))
            arrays[(assoc, a['Name'])] = (int(a.get('NumberOfComponents', 1)),
                                          struct.unpack('<%df' % (n // 4), blob))
    floats = lambda key: [float(v) for v in image[key].split()]
    return image['WholeExtent'], floats('Origin'), floats('Spacing'), arrays

mine, ref = read_vti(sys.argv[1]), read_vti(sys.argv[2])
errors = []
if mine[0] != ref[0]:
    errors.append('extent %s vs %s' % (mine[0], ref[0]))
for i, what in ((1, 'origin'), (2, 'spacing')):   # inr writes them as float32
    if any(abs(a - b) > 1e-6 * max(1.0, abs(b)) for a, b in zip(mine[i], ref[i])):
        errors.append('%s %s vs %s' % (what, mine[i], ref[i]))
if sorted(mine[3]) != sorted(ref[3]):
    errors.append('arrays %s vs %s' % (sorted(mine[3]), sorted(ref[3])))
for key in sorted(set(mine[3]) & set(ref[3])):
    (cm, vm), (cr, vr) = mine[3][key], ref[3][key]
    same = cm == cr and vm == vr
    print('  %-9s %-10s %4d tuples x %d: %s' % (key[0], key[1], len(vm) // cm, cm,
          'identical' if same else 'DIFFERENT'))
    if not same:
        errors.append('%s %s differs' % key)
if errors:
    sys.exit('vti files differ: ' + '; '.join(errors))
print('  extent %s, origin %s, spacing %s' % (mine[0], mine[1], mine[2]))
EOF
}

# The examples in build dir $1: probe and probe_static against `inr probe`,
# decode_grid against `inr decode`, error handling.
run_examples() {
  local dir="$1" what="$2"
  "$dir/probe" "$DATA/s.inr" > "$DATA/probe-center.txt" || fail "$what: probe (center)"
  grep -q '^domain: image' "$DATA/probe-center.txt" && grep -q '^time steps: 3' "$DATA/probe-center.txt" \
    && grep -q '^  density: 1 component, cell data' "$DATA/probe-center.txt" \
    || fail "$what: probe's metadata"
  "$dir/probe" "$DATA/s.inr" 0.5 1 14 0.7 > "$DATA/probe.txt" || fail "$what: probe at a point"
  compare_probe "$DATA/probe.txt" "$DATA/ref-probe.txt" || fail "$what: probe vs inr probe"
  "$dir/probe_static" "$DATA/s.inr" 0.5 1 14 0.7 > "$DATA/probe-static.txt" || fail "$what: probe_static"
  cmp -s "$DATA/probe.txt" "$DATA/probe-static.txt" || fail "$what: probe_static prints something else"
  ok "$what: probe and probe_static print the values of inr probe"

  if "$dir/probe" "$DATA/missing.inr" 2> "$DATA/err.txt"; then fail "$what: probe of a missing file succeeded"; fi
  grep -q 'INR_ERROR_IO' "$DATA/err.txt" || fail "$what: probe's error message: $(cat "$DATA/err.txt")"
  if "$dir/decode_grid" "$DATA/trunc.inr" 4 4 4 "$DATA/never.vti" 2> "$DATA/err.txt"; then
    fail "$what: decode_grid of a truncated file succeeded"
  fi
  grep -q 'INR_ERROR_TRUNCATED' "$DATA/err.txt" || fail "$what: decode_grid's error message: $(cat "$DATA/err.txt")"
  [ ! -e "$DATA/never.vti" ] && [ ! -e "$DATA/never.vti.tmp" ] || fail "$what: decode_grid left a file behind"
  ok "$what: failures exit 1 with the status and inr_last_error_message()"

  "$dir/decode_grid" "$DATA/s.inr" 10 9 8 "$DATA/x.vti" 2> "$DATA/progress.txt" || fail "$what: decode_grid"
  grep -q '100%' "$DATA/progress.txt" || fail "$what: decode_grid printed no progress"
  compare_vti "$DATA/x.vti" "$DATA/ref.vti" || fail "$what: decode_grid's .vti vs inr decode"
  "$dir/decode_grid" "$DATA/s.inr" 12 7 5 "$DATA/xt.vti" 0.7 2> /dev/null || fail "$what: decode_grid at t = 0.7"
  compare_vti "$DATA/xt.vti" "$DATA/ref-t.vti" || fail "$what: decode_grid's .vti at t = 0.7 vs inr decode"
  [ ! -e "$DATA/x.vti.tmp" ] || fail "$what: decode_grid left x.vti.tmp"
  ok "$what: decode_grid's .vti equals inr decode's, bit for bit (two grids, two times)"
}

# A consumer asking for versions and targets; $@: how it finds INR.
check_consumer() {
  local what="$1"; shift
  rm -rf "$CONSUMER"
  mkdir -p "$CONSUMER/src"
  cat > "$CONSUMER/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(INR ${WANT} REQUIRED)
foreach(t INR::inr INR::inr_static)
  if(NOT TARGET ${t})
    message(FATAL_ERROR "${t} is missing")
  endif()
endforeach()
get_target_property(libs INR::inr_static INTERFACE_LINK_LIBRARIES)
foreach(l pthread dl m rt)
  if(NOT l IN_LIST libs)
    message(FATAL_ERROR "INR::inr_static does not link ${l}: ${libs}")
  endif()
endforeach()
message(STATUS "consumer: INR ${INR_VERSION} from ${INR_DIR}, static libs: ${libs}")
EOF
  cmake -S "$CONSUMER/src" -B "$CONSUMER/build" -DWANT=0.1 "$@" > "$CONSUMER/log.txt" 2>&1 \
    || { cat "$CONSUMER/log.txt" >&2; fail "$what: consumer project"; }
  grep 'consumer:' "$CONSUMER/log.txt" >&2
  if cmake -S "$CONSUMER/src" -B "$CONSUMER/build99" -DWANT=99 "$@" > "$CONSUMER/log99.txt" 2>&1; then
    fail "$what: find_package(INR 99) accepted version $VERSION"
  fi
  grep -q 'version: 0.1.0' "$CONSUMER/log99.txt" || { cat "$CONSUMER/log99.txt" >&2; fail "$what: find_package(INR 99)'s error"; }
  ok "$what: find_package(INR 0.1) gives INR::inr and INR::inr_static (pthread, dl, m, rt); INR 99 is refused"
}

log "cargo build --release (library and CLI), sample data and the CLI's reference output"
cargo build --release --locked
INR="$(inr_bin)"
VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)"
"$INR" synthetic -o "$DATA/s.inr" > /dev/null
head -c 100 "$DATA/s.inr" > "$DATA/trunc.inr"
"$INR" probe "$DATA/s.inr" 0.5 1 14 0.7 > "$DATA/ref-probe.txt"
"$INR" decode "$DATA/s.inr" --dims 10,9,8 -o "$DATA/ref.vti" 2> /dev/null
"$INR" decode "$DATA/s.inr" --dims 12,7,5 --time 0.7 -o "$DATA/ref-t.vti" 2> /dev/null

log "(a) examples as a standalone consumer of the source tree (-DINR_DIR=$ROOT/cmake)"
cmake -S examples -B "$EX_SRC" -DINR_DIR="$ROOT/cmake" > "$EX_SRC.log" 2>&1 \
  || { cat "$EX_SRC.log" >&2; fail "configure examples against the source tree"; }
cmake --build "$EX_SRC" -j 2 > "$EX_SRC.build.log" 2>&1 \
  || { cat "$EX_SRC.build.log" >&2; fail "build examples against the source tree"; }
if grep -E 'warning:' "$EX_SRC.build.log" | grep -v 'future version of Rust'; then
  fail "the examples compile with warnings"
fi
grep -q "libinr.so.* => $W/release/libinr.so" <<< "$(ldd "$EX_SRC/probe")" \
  || fail "probe does not load cargo's libinr.so: $(ldd "$EX_SRC/probe" | grep inr)"
ok "source tree: examples configured and built without warnings; probe loads $W/release/libinr.so"
run_examples "$EX_SRC" "source tree"
check_consumer "source tree" -DINR_DIR="$ROOT/cmake"

grep -q 'Building libinr with cargo' "$EX_SRC.build.log" && grep -q 'Finished .release' "$EX_SRC.build.log" \
  || fail "cmake --build did not run cargo (target inr_cargo_build)"
ok "source tree: cmake --build runs cargo first (inr_cargo_build), so Rust changes are rebuilt"

if command -v pvpython >/dev/null 2>&1; then
  pvpython -c "
from paraview.simple import OpenDataFile
r = OpenDataFile('$DATA/xt.vti'); r.UpdatePipeline()
info = r.GetDataInformation()
got = (sorted(r.PointData.keys()), sorted(r.CellData.keys()), tuple(info.GetExtent()), list(r.TimestepValues))
print('  pvpython:', got)
assert got == (['pressure', 'velocity'], ['density'], (0, 11, 0, 6, 0, 4), [0.7]), got
" 2>&1 | grep -v -i 'warn' >&2 || fail "ParaView cannot read decode_grid's .vti"
  ok "ParaView (pvpython) reads decode_grid's .vti: point and cell arrays, extent, time"
else
  log "pvpython not installed: ParaView check skipped"
fi

log "(b) top-level project: configure, build, install to $PREFIX"
cmake -S . -B "$TOP" > "$TOP.log" 2>&1 || { cat "$TOP.log" >&2; fail "configure the top-level project"; }
cmake --build "$TOP" -j 2 > "$TOP.build.log" 2>&1 || { cat "$TOP.build.log" >&2; fail "build the top-level project"; }
if [ -f tests/c/CMakeLists.txt ]; then
  (cd "$TOP" && ctest --output-on-failure) || fail "ctest (tests/c) in the top-level build"
  ok "top level: tests/c built as a subdirectory and ctest passes"
fi
cmake --install "$TOP" --prefix "$PREFIX" > "$TOP.install.log" 2>&1 \
  || { cat "$TOP.install.log" >&2; fail "install"; }
for f in lib/libinr.so lib/libinr.a include/inr.h lib/cmake/INR/INRConfig.cmake \
         lib/cmake/INR/INRConfigVersion.cmake lib/pkgconfig/inr.pc; do
  [ -e "$PREFIX/$f" ] || fail "install: $f is missing"
done
SONAME="$(readelf -d "$PREFIX/lib/libinr.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
ok "top level: installed $(cd "$PREFIX" && find . -type f -o -type l | sort | tr '\n' ' ')(SONAME: ${SONAME:-none})"

# Relocatable: the package works from wherever the prefix ends up.
cp -a "$PREFIX" "$MOVED"
cmake -S examples -B "$EX_INST" -DCMAKE_PREFIX_PATH="$MOVED" > "$EX_INST.log" 2>&1 \
  || { cat "$EX_INST.log" >&2; fail "configure examples against the installed package"; }
grep -q "^INR_DIR:PATH=$MOVED/lib/cmake/INR\$" "$EX_INST/CMakeCache.txt" \
  || fail "examples did not find the moved package: $(grep '^INR_DIR' "$EX_INST/CMakeCache.txt")"
cmake --build "$EX_INST" -j 2 > "$EX_INST.build.log" 2>&1 \
  || { cat "$EX_INST.build.log" >&2; fail "build examples against the installed package"; }
for exe in probe decode_grid; do
  grep -q "libinr.so.* => $MOVED/lib/libinr.so" <<< "$(ldd "$EX_INST/$exe")" \
    || fail "$exe does not load the installed libinr.so: $(ldd "$EX_INST/$exe" | grep inr)"
done
ok "installed: examples found INR in the moved prefix (CMAKE_PREFIX_PATH) and load $MOVED/lib/libinr.so"
run_examples "$EX_INST" "installed"
check_consumer "installed" -DCMAKE_PREFIX_PATH="$MOVED"

cmake --install "$EX_INST" --prefix "$EX_PREFIX" > /dev/null || fail "install the examples"
RUNPATH="$(readelf -d "$EX_PREFIX/bin/probe" | sed -n 's/.*R.*PATH.*: \[\(.*\)\]/\1/p')"
[ "$RUNPATH" = "$MOVED/lib" ] || fail "installed probe's RUNPATH is '$RUNPATH', not $MOVED/lib"
"$EX_PREFIX/bin/probe" "$DATA/s.inr" > /dev/null || fail "installed probe does not run"
ok "installed examples run; RUNPATH $RUNPATH"

log "pkg-config (inr.pc)"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"   # inr.pc names the install prefix
[ "$(pkg-config --modversion inr)" = "$VERSION" ] || fail "pkg-config --modversion inr: $(pkg-config --modversion inr)"
echo "  pkg-config --cflags --libs inr: $(pkg-config --cflags --libs inr)" >&2
echo "  pkg-config --static --libs inr: $(pkg-config --static --libs inr)" >&2
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -o "$PC/probe" examples/c/probe.c $(pkg-config --cflags --libs inr) \
  -Wl,-rpath,"$(pkg-config --variable=libdir inr)" || fail "cc probe.c with pkg-config"
"$PC/probe" "$DATA/s.inr" 0.5 1 14 0.7 > "$DATA/probe-pc.txt" || fail "pkg-config probe does not run"
compare_probe "$DATA/probe-pc.txt" "$DATA/ref-probe.txt" || fail "pkg-config probe's values"
# shellcheck disable=SC2046
cc -std=c99 -o "$PC/probe_static" examples/c/probe.c $(pkg-config --cflags inr) \
  "$(pkg-config --variable=libdir inr)/libinr.a" $(pkg-config --static --libs-only-l inr | sed 's/-linr//') \
  || fail "cc probe.c with libinr.a and pkg-config's Libs.private"
"$PC/probe_static" "$DATA/s.inr" > /dev/null || fail "statically linked probe does not run"
ok "pkg-config: cc \$(pkg-config --cflags --libs inr) builds probe.c (shared, and static with Libs.private)"

log "test-cmake: all ${#checked[@]} checks passed"
for c in "${checked[@]}"; do printf '  - %s\n' "$c" >&2; done
