#!/usr/bin/env python3
"""Error-bounded files: inr encode --max-rel-error against SZ3, ZFP and SPERR at the same bound; and
the crossover ratios of the INR families against SZ3, ZFP, SPERR and TTHRESH at equal size.

Usage (from the repository root, with the python3 of the torch venv, as bench/rd.py):
  python3 bench/bound.py [DATASET...] [--bounds 1e-2 1e-3] [--max-minutes 2] [--method M] [--ratio X]
  python3 bench/bound.py --crossover [DATASET...] [--stored] [--sweep-step 0.125]
DATASET (bound mode): isabel4, isabel1, vf5 (the first 5 Viscous Fingering steps), vf20, vf1, cth,
mug (21 steps on a hexahedral mesh); default isabel4 vf5 cth mug. Crossover mode: isabel4 vf20 cth.
Writes <out-dir>/bound.json and bound.md, or crossover.json and crossover.md (out-dir default
bench/results/bound); the .inr files and their reports beside them.

Bound mode, per data set and relative bound R (absolute bound per variable b = R * (max - min) over
its values, all steps used):
- inr: `inr encode --max-rel-error R --max-minutes M --device cpu` (with --time-steps N for the first
  N steps of a series; --method, --ratio X (one network of that ratio instead of the size search)
  and --extra passed on). Its file is then decoded here at every stored site (`inr decode FILE
  --time T` per step, the file's own grid or mesh) and compared with the data read here: the
  verified largest error per variable, against b and against the report's max_abs_error. inr bytes =
  the file's; on a mesh the file less the stored mesh (the report's model_bytes), as SZ3 stores no
  mesh either. Corrections share = error_bound.corrections_bytes / those bytes. Encode time is the
  wall time of `inr encode` (2 threads), decode time the sum of the `inr decode` runs.
- SZ3 (ABS), ZFP (fixed accuracy, tolerance b) and SPERR (point-wise error b): each variable on its
  own (on a mesh each component as the array (step, node)), a time series as one 4D array and step
  by step, the smaller total kept (its layout named); the decoded values checked against b. Times:
  the best of --repeats runs, single-threaded.
- "size inr / SZ3" = inr bytes / SZ3 bytes (below 1: inr's file is smaller).

Crossover mode (no inr encoding): the INR points are the files of the equal-CPU-time runs in
bench/results (3 minutes of one libtorch thread each: residual SIREN in siren_1thread/, ECNR
<ds>_ecnr.json, STSR-INR stsr/<ds>_stsr.json, CoordNetB stsr/<ds>_mc_inr.json; --with-2thread adds
the 2026-11-23 residual SIREN runs <ds>.json, 3 minutes of 2 threads). Each coder's PSNR-ratio curve
is swept here: rel bound = 10^(-k * --sweep-step) (TTHRESH: --tthresh-step), k = 0, 1, ... until
the ratio is below --min-ratio (default: the smallest INR ratio / 1.5) at a bound of 1e-2 or less;
then, for SZ3, ZFP and SPERR, rel bisected between the swept bounds around each INR file's ratio
(to within 1 %, at most 8 tries; --no-refine skips this). A time series goes to a coder both as one
4D array (where it takes 4D, as rd.py probes) and step by step; all evaluations pooled and their
upper envelope kept (ratio and PSNR: a coder's ratio is not monotone in its bound everywhere).
PSNR as rd.py's (mean over the variables). At each INR file's ratio r, best INR = the best family's PSNR
(each family's curve interpolated linearly in log ratio, within its measured ratios), the coder's
PSNR interpolated the same way ("unreachable" where r exceeds the coder's largest ratio). The
crossover is the smallest such r where the best INR's PSNR is above the coder's, with the crossing
interpolated between it and the ratio below it. --stored: the coders' values stored in the result
files instead (SZ3 and ZFP bisected to each INR file's ratio; SPERR and TTHRESH at the asked ratios
of <ds>_baselines.json), no codec run.
"""
import argparse
import datetime
import json
import math
import os
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rd  # noqa: E402  (VTK readers, SZ3/ZFP/SPERR/TTHRESH wrappers, PSNR)
import rd_mesh  # noqa: E402  (.vtu reader, inline binary arrays)

MARKER = "bound_benchmark"
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
# name: (input, first N steps or None for all, kind)
DATASETS = {
    "isabel4": (f"{rd.DATA}/isabel/isabel.pvd", None, "grid"),
    "isabel1": (f"{rd.DATA}/isabel/isabel_02.vti", None, "grid"),
    "vf5": (f"{rd.DATA}/viscous_fingers/viscous_fingers.pvd", 5, "grid"),
    "vf20": (f"{rd.DATA}/viscous_fingers/viscous_fingers.pvd", None, "grid"),
    "vf1": (f"{rd.DATA}/viscous_fingers/001_density_001_064_2.0.vti", None, "grid"),
    "cth": (f"{rd.DATA}/cth/cth.vtr", None, "grid"),
    "mug": (f"{rd.DATA}/mug/mug.pvd", None, "mesh"),
}
BOUND_CODECS = {"sz3": rd._sz3, "zfp": rd._zfp, "sperr": rd._sperr}  # point-wise bounds
NAMES = dict(rd.NAMES)


# ---------------------------------------------------------------- data

def pvd_steps(path):
    """[(timestep string, file)] of a .pvd, in time order."""
    sets = sorted(ET.parse(path).getroot().iter("DataSet"), key=lambda d: float(d.get("timestep")))
    return [(d.get("timestep"), os.path.join(os.path.dirname(path), d.get("file"))) for d in sets]


def load(name):
    """Data set `name`: dict(src, kind, times (strings, None for one step), ext of its files,
    variables [(name, float32 array)]: a grid (t, z, y, x) or (z, y, x), a mesh (t, node, comp))."""
    src, nsteps, kind = DATASETS[name]
    if src.endswith(".pvd"):
        steps = pvd_steps(src)[:nsteps]
        times, first = [t for t, _ in steps], steps[0][1]
    else:
        times, first = None, src
    if kind == "mesh":
        variables = rd_mesh.read_mesh_dataset(src)
    else:
        variables = rd.read_dataset(src)
    if times is not None:
        variables = [(n, a[:len(times)]) for n, a in variables]
    return dict(name=name, src=src, kind=kind, times=times, steps=nsteps, ext=os.path.splitext(first)[1],
                variables=variables)


def read_decoded(path):
    """{name: float32 array (values, components) flattened in VTK order} of the point and cell arrays
    of a VTK XML file written by `inr decode` (inline binary or appended)."""
    raw = open(path, "rb").read()
    i = raw.find(b"<AppendedData")
    root = ET.fromstring(raw if i < 0 else raw[:i] + b"</VTKFile>")
    hfmt = "<Q" if root.get("header_type") == "UInt64" else "<I"
    compressed = root.get("compressor") is not None
    piece = root[0].find("Piece")
    out = {}
    for section in ("PointData", "CellData"):
        for da in piece.findall(section + "/DataArray"):
            kind, fmt = da.get("type"), da.get("format")
            if kind not in rd.VTK_FLOATS:
                continue
            if fmt == "binary":
                buf = rd_mesh._inline_bytes(da.text, hfmt, compressed)
            elif fmt == "appended":
                tag = raw[i:raw.index(b">", i)]
                buf = rd._appended_bytes(raw, raw.index(b"_", i) + 1 + int(da.get("offset")),
                                         b'encoding="base64"' in tag, hfmt, compressed)
            else:
                raise ValueError(f"{path}: array {da.get('Name')}: format {fmt} not read here")
            comps = int(da.get("NumberOfComponents", "1"))
            out[da.get("Name")] = np.frombuffer(buf, dtype=rd.VTK_FLOATS[kind]).astype(np.float32).reshape(-1, comps)
    return out


def step_view(ds, a, k):
    """Step k of variable array a, as (values, components)."""
    if ds["kind"] == "mesh":
        return a[k]
    s = a[k] if ds["times"] is not None else a
    return s.reshape(-1, 1)


def span(a):
    return float(a.max()) - float(a.min())


# ---------------------------------------------------------------- inr

def run_inr_encode(ds, rel, args, stem):
    out, rep = stem + ".inr", stem + ".json"
    cmd = [args.inr, "encode", ds["src"], "-o", out, "--max-rel-error", f"{rel:g}", "--device", "cpu",
           "--max-minutes", f"{args.max_minutes:g}", "--report-json", rep]
    if ds["steps"]:
        cmd += ["--time-steps", str(ds["steps"])]
    if args.method != "residual-siren":
        cmd += ["--method", args.method]
    if args.ratio:
        cmd += ["--ratio", f"{args.ratio:g}"]
    cmd += shlex.split(args.extra)
    for f in (out, rep):
        if os.path.exists(f):
            os.remove(f)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    res = dict(cmd=shlex.join(cmd), rc=p.returncode, wall_s=wall, stderr=p.stderr[-3000:], stdout=p.stdout[-3000:])
    if p.returncode == 0:
        with open(rep) as f:
            res["report"] = json.load(f)
    return res


def verify_inr(ds, path, bounds, inr):
    """Decodes every step of the file at its stored sites: per variable the largest error, and the
    decode wall time."""
    dec_path = os.path.splitext(path)[0] + "_decoded" + ds["ext"]
    worst = {n: 0.0 for n, _ in ds["variables"]}
    total, cmds = 0.0, []
    for k, t in enumerate(ds["times"] or [None]):
        cmd = [inr, "decode", path, "-o", dec_path] + ([] if t is None else ["--time", t])
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        total += time.perf_counter() - t0
        cmds.append(shlex.join(cmd))
        if p.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)}: exit {p.returncode}: {p.stderr[-500:]}")
        dec = read_decoded(dec_path)
        for n, a in ds["variables"]:
            ref = step_view(ds, a, k)
            d = dec[n]
            assert d.shape == ref.shape, (n, d.shape, ref.shape)
            worst[n] = max(worst[n], float(np.abs(d.astype(np.float64) - ref.astype(np.float64)).max()))
    os.remove(dec_path)
    return dict(max_abs_error=[worst[n] for n, _ in ds["variables"]],
                over=[worst[n] / b for (n, _), b in zip(ds["variables"], bounds)],
                decode_s=total, decode_cmds=cmds)


# ---------------------------------------------------------------- coders at a bound

def codec_arrays(ds):
    """Per variable the arrays the coders get: a grid variable whole ((t, z, y, x) or (z, y, x)); a
    mesh variable one (t, node) (or (node,)) array per component. [(variable index, array)]."""
    out = []
    for v, (_, a) in enumerate(ds["variables"]):
        if ds["kind"] == "mesh":
            for c in range(a.shape[2]):
                out.append((v, np.ascontiguousarray(a[:, :, c] if a.shape[0] > 1 else a[0, :, c])))
        else:
            out.append((v, a))
    return out


def codec_once(codec, x, bound, whole):
    """(bytes, decoded, compress s, decompress s) of x, whole or slice by slice along axis 0."""
    if whole or x.ndim < 2:
        return codec(x, bound)
    parts = [codec(np.ascontiguousarray(s), bound) for s in x]
    return (sum(p[0] for p in parts), np.stack([np.asarray(p[1]).reshape(s.shape) for p, s in zip(parts, x)]),
            sum(p[2] for p in parts), sum(p[3] for p in parts))


def layouts_of(ds):
    """Layouts tried: whole, and slice by slice for a series (grid: steps; mesh: steps of (t, node))."""
    series = ds["times"] is not None and len(ds["times"]) > 1
    return [True, False] if series else [True]


def coder_at_bound(name, ds, bounds, repeats):
    """Coder `name` with bound b per variable: the smaller layout's bytes, max error per variable,
    times; or dict(error)."""
    codec = BOUND_CODECS[name]
    arrays = codec_arrays(ds)
    best = None
    for whole in layouts_of(ds):
        try:
            nbytes, tc, td = 0, 0.0, 0.0
            err = [0.0] * len(ds["variables"])
            for v, x in arrays:
                n, dec, c, d = codec_once(codec, x, bounds[v], whole)
                dec = np.asarray(dec).reshape(x.shape)
                nbytes, tc, td = nbytes + n, tc + c, td + d
                err[v] = max(err[v], float(np.abs(dec.astype(np.float64) - x.astype(np.float64)).max()))
        except Exception as e:  # noqa: BLE001  (a layout the codec does not take)
            r = dict(error=f"{type(e).__name__}: {e}"[:300])
        else:
            r = dict(bytes=nbytes, compress_s=tc, decompress_s=td, max_abs_error=err,
                     over=[e / b for e, b in zip(err, bounds)], layout=layout_name(ds, whole))
        if "error" not in r and (best is None or "error" in best or r["bytes"] < best["bytes"]):
            best = r
        elif best is None:
            best = r
    if "error" in best:
        return best
    whole = best["layout"] == layout_name(ds, True)
    for _ in range(repeats - 1):  # timings: best of the runs
        tc = td = 0.0
        for v, x in arrays:
            _, _, c, d = codec_once(codec, x, bounds[v], whole)
            tc, td = tc + c, td + d
        best["compress_s"], best["decompress_s"] = min(best["compress_s"], tc), min(best["decompress_s"], td)
    return best


def layout_name(ds, whole):
    if ds["kind"] == "mesh":
        if ds["times"] is None or len(ds["times"]) == 1:
            return "1D (node)"
        return "2D (t, node)" if whole else "1D per step"
    if ds["times"] is None:
        return "3D"
    return "4D (t, z, y, x)" if whole else "3D per step"


# ---------------------------------------------------------------- bound mode

def run_bounds(args):
    rows = []
    for name in args.datasets:
        ds = load(name)
        raw = sum(a.size * 4 for _, a in ds["variables"])
        shape = ds["variables"][0][1].shape
        print(f"{name}: {ds['src']}" + (f" (first {len(ds['times'])} steps)" if ds["times"] else "")
              + f": {len(ds['variables'])} variables of shape {shape}, {raw} float32 bytes", flush=True)
        for rel in args.bounds:
            bounds = [rel * span(a) for _, a in ds["variables"]]
            row = dict(dataset=name, input=ds["src"], steps=len(ds["times"] or [0]), kind=ds["kind"], rel=rel,
                       bounds=bounds, raw_f32_bytes=raw, variables=[n for n, _ in ds["variables"]])
            stem = os.path.join(args.out_dir, f"{name}_rel{rel:g}" + ("" if args.method == "residual-siren"
                                                                      else "_" + args.method.replace("-", "_")))
            print(f"  rel {rel:g}: inr encode --max-minutes {args.max_minutes:g}...", flush=True)
            inr = run_inr_encode(ds, rel, args, stem)
            if "report" in inr:
                rep = inr["report"]
                eb = rep.get("error_bound") or {}
                model = rep.get("model_bytes", rep["file_bytes"])
                inr.update(bytes=model if ds["kind"] == "mesh" else rep["file_bytes"],
                           mesh_bytes=rep["file_bytes"] - model if ds["kind"] == "mesh" else 0)
                inr["ratio"] = raw / inr["bytes"]
                inr["corrections_share"] = eb.get("corrections_bytes", 0) / inr["bytes"]
                inr["notes"] = report_notes(rep, ds, raw, bounds)
                try:
                    inr["verify"] = verify_inr(ds, stem + ".inr", bounds, args.inr)
                except Exception as e:  # noqa: BLE001
                    inr["verify"] = dict(error=str(e)[-500:])
            else:
                print(f"  rel {rel:g}: inr failed (exit {inr['rc']}): {inr['stderr'][-400:]}", flush=True)
            row["inr"] = inr
            for c in args.codecs:
                row[c] = coder_at_bound(c, ds, bounds, args.repeats)
            rows.append(row)
            print("  " + bound_summary(row, args.codecs), flush=True)
    res = {MARKER: 1, "mode": "bounds", "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "machine": rd.machine(), "command": shlex.join([sys.executable] + sys.argv),
           "settings": dict(max_minutes=args.max_minutes, method=args.method, ratio=args.ratio, extra=args.extra,
                            repeats=args.repeats, codecs=args.codecs),
           "rows": rows}
    stem = os.path.join(args.out_dir, args.name + ("" if args.method == "residual-siren"
                                                 else "_" + args.method.replace("-", "_")))
    with open(stem + ".json", "w") as f:
        json.dump(res, f, indent=1)
    md = bounds_markdown(res)
    with open(stem + ".md", "w") as f:
        f.write(md)
    print("\n" + md)
    print(f"wrote {stem}.json, {stem}.md", flush=True)


def report_notes(rep, ds, raw, bounds):
    """Disagreements between inr's report and the data read here."""
    notes = []
    if rep["raw_f32_bytes"] != raw:
        notes.append(f"raw_f32_bytes {rep['raw_f32_bytes']} != {raw} read here")
    eb = rep.get("error_bound")
    if not eb:
        notes.append("no error_bound in the report")
        return notes
    for (n, _), mine, theirs in zip(ds["variables"], bounds, eb["bounds"]):
        if abs(mine - theirs) > 1e-6 * abs(mine):
            notes.append(f"{n}: bound {theirs:.6g} in the report, {mine:.6g} from the data read here")
    for v in rep["variables"]:
        b = eb["bounds"][[n for n, _ in ds["variables"]].index(v["name"])]
        if v["max_abs_error"] > b:
            notes.append(f"{v['name']}: report's max_abs_error {v['max_abs_error']:.6g} > bound {b:.6g}")
    return notes


def _bytes(n):
    return f"{n / 1000:.1f} kB" if n < 1e6 else f"{n / 1e6:.2f} MB"


def bound_summary(row, codecs):
    inr = row["inr"]
    s = f"rel {row['rel']:g}: "
    if "report" in inr:
        v = inr.get("verify", {})
        over = max(v["over"]) if "over" in v else float("nan")
        s += (f"inr {_bytes(inr['bytes'])} (CR {inr['ratio']:.1f}, corrections {100 * inr['corrections_share']:.0f} %, "
              f"max err {over:.4f} x bound, {inr['wall_s']:.0f} s)")
    else:
        s += "inr failed"
    for c in codecs:
        r = row[c]
        s += (f" | {NAMES[c]} {_bytes(r['bytes'])} (CR {row['raw_f32_bytes'] / r['bytes']:.1f}, "
              f"max err {max(r['over']):.4f} x bound, {r['compress_s']:.2f} s)" if "bytes" in r else f" | {NAMES[c]} n/a")
    return s


def bounds_markdown(res):
    rows, st, m = res["rows"], res["settings"], res["machine"]
    codecs = st["codecs"]
    head = ["data", "rel bound", "inr bytes (network + corrections)", "inr CR", "inr max err / bound",
            "inr encode / decode s", "SZ3 bytes", "SZ3 CR", "SZ3 max err / bound", "SZ3 comp / decomp s",
            "size inr / SZ3"]
    head += [f"{NAMES[c]} bytes (CR), max err / bound" for c in codecs if c != "sz3"]
    lines = []
    for r in rows:
        inr, raw = r["inr"], r["raw_f32_bytes"]
        data = f"{r['dataset']} ({r['steps']} step{'s' if r['steps'] > 1 else ''})"
        if "report" in inr:
            eb = inr["report"].get("error_bound") or {}
            corr = eb.get("corrections_bytes", 0)
            v = inr.get("verify", {})
            cells = [f"{inr['bytes']} ({inr['bytes'] - corr} + {corr}, {100 * inr['corrections_share']:.0f} %)"
                     + (f" + mesh {inr['mesh_bytes']}" if inr["mesh_bytes"] else ""),
                     f"{inr['ratio']:.1f}",
                     f"{max(v['over']):.5f}" if "over" in v else "not verified: " + v.get("error", "?")[:80],
                     f"{inr['wall_s']:.0f} / {v.get('decode_s', float('nan')):.2f}"]
        else:
            cells = [f"failed (exit {inr['rc']})", "—", "—", f"{inr['wall_s']:.0f} / —"]
        s = r.get("sz3", {})
        if "bytes" in s:
            cells += [str(s["bytes"]), f"{raw / s['bytes']:.1f}", f"{max(s['over']):.5f}",
                      f"{s['compress_s']:.3f} / {s['decompress_s']:.3f}",
                      f"{inr['bytes'] / s['bytes']:.2f}" if "report" in inr else "—"]
        else:
            cells += ["n/a"] * 4 + ["—"]
        for c in codecs:
            if c == "sz3":
                continue
            b = r[c]
            cells.append(f"{b['bytes']} ({raw / b['bytes']:.1f}), {max(b['over']):.5f}" if "bytes" in b else "n/a")
        lines.append([data, f"{r['rel']:g}"] + cells)
    md = ["# Error-bounded files: inr against SZ3" + ("" if codecs == ["sz3"] else ", " + ", ".join(NAMES[c] for c in codecs if c != "sz3"))
          + " at the same point-wise bound",
          f"{res['date']}, {m['cpu']}, nproc {m['nproc']}. inr: `inr encode --max-rel-error R --max-minutes "
          f"{st['max_minutes']:g} --device cpu`" + (f" --method {st['method']}" if st["method"] != "residual-siren" else "")
          + (f" --ratio {st['ratio']:g}" if st["ratio"] else " (network size searched)")
          + (f" {st['extra']}" if st["extra"] else "")
          + "; its file decoded here at every stored site and step, max error / bound the verified one "
          "(largest over the variables). Bound per variable = R * (max - min). CR = float32 bytes / bytes "
          "(a mesh's inr bytes leave the stored mesh out). Coders: each variable on its own, the smaller of the "
          "layouts tried (listed below); times the best of "
          f"{st['repeats']} run(s), single-threaded; inr's encode is its wall time (2 threads).",
          rd._table(head, lines)]
    details = []
    for r in rows:
        inr = r["inr"]
        lay = ", ".join(f"{NAMES[c]} {r[c].get('layout', r[c].get('error', '?'))}" for c in codecs)
        if "report" in inr:
            rep, eb = inr["report"], inr["report"].get("error_bound") or {}
            net = rep.get("network", {})
            per = ", ".join(f"{n} {e:.4g} (report {v['max_abs_error']:.4g}, bound {b:.4g})"
                            for n, e, v, b in zip(r["variables"], inr["verify"].get("max_abs_error", []),
                                                  rep["variables"], r["bounds"]))
            details.append(f"- {r['dataset']} rel {r['rel']:g}: network width {net.get('width')}"
                           f"{'/' + str(net['blocks']) if 'blocks' in net else ''}, network alone "
                           f"{eb.get('network_mean_psnr', float('nan')):.2f} dB; corrected "
                           f"{eb.get('corrected_values', 0)} of {eb.get('values', 0)} values; sizes tried "
                           f"{', '.join(f'CR {a:g}: {b}' for a, b in eb.get('searched', [])) or '—'}; "
                           f"report's seconds {rep['seconds']:.0f}. Max error: {per}. Layouts: {lay}."
                           + ("".join(f" NOTE: {n}." for n in inr["notes"])))
        else:
            details.append(f"- {r['dataset']} rel {r['rel']:g}: inr failed: `{inr['stderr'][-300:].strip()}`. "
                           f"Layouts: {lay}.")
        for c in codecs:
            if "over" in r[c] and max(r[c]["over"]) > 1:
                details.append(f"  - NOTE: {NAMES[c]} exceeds the bound: max err / bound {max(r[c]['over']):.6f}")
        if "verify" in inr and "over" in inr["verify"] and max(inr["verify"]["over"]) > 1:
            details.append(f"  - NOTE: inr exceeds the bound: max err / bound {max(inr['verify']['over']):.6f}")
    md += ["Details:", "\n".join(details)]
    cmds = [res["command"]] + [r["inr"]["cmd"] for r in rows]
    md += ["## Commands", "```\n" + "\n".join(cmds) + "\n```"]
    return "\n\n".join(md) + "\n"


# ---------------------------------------------------------------- crossover mode

FAMILIES = [  # label, result file under bench/results ({ds}: data set)
    ("residual SIREN", "siren_1thread/{ds}.json"),
    ("ECNR", "{ds}_ecnr.json"),
    ("STSR-INR", "stsr/{ds}_stsr.json"),
    ("CoordNetB", "stsr/{ds}_mc_inr.json"),
]
FAMILIES_2THREAD = [("residual SIREN (2 threads)", "{ds}.json")]
CROSS_CODECS = ["sz3", "zfp", "sperr", "tthresh"]


def inr_points(ds, with_2thread):
    """{family: [(ratio, mean PSNR)]} from the result files; and the files read."""
    out, files = {}, []
    for label, pattern in FAMILIES + (FAMILIES_2THREAD if with_2thread else []):
        path = os.path.join(RESULTS, pattern.format(ds=ds))
        if not os.path.exists(path):
            continue
        res = json.load(open(path))
        pts = [(r["inr"]["report"]["ratio"], r["inr"]["report"]["mean_psnr"]) for r in res["rows"]
               if "report" in r.get("inr", {})]
        if pts:
            out[label] = sorted(pts)
            files.append(os.path.relpath(path))
    return out, files


def stored_coder_points(ds, with_2thread):
    """{codec: [(ratio, PSNR)]} of the coders' evaluations stored in the result files (reached only);
    and {codec: largest ratio it reached or None}."""
    pts = {c: [] for c in CROSS_CODECS}
    tops = {c: None for c in CROSS_CODECS}
    paths = [os.path.join(RESULTS, p.format(ds=ds)) for _, p in FAMILIES + (FAMILIES_2THREAD if with_2thread else [])]
    paths.append(os.path.join(RESULTS, f"{ds}_baselines.json"))
    for path in paths:
        if not os.path.exists(path):
            continue
        for r in json.load(open(path))["rows"]:
            for c in CROSS_CODECS:
                if c in r:
                    if r[c]["reached"]:
                        pts[c].append((r[c]["ratio"], r[c]["mean_psnr"]))
                    else:
                        tops[c] = r[c]["ratio"]
                        pts[c].append((r[c]["ratio"], r[c]["mean_psnr"]))
    return {c: sorted(set(p)) for c, p in pts.items()}, tops


class quiet_stdout:
    """File descriptor 1 to /dev/null while inside (what native or WebAssembly code prints)."""

    def __enter__(self):
        sys.stdout.flush()
        self.saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)

    def __exit__(self, *exc):
        sys.stdout.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)


def sweep(codec_name, arrays, ranges, whole4d, min_ratio, step, log):
    """[(ratio, PSNR, rel)] of the coder at rel = 10^(-k step), k = 0, 1, ... until the ratio is
    below min_ratio at a rel of 1e-2 or less (TTHRESH's ratio is not monotone in its bound at large
    bounds), or rel < rd.MIN_REL."""
    codec = rd.CODECS[codec_name]
    out, k = [], 0
    while True:
        rel = 10 ** (-k * step)
        with quiet_stdout():  # TTHRESH's WebAssembly build prints its ratios
            r = rd.evaluate(codec, arrays, ranges, rel, whole4d)
        out.append((r["ratio"], r["mean_psnr"], rel))
        if (r["ratio"] < min_ratio and rel <= 1.001e-2) or rel < rd.MIN_REL:
            break
        k += 1
    log(f"    {NAMES[codec_name]}{' 4D' if whole4d and arrays[0].ndim == 4 else ''}: {len(out)} bounds, "
        f"ratios {min(o[0] for o in out):.1f} to {max(o[0] for o in out):.1f}")
    return out


def refine(codec_name, arrays, ranges, whole4d, swept, targets, tol=0.01, most=8):
    """Evaluations (ratio, PSNR, rel) bisecting rel (log space) between the swept bounds around each
    target ratio (the bracket at the smallest bounds), until within tol of it or `most` tries."""
    codec = rd.CODECS[codec_name]
    pts = sorted(swept, key=lambda p: -p[2])  # largest bound first
    out, seen, done = [], {}, []
    for r in targets:
        if any(abs(r / d - 1) <= tol for d in done):
            continue
        done.append(r)
        br = next(((a, b) for a, b in reversed(list(zip(pts, pts[1:]))) if a[0] >= r >= b[0]), None)
        if br is None or any(abs(p[0] / r - 1) <= tol for p in pts + out):
            continue
        hi, lo = math.log(br[0][2]), math.log(br[1][2])  # ratio >= r at hi, <= r at lo
        for _ in range(most):
            rel = math.exp(0.5 * (hi + lo))
            if rel not in seen:
                with quiet_stdout():
                    seen[rel] = rd.evaluate(codec, arrays, ranges, rel, whole4d)
                out.append((seen[rel]["ratio"], seen[rel]["mean_psnr"], rel))
            e = seen[rel]
            if abs(e["ratio"] / r - 1) <= tol:
                break
            hi, lo = (math.log(rel), lo) if e["ratio"] >= r else (hi, math.log(rel))
    return out


def envelope(points):
    """The points not dominated (another with a ratio and a PSNR at least as large), by ratio."""
    pts = sorted(set((r, p) for r, p in points))
    keep = [pt for pt in pts if not any(q[0] >= pt[0] and q[1] >= pt[1] and q != pt for q in pts)]
    return sorted(keep)


def interp(points, r):
    """PSNR at ratio r, linear in log ratio between the points around it; None outside them."""
    if not points:
        return None
    if r < points[0][0] * (1 - 1e-9) or r > points[-1][0] * (1 + 1e-9):
        return None
    for (r0, p0), (r1, p1) in zip(points, points[1:]):
        if r0 <= r <= r1:
            if r1 == r0:
                return max(p0, p1)
            w = (math.log(r) - math.log(r0)) / (math.log(r1) - math.log(r0))
            return p0 + w * (p1 - p0)
    return points[0][1] if abs(r - points[0][0]) <= 1e-9 * r else points[-1][1]


def best_inr(inr, r):
    """(PSNR, family) of the best INR at ratio r: each family's curve interpolated within its measured
    ratios; (None, None) if none covers r."""
    return max(((interp(pts, r), fam) for fam, pts in inr.items() if interp(pts, r) is not None),
               default=(None, None))


def crossover(inr, coder, coder_top):
    """Per INR ratio: dict(ratio, family, inr_psnr, coder_psnr or None, outcome: win, loss,
    unreachable (above the coder's largest ratio, coder_top) or not measured); and the crossover
    statement."""
    ratios = sorted({r for pts in inr.values() for r, _ in pts})
    table = []
    for r in ratios:
        p, fam = best_inr(inr, r)
        c = interp(coder, r)
        if c is None:
            outcome = "unreachable" if coder_top is not None and r > coder_top else "not measured"
        else:
            outcome = "win" if p > c else "loss"
        table.append(dict(ratio=r, family=fam, inr_psnr=p, coder_psnr=c, outcome=outcome))
    return table, statement(table, coder_top)


def statement(table, top):
    """The crossover in words: the first ratio where the best INR wins, the crossing interpolated from
    the last loss before it, losses after it, and where the coder cannot reach."""
    measured = [t for t in table if t["outcome"] in ("win", "loss")]
    unreach = [t for t in table if t["outcome"] == "unreachable"]
    tail = (f"; it cannot reach CR {unreach[0]['ratio']:.0f} and above (its largest: {top:.0f})"
            if unreach else "")
    if not measured:
        return ("no INR file within its reach" if unreach else "not measured") + tail
    wins = [i for i, t in enumerate(measured) if t["outcome"] == "win"]
    if not wins:
        last = measured[-1]
        return (f"none up to the largest ratio measured (CR {last['ratio']:.0f}: "
                f"{last['inr_psnr'] - last['coder_psnr']:+.1f} dB)" + tail)
    i = wins[0]
    t = measured[i]
    d = t["inr_psnr"] - t["coder_psnr"]
    s = f"CR {t['ratio']:.0f} ({t['family']}, {d:+.1f} dB"
    if i == 0:
        s += "; already at the smallest ratio measured"
    else:
        prev = measured[i - 1]
        dp = prev["inr_psnr"] - prev["coder_psnr"]
        x = math.exp(math.log(prev["ratio"]) + (math.log(t["ratio"]) - math.log(prev["ratio"])) * (-dp) / (d - dp))
        s += f"; {dp:+.1f} dB at CR {prev['ratio']:.0f}, crossing at about CR {x:.0f}"
    later = [u for u in measured[i + 1:] if u["outcome"] == "loss"]
    if later:
        s += "; loses again at CR " + ", ".join(f"{u['ratio']:.0f}" for u in later)
    return s + ")" + tail


def run_crossover(args):
    datasets = args.datasets or ["isabel4", "vf20", "cth"]
    with quiet_stdout():
        whole4d = {c: rd.round_trips_4d(rd.CODECS[c]) for c in CROSS_CODECS}
    print("4D round trip:", whole4d, flush=True)
    out = []
    for ds in datasets:
        inr, files = inr_points(ds, args.with_2thread)
        if not inr:
            print(f"{ds}: no INR result files", flush=True)
            continue
        print(f"{ds}: INR points from {', '.join(files)}", flush=True)
        entry = dict(dataset=ds, files=files, inr=inr, coders={})
        if args.stored:
            pts, tops = stored_coder_points(ds, args.with_2thread)
            for c in args.cross_codecs:
                entry["coders"][c] = dict(points=envelope(pts[c]), source="stored", top=tops[c])
        else:
            variables = rd.read_dataset(rd.DATASETS[ds])
            arrays = [a for _, a in variables]
            ranges = [span(a) for a in arrays]
            min_ratio = args.min_ratio or min(r for pts in inr.values() for r, _ in pts) / 1.5
            stored, _ = stored_coder_points(ds, args.with_2thread)
            targets = sorted({r for pts in inr.values() for r, _ in pts})
            for c in args.cross_codecs:
                t = time.perf_counter()
                raw = []
                series = arrays[0].ndim == 4
                for w in ([True, False] if series and whole4d[c] else [False] if series else [True]):
                    pts = sweep(c, arrays, ranges, w, min_ratio, args.tthresh_step if c == "tthresh"
                                else args.sweep_step, lambda s: print(s, flush=True))
                    if c != "tthresh" and not args.no_refine:
                        more = refine(c, arrays, ranges, w, pts, targets)
                        print(f"    {NAMES[c]}: {len(more)} more bounds near the INR ratios", flush=True)
                        pts += more
                    raw += [(r, p, rel, "4D" if w and series else "3D") for r, p, rel in pts]
                env = envelope([(r, p) for r, p, _, _ in raw])
                check = []
                if c in ("sz3", "zfp"):  # the stored bisected values (4D where rd.py used it) against the sweep
                    lay = [(r, p) for r, p, _, l in raw if l == ("4D" if series and whole4d[c] else "3D")]
                    lay = sorted(lay)
                    for r, p in stored[c]:
                        q = interp(envelope(lay), r)
                        if q is not None:
                            check.append((r, p, q))
                entry["coders"][c] = dict(points=env, sweep=raw, source="sweep", seconds=time.perf_counter() - t,
                                          check_stored=check, top=max(r for r, _, _, _ in raw))
        for c in args.cross_codecs:
            table, text = crossover(inr, entry["coders"][c]["points"], entry["coders"][c].get("top"))
            entry["coders"][c].update(table=table, crossover=text)
            print(f"  {NAMES[c]}: {text}", flush=True)
        out.append(entry)
    res = {MARKER: 1, "mode": "crossover", "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "machine": rd.machine(), "command": shlex.join([sys.executable] + sys.argv),
           "settings": dict(stored=args.stored, sweep_step=args.sweep_step, tthresh_step=args.tthresh_step,
                            codecs=args.cross_codecs, no_refine=args.no_refine, with_2thread=args.with_2thread,
                            min_ratio=args.min_ratio, layout_4d=whole4d),
           "datasets": out}
    stem = os.path.join(args.out_dir, (args.name if args.name != "bound" else "crossover")
                        + ("_stored" if args.stored else ""))
    with open(stem + ".json", "w") as f:
        json.dump(res, f, indent=1)
    md = crossover_markdown(res)
    with open(stem + ".md", "w") as f:
        f.write(md)
    print("\n" + md)
    print(f"wrote {stem}.json, {stem}.md", flush=True)


def crossover_markdown(res):
    st = res["settings"]
    md = ["# Crossover: the smallest ratio where the best INR family beats each coder at equal size",
          f"{res['date']}, {res['machine']['cpu']}, nproc {res['machine']['nproc']}. "
          + ("Coders' values as stored in the result files (bisected to the INR files' ratios, or at the asked "
             "ratios of the baselines files)." if st["stored"] else
             f"Coders swept here: rel bound 10^(-k * {st['sweep_step']:g}) of each variable's range "
             f"(TTHRESH 10^(-k * {st['tthresh_step']:g})), "
             "time series both 4D and step by step where the coder takes 4D"
             + ("" if st.get("no_refine") else "; SZ3, ZFP and SPERR bisected near each INR file's ratio (within 1 %, "
                "at most 8 tries)") + "; the upper envelope kept.")
          + " PSNR interpolated linearly in log ratio; INR points: the files listed (3 CPU minutes each).",
          rd._table(["data"] + [NAMES[c] for c in st["codecs"]],
                    [[d["dataset"]] + [d["coders"][c]["crossover"].replace("|", "/") for c in st["codecs"]]
                     for d in res["datasets"]])]
    for d in res["datasets"]:
        md.append(f"## {d['dataset']}\n\nINR files: " + ", ".join(f"`{f}`" for f in d["files"]))
        first = d["coders"][st["codecs"][0]]["table"]
        rows = []
        for i, t0 in enumerate(first):
            r = t0["ratio"]
            cells = [f"{r:.0f}", f"{t0['inr_psnr']:.2f} ({t0['family']})"]
            for c in st["codecs"]:
                t = d["coders"][c]["table"][i]
                cells.append(f"{t['coder_psnr']:.2f}" if t["coder_psnr"] is not None else t["outcome"])
            rows.append(cells)
        md.append(rd._table(["CR", "best INR PSNR (family)"] + [f"{NAMES[c]} PSNR" for c in st["codecs"]], rows))
        checks = [(c, r, p, q) for c in st["codecs"] for r, p, q in d["coders"][c].get("check_stored", [])]
        if checks:
            worst = max(abs(p - q) for _, _, p, q in checks)
            md.append(f"Stored bisected SZ3/ZFP values (rd.py) against this envelope in the same layout ({len(checks)} points): "
                      f"largest difference {worst:.2f} dB.")
    return "\n\n".join(md) + "\n"


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", nargs="*", default=[], help="bound mode: " + " ".join(DATASETS) + "; crossover: " + " ".join(rd.DATASETS))
    ap.add_argument("--bounds", type=float, nargs="+", default=[1e-2, 1e-3], help="relative error bounds")
    ap.add_argument("--max-minutes", type=float, default=2.0, help="inr encode --max-minutes")
    ap.add_argument("--method", choices=["residual-siren", "ecnr", "stsr", "mc-inr"], default="residual-siren")
    ap.add_argument("--ratio", type=float, default=None, help="one network of this ratio (no size search)")
    ap.add_argument("--extra", default="", metavar="ARGS", help="more inr encode arguments, one string, shell-split")
    ap.add_argument("--codecs", nargs="+", choices=list(BOUND_CODECS), default=list(BOUND_CODECS))
    ap.add_argument("--repeats", type=int, default=3, help="coder timing runs (best kept)")
    ap.add_argument("--crossover", action="store_true", help="crossover ratios instead (no inr encoding)")
    ap.add_argument("--stored", action="store_true", help="crossover from the stored coder values, no codec run")
    ap.add_argument("--sweep-step", type=float, default=0.125, help="crossover sweep: decades between bounds")
    ap.add_argument("--tthresh-step", type=float, default=0.25, help="crossover sweep: the same for TTHRESH (slow)")
    ap.add_argument("--cross-codecs", nargs="+", choices=CROSS_CODECS, default=CROSS_CODECS,
                    help="crossover: coders to compare with")
    ap.add_argument("--no-refine", action="store_true",
                    help="crossover sweep: no bisection near the INR ratios (SZ3, ZFP, SPERR)")
    ap.add_argument("--min-ratio", type=float, default=None, help="crossover sweep: lowest ratio needed")
    ap.add_argument("--with-2thread", action="store_true", help="crossover: add the 2-thread residual SIREN runs")
    ap.add_argument("--out-dir", default=os.path.join("bench", "results", "bound"))
    ap.add_argument("--name", default="bound", help="results as <out-dir>/<name>.json, .md (crossover: crossover)")
    ap.add_argument("--inr", default=rd.INR)
    argv = sys.argv[1:]  # "--extra --vad": the value itself starts with "--"
    argv = [f"--extra={argv[i + 1]}" if a == "--extra" and i + 1 < len(argv) else a
            for i, a in enumerate(argv) if not (i > 0 and argv[i - 1] == "--extra")]
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    if args.crossover:
        bad = [d for d in args.datasets if d not in rd.DATASETS]
        if bad:
            ap.error(f"crossover data sets are rd.py's: {sorted(rd.DATASETS)}, not {bad}")
        run_crossover(args)
    else:
        args.datasets = args.datasets or ["isabel4", "vf5", "cth", "mug"]
        bad = [d for d in args.datasets if d not in DATASETS]
        if bad:
            ap.error(f"bound data sets: {sorted(DATASETS)}, not {bad}")
        run_bounds(args)


if __name__ == "__main__":
    main()
