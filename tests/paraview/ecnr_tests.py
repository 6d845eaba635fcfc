"""A multiscale (ECNR) file in the INR reader: Level Of Detail and time.

Usage: pvpython ecnr_tests.py PLUGIN INR_BINARY WORKDIR
WORKDIR holds the fixtures made by scripts/test-plugin.sh: ecnr.inr (`inr
synthetic --ecnr 3`: three scales of factors 4, 2, 1 on a 24 x 20 x 16
image, time steps 0, 0.5, 2, point variables pressure and velocity) and
synth.inr (a single-network file, which ignores the level of detail).

Checks, with real values: the reader publishes the number of scales and
the range of LevelOfDetail; every level gives exactly what `inr decode
--detail K` gives (also resampled), the levels differ from each other, and
`inr probe --detail 1` agrees at single points; a time between two steps is
decoded at that time, at every level: exactly `inr decode --time`, and the
linear interpolation of the two steps (docs/format.md 10.4: at the native
samples ECNR is linear in time between steps)."""
import os
import sys

import numpy as np
from paraview.simple import OpenDataFile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import References, arrays, check, fail, fetch, info, inr, load_plugin, ok, same_arrays  # noqa: E402

PLUGIN, INR, WORK = sys.argv[1:4]
ECNR = os.path.join(WORK, "ecnr.inr")
SYNTH = os.path.join(WORK, "synth.inr")
reference = References(INR, WORK, "ecnr")


def information(proxy, name):
    """The values of an information property (not attributes of the proxy)."""
    return [int(v) for v in proxy.GetProperty(name)]


def decode(proxy, t, **settings):
    """The reader's output at time `t` with these property values."""
    for name, value in settings.items():
        setattr(proxy, name, value)
    proxy.UpdatePipeline(t)
    return fetch(proxy)


def same_image(got, want, what):
    check(got.IsA("vtkImageData") and got.GetExtent() == want.GetExtent(),
          "%s: image data of extent %s" % (what, got.GetExtent()))
    same_arrays(arrays(got), arrays(want), what)


def largest_difference(a, b):
    """Largest |a - b| over all arrays, relative to each array's span."""
    x, y = arrays(a), arrays(b)
    if sorted(x) != sorted(y):
        fail("different arrays: %s vs %s" % (sorted(x), sorted(y)))
    worst = 0.0
    for key in x:
        u, v = x[key].astype(np.float64), y[key].astype(np.float64)
        span = max(np.ptp(u), np.ptp(v), 1e-30)
        worst = max(worst, np.max(np.abs(u - v)) / span)
    return worst


load_plugin(PLUGIN, globals())

# --- what the reader publishes ------------------------------------------------
reader = OpenDataFile(ECNR)
check(reader is not None and reader.GetXMLName() == "INRReader", "OpenDataFile picks the INR reader for ECNR")
meta = info(INR, ECNR)
check(meta["model"]["family"] == "ecnr", "the fixture is an ECNR file")
scales = len(meta["model"]["scales"])
check(scales == 3, "the fixture has 3 scales")
times = meta["time"]["values"]
check(list(reader.TimestepValues) == times, "time steps %s" % times)
check(list(reader.PointArrays) == ["pressure", "velocity"], "point arrays %s" % list(reader.PointArrays))
check(information(reader, "NumberOfScales") == [scales], "NumberOfScales %s" % information(reader, "NumberOfScales"))
check(information(reader, "LevelOfDetailRangeInfo") == [0, scales],
      "LevelOfDetailRangeInfo %s" % information(reader, "LevelOfDetailRangeInfo"))
check(reader.LevelOfDetail == 0, "LevelOfDetail defaults to 0 (all scales)")
domain = reader.GetProperty("LevelOfDetail").SMProperty.GetDomain("range")
check(domain.GetMinimumExists(0) and domain.GetMinimum(0) == 0 and domain.GetMaximumExists(0)
      and domain.GetMaximum(0) == scales, "the GUI range of Level Of Detail is 0 .. %d" % scales)

# --- every level of detail against inr decode --detail --------------------------
t1 = times[1]
levels = {}
for k in range(scales + 1):
    got = decode(reader, t1, LevelOfDetail=k)
    args = ["--time", repr(t1), "--detail", str(k)]
    same_image(got, reference(ECNR, *args), "level of detail %d at t=%g (inr decode --detail %d)" % (k, t1, k))
    levels[k] = got
# Each level adds a scale: all differ from each other, the last one is all scales.
for a in range(1, scales):
    for b in range(a + 1, scales + 1):
        diff = largest_difference(levels[a], levels[b])
        check(diff > 1e-3, "level %d differs from level %d (largest difference %.3g of the span)" % (a, b, diff))
same_arrays(arrays(levels[scales]), arrays(levels[0]), "level %d (all scales) equals level 0" % scales)
got = decode(reader, t1, LevelOfDetail=scales + 5)
same_arrays(arrays(got), arrays(levels[0]), "a level beyond the scales decodes them all")

# Changing the property re-executes the reader (Modified).
algorithm = reader.GetClientSideObject()
before = algorithm.GetMTime()
reader.LevelOfDetail = 1
check(algorithm.GetMTime() > before, "setting Level Of Detail modifies the reader")
got = decode(reader, t1)
same_arrays(arrays(got), arrays(levels[1]), "back to level 1 after level %d: re-executed" % (scales + 5))

# Single points through the library's point path (inr probe --detail 1).
data = levels[1]
pressure = arrays(data)[("point", "pressure")]
velocity = arrays(data)[("point", "velocity")]
span = {"pressure": np.ptp(pressure), "velocity": np.ptp(velocity)}
rng = np.random.default_rng(5)
for _ in range(4):
    i = int(rng.integers(data.GetNumberOfPoints()))
    x, y, z = data.GetPoint(i)
    text = inr(INR, "probe", ECNR, repr(x), repr(y), repr(z), repr(t1), "--detail", "1")
    values = {}
    for line in text.strip().splitlines():
        name, value = (s.strip() for s in line.split("=", 1))
        values[name] = np.array([float(v) for v in value.strip("()").split(",")])
    if (abs(values["pressure"][0] - pressure[i]) > 1e-5 * span["pressure"]
            or np.max(np.abs(values["velocity"] - velocity[i])) > 1e-5 * span["velocity"]):
        fail("point %d (%g, %g, %g): probe %s, reader %s %s" % (i, x, y, z, values, pressure[i], velocity[i]))
ok("level 1 at 4 grid points equals inr probe --detail 1")

# Level of detail on a resampled grid too.
got = decode(reader, t1, LevelOfDetail=2, SamplingDimensions=[30, 11, 9])
same_image(got, reference(ECNR, "--dims", "30,11,9", "--time", repr(t1), "--detail", "2"),
           "level 2 resampled to 30x11x9")
reader.SamplingDimensions = [0, 0, 0]

# --- time is continuous, at every level --------------------------------------
ta, tb = times[1], times[2]
for k in (1, 2, 0):
    at_a = decode(reader, ta, LevelOfDetail=k)
    at_b = decode(reader, tb)
    for w in (0.5, 0.25):
        t = ta + w * (tb - ta)
        got = decode(reader, t)
        check(got.GetInformation().Get(got.DATA_TIME_STEP()) == t, "level %d: output time %g" % (k, t))
        args = ["--time", repr(t), "--detail", str(k)]
        same_image(got, reference(ECNR, *args), "level %d between steps, t=%g (inr decode)" % (k, t))
        g, a, b = arrays(got), arrays(at_a), arrays(at_b)
        for key in g:
            blend = (1 - w) * a[key].astype(np.float64) + w * b[key].astype(np.float64)
            tolerance = 1e-5 * max(np.ptp(a[key]), np.ptp(b[key]))
            error = np.max(np.abs(g[key] - blend))
            if error > tolerance:
                fail("level %d, t=%g: %s is not the linear interpolation of the steps (%.3g)" % (k, t, key, error))
            if k == 1:
                # The coarsest scale (factor 4) has ceil(3 / 4) = 1 time sample:
                # constant in time.
                if not np.array_equal(a[key], b[key]):
                    fail("level 1: %s changes between steps, with one time sample" % (key,))
            elif min(np.max(np.abs(g[key] - a[key])), np.max(np.abs(g[key] - b[key]))) <= 1000 * tolerance:
                fail("level %d, t=%g: %s (nearly) equals a stored step: snapped, not continuous" % (k, t, key))
        if k == 1:
            ok("level 1, t=%g: constant in time like its one time sample" % t)
        else:
            ok("level %d, t=%g: %.2g of step %g plus %.2g of step %g, neither step itself" % (k, t, 1 - w, ta, w, tb))

# --- a file of another family ignores the level of detail ---------------------
synth = OpenDataFile(SYNTH)
synth.UpdatePipelineInformation()
check(information(synth, "NumberOfScales") == [0] and information(synth, "LevelOfDetailRangeInfo") == [0, 0],
      "single-network file: no scales, range 0 .. 0")
want = reference(SYNTH, "--time", repr(0.5))
for k in (0, 1, 2):
    same_image(decode(synth, 0.5, LevelOfDetail=k), want, "single-network file at level of detail %d" % k)

reference.remove()
print("ECNR tests: %d checks passed" % len(__import__("common").CHECKED))
