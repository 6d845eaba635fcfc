"""Checks the mesh pieces written by mpi_mesh_pieces.py against a serial
decode (`inr decode`, .vtu).

Usage: pvpython check_mesh_pieces.py OUTDIR REFERENCE.vtu RANKS
The pieces of the stored mesh (LEVEL 0 in mpi_mesh_pieces.py) together hold
every cell exactly once (by vtkOriginalCellIds), each rank only part of
them, and each piece cell has the reference cell's corner points and the
same values at them."""
import glob
import os
import sys

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOXML import vtkXMLUnstructuredGridReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arrays, check, fail, ok  # noqa: E402

outdir, ref_file, ranks = sys.argv[1], sys.argv[2], int(sys.argv[3])
reader = vtkXMLUnstructuredGridReader()
reader.SetFileName(ref_file)
reader.Update()
ref = reader.GetOutput()
ref_points = vtk_to_numpy(ref.GetPoints().GetData()).astype(np.float64)
ref_offsets = vtk_to_numpy(ref.GetCells().GetOffsetsArray()).astype(np.int64)
ref_conn = vtk_to_numpy(ref.GetCells().GetConnectivityArray()).astype(np.int64)
want = arrays(ref)
n_cells = ref.GetNumberOfCells()

pieces = [dict(np.load(f)) for f in sorted(glob.glob(os.path.join(outdir, "rank*.npz")))]
check(len(pieces) == ranks, "%d mesh pieces written" % len(pieces))
count = np.zeros(n_cells, dtype=np.int64)
for r, p in enumerate(pieces):
    ids = p["cell/vtkOriginalCellIds"]
    check(int(p["ranks"]) == ranks and 0 < len(ids) < n_cells, "piece %d holds %d of %d cells" % (r, len(ids), n_cells))
    count += np.bincount(ids, minlength=n_cells)
    # Cell by cell: the same corners (coordinates) and values as the reference.
    off, conn = p["offsets"], p["connectivity"]
    for c, s in enumerate(ids):
        mine = conn[off[c]:off[c + 1]]
        theirs = ref_conn[ref_offsets[s]:ref_offsets[s + 1]]
        if not np.array_equal(p["points"][mine], ref_points[theirs]):
            fail("piece %d: cell %d (stored %d) has other corners" % (r, c, s))
        for (association, name), full in want.items():
            got = p["%s/%s" % (association, name)]
            if association == "point":
                if not np.array_equal(got[mine], full[theirs]):
                    fail("piece %d: %s at the corners of cell %d differs" % (r, name, s))
            elif not np.array_equal(got[c], full[s]):
                fail("piece %d: %s of cell %d differs" % (r, name, s))
    ok("piece %d: every cell's corners and values equal the serial decode" % r)
check(count.min() == count.max() == 1, "the pieces hold every cell exactly once")
