"""Renders a scalar array of a .vti file with ParaView: volume rendering plus
an outline, written to a PNG. Usage: pvpython render_vti.py IN.vti ARRAY OUT.png"""
import sys

from paraview.simple import (ColorBy, GetActiveViewOrCreate, GetColorTransferFunction,
                             GetOpacityTransferFunction, GetScalarBar, OpenDataFile, ResetCamera,
                             SaveScreenshot, Show, Outline)


def main(path, array, png):
    reader = OpenDataFile(path)
    if reader is None:
        raise SystemExit(f"ParaView cannot open {path}")
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
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
