"""Times the INR reader in pvbatch/pvpython: `pvbatch --symmetric plugin_decode.py PLUGIN FILE EDGE THREADS REPEAT`
(under mpiexec for several ranks). Each rank decodes its own piece of an EDGE^3 grid; rank 0 prints
`RESULT ranks=.. threads=.. seconds=..` with the best wall time, over REPEAT runs, from the request
to every rank holding its data (barriers around it)."""
import sys
import time

from paraview.simple import LoadPlugin
from vtkmodules.vtkParallelCore import vtkMultiProcessController

plugin, file_name, edge, threads, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
LoadPlugin(plugin, remote=False, ns=globals())

controller = vtkMultiProcessController.GetGlobalController()
rank, ranks = controller.GetLocalProcessId(), controller.GetNumberOfProcesses()
reader = INRReader(FileName=file_name)
reader.SamplingDimensions = [edge, edge, edge]
reader.NumberOfThreads = threads
reader.UpdatePipelineInformation()
best = float("inf")
for i in range(repeat):
    reader.SamplingDimensions = [edge, edge, edge - (i % 2)]  # a new request each time
    controller.Barrier()
    start = time.perf_counter()
    reader.UpdatePipeline()
    controller.Barrier()
    best = min(best, time.perf_counter() - start)
points = reader.GetClientSideObject().GetOutputDataObject(0).GetNumberOfPoints()
if rank == 0:
    print("RESULT ranks=%d threads=%d edge=%d seconds=%.4f rank0_points=%d" % (ranks, threads, edge, best, points), flush=True)
