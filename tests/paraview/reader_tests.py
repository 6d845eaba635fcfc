"""The INR reader in pvpython, against `inr decode` and the source data.

Usage: pvpython reader_tests.py PLUGIN INR_BINARY WORKDIR
WORKDIR holds the fixtures made by scripts/test-plugin.sh: synth.inr (image
domain, 3 time steps, point and cell variables), cth.inr (rectilinear, 9 cell
variables, encoded from the shared cth.vtr) and bad files (also a mesh file
cut or damaged in its mesh section; mesh files themselves: mesh_tests.py)."""
import os
import sys

import numpy as np
from paraview.simple import OpenDataFile
from vtkmodules.vtkIOXML import vtkXMLImageDataReader, vtkXMLRectilinearGridReader
from vtkmodules.util.numpy_support import vtk_to_numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CapturedErrors, arrays, check, fail, fetch, info, inr, load_plugin, ok, same_arrays  # noqa: E402

PLUGIN, INR, WORK = sys.argv[1:4]


def path(name):
    return os.path.join(WORK, name)


def read_xml(file_name):
    reader = vtkXMLRectilinearGridReader() if file_name.endswith(".vtr") else vtkXMLImageDataReader()
    reader.SetFileName(file_name)
    reader.Update()
    return reader.GetOutput()


def reference(name, *decode_args):
    """`inr decode` of fixture `name` with these arguments, read back."""
    out = path("ref-%d.%s" % (abs(hash(decode_args)), "vtr" if "--vtr" in decode_args else "vti"))
    inr(INR, "decode", path(name), "-o", out, *[a for a in decode_args if a != "--vtr"])
    return read_xml(out)


def same_image(got, want, what):
    check(got.IsA("vtkImageData"), "%s: image data" % what)
    check(got.GetExtent() == want.GetExtent(), "%s: extent %s" % (what, got.GetExtent()))
    # inr decode's .vti stores origin and spacing as float32.
    f32 = lambda v: np.array(v, dtype=np.float32)
    check(np.array_equal(f32(got.GetOrigin()), f32(want.GetOrigin())), "%s: origin %s" % (what, got.GetOrigin()))
    check(np.array_equal(f32(got.GetSpacing()), f32(want.GetSpacing())), "%s: spacing %s" % (what, got.GetSpacing()))
    same_arrays(arrays(got), arrays(want), what)


# --- a structured image file --------------------------------------------------
load_plugin(PLUGIN, globals())
reader = OpenDataFile(path("synth.inr"))
check(reader is not None and reader.GetXMLName() == "INRReader", "OpenDataFile picks the INR reader for .inr")
meta = info(INR, path("synth.inr"))
times = meta["time"]["values"]
check(list(reader.TimestepValues) == times, "time steps %s" % times)
check(list(reader.PointArrays) == ["pressure", "velocity"], "point arrays %s" % list(reader.PointArrays))
check(list(reader.CellArrays) == ["density"], "cell arrays %s" % list(reader.CellArrays))

reader.UpdatePipeline(times[1])
got = fetch(reader)
same_image(got, reference("synth.inr", "--time", repr(times[1])), "native grid at t=%g" % times[1])
domain = meta["domain"]
check(list(got.GetOrigin()) == domain["origin"] and list(got.GetSpacing()) == domain["spacing"],
      "origin and spacing exactly the stored ones")
for (association, name), values in arrays(got).items():
    lo, hi = got.GetPointData().GetArray(name).GetRange(-1) if association == "point" \
        else got.GetCellData().GetArray(name).GetRange(-1)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
        fail("range of %s" % name)
ok("array ranges finite")

# Between two stored steps: decoded at that time (the network is continuous).
t = 0.5 * (times[1] + times[2])
reader.UpdatePipeline(t)
same_image(fetch(reader), reference("synth.inr", "--time", repr(t)), "between steps, t=%g" % t)
reader.UpdatePipeline(times[2])
same_image(fetch(reader), reference("synth.inr", "--time", repr(times[2])), "last step")

# Any resolution.
reader.SamplingDimensions = [48, 40, 7]
reader.UpdatePipeline(times[0])
same_image(fetch(reader), reference("synth.inr", "--dims", "48,40,7", "--time", repr(times[0])), "resampled 48x40x7")
reader.SamplingDimensions = [0, 0, 0]

# Only the selected variables are decoded.
reader.PointArrays = ["velocity"]
reader.CellArrays = []
reader.UpdatePipeline(times[0])
got = fetch(reader)
same_image(got, reference("synth.inr", "--vars", "velocity", "--time", repr(times[0])), "variable subset")
check(got.GetPointData().GetArray("velocity").GetNumberOfComponents() == 3, "velocity has 3 components")
reader.PointArrays = ["pressure", "velocity"]
reader.CellArrays = ["density"]

# One thread gives the same values as all cores.
reader.NumberOfThreads = 1
reader.UpdatePipeline(times[0])
same_image(fetch(reader), reference("synth.inr", "--time", repr(times[0])), "one thread")

# Progress reaches ParaView, and an abort stops the decode.
algorithm = reader.GetClientSideObject()
seen = []
observer = algorithm.AddObserver("ProgressEvent", lambda obj, event: seen.append(obj.GetProgress()))
reader.SamplingDimensions = [160, 160, 160]
reader.UpdatePipeline(times[0])
check(len(seen) >= 2 and seen[-1] == 1.0 and seen == sorted(seen),
      "progress reported, rising to 1 (%d events)" % len(seen))


def abort_at_first_progress(obj, event):
    if 0 < obj.GetProgress() < 1:
        obj.SetAbortExecute(1)


algorithm.RemoveObserver(observer)
observer = algorithm.AddObserver("ProgressEvent", abort_at_first_progress)
algorithm.Modified()
reader.UpdatePipeline(times[1])
aborted = algorithm.GetOutputDataObject(0)
check(aborted.GetPointData().GetNumberOfArrays() == 0, "an abort stops the decode (no arrays)")
algorithm.RemoveObserver(observer)
algorithm.SetAbortExecute(0)
algorithm.Modified()
reader.UpdatePipeline(times[1])
check(algorithm.GetOutputDataObject(0).GetPointData().GetNumberOfArrays() == 2, "the next update decodes again")
reader.SamplingDimensions = [0, 0, 0]

# --- a rectilinear file with cell data (encoded from the shared cth.vtr) -------
cth = OpenDataFile(path("cth.inr"))
cth.UpdatePipeline()
got = fetch(cth)
check(got.IsA("vtkRectilinearGrid"), "cth: rectilinear grid")
# VTK 9.2 cannot parse the shared cth.vtr itself (its appended data is one
# base64 stream per array); the encoder's tests check that the file stores
# exactly its coordinates, inr decode writes them to cth-ref.vtr.
want = read_xml(path("cth-ref.vtr"))
for axis, name in enumerate("XYZ"):
    a = vtk_to_numpy(getattr(got, "Get%sCoordinates" % name)())
    b = vtk_to_numpy(getattr(want, "Get%sCoordinates" % name)())
    if a.dtype != np.float64 or not np.array_equal(a, b):
        fail("cth: %s coordinates differ from the stored ones" % name)
ok("cth: the stored coordinates, as float64")
check(got.GetDimensions() == (129, 65, 65) and got.GetNumberOfCells() == 128 * 64 * 64,
      "cth: 129x65x65 points, %d cells" % got.GetNumberOfCells())
check(got.GetPointData().GetNumberOfArrays() == 0, "cth: no point arrays")
same_arrays(arrays(got), arrays(want), "cth: 9 cell arrays against inr decode (.vtr)")

cth.SamplingDimensions = [33, 17, 9]
cth.UpdatePipeline()
got = fetch(cth)
want = reference("cth.inr", "--dims", "33,17,9")
check(got.IsA("vtkRectilinearGrid") and got.GetDimensions() == (33, 17, 9), "cth resampled: 33x17x9 rectilinear")
for axis, name in enumerate("XYZ"):
    coords = vtk_to_numpy(getattr(got, "Get%sCoordinates" % name)())
    expect = want.GetOrigin()[axis] + want.GetSpacing()[axis] * np.arange(coords.size)
    if not np.allclose(coords, expect, rtol=1e-6, atol=1e-6 * abs(expect).max()):
        fail("cth resampled: %s coordinates not uniform over the bounds" % name)
ok("cth resampled: uniform coordinates over the stored bounds")
same_arrays(arrays(got), arrays(want), "cth resampled: cell arrays")

# --- bad files: an error message and an empty output, never a crash -----------
cases = {
    "missing.inr": "INR_ERROR_IO",
    "empty.inr": "INR_ERROR",
    "text.inr": "INR_ERROR_NOT_INR",
    "truncated.inr": "INR_ERROR_TRUNCATED",
    "corrupt.inr": "INR_ERROR_CHECKSUM",
    "truncated-mesh.inr": "INR_ERROR_TRUNCATED",
    "corrupt-mesh.inr": "INR_ERROR_CHECKSUM",
}
for name, message in cases.items():
    with CapturedErrors() as errors:
        bad = INRReader(FileName=path(name))
        bad.UpdatePipeline()
        out = fetch(bad)
    text = errors.text()
    check(message in text, "%s: error says %s" % (name, message))
    check(out is None or out.GetNumberOfPoints() == 0, "%s: empty output" % name)
    from paraview.simple import Delete
    Delete(bad)

print("reader tests: %d checks passed" % len(__import__("common").CHECKED))
