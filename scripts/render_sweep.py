"""Renders a data set over a parameter sweep into a Cinema database (spec D):
the image collections NeRVI (seed 004) compresses.

Usage (ParaView's Python, with a display: xvfb-run -a pvpython ...):
  pvpython scripts/render_sweep.py IN OUT.cdb --array NAME
      [--iso V1,V2,... | --tf C1,C2,...] [--steps all|N] [--theta N] [--phi N] [--size PX]

IN is anything ParaView opens (a .pvd time series included). Per time step,
isovalue (--iso: isosurfaces) or transfer-function centre (--tf: volume
rendering with a tent of opacity around that value), and camera on a sphere
around the data (--theta azimuths in [-180, 180), --phi elevations strictly
between -90 and 90 degrees), one RGBA PNG whose alpha is the foreground
mask (transparent background). OUT.cdb/data.csv lists the parameters and the
image of each row (columns time, iso or tf, theta, phi, FILE), as Cinema
viewers and ParaView's Cinema conventions read it; OUT.cdb/info.json records
the sweep. The database is written under a temporary name and renamed, so an
interrupted run leaves no partial OUT.cdb."""
import argparse
import csv
import json
import math
import os
import shutil
import sys

from paraview.simple import (ColorBy, Contour, GetActiveViewOrCreate, GetColorTransferFunction,
                             GetOpacityTransferFunction, OpenDataFile, Render, SaveScreenshot, Show)


def values(text):
    return [float(v) for v in text.split(",") if v.strip()]


def arguments(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output", help="the database folder, conventionally NAME.cdb")
    ap.add_argument("--array", required=True, help="the point array rendered")
    kind = ap.add_mutually_exclusive_group(required=True)
    kind.add_argument("--iso", type=values, help="isovalues, comma-separated")
    kind.add_argument("--tf", type=values, help="transfer-function centres, comma-separated")
    ap.add_argument("--steps", default="all", help="all time steps, or the first N spread evenly")
    ap.add_argument("--theta", type=int, default=8, help="azimuths (default 8)")
    ap.add_argument("--phi", type=int, default=3, help="elevations (default 3)")
    ap.add_argument("--size", type=int, default=256, help="image width and height in pixels")
    a = ap.parse_args(argv)
    if a.theta < 1 or a.phi < 1 or not 8 <= a.size <= 4096:
        ap.error("--theta and --phi must be at least 1, --size within 8..4096")
    if not (a.iso or a.tf):
        ap.error("--iso or --tf needs at least one value")
    return a


def angles(theta, phi):
    """Azimuths evenly over [-180, 180); elevations at the centres of equal
    bands of (-90, 90), so no camera sits on a pole."""
    thetas = [-180.0 + 360.0 * i / theta for i in range(theta)]
    phis = [-90.0 + 180.0 * (j + 0.5) / phi for j in range(phi)]
    return thetas, phis


def chosen_steps(times, steps):
    if steps == "all" or not times:
        return times or [0.0]
    n = max(1, min(int(steps), len(times)))
    if n == 1:
        return [times[0]]
    return [times[round(i * (len(times) - 1) / (n - 1))] for i in range(n)]


def camera(view, bounds, theta, phi):
    """The camera on the sphere around the bounds' centre that holds the
    whole box at the view angle, looking at the centre, z up."""
    centre = [(bounds[2 * i] + bounds[2 * i + 1]) / 2 for i in range(3)]
    radius = 0.5 * math.dist(bounds[0::2], bounds[1::2]) or 1.0
    distance = radius / math.sin(math.radians(view.CameraViewAngle / 2))
    t, p = math.radians(theta), math.radians(phi)
    direction = [math.cos(p) * math.cos(t), math.cos(p) * math.sin(t), math.sin(p)]
    view.CameraFocalPoint = centre
    view.CameraPosition = [c + distance * d for c, d in zip(centre, direction)]
    view.CameraViewUp = [0, 0, 1]
    view.CameraParallelProjection = 0


def tent(centre, lo, hi):
    """Opacity 0 away from `centre`, 1 at it, over a tenth of the range."""
    half = max((hi - lo) * 0.05, 1e-30)
    return [lo, 0, 0.5, 0, centre - half, 0, 0.5, 0, centre, 1, 0.5, 0, centre + half, 0, 0.5, 0, hi, 0, 0.5, 0]


def main(argv):
    a = arguments(argv)
    reader = OpenDataFile(a.input)
    if reader is None:
        raise SystemExit("ParaView cannot open %s" % a.input)
    reader.UpdatePipeline()
    if a.array not in reader.PointData.keys():
        raise SystemExit("%s has no point array %r (it has %s)" % (a.input, a.array, ", ".join(reader.PointData.keys())))
    steps = chosen_steps(list(getattr(reader, "TimestepValues", []) or []), a.steps)
    thetas, phis = angles(a.theta, a.phi)
    view = GetActiveViewOrCreate("RenderView")
    view.ViewSize = [a.size, a.size]
    view.OrientationAxesVisibility = 0
    view.UseColorPaletteForBackground = 0
    view.Background = [0, 0, 0]
    lo, hi = reader.PointData[a.array].GetRange()
    lut = GetColorTransferFunction(a.array)
    lut.ApplyPreset("Cool to Warm", True)
    lut.RescaleTransferFunction(lo, hi)
    if a.iso:
        source = Contour(Input=reader, ContourBy=["POINTS", a.array], Isosurfaces=[a.iso[0]], ComputeScalars=1)
        display = Show(source, view)
        ColorBy(display, ("POINTS", a.array))
        sweep_name, sweep = "iso", a.iso
    else:
        source = reader
        display = Show(reader, view)
        display.SetRepresentationType("Volume")
        ColorBy(display, ("POINTS", a.array))
        sweep_name, sweep = "tf", a.tf
    bounds = reader.GetDataInformation().GetBounds()

    final = os.path.abspath(a.output)
    if os.path.exists(final) and not os.path.isfile(os.path.join(final, "data.csv")):
        raise SystemExit("%s exists and is not a Cinema database (no data.csv): not replaced" % final)
    work = final + ".partial"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "image"))
    rows = []
    for ti, t in enumerate(steps):
        for vi, v in enumerate(sweep):
            if a.iso:
                source.Isosurfaces = [v]
            else:
                GetOpacityTransferFunction(a.array).Points = tent(v, lo, hi)
            source.UpdatePipeline(t)
            view.ViewTime = t
            for thi, theta in enumerate(thetas):
                for phi_i, phi in enumerate(phis):
                    camera(view, bounds, theta, phi)
                    name = "image/t%03d_%s%03d_theta%03d_phi%03d.png" % (ti, sweep_name, vi, thi, phi_i)
                    Render(view)
                    SaveScreenshot(os.path.join(work, name), view, ImageResolution=[a.size, a.size],
                                   TransparentBackground=1, CompressionLevel="3")
                    rows.append([repr(t), repr(v), repr(theta), repr(phi), name])
    with open(os.path.join(work, "data.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", sweep_name, "theta", "phi", "FILE"])
        w.writerows(rows)
    info = {"type": "simple", "version": "1.2", "metadata": {"type": "parametric-image-stack"},
            "source": os.path.abspath(a.input), "array": a.array, "range": [lo, hi],
            "mode": "isosurface" if a.iso else "volume", "size": [a.size, a.size],
            "parameters": {"time": steps, sweep_name: sweep, "theta": thetas, "phi": phis}}
    with open(os.path.join(work, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(work, final)
    print("%s: %d images of %dx%d (%d steps x %d %s x %d theta x %d phi) in %s"
          % (a.input, len(rows), a.size, a.size, len(steps), len(sweep), sweep_name, len(thetas), len(phis), final))


if __name__ == "__main__":
    main(sys.argv[1:])
