"""Each MPI rank decodes only its share of a mesh's cells. Run under
`mpiexec -n N pvbatch --symmetric mpi_mesh_pieces.py PLUGIN FILE OUTDIR LEVEL`:
every rank writes the cells, points and arrays it produced (refined LEVEL
times when LEVEL > 0) to OUTDIR/rank<r>.npz; check_mesh_pieces.py then checks
them against a serial decode."""
import os
import sys

import numpy as np
from paraview.simple import LoadPlugin
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkParallelCore import vtkMultiProcessController

plugin, file_name, outdir, level = sys.argv[1:5]
LoadPlugin(plugin, remote=False, ns=globals())
controller = vtkMultiProcessController.GetGlobalController()
rank, ranks = controller.GetLocalProcessId(), controller.GetNumberOfProcesses()

reader = INRReader(FileName=file_name)
if int(level) > 0:
    reader.OutputMode = "Refined Mesh"
    reader.RefinementLevel = int(level)
reader.UpdatePipeline()
data = reader.GetClientSideObject().GetOutputDataObject(0)
cells = data.GetCells()
out = {
    "ranks": np.array(ranks),
    "points": vtk_to_numpy(data.GetPoints().GetData()).astype(np.float64),
    "offsets": vtk_to_numpy(cells.GetOffsetsArray()).astype(np.int64),
    "connectivity": vtk_to_numpy(cells.GetConnectivityArray()).astype(np.int64),
}
for association, attributes in (("point", data.GetPointData()), ("cell", data.GetCellData())):
    for i in range(attributes.GetNumberOfArrays()):
        a = attributes.GetArray(i)
        out["%s/%s" % (association, a.GetName())] = vtk_to_numpy(a).copy()
np.savez(os.path.join(outdir, "rank%d.npz" % rank), **out)
print("rank %d of %d: %d points, %d cells" % (rank, ranks, data.GetNumberOfPoints(), data.GetNumberOfCells()), flush=True)
