"""Error-bounded files end to end: at every stored site, every variable,
component and stored time step, the decoded value is within the file's
bound of the original data, read with VTK's own readers from the shared
data sets; through the C API (libinr.so by ctypes) and through the ParaView
reader, whole and in pieces.

Usage: pvpython bound_tests.py PLUGIN INR_BINARY WORKDIR LIBINR DATA_DIR
WORKDIR holds the eb-*.inr fixtures made by scripts/test-plugin.sh (see
FIXTURES: the source data and the bound each was encoded with) and
disk-cells.vtu (the shared disk mesh with cell arrays, which no shared mesh
has); DATA_DIR is the shared data (../shared/data).

Per fixture, through the C API: the bound of each variable is what was asked
(--max-error, or --max-rel-error times the variable's range over its
components and steps); the native grid (inr_decode_grid, dims NULL) or the
stored mesh (inr_decode_nodes) at every stored time meets it; the network
alone (inr_query_points at the same sites, which applies no corrections)
misses it somewhere, so the check is not vacuous; between two stored steps
the grid decode is the network's; a variable subset in another order and
pieces (sub-extents of a grid, mesh views of pieces of the cells, a refined
view's stored points) equal the whole decode at the same sites. Through the
ParaView reader: every time step at native resolution meets the bound, as
do sub-extents of grids and pieces of meshes (at the same values as the C
API, bit for bit)."""
import ctypes
import math
import os
import sys
import time
import xml.etree.ElementTree as ElementTree

import numpy as np
from paraview.simple import Delete, OpenDataFile
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOXML import (vtkXMLImageDataReader, vtkXMLRectilinearGridReader,
                                 vtkXMLUnstructuredGridReader)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CHECKED, arrays, check, fail, fetch, info, load_plugin, ok  # noqa: E402

PLUGIN, INR, WORK, LIBINR, DATA = sys.argv[1:6]

# name: (source under DATA, time steps used (None: all), family, bound asked: ("rel"|"abs", value)).
# Keep in step with the eb-*.inr encodes in scripts/test-plugin.sh.
FIXTURES = {
    "eb-isabel.inr": ("isabel/isabel.pvd", None, "residual_siren", ("rel", 1e-2)),
    "eb-isabel-loose.inr": ("isabel/isabel.pvd", None, "residual_siren", ("abs", 15.0)),
    "eb-vf.inr": ("viscous_fingers/viscous_fingers.pvd", 3, "residual_siren", ("rel", 1e-2)),
    "eb-vf-ecnr.inr": ("viscous_fingers/viscous_fingers.pvd", 3, "ecnr", ("rel", 1e-2)),
    "eb-vf-stsr.inr": ("viscous_fingers/viscous_fingers.pvd", 3, "stsr_inr", ("rel", 1e-2)),
    "eb-cth.inr": ("cth/cth.vtr", None, "residual_siren", ("rel", 1e-3)),
    "eb-disk.inr": ("disk_out_ref/disk_out_ref_tets.vtu", None, "residual_siren", ("rel", 1e-2)),
    "eb-disk-mc.inr": ("disk_out_ref/disk_out_ref_tets.vtu", None, "mc_inr", ("rel", 1e-2)),
    # The same mesh with cell data (each cell the mean of its nodes), made by scripts/test-plugin.sh.
    "eb-disk-cells.inr": (os.path.join(WORK, "disk-cells.vtu"), None, "residual_siren", ("rel", 1e-2)),
    "eb-mug.inr": ("mug/mug.pvd", 3, "residual_siren", ("abs", 0.25)),
}
IMAGE, RECTILINEAR, UNSTRUCTURED = 0, 1, 2
POINT, CELL = 0, 1
NAN = float("nan")


def path(name):
    return os.path.join(WORK, name)


# --- the original data, read with VTK's readers ------------------------------------
def read_xml(file_name):
    reader = {".vti": vtkXMLImageDataReader, ".vtr": vtkXMLRectilinearGridReader,
              ".vtu": vtkXMLUnstructuredGridReader}[os.path.splitext(file_name)[1]]()
    reader.SetFileName(file_name)
    reader.Update()
    if reader.GetErrorCode() != 0 or reader.GetOutput().GetNumberOfPoints() == 0:
        fail("cannot read %s" % file_name)
    return reader.GetOutput()


def values_of(data):
    """{name: (association, float64 array of tuples x components)}."""
    out = {}
    for association, attributes in ((POINT, data.GetPointData()), (CELL, data.GetCellData())):
        for i in range(attributes.GetNumberOfArrays()):
            a = vtk_to_numpy(attributes.GetArray(i)).astype(np.float64)
            out[attributes.GetArrayName(i)] = (association, a.reshape(a.shape[0], -1))
    return out


def read_source(relative, steps):
    """(times (None for one data set), [data set per step]) of a shared file."""
    file_name = os.path.join(DATA, relative)
    if not file_name.endswith(".pvd"):
        return None, [read_xml(file_name)]
    entries = [(float(d.get("timestep")), d.get("file")) for d in ElementTree.parse(file_name).iter("DataSet")]
    entries = entries[:steps] if steps else entries
    folder = os.path.dirname(file_name)
    return [t for t, _ in entries], [read_xml(os.path.join(folder, f)) for _, f in entries]


# --- libinr through ctypes -----------------------------------------------------------
lib = ctypes.CDLL(LIBINR)
P = ctypes.POINTER
c_size, c_u64, c_i64, c_dbl = ctypes.c_size_t, ctypes.c_uint64, ctypes.c_int64, ctypes.c_double
SIGNATURES = {
    "inr_open": [ctypes.c_char_p, P(ctypes.c_void_p)],
    "inr_domain_kind": [ctypes.c_void_p, P(ctypes.c_int)],
    "inr_model_family": [ctypes.c_void_p, P(ctypes.c_char_p)],
    "inr_variable_count": [ctypes.c_void_p, P(c_size)],
    "inr_variable_name": [ctypes.c_void_p, c_size, P(ctypes.c_char_p)],
    "inr_variable_components": [ctypes.c_void_p, c_size, P(ctypes.c_uint32)],
    "inr_variable_association": [ctypes.c_void_p, c_size, P(ctypes.c_int)],
    "inr_error_bound": [ctypes.c_void_p, c_size, ctypes.c_uint32, P(c_dbl)],
    "inr_time_step_count": [ctypes.c_void_p, P(c_size)],
    "inr_time_values": [ctypes.c_void_p, P(c_dbl), c_size],
    "inr_native_dims": [ctypes.c_void_p, P(c_u64)],
    "inr_image_geometry": [ctypes.c_void_p, P(c_dbl), P(c_dbl)],
    "inr_grid_coordinates": [ctypes.c_void_p, ctypes.c_uint32, P(c_dbl), c_size, P(c_size)],
    "inr_grid_value_count": [ctypes.c_void_p, P(c_u64), P(c_i64), c_size, P(c_size)],
    "inr_decode_grid": [ctypes.c_void_p, P(c_u64), P(c_i64), P(c_size), c_size, c_dbl,
                        P(P(ctypes.c_float)), P(c_size), ctypes.c_void_p],
    "inr_query_points": [ctypes.c_void_p, P(c_dbl), c_size, P(c_dbl), c_dbl, P(c_size), c_size,
                         P(ctypes.c_float), c_size, ctypes.c_void_p],
    "inr_mesh_sizes": [ctypes.c_void_p, P(c_u64), P(c_u64), P(c_u64)],
    "inr_mesh_points": [ctypes.c_void_p, P(c_dbl), c_size],
    "inr_mesh_cells": [ctypes.c_void_p, P(c_i64), c_size, P(c_i64), c_size, P(ctypes.c_uint8), c_size],
    "inr_node_value_count": [ctypes.c_void_p, c_size, P(c_size)],
    "inr_decode_nodes": [ctypes.c_void_p, P(c_size), c_size, c_dbl, P(P(ctypes.c_float)), P(c_size),
                         ctypes.c_void_p],
    "inr_mesh_view_new": [ctypes.c_void_p, ctypes.c_uint32, c_u64, c_u64, P(ctypes.c_void_p)],
    "inr_mesh_view_sizes": [ctypes.c_void_p, P(c_u64), P(c_u64), P(c_u64)],
    "inr_mesh_view_sources": [ctypes.c_void_p, P(c_i64), c_size, P(c_i64), c_size],
    "inr_mesh_view_points": [ctypes.c_void_p, P(c_dbl), c_size],
    "inr_mesh_view_cells": [ctypes.c_void_p, P(c_i64), c_size, P(c_i64), c_size, P(ctypes.c_uint8), c_size],
    "inr_mesh_view_value_count": [ctypes.c_void_p, ctypes.c_void_p, c_size, P(c_size)],
    "inr_decode_mesh_view": [ctypes.c_void_p, ctypes.c_void_p, P(c_size), c_size, c_dbl,
                             P(P(ctypes.c_float)), P(c_size), ctypes.c_void_p],
}
for _name, _args in SIGNATURES.items():
    getattr(lib, _name).argtypes = _args
    getattr(lib, _name).restype = ctypes.c_int
lib.inr_mesh_view_free.argtypes, lib.inr_mesh_view_free.restype = [ctypes.c_void_p], None
lib.inr_close.argtypes, lib.inr_close.restype = [ctypes.c_void_p], None
lib.inr_last_error_message.restype = ctypes.c_char_p
lib.inr_status_name.argtypes, lib.inr_status_name.restype = [ctypes.c_int32], ctypes.c_char_p
lib.inr_abi_version.restype = ctypes.c_uint32


def call(name, *args):
    status = getattr(lib, name)(*args)
    if status != 0:
        fail("%s: %s: %s" % (name, lib.inr_status_name(status).decode(), lib.inr_last_error_message().decode()))


def ptr(a, ctype):
    return a.ctypes.data_as(P(ctype))


def out_buffers(counts):
    """Float buffers of these lengths, and the pointer and length arrays of the decode calls."""
    bufs = [np.zeros(n, dtype=np.float32) for n in counts]
    outputs = (P(ctypes.c_float) * len(bufs))(*[ptr(b, ctypes.c_float) for b in bufs])
    lens = (c_size * len(bufs))(*counts)
    return bufs, outputs, lens


def optional(values, ctype):
    return None if values is None else (ctype * len(values))(*values)


def centroids(points, offsets, connectivity):
    """The mean of each cell's points."""
    counts = np.diff(offsets)
    sums = np.zeros((counts.size, 3))
    np.add.at(sums, np.repeat(np.arange(counts.size), counts), points[connectivity])
    return sums / counts[:, None]


class Model:
    """An open .inr file through the C API."""

    def __init__(self, file_name):
        handle = ctypes.c_void_p()
        call("inr_open", file_name.encode(), ctypes.byref(handle))
        self.handle = handle
        self.kind = self.get("inr_domain_kind", ctypes.c_int)
        self.family = self.get("inr_model_family", ctypes.c_char_p).decode()
        n = self.get("inr_variable_count", c_size)
        self.names = [self.get("inr_variable_name", ctypes.c_char_p, v).decode() for v in range(n)]
        self.components = [self.get("inr_variable_components", ctypes.c_uint32, v) for v in range(n)]
        self.associations = [self.get("inr_variable_association", ctypes.c_int, v) for v in range(n)]
        self.bounds = [np.array([self.get("inr_error_bound", c_dbl, v, c) for c in range(self.components[v])])
                       for v in range(n)]
        steps = self.get("inr_time_step_count", c_size)
        self.times = None
        if steps:
            t = np.zeros(steps)
            call("inr_time_values", handle, ptr(t, c_dbl), steps)
            self.times = [float(x) for x in t]
        if self.kind == UNSTRUCTURED:
            p, c, k = c_u64(), c_u64(), c_u64()
            call("inr_mesh_sizes", handle, ctypes.byref(p), ctypes.byref(c), ctypes.byref(k))
            self.points = np.zeros(3 * p.value)
            call("inr_mesh_points", handle, ptr(self.points, c_dbl), self.points.size)
            self.points = self.points.reshape(-1, 3)
            self.offsets, self.connectivity = np.zeros(c.value + 1, np.int64), np.zeros(k.value, np.int64)
            types = np.zeros(c.value, np.uint8)
            call("inr_mesh_cells", handle, ptr(self.offsets, c_i64), self.offsets.size,
                 ptr(self.connectivity, c_i64), self.connectivity.size, ptr(types, ctypes.c_uint8), types.size)
        else:
            dims = (c_u64 * 3)()
            call("inr_native_dims", handle, dims)
            self.dims = [int(d) for d in dims]

    def get(self, name, ctype, *args):
        out = ctype()
        call(name, self.handle, *args, ctypes.byref(out))
        return out.value

    def close(self):
        lib.inr_close(self.handle)

    def shape(self, flat, v):
        return flat.reshape(-1, self.components[v])

    def decode_grid(self, time, variables=None, extent=None, dims=None):
        """Per variable of `variables` (None: all), its tuples x components on the grid `dims` (None:
        native), in `extent` (None: whole)."""
        order = list(range(len(self.names))) if variables is None else variables
        d, e = optional(dims, c_u64), optional(extent, c_i64)
        counts = [self.get("inr_grid_value_count", c_size, d, e, v) for v in order]
        bufs, outputs, lens = out_buffers(counts)
        # variables None: n_variables 0, which means all of them.
        call("inr_decode_grid", self.handle, d, e, optional(variables, c_size),
             0 if variables is None else len(variables), time, outputs, lens, None)
        return [self.shape(b, v) for v, b in zip(order, bufs)]

    def decode_nodes(self, time, variables=None):
        """Per variable of `variables` (None: all), its values at the stored mesh."""
        order = list(range(len(self.names))) if variables is None else variables
        counts = [self.get("inr_node_value_count", c_size, v) for v in order]
        bufs, outputs, lens = out_buffers(counts)
        call("inr_decode_nodes", self.handle, optional(variables, c_size),
             0 if variables is None else len(variables), time, outputs, lens, None)
        return [self.shape(b, v) for v, b in zip(order, bufs)]

    def decode_view(self, time, level, piece, pieces):
        """(point sources, cell sources, {variable: values}, cell centroids) of a mesh view."""
        view = ctypes.c_void_p()
        call("inr_mesh_view_new", self.handle, level, piece, pieces, ctypes.byref(view))
        try:
            p, c, k = c_u64(), c_u64(), c_u64()
            call("inr_mesh_view_sizes", view, ctypes.byref(p), ctypes.byref(c), ctypes.byref(k))
            point_sources, cell_sources = np.zeros(p.value, np.int64), np.zeros(c.value, np.int64)
            call("inr_mesh_view_sources", view, ptr(point_sources, c_i64), p.value,
                 ptr(cell_sources, c_i64), c.value)
            points = np.zeros((p.value, 3))
            offsets, connectivity, types = np.zeros(c.value + 1, np.int64), np.zeros(k.value, np.int64), \
                np.zeros(c.value, np.uint8)
            call("inr_mesh_view_points", view, ptr(points, c_dbl), points.size)
            call("inr_mesh_view_cells", view, ptr(offsets, c_i64), offsets.size, ptr(connectivity, c_i64),
                 connectivity.size, ptr(types, ctypes.c_uint8), types.size)
            order = list(range(len(self.names)))
            counts = [self.get("inr_mesh_view_value_count", c_size, view, v) for v in order]
            bufs, outputs, lens = out_buffers(counts)
            call("inr_decode_mesh_view", self.handle, view, None, 0, time, outputs, lens, None)
            values = [self.shape(b, v) for v, b in zip(order, bufs)]
            return point_sources, cell_sources, values, centroids(points, offsets, connectivity)
        finally:
            lib.inr_mesh_view_free(view)

    def decode_stored(self, time, variables=None):
        """Every variable at its stored sites (native grid or stored mesh)."""
        if self.kind == UNSTRUCTURED:
            return self.decode_nodes(time, variables)
        return self.decode_grid(time, variables)

    def sites(self, association):
        """Coordinates (n x 3, x fastest on grids) of the stored sites of an association."""
        if self.kind == UNSTRUCTURED:
            return self.points if association == POINT else centroids(self.points, self.offsets, self.connectivity)
        if self.kind == IMAGE:
            origin, spacing = np.zeros(3), np.zeros(3)
            call("inr_image_geometry", self.handle, ptr(origin, c_dbl), ptr(spacing, c_dbl))
            axes = [origin[a] + spacing[a] * np.arange(self.dims[a]) for a in range(3)]
        else:
            axes = []
            for a in range(3):
                coords = np.zeros(self.dims[a])
                count = c_size()
                call("inr_grid_coordinates", self.handle, a, ptr(coords, c_dbl), coords.size, ctypes.byref(count))
                axes.append(coords)
        if association == CELL:
            axes = [0.5 * (x[:-1] + x[1:]) if x.size > 1 else x for x in axes]
        z, y, x = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
        return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)

    def query(self, xyz, time, v):
        """The network alone (no corrections) for variable v at points xyz."""
        xyz = np.ascontiguousarray(xyz, dtype=np.float64)
        n, comps = xyz.shape[0], self.components[v]
        out = np.zeros(n * comps, dtype=np.float32)
        variables = (c_size * 1)(v)
        call("inr_query_points", self.handle, ptr(xyz, c_dbl), n, None, time, variables, 1,
             ptr(out, ctypes.c_float), out.size, None)
        return out.reshape(n, comps)


# --- the bound --------------------------------------------------------------------
def errors(got, want):
    """Largest absolute error per component."""
    if got.shape != want.shape:
        fail("shapes differ: %s decoded, %s stored" % (got.shape, want.shape))
    return np.abs(got.astype(np.float64) - want).max(axis=0)


def within(got, want, bound, what):
    """Asserts |got - want| <= bound at every site and component; returns the largest error / bound."""
    err = errors(got, want)
    if np.any(err > bound) or not np.all(np.isfinite(got)):
        diff = np.abs(got.astype(np.float64) - want)
        site, comp = np.unravel_index(int(np.argmax(diff - bound)), diff.shape)
        fail("%s: error %.9g > bound %.9g at site %d component %d (decoded %.9g, stored %.9g)"
             % (what, diff[site, comp], bound[comp], site, comp, got[site, comp], want[site, comp]))
    return float(np.max(err / bound))


def expected_bounds(asked, truth, names):
    """The bound each variable must have: --max-error, or --max-rel-error times the range of
    the variable's original values over its components and steps."""
    kind, value = asked
    if kind == "abs":
        return {name: value for name in names}
    return {name: value * (max(step[name][1].max() for step in truth) - min(step[name][1].min() for step in truth))
            for name in names}


def region(values, dims, extent, cells):
    """The tuples of a grid's `values` (x fastest) inside a point `extent`: its points, or the cells
    between them (none when the extent is one point thick along an axis that has cells)."""
    d = [max(n - 1, 1) for n in dims] if cells else list(dims)
    box = []
    for a in range(3):
        lo, hi = extent[2 * a], extent[2 * a + 1]
        if cells and dims[a] > 1:
            if hi == lo:
                return values[:0]
            hi -= 1
        box.append((lo, hi))
    block = values.reshape(d[2], d[1], d[0], -1)[box[2][0]:box[2][1] + 1, box[1][0]:box[1][1] + 1,
                                                 box[0][0]:box[0][1] + 1]
    return block.reshape(-1, values.shape[1])


# --- every fixture through the C API -----------------------------------------------
started = time.time()
abi = lib.inr_abi_version()
check(abi >> 16 == 1 and abi & 0xFFFF >= 5, "libinr ABI %d.%d has inr_error_bound" % (abi >> 16, abi & 0xFFFF))
sources = {}
for name, (relative, steps, family, asked) in FIXTURES.items():
    times, data_sets = read_source(relative, steps)
    truth = [values_of(d) for d in data_sets]
    sources[name] = (times, data_sets, truth)
    m = Model(path(name))
    check(m.family == family, "%s: a %s model" % (name, family))
    check(m.times == times, "%s: time steps %s, those of %s" % (name, times, relative))
    for v, var in enumerate(m.names):
        if var not in truth[0] or truth[0][var][0] != m.associations[v] or truth[0][var][1].shape[1] != m.components[v]:
            fail("%s: %s is not a %s array of %s" % (name, var, ("point", "cell")[m.associations[v]], relative))
    if m.kind == UNSTRUCTURED:
        want_points = vtk_to_numpy(data_sets[0].GetPoints().GetData()).astype(np.float64)
        check(np.array_equal(m.points, want_points), "%s: the stored mesh is that of %s" % (name, relative))
    else:
        check(m.dims == list(data_sets[0].GetDimensions()), "%s: native dims %s" % (name, m.dims))

    # The bound: positive, per component, and what the encode asked for.
    want_bounds = expected_bounds(asked, truth, m.names)
    for v, var in enumerate(m.names):
        b = m.bounds[v]
        if not (np.all(b > 0) and np.all(b == b[0])):
            fail("%s: %s bounds %s" % (name, var, b))
        if not math.isclose(b[0], want_bounds[var], rel_tol=1e-6):
            fail("%s: %s bound %.9g, asked %.9g (%s %g)" % (name, var, b[0], want_bounds[var], asked[0], asked[1]))
    ok("%s: bounds %s, as asked (%s %g)" % (name, ", ".join("%s %.4g" % (n, b[0]) for n, b in zip(m.names, m.bounds)),
                                             {"rel": "--max-rel-error", "abs": "--max-error"}[asked[0]], asked[1]))

    # At every stored time: the decode meets the bound at every stored site; the network alone does not.
    worst, network_misses, network_sites = 0.0, 0, 0
    wholes = []
    for step, t in enumerate(times or [NAN]):
        whole = m.decode_stored(t)
        wholes.append(whole)
        for v, var in enumerate(m.names):
            want = truth[step][var][1]
            what = "%s: %s at t=%g" % (name, var, t)
            worst = max(worst, within(whole[v], want, m.bounds[v], what))
            network = m.query(m.sites(m.associations[v]), t, v)
            miss = np.abs(network.astype(np.float64) - want) > m.bounds[v]
            network_misses += int(miss.sum())
            network_sites += miss.size
            # Where the network misses, the decode is not the network's: corrected.
            if np.any(whole[v][miss] == network[miss]):
                fail("%s: the decode equals the network at a site the network misses" % what)
    ok("%s: every variable within its bound at every stored site and step (%d steps; largest error %.3f of the bound)"
       % (name, len(times or [NAN]), worst))
    check(network_misses > 0, "%s: not vacuous: the network alone misses the bound at %d of %d values (%.1f %%)"
          % (name, network_misses, network_sites, 100.0 * network_misses / network_sites))

    # A variable subset in another order (and one variable twice): the same values.
    last = len(wholes) - 1
    t_last = times[-1] if times else NAN
    order = list(reversed(range(len(m.names)))) + [0]
    subset = m.decode_stored(t_last, order)
    for v, values in zip(order, subset):
        if not np.array_equal(values, wholes[last][v]):
            fail("%s: %s decoded in a subset differs" % (name, m.names[v]))
    ok("%s: variables in the order %s decode the same corrected values" % (name, order))

    # No time (NaN) is the first step, corrected; a grid's native dims given explicitly are the native grid.
    if times:
        first = m.decode_stored(NAN)
        if not all(np.array_equal(a, b) for a, b in zip(first, wholes[0])):
            fail("%s: the decode at time NaN is not the first step's" % name)
        ok("%s: time NaN decodes the first step, corrected" % name)
    if m.kind != UNSTRUCTURED:
        explicit = m.decode_grid(t_last, dims=m.dims)
        if not all(np.array_equal(a, b) for a, b in zip(explicit, wholes[last])):
            fail("%s: the grid of dims %s is not decoded as the native grid" % (name, m.dims))
        ok("%s: dims %s given explicitly decode the corrected native grid" % (name, m.dims))

    # Between two stored steps: the network's value, without corrections.
    if times and len(times) > 1:
        t_mid = 0.5 * (times[0] + times[1])
        mid = m.decode_stored(t_mid)
        largest = 0.0
        for v, var in enumerate(m.names):
            network = m.query(m.sites(m.associations[v]), t_mid, v)
            diff = float(np.max(np.abs(mid[v].astype(np.float64) - network)))
            largest = max(largest, diff / m.bounds[v].min())
            if diff > 0.05 * m.bounds[v].min():
                fail("%s: %s at t=%g differs from the network by %.3g (bound %.3g): corrected between steps?"
                     % (name, var, t_mid, diff, m.bounds[v].min()))
        ok("%s: between steps (t=%g) the decode is the network's (within %.2g of the bound)" % (name, t_mid, largest))

    # Pieces equal the whole decode at the same sites (so they meet the bound too).
    if m.kind == UNSTRUCTURED:
        n_cells = m.offsets.size - 1
        for piece in range(3):
            for t_step, whole in ((0, wholes[0]), (last, wholes[last])):
                t = (times or [NAN])[t_step]
                point_sources, cell_sources, got, _ = m.decode_view(t, 0, piece, 3)
                lo, hi = n_cells * piece // 3, n_cells * (piece + 1) // 3
                want_ids = np.unique(m.connectivity[m.offsets[lo]:m.offsets[hi]])
                if not (np.array_equal(point_sources, want_ids) and np.array_equal(cell_sources, np.arange(lo, hi))):
                    fail("%s: piece %d of 3: unexpected sources" % (name, piece))
                for v, var in enumerate(m.names):
                    ids = point_sources if m.associations[v] == POINT else cell_sources
                    if not np.array_equal(got[v], whole[v][ids]):
                        fail("%s: piece %d of 3: %s differs from the whole mesh at t=%g" % (name, piece, var, t))
                    within(got[v], truth[t_step][var][1][ids], m.bounds[v], "%s piece %d" % (name, piece))
        ok("%s: 3 pieces of the cells (first and last step) equal the whole mesh at their nodes, within the bound"
           % name)
        point_sources, cell_sources, got, cell_centers = m.decode_view(t_last, 1, 1, 2)
        stored = point_sources >= 0
        check(0 < stored.sum() < point_sources.size, "%s: a refined piece: %d stored and %d new points"
              % (name, stored.sum(), point_sources.size - stored.sum()))
        for v, var in enumerate(m.names):
            if m.associations[v] == POINT:
                ids = point_sources[stored]
                if not np.array_equal(got[v][stored], wholes[last][v][ids]):
                    fail("%s: refined piece: %s at the stored points differs from the whole mesh" % (name, var))
                within(got[v][stored], truth[last][var][1][ids], m.bounds[v], "%s refined piece" % name)
            else:
                # Refined cells are not stored cells: the network's values at their centroids.
                diff = float(np.max(np.abs(got[v].astype(np.float64) - m.query(cell_centers, t_last, v))))
                if diff > 0.05 * m.bounds[v].min():
                    fail("%s: refined piece: %s differs from the network by %.3g: corrected?" % (name, var, diff))
        cells = [var for v, var in enumerate(m.names) if m.associations[v] == CELL]
        ok("%s: a refined piece keeps the corrected values at its stored points%s" % (
            name, ", its cells (%s) are the network's" % ", ".join(cells) if cells else ""))
    else:
        nx, ny, nz = m.dims
        extents = [[0, nx - 1, 0, ny - 1, 0, nz // 2], [0, nx - 1, 0, ny - 1, nz // 2, nz - 1],
                   [3, nx - 5, 1, ny // 2, 2, nz - 3], [nx - 2, nx - 1, 0, 0, 0, nz - 1]]
        for extent in extents:
            got = m.decode_grid(t_last, extent=extent)
            for v, var in enumerate(m.names):
                cells = m.associations[v] == CELL
                if not np.array_equal(got[v], region(wholes[last][v], m.dims, extent, cells)):
                    fail("%s: extent %s: %s differs from the whole grid" % (name, extent, var))
                if got[v].size:
                    within(got[v], region(truth[last][var][1], m.dims, extent, cells), m.bounds[v],
                           "%s extent %s" % (name, extent))
        ok("%s: %d sub-extents equal the whole grid there, within the bound" % (name, len(extents)))
    sources[name] += (wholes,)
    m.close()
print("C API: %.1f s" % (time.time() - started), flush=True)


# --- every fixture through the ParaView reader ---------------------------------------
started = time.time()
load_plugin(PLUGIN, globals())


def reader_within(data, name, step, what, cell_ids=None, point_ids=None, extent=None, whole=None):
    """The reader's arrays against the original at the same sites (and, given the C API's whole
    decode, bit for bit equal to it): a piece's sites are `cell_ids`/`point_ids` of a mesh, or
    `extent` of a grid."""
    times, data_sets, truth = sources[name][:3]
    m_bounds = {var: b for var, b in zip(sources[name][4], sources[name][5])}
    got = arrays(data)
    got.pop(("cell", "vtkOriginalCellIds"), None)
    worst = 0.0
    names = set()
    for (association, var), values in got.items():
        stored_association, want = truth[step][var]
        v = sources[name][4].index(var)
        if ("point", "cell")[stored_association] != association:
            fail("%s: %s is %s data" % (what, var, association))
        values = values.reshape(values.shape[0], -1)
        reference = whole[v] if whole is not None else None
        if extent is not None:
            cells, dims = association == "cell", list(data_sets[0].GetDimensions())
            want = region(want, dims, extent, cells)
            reference = region(reference, dims, extent, cells) if reference is not None else None
        elif cell_ids is not None:
            ids = cell_ids if association == "cell" else point_ids
            want = want[ids]
            reference = reference[ids] if reference is not None else None
        if reference is not None and not np.array_equal(values, reference):
            fail("%s: %s differs from the C API's decode" % (what, var))
        worst = max(worst, within(values, want, m_bounds[var], "%s: %s" % (what, var)))
        names.add(var)
    if names != set(sources[name][4]):
        fail("%s: arrays %s" % (what, sorted(names)))
    return worst


for name in FIXTURES:
    m = Model(path(name))
    sources[name] += (m.names, m.bounds)
    m.close()
    times, data_sets, truth, wholes = sources[name][:4]
    reader = OpenDataFile(path(name))
    check(reader is not None and reader.GetXMLName() == "INRReader", "%s: the INR reader opens it" % name)
    worst = 0.0
    for step, t in enumerate(times or [None]):
        reader.UpdatePipeline() if t is None else reader.UpdatePipeline(t)
        got = fetch(reader)
        if got.GetNumberOfPoints() != data_sets[step].GetNumberOfPoints() or \
                got.GetNumberOfCells() != data_sets[step].GetNumberOfCells():
            fail("%s at t=%s: %d points, %d cells" % (name, t, got.GetNumberOfPoints(), got.GetNumberOfCells()))
        worst = max(worst, reader_within(got, name, step, "%s reader at t=%s" % (name, t), whole=wholes[step]))
    ok("%s: the reader's arrays at native resolution within the bound at every step (%d; largest error %.3f of "
       "the bound), equal to the C API's" % (name, len(times or [None]), worst))
    Delete(reader)

# Pieces through the reader: sub-extents of grids, pieces of meshes' cells, at every step.
for name, requests in (("eb-isabel.inr", [[0, 124, 0, 124, 0, 11], [17, 90, 40, 124, 12, 24]]),
                       ("eb-isabel-loose.inr", [[0, 124, 0, 124, 0, 11], [17, 90, 40, 124, 12, 24]]),
                       ("eb-cth.inr", [[0, 64, 0, 64, 0, 64], [60, 128, 10, 40, 31, 64]]),
                       ("eb-vf-ecnr.inr", [[5, 40, 0, 63, 20, 63]]),
                       ("eb-disk.inr", [(p, 3) for p in range(3)]),
                       ("eb-disk-cells.inr", [(p, 2) for p in range(2)]),
                       ("eb-mug.inr", [(p, 2) for p in range(2)])):
    times, data_sets, truth, wholes = sources[name][:4]
    reader = OpenDataFile(path(name))
    reader.UpdatePipelineInformation()
    algorithm = reader.GetClientSideObject()
    mesh = isinstance(requests[0], tuple)
    worst = 0.0
    for step, t in enumerate(times or [NAN]):
        for request in requests:
            algorithm.Modified()  # else the whole output in hand serves the request
            if mesh:
                algorithm.UpdateTimeStep(t, request[0], request[1], 0)
            else:
                algorithm.UpdateTimeStep(t, -1, 1, 0, request)
            got = algorithm.GetOutputDataObject(0)
            what = "%s reader piece %s at t=%g" % (name, request, t)
            if mesh:
                cell_ids = vtk_to_numpy(got.GetCellData().GetArray("vtkOriginalCellIds")).astype(np.int64)
                source = data_sets[step]
                offsets = vtk_to_numpy(source.GetCells().GetOffsetsArray()).astype(np.int64)
                connectivity = vtk_to_numpy(source.GetCells().GetConnectivityArray()).astype(np.int64)
                n = source.GetNumberOfCells()
                lo, hi = n * request[0] // request[1], n * (request[0] + 1) // request[1]
                if not np.array_equal(cell_ids, np.arange(lo, hi)):
                    fail("%s: cells %s..%s, not %d..%d" % (what, cell_ids[:1], cell_ids[-1:], lo, hi - 1))
                point_ids = np.unique(connectivity[offsets[lo]:offsets[hi]])
                points = vtk_to_numpy(got.GetPoints().GetData()).astype(np.float64)
                want_points = vtk_to_numpy(source.GetPoints().GetData()).astype(np.float64)[point_ids]
                if not np.array_equal(points, want_points):
                    fail("%s: points are not the stored ones of its cells" % what)
                worst = max(worst, reader_within(got, name, step, what, cell_ids=cell_ids, point_ids=point_ids,
                                                 whole=wholes[step]))
            else:
                if list(got.GetExtent()) != list(request):
                    fail("%s: extent %s" % (what, got.GetExtent()))
                worst = max(worst, reader_within(got, name, step, what, extent=request, whole=wholes[step]))
    ok("%s: reader %s %s at each of %d steps within the bound (largest error %.3f of it), equal to the C API's"
       % (name, "pieces" if mesh else "sub-extents", requests, len(times or [NAN]), worst))
    Delete(reader)
print("reader: %.1f s" % (time.time() - started), flush=True)

print("bound tests: %d checks passed" % len(CHECKED))
