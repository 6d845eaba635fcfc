#!/usr/bin/env python3
"""A large irregular tetrahedral mesh carrying real values, for the MC-INR benchmarks.

Usage (the python3 of the torch venv, with gmsh from PyPI: pip install gmsh):
  python3 bench/make_cylinder.py OUT_DIR [--size 0.0125] [--steps 1 5 10 15 20]

Meshes a cylinder (radius 0.48, height 0.96, centred in the unit cube) with gmsh's Delaunay
tetrahedralizer at the given element size (0.0125 gives about 270,000 nodes), then samples steps of
the shared Viscous Fingering data (64^3 image data on [0, 1]^3 after scaling) onto the nodes by
trilinear interpolation. Writes OUT_DIR/cylinder_<step>.vtu (VTK XML, inline base64 binary: the mesh
as Float64 points, Int64 connectivity and offsets, UInt8 types; the point array `density` as Float32)
and OUT_DIR/cylinder.pvd with the steps' times (the step numbers).
"""
import argparse
import base64
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rd  # noqa: E402  (reads the shared .vti files)


def mesh_cylinder(size):
    import gmsh
    gmsh.initialize(["-v", "0"])
    gmsh.model.add("cylinder")
    gmsh.model.occ.addCylinder(0.5, 0.5, 0.02, 0.0, 0.0, 0.96, 0.48)
    gmsh.model.occ.synchronize()
    gmsh.option.setNumber("Mesh.MeshSizeMin", size)
    gmsh.option.setNumber("Mesh.MeshSizeMax", size)
    gmsh.option.setNumber("Mesh.Algorithm3D", 1)  # Delaunay
    gmsh.model.mesh.generate(3)
    tags, coords, _ = gmsh.model.mesh.getNodes()
    points = coords.reshape(-1, 3)
    index = {int(t): i for i, t in enumerate(tags)}
    types, _, nodes = gmsh.model.mesh.getElements(3)
    tets = None
    for t, n in zip(types, nodes):
        if t == 4:  # 4-node tetrahedron
            tets = np.array([index[int(v)] for v in n], dtype=np.int64).reshape(-1, 4)
    gmsh.finalize()
    # Only the nodes the tetrahedra use (gmsh keeps none other, but be sure).
    used = np.unique(tets)
    remap = np.full(points.shape[0], -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    return points[used], remap[tets]


def trilinear(volume, p):
    """volume (z, y, x) on [0, 1]^3 (point centred at the grid points), at points p (n, 3)."""
    n = np.array(volume.shape[::-1]) - 1  # x, y, z cells
    q = np.clip(p, 0.0, 1.0) * n
    i0 = np.minimum(np.floor(q).astype(np.int64), n - 1)
    f = q - i0
    out = np.zeros(p.shape[0], dtype=np.float64)
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                w = ((f[:, 0] if dx else 1 - f[:, 0]) * (f[:, 1] if dy else 1 - f[:, 1])
                     * (f[:, 2] if dz else 1 - f[:, 2]))
                out += w * volume[i0[:, 2] + dz, i0[:, 1] + dy, i0[:, 0] + dx]
    return out


def b64(array):
    raw = np.ascontiguousarray(array).tobytes()
    return base64.b64encode(struct.pack("<Q", len(raw)) + raw).decode()


def write_vtu(path, points, tets, values):
    n, c = points.shape[0], tets.shape[0]
    offsets = np.arange(1, c + 1, dtype=np.int64) * 4
    types = np.full(c, 10, dtype=np.uint8)
    text = f"""<?xml version="1.0"?>
<VTKFile type="UnstructuredGrid" version="1.0" byte_order="LittleEndian" header_type="UInt64">
<UnstructuredGrid><Piece NumberOfPoints="{n}" NumberOfCells="{c}">
<PointData><DataArray type="Float32" Name="density" format="binary">{b64(values.astype('<f4'))}</DataArray></PointData>
<Points><DataArray type="Float64" NumberOfComponents="3" format="binary">{b64(points.astype('<f8'))}</DataArray></Points>
<Cells>
<DataArray type="Int64" Name="connectivity" format="binary">{b64(tets.astype('<i8'))}</DataArray>
<DataArray type="Int64" Name="offsets" format="binary">{b64(offsets)}</DataArray>
<DataArray type="UInt8" Name="types" format="binary">{b64(types)}</DataArray>
</Cells></Piece></UnstructuredGrid></VTKFile>
"""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--size", type=float, default=0.0125, help="gmsh element size")
    ap.add_argument("--steps", type=int, nargs="+", default=[1, 5, 10, 15, 20])
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    points, tets = mesh_cylinder(args.size)
    print(f"cylinder: {points.shape[0]} nodes, {tets.shape[0]} tetrahedra", flush=True)
    entries = []
    for step in args.steps:
        src = f"{rd.DATA}/viscous_fingers/{step:03d}_density_{step:03d}_064_2.0.vti"
        (_, volume), = rd.read_vtk(src)
        values = trilinear(volume.astype(np.float64), points)
        name = f"cylinder_{step:02d}.vtu"
        write_vtu(os.path.join(args.out_dir, name), points, tets, values)
        entries.append(f'    <DataSet timestep="{step}" part="0" file="{name}"/>')
        print(f"  step {step}: density in [{values.min():.4g}, {values.max():.4g}]", flush=True)
    pvd = ('<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">\n'
           "  <Collection>\n" + "\n".join(entries) + "\n  </Collection>\n</VTKFile>\n")
    with open(os.path.join(args.out_dir, "cylinder.pvd"), "w") as f:
        f.write(pvd)


if __name__ == "__main__":
    main()
