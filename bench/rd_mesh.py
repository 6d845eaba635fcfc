#!/usr/bin/env python3
"""Quality on unstructured meshes: inr encode at model-only compression ratios vs SZ3 on the
nodal arrays at the same ratio.

Usage (from the repository root, with the python3 of the torch venv: numpy, pysz):
  python3 bench/rd_mesh.py DATASET... [--ratios 10 40] [--steps 20000] [--max-minutes 3]
      [--mc "ARGS"]... [--seam-band W]
DATASET: disk (disk_out_ref_tets.vtu, 8,499 nodes, 44,832 tetrahedra, 7 point arrays), mug
(mug.pvd, 3,774 nodes, 2,476 hexahedra, 2 point arrays, 21 steps) or cylinder (made by
bench/make_cylinder.py into bench/data/cylinder: 270,077 nodes, 1.59 M tetrahedra, 10 steps of the
Viscous Fingering density). Each --mc adds an MC-INR encode (`inr encode --method mc-inr` with
ARGS) next to the residual SIREN's at each ratio; with --seam-band W, each MC-INR file's error near
its cluster borders (within a blend band of width W) and away from them is measured at the nodes and
on a 48^3 grid inside the mesh (`cargo run --release --example seams`, built next to `inr`). Writes
bench/results/mesh_<name>.json and .md.

Method, per dataset and model-only ratio R:
- inr: `inr encode --ratio R --device cpu` (a mesh's --ratio counts the model's bytes, the file less
  its exactly stored mesh, as the papers on meshes do); its --report-json gives PSNR, NRMSE and R^2
  per variable through the Rust decoder at every node (and step), and both ratios.
- SZ3 (ABS mode): each component of each variable compressed on its own as the 1-D array of its
  nodal values in the mesh's node order (a time series: the 2-D array (t, node)), error bound
  rel * the variable's range, rel bisected so that the total ratio (float32 bytes / compressed bytes)
  is within 1 % of inr's model-only ratio. SZ3 stores no mesh either: both sides leave the mesh out.
- Measures as the encoder's: per variable, PSNR = 20 log10(max - min) - 10 log10(MSE) with max - min
  and the MSE over all components (and steps), NRMSE = RMSE / (max - min), R^2 = 1 - SSE / SST.
"""
import argparse
import base64
import datetime
import json
import math
import os
import shlex
import subprocess
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rd  # noqa: E402  (the grid benchmark: VTK appended-data decoding, SZ3, inr encode)

DATASETS = {
    "disk": f"{rd.DATA}/disk_out_ref/disk_out_ref_tets.vtu",
    "mug": f"{rd.DATA}/mug/mug.pvd",
    "cylinder": os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "cylinder", "cylinder.pvd"),
}


def _inline_bytes(text, hfmt, compressed):
    """Bytes of an inline format="binary" array: base64 of one size header and the data, or (zlib)
    base64 of the block header [count, block size, last size, compressed sizes...] followed by base64
    of the compressed blocks."""
    text = "".join(text.split()).encode()
    hs = struct.calcsize(hfmt)
    if not compressed:
        raw = base64.b64decode(text)
        n = struct.unpack_from(hfmt, raw)[0]
        return raw[hs:hs + n]
    nb = struct.unpack_from(hfmt, base64.b64decode(text[:rd._b64_len(hs) + 4])[:hs])[0]
    hlen = rd._b64_len((3 + nb) * hs)
    sizes = struct.unpack_from("<%d%s" % (nb, hfmt[-1]), base64.b64decode(text[:hlen]), 3 * hs)
    data, p, out = base64.b64decode(text[hlen:]), 0, bytearray()
    for size in sizes:
        out += zlib.decompress(data[p:p + size])
        p += size
    return bytes(out)


def read_vtu(path):
    """[(name, float32 array (nodes, components))] of the point arrays of a .vtu, inline binary or
    appended (raw or base64), zlib or not."""
    raw = open(path, "rb").read()
    i = raw.find(b"<AppendedData")
    root = ET.fromstring(raw if i < 0 else raw[:i] + b"</VTKFile>")
    hfmt = "<Q" if root.get("header_type") == "UInt64" else "<I"
    compressed = root.get("compressor") is not None
    assert root.get("byte_order") == "LittleEndian", path
    piece = root.find("UnstructuredGrid/Piece")
    n = int(piece.get("NumberOfPoints"))
    out = []
    for da in piece.findall("PointData/DataArray"):
        kind, comps, fmt = da.get("type"), int(da.get("NumberOfComponents", "1")), da.get("format")
        if kind not in rd.VTK_FLOATS or fmt not in ("binary", "appended"):
            raise ValueError(f"{path}: array {da.get('Name')}: {kind}, {fmt}: not read here")
        if fmt == "binary":
            buf = _inline_bytes(da.text, hfmt, compressed)
        else:
            tag = raw[i:raw.index(b">", i)]
            start = raw.index(b"_", i) + 1
            buf = rd._appended_bytes(raw, start + int(da.get("offset")), b'encoding="base64"' in tag, hfmt,
                                     compressed)
        a = np.frombuffer(buf, dtype=rd.VTK_FLOATS[kind])
        assert a.size == n * comps, (path, da.get("Name"), a.size, n, comps)
        out.append((da.get("Name"), a.reshape(n, comps).astype(np.float32)))
    return out


def read_mesh_dataset(path):
    """[(name, float32 array (steps, nodes, components))]."""
    if not path.endswith(".pvd"):
        return [(name, a[None]) for name, a in read_vtu(path)]
    sets = sorted(ET.parse(path).getroot().iter("DataSet"), key=lambda d: float(d.get("timestep")))
    steps = [read_vtu(os.path.join(os.path.dirname(path), d.get("file"))) for d in sets]
    names = [name for name, _ in steps[0]]
    return [(name, np.stack([s[k][1] for s in steps])) for k, name in enumerate(names)]


def measures(a, dec):
    """PSNR, NRMSE and R^2 of a variable (all components and steps together)."""
    a64, d64 = a.astype(np.float64), dec.astype(np.float64)
    rng = float(a64.max() - a64.min())
    mse = float(np.mean((a64 - d64) ** 2))
    sst = float(np.sum((a64 - a64.mean()) ** 2))
    return dict(psnr=20 * math.log10(rng) - 10 * math.log10(mse) if mse > 0 else math.inf,
                nrmse=math.sqrt(mse) / rng, r2=1 - float(np.sum((a64 - d64) ** 2)) / sst if sst > 0 else 1.0)


def sz3_all(variables, rel):
    """Every component of every variable through SZ3 with bound rel * the variable's range."""
    raw = comp = 0
    per_var, tc, td = [], 0.0, 0.0
    for name, a in variables:
        rng = float(a.max() - a.min())
        dec = np.empty_like(a)
        for c in range(a.shape[2]):
            x = np.ascontiguousarray(a[:, :, c] if a.shape[0] > 1 else a[0, :, c])
            n, d, t1, t2 = rd._sz3(x, rel * rng)
            dec[:, :, c] = d.reshape(dec[:, :, c].shape)
            raw, comp, tc, td = raw + x.size * 4, comp + n, tc + t1, td + t2
        per_var.append(dict(name=name, **measures(a, dec)))
    return dict(rel=rel, ratio=raw / comp, bytes=comp, variables=per_var,
                mean_psnr=sum(v["psnr"] for v in per_var) / len(per_var), compress_s=tc, decompress_s=td)


def sz3_at(variables, target):
    """SZ3's evaluation nearest `target` (bisection of rel in log space, within 1 %)."""
    lo, hi = math.log(rd.MIN_REL), 0.0
    best = sz3_all(variables, 1.0)
    if best["ratio"] < target * (1 - rd.RATIO_TOL):
        return dict(best, reached=False)
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        r = sz3_all(variables, math.exp(mid))
        if abs(math.log(r["ratio"] / target)) < abs(math.log(best["ratio"] / target)):
            best = r
        if abs(r["ratio"] / target - 1) <= rd.RATIO_TOL:
            break
        lo, hi = (mid, hi) if r["ratio"] < target else (lo, mid)
    return dict(best, reached=True)


def run(name, args):
    src = DATASETS[name]
    variables = read_mesh_dataset(src)
    raw = sum(a.size * 4 for _, a in variables)
    shape = variables[0][1].shape
    print(f"{name}: {src}: {len(variables)} variables, {shape[0]} steps x {shape[1]} nodes, {raw} float32 bytes",
          flush=True)
    rows = []
    for R in args.ratios:
        print(f"  model-only CR {R:g}: inr encode...", flush=True)
        enc = rd.inr_encode(args.inr, src, R, os.path.join(args.out_dir, f"mesh_{name}_cr{rd.ratio_label(R)}"),
                            args.steps, args.max_minutes)
        row = dict(ratio_asked=R, inr=enc, mc=[], single=[])
        for i, extra in enumerate(args.single):
            stem = os.path.join(args.out_dir, f"mesh_{name}_cr{rd.ratio_label(R)}_single{i}")
            row["single"].append(extra_encode(args.inr, src, R, stem, args.max_minutes,
                                              f"--steps {args.steps} {extra}"))
        for i, extra in enumerate(args.mc):
            stem = os.path.join(args.out_dir, f"mesh_{name}_cr{rd.ratio_label(R)}_mc{i}")
            row["mc"].append(extra_encode(args.inr, src, R, stem, args.max_minutes, "--method mc-inr " + extra,
                                          args.seam_band))
        if "report" in enc:
            row["sz3"] = sz3_at(variables, enc["report"]["model_ratio"])
            rep = enc["report"]
            print(f"  inr model-only {rep['model_ratio']:.1f} (file {rep['ratio']:.2f}) {rep['mean_psnr']:.2f} dB | "
                  f"SZ3 {row['sz3']['ratio']:.1f} {row['sz3']['mean_psnr']:.2f} dB", flush=True)
        else:
            print(f"  inr failed: {enc['error']}", flush=True)
        for m in row["single"]:
            rep = m.get("report")
            print(f"  single ({m['args']}): " + (f"model-only {rep['model_ratio']:.1f} {rep['mean_psnr']:.2f} dB, "
                  f"width {rep['network']['width']}" if rep else f"failed: {m['error']}"), flush=True)
        for m in row["mc"]:
            rep = m.get("report")
            print(f"  MC-INR ({m['args']}): " + (f"model-only {rep['model_ratio']:.1f} {rep['mean_psnr']:.2f} dB, "
                  f"{rep['network']['clusters']} clusters of width {rep['network']['width']}" if rep
                  else f"failed: {m['error']}"), flush=True)
        rows.append(row)
    result = dict(dataset=name, input=src, raw_f32_bytes=raw, steps=shape[0], nodes=shape[1],
                  date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"), machine=rd.machine(),
                  command=shlex.join([sys.executable] + sys.argv), rows=rows)
    stem = os.path.join(args.out_dir, f"mesh_{name}")
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=1)
    with open(stem + ".md", "w") as f:
        f.write(markdown(result))
    print(f"  wrote {stem}.json, {stem}.md", flush=True)


def extra_encode(inr, src, ratio, stem, minutes, extra, seam_band=None):
    """One more `inr encode` run with the extra arguments (and, for MC-INR, its seam errors)."""
    out, rep = stem + ".inr", stem + ".json"
    cmd = [inr, "encode", src, "-o", out, "--ratio", rd.ratio_label(ratio),
           "--device", "cpu", "--max-minutes", f"{minutes:g}", "--report-json", rep] + shlex.split(extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    result = dict(args=extra, cmd=shlex.join(cmd), rc=p.returncode)
    if p.returncode == 0:
        with open(rep) as f:
            result["report"] = json.load(f)
        if seam_band:
            seams = os.path.join(os.path.dirname(inr), "examples", "seams")
            q = subprocess.run([seams, out, src, f"{seam_band:g}", "48"], capture_output=True, text=True)
            result["seams"] = q.stdout.strip() if q.returncode == 0 else f"seams failed: {q.stderr.strip()[-300:]}"
    else:
        result["error"] = p.stderr.strip()[-500:] or f"exit code {p.returncode}"
    return result


def markdown(res):
    md = [f"# {res['dataset']}: inr on a mesh vs SZ3 on its nodal arrays",
          f"Data: `{res['input']}`: {res['steps']} step(s) x {res['nodes']} nodes, {res['raw_f32_bytes']} bytes as "
          f"float32. {res['date']}, {res['machine']['cpu']}, nproc {res['machine']['nproc']}. Ratios are model-only "
          "(float32 bytes / the file's bytes less its mesh; SZ3: / its compressed bytes)."]
    for r in res["rows"]:
        rep = r["inr"].get("report")
        if not rep:
            md.append(f"Model-only CR {r['ratio_asked']:g}: inr failed: {r['inr']['error']}")
            continue
        s = r["sz3"]
        net, t = rep["network"], rep["training"]
        md.append(f"## Model-only CR {r['ratio_asked']:g}: inr {rep['model_ratio']:.1f} (whole file "
                  f"{rep['ratio']:.2f}, {rep['file_bytes'] - rep['model_bytes']} mesh bytes), width {net['width']}, "
                  f"{net['blocks']} blocks, {t['steps']} steps ({t['stop']}), {rep['seconds']:.0f} s; SZ3 {s['ratio']:.1f} "
                  f"(rel bound {s['rel']:.3g}, {s['compress_s']:.3f} s / {s['decompress_s']:.3f} s)")
        sz = {v["name"]: v for v in s["variables"]}
        for m in r.get("single", []):
            srep = m.get("report")
            md.append(f"Single network (`{m['args']}`): " + (
                f"model-only {srep['model_ratio']:.1f}, width {srep['network']['width']}, "
                f"{srep['training']['steps']} steps: " + ", ".join(f"{v['name']} {v['psnr']:.2f} dB"
                                                                    for v in srep["variables"])
                + f"; mean {srep['mean_psnr']:.2f} dB" if srep else f"failed: {m['error']}"))
        for m in r.get("mc", []):
            mrep = m.get("report")
            if not mrep:
                md.append(f"MC-INR (`{m['args']}`): failed: {m['error']}")
                continue
            n = mrep["network"]
            md.append(f"MC-INR (`{m['args']}`): model-only {mrep['model_ratio']:.1f} (whole file {mrep['ratio']:.2f}), "
                      f"{n['clusters']} clusters ({n['splits']} splits) of width {n['width']}, {n['trunk_blocks']} trunk / "
                      f"{n['branch_blocks']} branch blocks, epochs {mrep['training']['epochs']}, {mrep['seconds']:.0f} s: "
                      + ", ".join(f"{v['name']} {v['psnr']:.2f} dB (NRMSE {v['nrmse']:.2e}, R^2 {v['r2']:.6f})"
                                  for v in mrep["variables"])
                      + f"; mean {mrep['mean_psnr']:.2f} dB")
            if "seams" in m:
                md.append("```\n" + m["seams"] + "\n```")
        md.append(rd._table(["variable", "inr PSNR", "SZ3 PSNR", "inr NRMSE", "SZ3 NRMSE", "inr R^2", "SZ3 R^2"],
                            [[v["name"], f"{v['psnr']:.2f}", f"{sz[v['name']]['psnr']:.2f}", f"{v['nrmse']:.2e}",
                              f"{sz[v['name']]['nrmse']:.2e}", f"{v['r2']:.6f}", f"{sz[v['name']]['r2']:.6f}"]
                             for v in rep["variables"]]
                            + [["mean", f"{rep['mean_psnr']:.2f}", f"{s['mean_psnr']:.2f}", "", "", "", ""]]))
    cmds = [res["command"]] + [a["cmd"] for r in res["rows"] for a in r["inr"].get("attempts", [])]
    cmds += [m["cmd"] for r in res["rows"] for m in r.get("single", []) + r.get("mc", [])]
    md += ["## Commands", "```\n" + "\n".join(cmds) + "\n```"]
    return "\n\n".join(md) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", nargs="+", choices=sorted(DATASETS))
    ap.add_argument("--ratios", type=float, nargs="+", default=[10, 40])
    ap.add_argument("--steps", type=int, default=20000, help="inr encode --steps")
    ap.add_argument("--max-minutes", type=float, default=3.0, help="inr encode --max-minutes")
    ap.add_argument("--out-dir", default="bench/results")
    ap.add_argument("--inr", default=rd.INR)
    ap.add_argument("--mc", action="append", default=[], help="arguments of an MC-INR encode to add")
    ap.add_argument("--single", action="append", default=[],
                    help="arguments of another single-network encode to add (e.g. --omega 7.5)")
    ap.add_argument("--seam-band", type=float, help="measure each MC-INR file's error near cluster borders")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name in args.datasets:
        run(name, args)


if __name__ == "__main__":
    main()
