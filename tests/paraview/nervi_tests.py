"""A file of rendered images (NeRVI) in the INR reader: 2-D images by time and view.

Usage: pvpython nervi_tests.py PLUGIN INR_BINARY WORKDIR
WORKDIR holds the fixtures made by scripts/test-plugin.sh: views.inr (`inr
synthetic --nervi --seed 4`: 24 x 16 pixels, view parameters theta and phi,
stored views (0,-30) (90,-30) (180,0) (270,30) (45,60), time steps 0, 1, 3,
variables image (3 components) and mask, composite on white) and synth.inr
(a field file).

Checks, with real values: the reader publishes the time steps, variables,
view parameter names and ranges, stored views and the Stored View range;
View Parameters starts at the first stored view; the output is 24 x 16 x 1
image data at origin 0, spacing 1; its float arrays equal `inr decode
--params ... -o x.vti` value for value and its RGBA array `-o x.png` (read
by vtkPNGReader, bottom row first like VTK) byte for byte, at stored views,
between views and between time steps, beyond the stored ranges (clamped,
equal to the range's ends), through Stored View, for a subset of variables
and for a sub-extent; the RGBA array is the composite of the float arrays
over white; another view or time gives another image; bad settings (wrong
number of values, NaN, infinity, a stored view that does not exist) give an
error and no arrays, and the reader recovers; a field file still reads as
before and ignores the view settings."""
import math
import os
import sys

import numpy as np
from paraview.simple import Delete, OpenDataFile
from vtkmodules.vtkCommonDataModel import vtkDataObject
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline
from vtkmodules.vtkIOImage import vtkPNGReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import References, CapturedErrors, arrays, check, fail, fetch, inr, info, load_plugin, ok, same_arrays  # noqa: E402

PLUGIN, INR, WORK = sys.argv[1:4]
VIEWS = os.path.join(WORK, "views.inr")
SYNTH = os.path.join(WORK, "synth.inr")
WIDTH, HEIGHT = 24, 16
PARAMETERS = ["theta", "phi"]
STORED = [(0, -30), (90, -30), (180, 0), (270, 30), (45, 60)]
TIMES = [0.0, 1.0, 3.0]
reference = References(INR, WORK, "nervi")
pngs = []


def params(t, view):
    """`inr decode --params` for time t and a view."""
    items = ["t=%r" % t] + ["%s=%r" % (name, float(v)) for name, v in zip(PARAMETERS, view)]
    return ",".join(items)


def decode(proxy, t, **settings):
    """The reader's output at time `t` with these property values."""
    for name, value in settings.items():
        setattr(proxy, name, value)
    proxy.UpdatePipeline(t)
    return fetch(proxy)


def png(t, view):
    """`inr decode -o x.png` (the composite) as a (point, 4) uint8 array, bottom row first."""
    out = os.path.join(WORK, "nervi-ref-%d.png" % len(pngs))
    pngs.append(out)
    inr(INR, "decode", VIEWS, "--params", params(t, view), "-o", out)
    reader = vtkPNGReader()
    reader.SetFileName(out)
    reader.Update()
    image = reader.GetOutput()
    if image.GetDimensions() != (WIDTH, HEIGHT, 1) or image.GetNumberOfScalarComponents() != 4:
        fail("%s: %s pixels, %d components" % (out, image.GetDimensions(), image.GetNumberOfScalarComponents()))
    return arrays(image)[("point", image.GetPointData().GetScalars().GetName())]


def floats(got):
    return {k: v for k, v in got.items() if k[1] != "RGBA"}


def same_as_cli(got, t, view, what, variables=None):
    """The reader's output equals `inr decode` of this time and view: floats
    against the .vti, RGBA against the .png."""
    extra = ["--vars", ",".join(variables)] if variables else []
    want = arrays(reference(VIEWS, "--params", params(t, view), *extra))
    got_arrays = arrays(got)
    same_arrays(floats(got_arrays), want, "%s: float arrays (inr decode -o x.vti)" % what)
    rgba = got_arrays.get(("point", "RGBA"))
    want_rgba = png(t, view)
    check(rgba is not None and rgba.dtype == np.uint8 and rgba.shape == (WIDTH * HEIGHT, 4),
          "%s: RGBA is unsigned char, 4 components, one per pixel" % what)
    check(np.array_equal(rgba, want_rgba), "%s: RGBA equals inr decode -o x.png byte for byte" % what)
    return got_arrays


def differs(a, b, what):
    """Two outputs' float arrays differ visibly (not a rounding)."""
    largest = max(np.max(np.abs(a[k].astype(np.float64) - b[k])) for k in floats(a))
    check(largest > 1e-3, "%s (largest difference %.3g)" % (what, largest))


def refused(proxy, t, message, **settings):
    """Decoding with these settings reports `message` and gives no arrays."""
    with CapturedErrors() as errors:
        out = decode(proxy, t, **settings)
    text = errors.text()
    if message not in text:
        fail("%s: error should say %r, got %r" % (settings, message, text[-400:]))
    ok("%s: error says %r" % (settings, message))
    check(out is None or out.GetPointData().GetNumberOfArrays() == 0, "%s: no arrays" % settings)


load_plugin(PLUGIN, globals())

# --- what the reader publishes -------------------------------------------------
meta = info(INR, VIEWS)
check(meta["domain"]["kind"] == "images" and meta["model"]["family"] == "nervi", "the fixture is a NeRVI images file")
reader = OpenDataFile(VIEWS)
check(reader is not None and reader.GetXMLName() == "INRReader", "OpenDataFile picks the INR reader for images")
reader.UpdatePipelineInformation()
check(list(reader.TimestepValues) == TIMES == meta["time"]["values"], "time steps %s" % list(reader.TimestepValues))
check(list(reader.PointArrays) == ["image", "mask"], "point arrays %s" % list(reader.PointArrays))
check(list(reader.CellArrays) == [], "no cell arrays")
check(list(reader.GetProperty("IsImages")) == [1], "Is Images: 1")
names = list(reader.GetProperty("ViewParameterNames"))
check(names == PARAMETERS == meta["domain"]["parameters"], "View Parameter Names: %s" % names)
stored = list(reader.GetProperty("StoredViews"))
check(stored == [float(v) for view in STORED for v in view], "Stored Views: %s" % stored)
ranges = list(reader.GetProperty("ViewParameterRanges"))
check(ranges == [0.0, 270.0, -30.0, 60.0], "View Parameter Ranges: theta [0, 270], phi [-30, 60]: %s" % ranges)
check(list(reader.GetProperty("StoredViewRangeInfo")) == [-1, len(STORED) - 1], "Stored View ranges from -1 to 4")
domain = reader.GetProperty("StoredView").SMProperty.GetDomain("range")
check((domain.GetMinimum(0), domain.GetMaximum(0)) == (-1, len(STORED) - 1),
      "Stored View's slider: %d to %d" % (domain.GetMinimum(0), domain.GetMaximum(0)))
check(list(reader.ViewParameters) == [0.0, -30.0], "View Parameters start at the first stored view")
check(reader.StoredView == -1, "Stored View defaults to -1 (View Parameters)")
check(list(reader.GetProperty("NativeDimensions")) == [WIDTH, HEIGHT, 1], "Native Dimensions: 24 16 1")
check(list(reader.GetProperty("LatentBlendChoices")) == [], "no latent blend choices")

# --- the image ----------------------------------------------------------------
first = decode(reader, 1.0, ViewParameters=[90, -30])
check(first.IsA("vtkImageData"), "output is image data")
check(first.GetDimensions() == (WIDTH, HEIGHT, 1), "dimensions %s" % (first.GetDimensions(),))
check(first.GetExtent() == (0, WIDTH - 1, 0, HEIGHT - 1, 0, 0), "extent %s" % (first.GetExtent(),))
check(first.GetOrigin() == (0.0, 0.0, 0.0) and first.GetSpacing() == (1.0, 1.0, 1.0), "origin 0, spacing 1")
whole = reader.GetClientSideObject().GetOutputInformation(0).Get(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT())
check(tuple(whole) == (0, WIDTH - 1, 0, HEIGHT - 1, 0, 0), "whole extent %s" % (whole,))
check(first.GetInformation().Get(vtkDataObject.DATA_TIME_STEP()) == 1.0, "data time step 1")
components = {k[1]: (v.shape[1] if v.ndim > 1 else 1) for k, v in arrays(first).items()}
check(components == {"image": 3, "mask": 1, "RGBA": 4}, "arrays image (3), mask (1), RGBA (4): %s" % components)
stored1 = same_as_cli(first, 1.0, (90, -30), "stored view (90, -30) at t=1")

# The composite is mask x image + (1 - mask) x white, in the same row order.
got = arrays(first)
m = np.clip(got[("point", "mask")].astype(np.float64), 0, 1)[:, None]
c = np.clip(got[("point", "image")].astype(np.float64), 0, 1)
composite = 255 * (m * c + (1 - m))
error = np.max(np.abs(got[("point", "RGBA")][:, :3] - composite))
check(error <= 1.0 and np.all(got[("point", "RGBA")][:, 3] == 255),
      "RGBA is the composite of image and mask over white, alpha 255 (largest difference %.3g)" % error)

between = decode(reader, 2.2, ViewParameters=[135.5, 12.25])
same_as_cli(between, 2.2, (135.5, 12.25), "between views and time steps (135.5, 12.25) at t=2.2")
differs(arrays(between), stored1, "another view and time give another image")
other_time = decode(reader, 3.0, ViewParameters=[90, -30])
same_as_cli(other_time, 3.0, (90, -30), "stored view (90, -30) at t=3")
differs(arrays(other_time), stored1, "the same view at another time gives another image")
other_view = decode(reader, 1.0, ViewParameters=[180, 0])
differs(arrays(other_view), stored1, "another stored view at the same time gives another image")

# Beyond the stored ranges: clamped to their ends (theta 270, phi -30; t 3).
beyond = decode(reader, 7.0, ViewParameters=[400, -90])
same_as_cli(beyond, 7.0, (400, -90), "beyond the ranges (400, -90) at t=7")
ends = arrays(decode(reader, 3.0, ViewParameters=[270, -30]))
same_arrays(arrays(beyond), ends, "beyond the ranges equals their ends (270, -30) at t=3")

# Stored View picks stored views by index, over View Parameters.
for k in (3, 4):
    by_index = decode(reader, 0.0, StoredView=k, ViewParameters=[1, 2])
    same_as_cli(by_index, 0.0, STORED[k], "Stored View %d %s at t=0" % (k, STORED[k]))
reader.StoredView = -1

# Empty View Parameters: the first stored view (what `inr decode` takes too).
empty = decode(reader, 0.0, ViewParameters=[])
same_as_cli(empty, 0.0, STORED[0], "empty View Parameters: the first stored view at t=0")

# A subset of the variables; none (the composite only).
mask_only = decode(reader, 1.0, ViewParameters=[90, -30], PointArrays=["mask"])
same_as_cli(mask_only, 1.0, (90, -30), "only mask selected", variables=["mask"])
check(sorted(k[1] for k in arrays(mask_only)) == ["RGBA", "mask"], "only mask selected: mask and RGBA")
none = arrays(decode(reader, 1.0, PointArrays=[]))
check(sorted(none) == [("point", "RGBA")] and np.array_equal(none[("point", "RGBA")], stored1[("point", "RGBA")]),
      "no variable selected: the RGBA array alone, the same")
reader.PointArrays = ["image", "mask"]

# A piece: the same pixels as the whole image, bottom-up rows.
algorithm = reader.GetClientSideObject()
piece_extent = (2, 10, 3, 12, 0, 0)
algorithm.UpdateExtent(piece_extent)
piece = algorithm.GetOutputDataObject(0)
check(piece.GetExtent() == piece_extent, "sub-extent %s" % (piece.GetExtent(),))
for key, whole_values in stored1.items():
    grid = whole_values.reshape(HEIGHT, WIDTH, -1)
    want = grid[3:13, 2:11].reshape(-1, grid.shape[2])
    got_values = arrays(piece)[key].reshape(want.shape)
    if not np.array_equal(got_values, want):
        fail("sub-extent: %s differs from the whole image's pixels" % (key,))
ok("sub-extent %s: every array equals the whole image's pixels there" % (piece_extent,))

# --- refusals, without a crash --------------------------------------------------
refused(reader, 1.0, "View Parameters: 3 values for the 2 view parameters", ViewParameters=[90, -30, 5])
refused(reader, 1.0, "View Parameters: 1 value for the 2 view parameters", ViewParameters=[90])
refused(reader, 1.0, "INR_ERROR_INVALID_ARGUMENT", ViewParameters=[math.nan, 0])
refused(reader, 1.0, "finite", ViewParameters=[90, math.inf])
refused(reader, 1.0, "stores 5 views", StoredView=5, ViewParameters=[90, -30])
refused(reader, 1.0, "does not embed its variables", LatentBlendFrom="image", LatentBlendTo="mask", StoredView=-1)
reader.LatentBlendFrom = reader.LatentBlendTo = "(none)"
again = decode(reader, 1.0, StoredView=-1, ViewParameters=[90, -30])
same_arrays(arrays(again), stored1, "after the refusals: the same image again")
Delete(reader)

# --- a field file: as before, the view settings ignored --------------------------------
field = OpenDataFile(SYNTH)
field.UpdatePipelineInformation()
check(list(field.GetProperty("IsImages")) == [0] and list(field.GetProperty("ViewParameterNames")) == []
      and list(field.GetProperty("StoredViews")) == [] and list(field.ViewParameters) == [],
      "synth.inr: no view parameters")
check(list(field.GetProperty("StoredViewRangeInfo")) == [-1, -1], "synth.inr: Stored View range -1 -1")
want = reference(SYNTH, "--time", "0.5")
for settings in ({}, {"ViewParameters": [1, 2, 3], "StoredView": 2}):
    got = decode(field, 0.5, **settings)
    check(got.IsA("vtkImageData") and got.GetExtent() == want.GetExtent() and got.GetSpacing() == want.GetSpacing()
          and got.GetOrigin() == want.GetOrigin(), "synth.inr %s: extent, origin, spacing as inr decode" % settings)
    same_arrays(arrays(got), arrays(want), "synth.inr %s at t=0.5 (inr decode)" % settings)
Delete(field)

reference.remove()
for name in pngs:
    os.remove(name)
print("NeRVI tests: %d checks passed" % len(__import__("common").CHECKED))
