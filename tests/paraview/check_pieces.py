"""Checks the pieces written by mpi_pieces.py against a serial decode.

Usage: pvpython check_pieces.py OUTDIR REFERENCE.vti RANKS
The pieces must cover every cell of the grid exactly once (VTK pieces share
their boundary points), each rank must have decoded only part of the grid,
and every value must equal the serial decode at the same grid index."""
import glob
import os
import sys

import numpy as np
from vtkmodules.vtkIOXML import vtkXMLImageDataReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arrays, check, fail, ok  # noqa: E402

outdir, ref_file, ranks = sys.argv[1], sys.argv[2], int(sys.argv[3])
reader = vtkXMLImageDataReader()
reader.SetFileName(ref_file)
reader.Update()
ref = reader.GetOutput()
whole = ref.GetExtent()
dims = [whole[1] - whole[0] + 1, whole[3] - whole[2] + 1, whole[5] - whole[4] + 1]
cells = [max(d - 1, 1) for d in dims]
want = arrays(ref)

pieces = [dict(np.load(f)) for f in sorted(glob.glob(os.path.join(outdir, "rank*.npz")))]
check(len(pieces) == ranks, "%d pieces written" % len(pieces))
cover = np.zeros(cells[::-1], dtype=np.int32)
for p in pieces:
    e = [int(v) for v in p["extent"]]
    check(int(p["ranks"]) == ranks, "piece %s ran on %d ranks" % (e, ranks))
    n = [e[1] - e[0] + 1, e[3] - e[2] + 1, e[5] - e[4] + 1]
    check(n[0] * n[1] * n[2] < dims[0] * dims[1] * dims[2], "piece %s is only part of the grid" % e)
    c = [max(k - 1, 1) for k in n]
    cover[e[4]:e[4] + c[2], e[2]:e[2] + c[1], e[0]:e[0] + c[0]] += 1
    for (association, name), full in want.items():
        got = p.get("%s/%s" % (association, name))
        if got is None:
            fail("piece %s lacks %s %s" % (e, association, name))
        comps = 1 if full.ndim == 1 else full.shape[1]
        shape = (cells if association == "cell" else dims)[::-1]
        count = c if association == "cell" else n
        grid = full.reshape(*shape, comps)
        part = grid[e[4]:e[4] + count[2], e[2]:e[2] + count[1], e[0]:e[0] + count[0]]
        if not np.array_equal(part.reshape(got.shape), got):
            fail("piece %s: %s %s differs from the serial decode" % (e, association, name))
    ok("piece %s equals the serial decode" % e)
check(cover.min() == 1 and cover.max() == 1, "the pieces cover every cell exactly once")
