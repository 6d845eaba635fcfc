"""Renders a scalar point array of a data set with ParaView: volume rendering
plus an outline, written to a PNG.

Usage: pvpython render.py IN ARRAY OUT.png [PLUGIN X,Y,Z]
IN is anything ParaView opens; with PLUGIN (the INR reader's .so), IN may be
an .inr file, decoded by the plugin onto X x Y x Z points."""
import sys

from paraview.simple import (ColorBy, GetActiveViewOrCreate, GetColorTransferFunction,
                             GetOpacityTransferFunction, GetScalarBar, LoadPlugin, OpenDataFile,
                             ResetCamera, SaveScreenshot, Show, Outline)


def main(path, array, png, plugin=None, dims=None):
    if plugin:
        LoadPlugin(plugin, remote=False, ns=globals())
    reader = OpenDataFile(path)
    if reader is None:
        raise SystemExit(f"ParaView cannot open {path}")
    if dims:
        reader.SamplingDimensions = [int(d) for d in dims.split(",")]
    reader.UpdatePipeline()
    lo, hi = reader.PointData[array].GetRange()
    view = GetActiveViewOrCreate("RenderView")
    view.ViewSize = [900, 700]
    view.UseColorPaletteForBackground = 0
    view.Background = [1, 1, 1]
    view.OrientationAxesVisibility = 0
    display = Show(reader, view)
    display.SetRepresentationType("Volume")
    ColorBy(display, ("POINTS", array))
    lut = GetColorTransferFunction(array)
    lut.ApplyPreset("Cool to Warm", True)
    lut.RescaleTransferFunction(lo, hi)
    GetOpacityTransferFunction(array).RescaleTransferFunction(lo, hi)
    display.SetScalarBarVisibility(view, True)
    bar = GetScalarBar(lut, view)
    bar.TitleColor = [0, 0, 0]  # dark text on the white background
    bar.LabelColor = [0, 0, 0]
    outline = Show(Outline(Input=reader), view)
    outline.DiffuseColor = [0.2, 0.2, 0.2]
    view.CameraPosition = [1, -1.5, 1]
    view.CameraViewUp = [0, 0, 1]
    ResetCamera(view)
    SaveScreenshot(png, view, ImageResolution=[900, 700])
    print(f"{path}: {array} in [{lo:.6g}, {hi:.6g}] rendered to {png}")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 6):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
