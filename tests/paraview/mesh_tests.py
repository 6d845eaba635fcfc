"""The INR reader on unstructured files, in pvpython, against `inr decode`
and VTK's own probe filter.

Usage: pvpython mesh_tests.py PLUGIN INR_BINARY WORKDIR
WORKDIR holds the fixtures made by scripts/test-plugin.sh: disk.inr (encoded
from the shared disk_out_ref_tets.vtu: 44,832 tetrahedra, 7 point arrays),
mug.inr (from the first 3 steps of the shared mug.pvd: hexahedra, time),
mesh.inr (a synthetic box of tetrahedra with a cell variable) and mc.inr (the
same box with a synthetic clustered MC-INR model, blended at borders)."""
import os
import sys

import numpy as np
from paraview.simple import Delete, OpenDataFile
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersCore import vtkProbeFilter
from vtkmodules.vtkIOXML import vtkXMLImageDataReader, vtkXMLUnstructuredGridReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arrays, check, fail, fetch, info, inr, load_plugin, ok, same_arrays  # noqa: E402

PLUGIN, INR, WORK = sys.argv[1:4]
MASK, GHOSTS, CELL_IDS = "vtkValidPointMask", "vtkGhostType", "vtkOriginalCellIds"


def path(name):
    return os.path.join(WORK, name)


def read_xml(file_name):
    reader = vtkXMLUnstructuredGridReader() if file_name.endswith(".vtu") else vtkXMLImageDataReader()
    reader.SetFileName(file_name)
    reader.Update()
    return reader.GetOutput()


def reference(name, ext, *decode_args):
    """`inr decode` of fixture `name` with these arguments, read back."""
    out = path("mref-%d.%s" % (abs(hash((name,) + decode_args)), ext))
    inr(INR, "decode", path(name), "-o", out, *decode_args)
    return read_xml(out)


def topology(grid):
    """Points (float64), offsets, connectivity and types of an unstructured grid."""
    cells = grid.GetCells()
    return (vtk_to_numpy(grid.GetPoints().GetData()).astype(np.float64),
            vtk_to_numpy(cells.GetOffsetsArray()).astype(np.int64),
            vtk_to_numpy(cells.GetConnectivityArray()).astype(np.int64),
            vtk_to_numpy(grid.GetCellTypesArray()).astype(np.uint8))


def same_mesh(got, want, what):
    check(got.IsA("vtkUnstructuredGrid"), "%s: unstructured grid" % what)
    check(got.GetNumberOfPoints() == want.GetNumberOfPoints() and got.GetNumberOfCells() == want.GetNumberOfCells(),
          "%s: %d points, %d cells" % (what, got.GetNumberOfPoints(), got.GetNumberOfCells()))
    for name, g, w in zip(("points", "offsets", "connectivity", "types"), topology(got), topology(want)):
        if g.shape != w.shape or not np.array_equal(g, w):
            fail("%s: %s differ" % (what, name))
    ok("%s: points, offsets, connectivity and types equal" % what)
    g = arrays(got)
    ids = g.pop(("cell", CELL_IDS), None)
    check(ids is not None and ids.dtype == np.int64, "%s: %s present" % (what, CELL_IDS))
    same_arrays(g, arrays(want), what)
    return ids


load_plugin(PLUGIN, globals())

# --- the stored mesh ------------------------------------------------------------
disk = OpenDataFile(path("disk.inr"))
check(disk is not None and disk.GetXMLName() == "INRReader", "OpenDataFile picks the INR reader for a mesh file")
meta = info(INR, path("disk.inr"))
check(meta["domain"]["kind"] == "unstructured", "disk.inr holds a mesh")
check(len(list(disk.PointArrays)) == 7 and list(disk.CellArrays) == [], "disk: 7 point arrays")
disk.UpdatePipeline()
got = fetch(disk)
ids = same_mesh(got, reference("disk.inr", "vtu"), "disk mesh")
check(got.GetNumberOfCells() == 44832 and got.GetNumberOfPoints() == 8499, "disk: 8499 nodes, 44832 tetrahedra")
check(np.array_equal(ids, np.arange(44832)), "disk: original cell ids 0..n-1")
# The shared source file itself (inline binary data, which this ParaView reads): the same
# points bit for bit (the plugin gives them as float64), cells and types.
source = read_xml(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data",
                               "disk_out_ref", "disk_out_ref_tets.vtu"))
for name, g, w in zip(("points", "offsets", "connectivity", "types"), topology(got), topology(source)):
    if g.shape != w.shape or not np.array_equal(g, w):
        fail("disk: %s differ from disk_out_ref_tets.vtu" % name)
ok("disk: the mesh of disk_out_ref_tets.vtu exactly")
for (association, name), values in arrays(got).items():
    if not np.all(np.isfinite(values)):
        fail("disk: %s has non-finite values" % name)
ok("disk: every value finite")

# Variable selection.
all_arrays = list(disk.PointArrays)
disk.PointArrays = ["Temp", "V"]
disk.UpdatePipeline()
got = fetch(disk)
same_mesh(got, reference("disk.inr", "vtu", "--vars", "Temp,V"), "disk variable subset")
check(got.GetPointData().GetArray("V").GetNumberOfComponents() == 3, "disk: V has 3 components")
disk.PointArrays = all_arrays

# --- a refined mesh ---------------------------------------------------------------
disk.OutputMode = "Refined Mesh"
disk.RefinementLevel = 1
disk.UpdatePipeline()
got = fetch(disk)
ids = same_mesh(got, reference("disk.inr", "vtu", "--refine", "1"), "disk refined once")
check(got.GetNumberOfCells() == 8 * 44832, "refined: 8 tetrahedra per tetrahedron")
check(np.array_equal(np.bincount(ids), np.full(44832, 8)), "refined: each cell's 8 children carry its id")

# --- resampled onto an image, outside points marked --------------------------------
disk.OutputMode = "Resampled Image"
disk.SamplingDimensions = [40, 36, 30]
disk.UpdatePipeline()
got = fetch(disk)
check(got.IsA("vtkImageData") and got.GetDimensions() == (40, 36, 30), "resampled: 40x36x30 image data")
want = reference("disk.inr", "vti", "--dims", "40,36,30")
g, w = arrays(got), arrays(want)
ghosts = g.pop(("point", GHOSTS))
same_arrays(g, w, "resampled against inr decode --dims")
mask = g[("point", MASK)]
check(np.array_equal(ghosts, np.where(mask == 1, 0, 2).astype(np.uint8)), "resampled: outside points hidden (vtkGhostType)")
inside = int(mask.sum())
check(0.3 * mask.size < inside < mask.size, "resampled: %d of %d points inside the mesh" % (inside, mask.size))
for (association, name), values in g.items():
    if name != MASK and np.any(values[mask == 0] != 0):
        fail("resampled: %s is not 0 outside the mesh" % name)
ok("resampled: every array 0 outside the mesh")

# VTK's probe filter on the same mesh and grid finds the same inside points.
mesh = reference("disk.inr", "vtu")
probe = vtkProbeFilter()
probe.SetInputData(got)
probe.SetSourceData(mesh)
probe.Update()
vtk_mask = vtk_to_numpy(probe.GetOutput().GetPointData().GetArray(probe.GetValidPointMaskArrayName()))
differ = int(np.count_nonzero(vtk_mask != mask))
print("probe filter: %d inside, ours %d inside, %d points differ" % (int(vtk_mask.sum()), inside, differ))
# Points on the mesh's surface may fall either way within the tolerances.
check(differ <= 0.002 * mask.size, "resampled mask equals VTK's probe filter (%d of %d points differ)" % (differ, mask.size))

# A sub-extent decodes like the same region of the whole image (pieces).
algorithm = disk.GetClientSideObject()
algorithm.Modified()  # else the whole image in hand serves the request
algorithm.UpdateExtent([5, 30, 2, 20, 10, 29])
part = algorithm.GetOutputDataObject(0)
e = part.GetExtent()
check(e == (5, 30, 2, 20, 10, 29), "resampled sub-extent %s" % (e,))
pa = arrays(part)
for key, values in pa.items():
    full = g.get(key, ghosts if key == ("point", GHOSTS) else None)
    comps = 1 if values.ndim == 1 else values.shape[1]
    block = full.reshape(30, 36, 40, comps)[e[4]:e[5] + 1, e[2]:e[3] + 1, e[0]:e[1] + 1]
    if not np.array_equal(block.reshape(values.shape), values):
        fail("resampled sub-extent: %s differs from the whole image" % (key,))
ok("resampled sub-extent equals the whole image there")
Delete(disk)

# --- hexahedra with time ------------------------------------------------------------
mug = OpenDataFile(path("mug.inr"))
times = info(INR, path("mug.inr"))["time"]["values"]
check(list(mug.TimestepValues) == times and len(times) == 3, "mug: time steps %s" % times)
for t in (times[0], 0.5 * (times[1] + times[2]), times[2]):
    mug.UpdatePipeline(t)
    got = fetch(mug)
    same_mesh(got, reference("mug.inr", "vtu", "--time", repr(t)), "mug at t=%g" % t)
    check(set(vtk_to_numpy(got.GetCellTypesArray())) == {12}, "mug: hexahedra")
mug.OutputMode = "Refined Mesh"
mug.RefinementLevel = 2
mug.UpdatePipeline(times[1])
same_mesh(fetch(mug), reference("mug.inr", "vtu", "--refine", "2", "--time", repr(times[1])), "mug refined twice")
Delete(mug)

# --- cell variables of a mesh ----------------------------------------------------------
box = OpenDataFile(path("mesh.inr"))
check(list(box.CellArrays) == ["density"], "box mesh: cell array density")
box.UpdatePipeline()
same_mesh(fetch(box), reference("mesh.inr", "vtu"), "box mesh with cell data")
box.OutputMode = "Resampled Image"
box.UpdatePipeline()
got = fetch(box)
g = arrays(got)
g.pop(("point", GHOSTS))
check(got.GetDimensions() == (64, 17, 33), "box resampled: default dims %s (64 along the longest side)" % (got.GetDimensions(),))
same_arrays(g, arrays(reference("mesh.inr", "vti", "--dims", "64,17,33")), "box resampled: cell variables as point data")
Delete(box)

# --- a clustered (MC-INR) model on a mesh ------------------------------------------
mc = OpenDataFile(path("mc.inr"))
check(info(INR, path("mc.inr"))["model"]["family"] == "mc_inr", "mc.inr holds an MC-INR model")
mc.UpdatePipeline(0.5)
same_mesh(fetch(mc), reference("mc.inr", "vtu", "--time", "0.5"), "MC-INR mesh")
mc.OutputMode = "Resampled Image"
mc.SamplingDimensions = [33, 17, 9]
mc.UpdatePipeline(0.5)
g = arrays(fetch(mc))
g.pop(("point", GHOSTS))
same_arrays(g, arrays(reference("mc.inr", "vti", "--dims", "33,17,9", "--time", "0.5")), "MC-INR resampled")
Delete(mc)

print("mesh tests: %d checks passed" % len(__import__("common").CHECKED))
