"""An STSR-INR file in the INR reader: its variables, and latent blends.

Usage: pvpython stsr_tests.py PLUGIN INR_BINARY WORKDIR
WORKDIR holds the fixtures made by scripts/test-plugin.sh: stsr.inr (`inr
synthetic --stsr`: point variables temperature, wind (2 components) and
pressure as latent vectors of one network, time steps 0, 0.5, 2), synth.inr
(a residual SIREN, which embeds no variables) and mesh.inr (a mesh file).

Checks, with real values: the reader decodes the file exactly as `inr
decode` does, at the stored grid and resampled, between time steps; it
offers the variables as the choices of Latent Blend From / To (none for
other files); a blend adds one array named From~To@Alpha that equals `inr
decode --latent From,To,Alpha` value for value, alpha 0 gives the variable
itself, alpha 1 the other one's latent; bad blends (one name only,
different components, a file without latents) give an error and an empty
output."""
import os
import sys

import numpy as np
from paraview.simple import Delete, OpenDataFile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import References, CapturedErrors, arrays, check, fail, fetch, info, load_plugin, ok, same_arrays  # noqa: E402

PLUGIN, INR, WORK = sys.argv[1:4]
STSR = os.path.join(WORK, "stsr.inr")
SYNTH = os.path.join(WORK, "synth.inr")
MESH = os.path.join(WORK, "mesh.inr")
VARIABLES = ["temperature", "wind", "pressure"]
reference = References(INR, WORK, "stsr")


def decode(proxy, t, **settings):
    """The reader's output at time `t` with these property values."""
    for name, value in settings.items():
        setattr(proxy, name, value)
    proxy.UpdatePipeline(t)
    return fetch(proxy)


def choices(proxy):
    """The Latent Blend From list as the GUI shows it."""
    domain = proxy.GetProperty("LatentBlendFrom").SMProperty.GetDomain("list")
    return [domain.GetString(i) for i in range(domain.GetNumberOfStrings())]


def refused(proxy, t, message, **settings):
    """Decoding with these settings reports `message` and gives no data."""
    with CapturedErrors() as errors:
        out = decode(proxy, t, **settings)
    text = errors.text()
    check(message in text, "%s: error says %r" % (settings, message))
    check(out is None or out.GetPointData().GetNumberOfArrays() == 0, "%s: no arrays" % settings)


load_plugin(PLUGIN, globals())

# --- what the reader publishes, and plain decoding ----------------------------
reader = OpenDataFile(STSR)
check(reader is not None and reader.GetXMLName() == "INRReader", "OpenDataFile picks the INR reader for STSR-INR")
meta = info(INR, STSR)
check(meta["model"]["family"] == "stsr_inr", "the fixture is an STSR-INR file")
times = meta["time"]["values"]
check(list(reader.TimestepValues) == times, "time steps %s" % times)
check(list(reader.PointArrays) == VARIABLES, "point arrays %s" % list(reader.PointArrays))
reader.UpdatePipelineInformation()
check(list(reader.GetProperty("LatentBlendChoices")) == VARIABLES,
      "Latent Blend Choices: %s" % list(reader.GetProperty("LatentBlendChoices")))
check(choices(reader) == ["(none)"] + VARIABLES, "Latent Blend From offers (none) and %s" % choices(reader))
check(reader.LatentBlendFrom == "(none)" and reader.LatentBlendTo == "(none)", "no blend by default")
check(reader.LatentBlendAlpha == 0.5, "Latent Blend Alpha defaults to 0.5")

t = 0.5 * (times[1] + times[2])
plain = decode(reader, t)
same_arrays(arrays(plain), arrays(reference(STSR, "--time", repr(t))), "stored grid at t=%g (inr decode)" % t)

# --- latent blends -------------------------------------------------------------
for alpha in (0.25, 0.8):
    got = decode(reader, t, LatentBlendFrom="temperature", LatentBlendTo="pressure", LatentBlendAlpha=alpha)
    name = "temperature~pressure@%g" % alpha
    want = arrays(reference(STSR, "--time", repr(t), "--latent", "temperature,pressure,%g" % alpha))
    got_arrays = arrays(got)
    check(sorted(got_arrays) == sorted(list(arrays(plain)) + [("point", name)]),
          "blend %g: the variables and %s" % (alpha, name))
    same_arrays({k: v for k, v in got_arrays.items() if k[1] == name}, want,
                "blend %g (inr decode --latent temperature,pressure,%g)" % (alpha, alpha))
    for key, value in arrays(plain).items():
        if not np.array_equal(got_arrays[key], value):
            fail("blend %g: %s changed" % (alpha, key))
    ok("blend %g: the selected variables unchanged" % alpha)

blend = arrays(decode(reader, t, LatentBlendAlpha=0.0))[("point", "temperature~pressure@0")]
check(np.array_equal(blend, arrays(plain)[("point", "temperature")]), "alpha 0 is temperature itself")
blend = arrays(decode(reader, t, LatentBlendAlpha=1.0))[("point", "temperature~pressure@1")]
pressure = arrays(plain)[("point", "pressure")]
error = np.max(np.abs(blend.astype(np.float64) - pressure))
check(error <= 1e-6 * np.ptp(pressure) + 1e-3, "alpha 1 is pressure (largest difference %.3g)" % error)

# Resampled, with only wind selected: the blend of two 2-component variables.
got = decode(reader, t, SamplingDimensions=[13, 7, 5], LatentBlendFrom="wind", LatentBlendTo="wind",
             LatentBlendAlpha=0.5, PointArrays=["wind"])
want = reference(STSR, "--dims", "13,7,5", "--time", repr(t), "--latent", "wind,wind,0.5")
check(got.GetExtent() == want.GetExtent(), "resampled extent %s" % (got.GetExtent(),))
g = arrays(got)
check(sorted(g) == [("point", "wind"), ("point", "wind~wind@0.5")], "resampled arrays %s" % sorted(g))
same_arrays({k: v for k, v in g.items() if k[1] == "wind~wind@0.5"}, arrays(want), "wind toward itself, resampled")
check(np.array_equal(g[("point", "wind~wind@0.5")], g[("point", "wind")]), "a variable blended with itself is itself")
reader.SamplingDimensions = [0, 0, 0]
reader.PointArrays = VARIABLES

# --- refusals -----------------------------------------------------------------
refused(reader, t, "INR_ERROR_INVALID_ARGUMENT", LatentBlendFrom="temperature", LatentBlendTo="wind")
refused(reader, t, "set both", LatentBlendFrom="temperature", LatentBlendTo="(none)")
refused(reader, t, "INR_ERROR_INVALID_ARGUMENT", LatentBlendFrom="temperature", LatentBlendTo="humidity")
got = decode(reader, t, LatentBlendFrom="(none)", LatentBlendTo="(none)")
same_arrays(arrays(got), arrays(plain), "back to no blend")
Delete(reader)

for other in (SYNTH, MESH):
    proxy = OpenDataFile(other)
    proxy.UpdatePipelineInformation()
    check(list(proxy.GetProperty("LatentBlendChoices")) == [] and choices(proxy) == ["(none)"],
          "%s: no variables to blend" % os.path.basename(other))
    names = list(proxy.PointArrays)
    refused(proxy, 0.5, "does not embed its variables", LatentBlendFrom=names[0], LatentBlendTo=names[0])
    Delete(proxy)

reference.remove()
print("STSR-INR tests: %d checks passed" % len(__import__("common").CHECKED))
