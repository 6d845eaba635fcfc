"""Renders the reader's output and the reference decode the same way and
compares the pictures. Run under an X server (xvfb-run):
pvpython render_compare.py PLUGIN FILE REFERENCE.vti OUTDIR"""
import os
import sys

import numpy as np
from paraview.simple import (ColorBy, Contour, CreateView, LoadPlugin,
                             OpenDataFile, Render, ResetCamera, SaveScreenshot, SetActiveView, Show,
                             XMLImageDataReader)
from vtkmodules.vtkIOImage import vtkPNGReader
from vtkmodules.util.numpy_support import vtk_to_numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, ok  # noqa: E402

plugin, file_name, ref_file, outdir = sys.argv[1:5]
LoadPlugin(plugin, remote=False, ns=globals())


def picture(source, png):
    view = CreateView("RenderView")
    view.ViewSize = [640, 480]
    view.OrientationAxesVisibility = 0
    view.UseColorPaletteForBackground = 0
    view.Background = [1, 1, 1]
    view.ViewTime = 0.5  # the reference decode is at t = 0.5
    SetActiveView(view)
    source.UpdatePipeline(0.5)
    info = source.GetDataInformation().GetPointDataInformation().GetArrayInformation("pressure")
    lo, hi = info.GetComponentRange(0)
    contour = Contour(Input=source, ContourBy=["POINTS", "pressure"],
                      Isosurfaces=list(np.linspace(lo, hi, 7)[1:-1]))
    display = Show(contour, view)
    ColorBy(display, ("POINTS", "pressure"))
    display.RescaleTransferFunctionToDataRange(True)
    view.CameraPosition = [30, -40, 60]
    view.CameraFocalPoint = [0, 0, 0]
    view.CameraViewUp = [0, 0, 1]
    ResetCamera(view)
    Render(view)
    SaveScreenshot(png, view, ImageResolution=[640, 480])
    reader = vtkPNGReader()
    reader.SetFileName(png)
    reader.Update()
    image = reader.GetOutput()
    return vtk_to_numpy(image.GetPointData().GetScalars()).astype(np.int32)


plugin_png = os.path.join(outdir, "plugin.png")
ref_png = os.path.join(outdir, "reference.png")
a = picture(OpenDataFile(file_name), plugin_png)
b = picture(XMLImageDataReader(FileName=[ref_file]), ref_png)
check(a.shape == b.shape, "pictures of the same size %s" % (a.shape,))
background = np.all(a == 255, axis=1).mean()
check(background < 0.98, "the picture shows something (%.1f %% background)" % (100 * background))
differ = np.any(a != b, axis=1).mean()
# The reference .vti stores origin and spacing as float32: allow a few
# pixels along silhouettes.
check(differ < 0.002, "plugin and reference renderings agree (%.4f %% of pixels differ)" % (100 * differ))
ok("pictures: %s and %s" % (plugin_png, ref_png))
