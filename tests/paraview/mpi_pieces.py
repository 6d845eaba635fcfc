"""Each MPI rank decodes only its own piece. Run under
`mpiexec -n N pvbatch --symmetric mpi_pieces.py PLUGIN FILE OUTDIR DIMS TIME`:
every rank writes the extent and arrays it produced to OUTDIR/rank<r>.npz;
check_pieces.py then checks that the pieces tile the grid and equal a serial
decode."""
import os
import sys

import numpy as np
from paraview.simple import LoadPlugin, UpdatePipeline
from paraview import servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkParallelCore import vtkMultiProcessController

plugin, file_name, outdir, dims, time = sys.argv[1:6]
LoadPlugin(plugin, remote=False, ns=globals())
controller = vtkMultiProcessController.GetGlobalController()
rank, ranks = controller.GetLocalProcessId(), controller.GetNumberOfProcesses()


reader = INRReader(FileName=file_name)
reader.SamplingDimensions = [int(d) for d in dims.split(",")]
reader.UpdatePipeline(float(time))
data = reader.GetClientSideObject().GetOutputDataObject(0)
out = {"extent": np.array(data.GetExtent()), "ranks": np.array(ranks)}
for association, attributes in (("point", data.GetPointData()), ("cell", data.GetCellData())):
    for i in range(attributes.GetNumberOfArrays()):
        a = attributes.GetArray(i)
        out["%s/%s" % (association, a.GetName())] = vtk_to_numpy(a).copy()
np.savez(os.path.join(outdir, "rank%d.npz" % rank), **out)
print("rank %d of %d: extent %s, %d points" % (rank, ranks, data.GetExtent(), data.GetNumberOfPoints()), flush=True)
