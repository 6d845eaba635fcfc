# Shared setup for the project's scripts: sourced, not run.
# Puts cargo's build output in a cache outside the clone, so that fresh CI
# clones on the same machine reuse earlier builds; set CARGO_TARGET_DIR to override.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/inr/target}"
mkdir -p "$CARGO_TARGET_DIR"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\n==> %s\n' "$*" >&2; }

# The Rust toolchain comes with the machine (rustup); the components we need
# are added when missing.
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: this project needs a Rust toolchain (rustup) on PATH" >&2
    exit 1
  fi
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
  fi
}

# apt-get install of the named packages, only those missing, idempotent.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# ParaView (pvpython) and an X server for off-screen pictures: Debian's VTK
# renders through X only.
ensure_paraview() {
  apt_install paraview python3-paraview xvfb xauth
}

# What building the ParaView plugin needs: paraview-dev declares far fewer
# -dev packages than find_package(ParaView) wants (measured on Debian 12),
# OpenMPI for pvbatch under mpiexec, Xvfb for pictures.
ensure_plugin_build_deps() {
  apt_install paraview paraview-dev python3-paraview xvfb xauth cmake \
    libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libdouble-conversion-dev \
    libeigen3-dev libexpat1-dev libfreetype6-dev libgl-dev libgl2ps-dev libglew-dev \
    libglu1-mesa-dev libhdf5-mpi-dev libjpeg-dev libjsoncpp-dev liblz4-dev libnetcdf-dev \
    libpng-dev libproj-dev libpython3-dev libtheora-dev libtiff-dev libutfcpp-dev libx11-dev \
    libxml2-dev libxt-dev mpi-default-dev zlib1g-dev qtbase5-dev libpugixml-dev libogg-dev \
    libgdal-dev qttools5-dev libqt5svg5-dev qtxmlpatterns5-dev-tools libqt5opengl5-dev \
    openmpi-bin
}

inr_bin() {
  echo "$CARGO_TARGET_DIR/release/inr"
}
