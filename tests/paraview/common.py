"""Helpers for the ParaView plugin tests (run by pvpython / pvbatch).

Each test script takes the plugin, the inr binary and a work directory on its
command line, checks real outcomes (values, extents, ranges, messages) and
exits non-zero on the first failure."""
import json
import os
import subprocess
import sys

import numpy as np
from paraview.simple import LoadPlugin
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkOutputWindow, vtkStringOutputWindow

CHECKED = []


def ok(what):
    CHECKED.append(what)
    print("ok: " + what, flush=True)


def fail(what):
    print("FAILED: " + what, flush=True)
    sys.exit(1)


def check(condition, what):
    if condition:
        ok(what)
    else:
        fail(what)


def load_plugin(path, namespace):
    """Loads the plugin; its proxies (INRReader) land in `namespace`."""
    LoadPlugin(path, remote=False, ns=namespace)


def inr(binary, *args):
    """Runs the inr command line; returns its stdout."""
    result = subprocess.run([binary, *args], capture_output=True, text=True)
    if result.returncode != 0:
        fail("inr %s: %s" % (" ".join(args), result.stderr.strip()))
    return result.stdout


def info(binary, path):
    return json.loads(inr(binary, "info", "--json", path))


class References:
    """`inr decode` outputs read back as image data: the reference the reader's
    output is compared with. Files are numbered under `work`; remove() deletes them."""

    def __init__(self, binary, work, prefix):
        self.binary, self.work, self.prefix, self.files = binary, work, prefix, []

    def __call__(self, file_name, *decode_args):
        from vtkmodules.vtkIOXML import vtkXMLImageDataReader

        out = os.path.join(self.work, "%s-ref-%d.vti" % (self.prefix, len(self.files)))
        self.files.append(out)
        inr(self.binary, "decode", file_name, "-o", out, *decode_args)
        reader = vtkXMLImageDataReader()
        reader.SetFileName(out)
        reader.Update()
        return reader.GetOutput()

    def remove(self):
        for name in self.files:
            os.remove(name)


def fetch(proxy):
    """A copy of the proxy's output (pvpython's built-in session: the
    algorithm runs in this process). Not servermanager.Fetch: in ParaView
    5.11 it returns rectilinear grids with one coordinate per point."""
    data = proxy.GetClientSideObject().GetOutputDataObject(0)
    if data is None:
        return None
    copy = data.NewInstance()
    copy.DeepCopy(data)
    return copy


def arrays(data):
    """{(association, name): numpy array} of a dataset's point and cell data."""
    out = {}
    for association, attributes in (("point", data.GetPointData()), ("cell", data.GetCellData())):
        for i in range(attributes.GetNumberOfArrays()):
            a = attributes.GetArray(i)
            out[(association, a.GetName())] = vtk_to_numpy(a).copy()
    return out


def same_arrays(got, want, what):
    """Names, shapes and every value bit for bit."""
    check(sorted(got) == sorted(want), "%s: arrays %s" % (what, sorted(got)))
    for key in want:
        g, w = got[key], want[key]
        if g.shape != w.shape or g.dtype != w.dtype or not np.array_equal(g, w):
            diff = np.max(np.abs(g.astype(np.float64) - w.astype(np.float64))) if g.shape == w.shape else None
            fail("%s: %s differs (shape %s vs %s, max diff %s)" % (what, key, g.shape, w.shape, diff))
    ok("%s: %d arrays equal value for value" % (what, len(want)))


class CapturedErrors:
    """Collects what VTK prints to its output window (errors, warnings)."""

    def __enter__(self):
        self.window = vtkStringOutputWindow()
        self.previous = vtkOutputWindow.GetInstance()
        vtkOutputWindow.SetInstance(self.window)
        return self

    def text(self):
        return self.window.GetOutput()

    def __exit__(self, *exc):
        vtkOutputWindow.SetInstance(self.previous)
        return False
