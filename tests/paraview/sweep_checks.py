"""Checks a Cinema database written by scripts/render_sweep.py with isovalues.

Usage: pvpython sweep_checks.py DB.cdb STEPS ISOVALUES THETAS PHIS SIZE

Every parameter combination is one row and one RGBA image of SIZE x SIZE
whose alpha (the foreground mask) is neither empty nor full; the views
differ between azimuths; the lower isovalue of wind speed covers more pixels
over all views than the higher one (it encloses the faster region)."""
import csv
import json
import os
import sys

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOImage import vtkPNGReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, ok  # noqa: E402


def image(path):
    reader = vtkPNGReader()
    reader.SetFileName(path)
    reader.Update()
    data = reader.GetOutput()
    w, h, _ = data.GetDimensions()
    pixels = vtk_to_numpy(data.GetPointData().GetScalars())
    return w, h, pixels.reshape(h, w, -1)


def main(db, steps, isovalues, thetas, phis, size):
    with open(os.path.join(db, "data.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    check(list(rows[0].keys()) == ["time", "iso", "theta", "phi", "FILE"], "data.csv columns: %s" % list(rows[0]))
    want = steps * len(isovalues) * thetas * phis
    check(len(rows) == want, "%d rows, one per combination (%d)" % (len(rows), want))
    keys = {(r["time"], r["iso"], r["theta"], r["phi"]) for r in rows}
    check(len(keys) == want, "every row a distinct parameter tuple")
    check(sorted({float(r["iso"]) for r in rows}) == sorted(isovalues), "the isovalues asked for")
    info = json.load(open(os.path.join(db, "info.json")))
    check(info["mode"] == "isosurface" and info["size"] == [size, size], "info.json: mode and size")

    area = {}
    views = {}
    for r in rows:
        w, h, px = image(os.path.join(db, r["FILE"]))
        check((w, h, px.shape[2]) == (size, size, 4), "%s: %dx%d RGBA" % (r["FILE"], w, h))
        mask = px[:, :, 3] > 0
        check(0 < mask.sum() < size * size, "%s: the mask is neither empty nor full (%d px)" % (r["FILE"], mask.sum()))
        iso = float(r["iso"])
        area[iso] = area.get(iso, 0) + int(mask.sum())
        views.setdefault((r["time"], r["iso"], r["phi"]), []).append(px)
    for key, images in views.items():
        for a, b in zip(images, images[1:]):
            check(not np.array_equal(a, b), "t=%s iso=%s phi=%s: neighbouring azimuths give different images" % key)
    lo, hi = min(isovalues), max(isovalues)
    check(area[lo] > area[hi], "isovalue %g covers more pixels (%d) than %g (%d)" % (lo, area[lo], hi, area[hi]))
    ok("Cinema database %s: %d images checked" % (db, len(rows)))


if __name__ == "__main__":
    db, steps, isovalues, thetas, phis, size = sys.argv[1:7]
    main(db, int(steps), [float(v) for v in isovalues.split(",")], int(thetas), int(phis), int(size))
