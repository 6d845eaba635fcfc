#!/usr/bin/env bash
# Builds the ParaView reader plugin (paraview-plugin/) against Debian's
# ParaView 5.11 and this source tree's libinr, installing the packages the
# build needs first. Prints the path of INRReader.so on its last line.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_rust
ensure_plugin_build_deps
# One build dir per source tree: CMake refuses a cache made from another
# clone (CI clones elsewhere on the same machine, sharing this cache).
BUILD="$CARGO_TARGET_DIR/plugin/build-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)"
mkdir -p "$BUILD"
cmake -S paraview-plugin -B "$BUILD" -DINR_DIR="$ROOT/cmake" -DCMAKE_BUILD_TYPE=Release \
  > "$BUILD/../configure.log" 2>&1 || { cat "$BUILD/../configure.log" >&2; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" > "$BUILD/../build.log" 2>&1 \
  || { tail -50 "$BUILD/../build.log" >&2; exit 1; }
plugin="$(find "$BUILD" -name INRReader.so | head -n 1)"
[ -n "$plugin" ] || { echo "no INRReader.so in $BUILD" >&2; exit 1; }
echo "$plugin"
