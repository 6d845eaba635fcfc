#!/usr/bin/env bash
# Builds the ParaView reader plugin (paraview-plugin/) against Debian's
# ParaView 5.11 and libinr's CMake package from this source tree, then runs
# the plugin tests in pvpython/pvbatch (tests/paraview/): every array, range,
# extent, origin and spacing against `inr decode`; resampling; variable
# subsets; time steps and times between them; a rectilinear file against the
# shared cth.vtr; meshes (the shared disk_out_ref tetrahedra and mug
# hexahedra: the mesh, refined, resampled against VTK's probe filter); a
# multiscale (ECNR) file at every Level Of Detail against `inr decode
# --detail` and between time steps; an STSR-INR file's latent blends against
# `inr decode --latent`; a file of rendered images (NeRVI) as 2-D images by
# time and view against `inr decode --params` (.vti and .png); bad files;
# two MPI ranks each decoding their own piece of a grid and of a mesh; a
# rendering of the plugin's output next to the reference decode's; and a
# Cinema database of Isabel's isosurfaces from scripts/render_sweep.py
# (NeRVI's input); error-bounded files of the shared data (Isabel, viscous
# fingers by residual SIREN, ECNR and STSR-INR, cth's cell arrays, the disk
# mesh also by MC-INR and with cell arrays, the mug's hexahedra over time):
# every stored site of every step within the bound, through the C API
# (ctypes on libinr.so) and the reader, whole and in pieces.
# Prints `ok: ...` per check; exits non-zero on the first failure.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

W="$CARGO_TARGET_DIR/plugin"
WORK="$W/work"
rm -rf "$WORK"
mkdir -p "$WORK"

log "building the plugin"
PLUGIN="$(bash scripts/build-plugin.sh | tail -n 1)"
echo "ok: plugin built: $PLUGIN"
# Self-contained: libinr is linked in, nothing of libtorch.
if ldd "$PLUGIN" | grep -Eq 'libinr|libtorch'; then
  echo "FAILED: $PLUGIN links $(ldd "$PLUGIN" | grep -E 'libinr|libtorch')" >&2; exit 1
fi
echo "ok: the plugin carries libinr and no libtorch"

log "fixtures"
bash scripts/setup-torch.sh > "$W/torch-setup.log" 2>&1 || { cat "$W/torch-setup.log"; exit 1; }
(
  source "$HOME/.cache/inr/torch-env.sh"
  cargo build --release --locked --package inr-cli --features encoder
) > "$W/cargo.log" 2>&1 || { tail -30 "$W/cargo.log"; exit 1; }
source "$HOME/.cache/inr/torch-env.sh"
INR="$(inr_bin)"
"$INR" synthetic -o "$WORK/synth.inr" --width 24 --blocks 2 --dims 24,20,16 --seed 3 --encoding codebook9
"$INR" synthetic -o "$WORK/mesh.inr" --mesh tets
"$INR" synthetic -o "$WORK/mc.inr" --mesh tets --mesh-cells 6,4,3 --clusters 4 --splits 1 --blend-width 0.3
"$INR" synthetic -o "$WORK/ecnr.inr" --ecnr 3 --seed 5
"$INR" synthetic -o "$WORK/stsr.inr" --stsr --width 12 --seed 4
"$INR" synthetic -o "$WORK/views.inr" --nervi --seed 4
"$INR" encode "$ROOT/../shared/data/cth/cth.vtr" -o "$WORK/cth.inr" --width 12 --blocks 1 --steps 30 \
  --device cpu > "$W/cth-encode.log" 2>&1 || { cat "$W/cth-encode.log"; exit 1; }
"$INR" decode "$WORK/cth.inr" -o "$WORK/cth-ref.vtr"
"$INR" encode "$ROOT/../shared/data/disk_out_ref/disk_out_ref_tets.vtu" -o "$WORK/disk.inr" --width 16 \
  --blocks 1 --steps 30 --device cpu > "$W/disk-encode.log" 2>&1 || { cat "$W/disk-encode.log"; exit 1; }
"$INR" encode "$ROOT/../shared/data/mug/mug.pvd" --time-steps 3 -o "$WORK/mug.inr" --width 12 \
  --blocks 1 --steps 30 --device cpu > "$W/mug-encode.log" 2>&1 || { cat "$W/mug-encode.log"; exit 1; }
# Error-bounded files of the shared data (bound_tests.py names each one's source and bound):
# small networks, so that stored corrections do much of the work; grids and meshes, point and
# cell data, time series, relative and absolute bounds, four model families; loose absolute
# bounds on isabel-loose and mug leave few sites corrected (stored sparse, not dense or by
# prediction). No shared mesh has cell arrays: disk-cells.vtu is the disk mesh with two, each
# cell the mean of its nodes.
DATA="$ROOT/../shared/data"
pvpython - "$DATA/disk_out_ref/disk_out_ref_tets.vtu" "$WORK/disk-cells.vtu" <<'PY'
import sys
import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkIOXML import vtkXMLUnstructuredGridReader, vtkXMLUnstructuredGridWriter
reader = vtkXMLUnstructuredGridReader()
reader.SetFileName(sys.argv[1])
reader.Update()
grid = reader.GetOutput()
offsets = vtk_to_numpy(grid.GetCells().GetOffsetsArray())
cell_of = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
nodes = vtk_to_numpy(grid.GetCells().GetConnectivityArray())
points = grid.GetPointData()
for name in ("Temp", "V"):
    values = vtk_to_numpy(points.GetArray(name)).astype(np.float64).reshape(grid.GetNumberOfPoints(), -1)
    sums = np.zeros((offsets.size - 1, values.shape[1]))
    np.add.at(sums, cell_of, values[nodes])
    cells = numpy_to_vtk((sums / np.diff(offsets)[:, None]).astype(np.float32), deep=1)
    cells.SetName(name + " cells")
    grid.GetCellData().AddArray(cells)
for name in [points.GetArrayName(i) for i in range(points.GetNumberOfArrays())]:
    if name != "Pres":
        points.RemoveArray(name)
writer = vtkXMLUnstructuredGridWriter()
writer.SetInputData(grid)
writer.SetFileName(sys.argv[2])
writer.SetDataModeToAppended()
writer.EncodeAppendedDataOff()
sys.exit(0 if writer.Write() else "cannot write " + sys.argv[2])
PY
eb_encode() {
  local name="$1"; shift
  "$INR" encode "$@" -o "$WORK/$name" --device cpu > "$W/$name.log" 2>&1 || { cat "$W/$name.log"; exit 1; }
}
eb_encode eb-isabel.inr "$DATA/isabel/isabel.pvd" --width 16 --blocks 1 --steps 100 --omega 7.5 --max-rel-error 1e-2
eb_encode eb-isabel-loose.inr "$DATA/isabel/isabel.pvd" --width 16 --blocks 1 --steps 100 --omega 7.5 --max-error 15
eb_encode eb-vf.inr "$DATA/viscous_fingers/viscous_fingers.pvd" --time-steps 3 --width 16 --blocks 1 --steps 100 \
  --max-rel-error 1e-2
eb_encode eb-vf-ecnr.inr "$DATA/viscous_fingers/viscous_fingers.pvd" --time-steps 3 --method ecnr --ratio 50 \
  --epochs 5 --max-rel-error 1e-2
eb_encode eb-vf-stsr.inr "$DATA/viscous_fingers/viscous_fingers.pvd" --time-steps 3 --method stsr --width 12 \
  --steps 30 --max-rel-error 1e-2
eb_encode eb-cth.inr "$DATA/cth/cth.vtr" --width 12 --blocks 1 --steps 30 --max-rel-error 1e-3
eb_encode eb-disk.inr "$DATA/disk_out_ref/disk_out_ref_tets.vtu" --width 16 --blocks 1 --steps 200 --omega 7.5 \
  --max-rel-error 1e-2
eb_encode eb-disk-mc.inr "$DATA/disk_out_ref/disk_out_ref_tets.vtu" --method mc-inr --width 12 --clusters 4 \
  --max-epochs 3 --meta-steps 2 --max-rel-error 1e-2
eb_encode eb-disk-cells.inr "$WORK/disk-cells.vtu" --width 16 --blocks 1 --steps 100 --omega 7.5 --max-rel-error 1e-2
eb_encode eb-mug.inr "$DATA/mug/mug.pvd" --time-steps 3 --width 16 --blocks 1 --steps 200 --max-error 0.25
: > "$WORK/empty.inr"
echo "not an inr file" > "$WORK/text.inr"
size=$(stat -c %s "$WORK/synth.inr")
head -c $(( size / 2 )) "$WORK/synth.inr" > "$WORK/truncated.inr"
cp "$WORK/synth.inr" "$WORK/corrupt.inr"
printf '\x5a' | dd of="$WORK/corrupt.inr" bs=1 seek=$(( size * 3 / 4 )) conv=notrunc status=none
# A mesh file whose mesh section is damaged (read only when the mesh is), and one cut there.
"$INR" info --json "$WORK/disk.inr" > "$WORK/disk.json"
python3 - "$WORK/disk.json" "$WORK/disk.inr" "$WORK/corrupt-mesh.inr" "$WORK/truncated-mesh.inr" <<'PY'
import json, sys
meta_file, src, corrupt, truncated = sys.argv[1:5]
mesh = next(s for s in json.load(open(meta_file))["sections"] if s["name"] == "mesh")
data = bytearray(open(src, "rb").read())
middle = mesh["offset"] + mesh["stored_length"] // 2
open(truncated, "wb").write(data[:middle])
data[middle] ^= 0x5A
open(corrupt, "wb").write(data)
PY
echo "ok: fixtures in $WORK"

log "reader tests (pvpython)"
pvpython tests/paraview/reader_tests.py "$PLUGIN" "$INR" "$WORK"

log "a multiscale (ECNR) file: Level Of Detail, time between steps (pvpython)"
pvpython tests/paraview/ecnr_tests.py "$PLUGIN" "$INR" "$WORK"

log "an STSR-INR file: latent blends between variables (pvpython)"
pvpython tests/paraview/stsr_tests.py "$PLUGIN" "$INR" "$WORK"

log "a file of rendered images (NeRVI): 2-D images by time and view (pvpython)"
pvpython tests/paraview/nervi_tests.py "$PLUGIN" "$INR" "$WORK"

log "unstructured files: mesh, refined mesh, resampled image (pvpython)"
pvpython tests/paraview/mesh_tests.py "$PLUGIN" "$INR" "$WORK"

log "error-bounded files of the shared data: every stored site within the bound (C API by ctypes, pvpython)"
# libinr.so: the plugin's build made it (cargo build --package inr --lib) next to libinr.a.
pvpython tests/paraview/bound_tests.py "$PLUGIN" "$INR" "$WORK" "$CARGO_TARGET_DIR/release/libinr.so" \
  "$DATA"

log "two MPI ranks, each its share of a mesh's cells (pvbatch)"
mkdir -p "$WORK/mpi-mesh"
mpiexec --allow-run-as-root --oversubscribe -n 2 pvbatch --symmetric tests/paraview/mpi_mesh_pieces.py \
  "$PLUGIN" "$WORK/disk.inr" "$WORK/mpi-mesh" 0
"$INR" decode "$WORK/disk.inr" -o "$WORK/mpi-mesh-ref.vtu"
pvpython tests/paraview/check_mesh_pieces.py "$WORK/mpi-mesh" "$WORK/mpi-mesh-ref.vtu" 2

log "two MPI ranks, each its own piece (pvbatch)"
mkdir -p "$WORK/mpi"
mpiexec --allow-run-as-root --oversubscribe -n 2 pvbatch --symmetric tests/paraview/mpi_pieces.py \
  "$PLUGIN" "$WORK/synth.inr" "$WORK/mpi" 40,36,20 0.5
"$INR" decode "$WORK/synth.inr" --dims 40,36,20 --time 0.5 -o "$WORK/mpi-ref.vti"
pvpython tests/paraview/check_pieces.py "$WORK/mpi" "$WORK/mpi-ref.vti" 2

log "rendering (Xvfb): plugin output next to the reference decode; a Cinema database of isosurfaces"
"$INR" decode "$WORK/synth.inr" --time 0.5 -o "$WORK/render-ref.vti"
rm -rf "$WORK/sweep.cdb"
# One X server for both: a second xvfb-run right after the first can race the
# first server's shutdown and abort.
xvfb-run -a -s "-screen 0 1280x1024x24" bash -c '
  set -e
  pvpython tests/paraview/render_compare.py "$1" "$2" "$3" "$4"
  pvpython scripts/render_sweep.py "$5" "$4/sweep.cdb" --array velocityMag --iso 20,40 --steps 2 --theta 3 --phi 2 --size 48
  pvpython tests/paraview/sweep_checks.py "$4/sweep.cdb" 2 20,40 3 2 48
  mkdir -p "$4/not-a-db" && touch "$4/not-a-db/keep"
  if pvpython scripts/render_sweep.py "$5" "$4/not-a-db" --array velocityMag --iso 20 --size 16; then
    echo "FAILED: render_sweep.py replaced a folder that is not a Cinema database"; exit 1
  fi
  test -f "$4/not-a-db/keep" && echo "ok: render_sweep.py refuses to replace a folder that is not a database"
' sh "$PLUGIN" "$WORK/synth.inr" "$WORK/render-ref.vti" "$WORK" "$ROOT/../shared/data/isabel/isabel.pvd"
echo "plugin tests: all passed"
