#!/usr/bin/env python3
"""Rate-distortion, first reduced set: inr encode vs SZ3 and ZFP at equal ratio.

Usage (python3 of the torch venv, with numpy, pysz, zfpy):
  python3 bench/rd.py VTI NAME --ratios 100 200 500 [--steps 3000] [--max-minutes 2]

inr: `inr encode --ratio R` (release binary, encoder feature); its report gives
PSNR through the Rust decoder, the file size (actual ratio = float32 bytes /
file bytes) and the time. SZ3: absolute error bound bisected until its ratio is
within 1 % of inr's actual ratio. ZFP (accuracy mode): tolerance bisected to
the nearest reachable ratio. PSNR = 20 log10(max - min) - 10 log10(MSE) over
the original data's range.
"""
import argparse, math, os, re, subprocess, sys, time, zlib, struct
import xml.etree.ElementTree as ET
import numpy as np
from pysz import sz, szConfig, szErrorBoundMode
import zfpy

INR = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/inr/target")), "release", "inr")


def read_vtk(path):
    """Float32 data arrays (point or cell) of a .vti/.vtr with zlib-compressed appended data,
    raw or base64, UInt32 or UInt64 headers: [(name, array in VTK order)]."""
    import base64
    raw = open(path, "rb").read()
    i = raw.index(b"<AppendedData")
    head = raw[:i].decode()
    b64 = b'encoding="base64"' in raw[i:raw.index(b">", i)]
    start = raw.index(b"_", i) + 1
    hq = "Q" if 'header_type="UInt64"' in head else "I"
    hs = 8 if hq == "Q" else 4
    m = re.search(r'WholeExtent="(-?\d+) (-?\d+) (-?\d+) (-?\d+) (-?\d+) (-?\d+)"', head)
    ext = [int(x) for x in m.groups()]
    pdims = [ext[1] - ext[0] + 1, ext[3] - ext[2] + 1, ext[5] - ext[4] + 1]
    cdims = [max(d - 1, 1) for d in pdims]
    out = []
    for sec, dims in (("PointData", pdims), ("CellData", cdims)):
        body = re.search(r"<%s[^>]*>(.*?)</%s>" % (sec, sec), head, re.S)
        if not body:
            continue
        for da in re.finditer(r"<DataArray([^>]*)>", body.group(1)):
            attrs = da.group(1)
            if 'type="Float32"' not in attrs:
                continue
            name = re.search(r'Name="([^"]*)"', attrs).group(1)
            off = start + int(re.search(r'offset="(\d+)"', attrs).group(1))
            if b64:
                first = base64.b64decode(raw[off:off + 4 * math.ceil(3 * hs / 3)])
                nb = struct.unpack_from("<" + hq, first)[0]
                hlen = 4 * math.ceil((3 + nb) * hs / 3)
                hdr = base64.b64decode(raw[off:off + hlen])
                _, _, _, *sizes = struct.unpack_from("<%d%s" % (3 + nb, hq), hdr)
                dlen = 4 * math.ceil(sum(sizes) / 3)
                data = base64.b64decode(raw[off + hlen:off + hlen + dlen])
                p = 0
            else:
                nb = struct.unpack_from("<" + hq, raw, off)[0]
                _, _, _, *sizes = struct.unpack_from("<%d%s" % (3 + nb, hq), raw, off)
                data, p = raw, off + (3 + nb) * hs
            buf = bytearray()
            for s_ in sizes:
                buf += zlib.decompress(data[p:p + s_]); p += s_
            a = np.frombuffer(bytes(buf), dtype="<f4")
            assert a.size == dims[0] * dims[1] * dims[2], (name, a.size, dims)
            out.append((name, a.reshape(dims[2], dims[1], dims[0]).astype(np.float32)))
    return out


def read_vti(path):
    return read_vtk(path)[0][1]


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    rng = float(a.max() - a.min())
    return 20 * math.log10(rng) - 10 * math.log10(mse) if mse > 0 else float("inf")


def multi(codec):
    """Each variable compressed on its own with error bound rel * its range; total ratio
    over all variables, PSNR averaged over variables (each over its own range)."""
    def f(arrays, rel):
        raw = comp = 0; ps = []; tc = td = 0.0
        for a in arrays:
            eb = rel * float(a.max() - a.min())
            n, dec, c, d = codec(a, eb)
            raw += a.nbytes; comp += n; tc += c; td += d; ps.append(psnr(a, dec))
        return raw / comp, sum(ps) / len(ps), tc, td, rel, ps
    return f


def _sz3(a, eb):
    c = szConfig(); c.errorBoundMode = szErrorBoundMode.ABS; c.absErrorBound = eb
    t = time.perf_counter(); cmp, _ = sz.compress(a, c); tc = time.perf_counter() - t
    t = time.perf_counter(); dec, _ = sz.decompress(cmp, np.float32, a.shape); td = time.perf_counter() - t
    return len(cmp), dec, tc, td


def _zfp(a, tol):
    t = time.perf_counter(); buf = zfpy.compress_numpy(a, tolerance=tol); tc = time.perf_counter() - t
    t = time.perf_counter(); dec = zfpy.decompress_numpy(buf); td = time.perf_counter() - t
    return len(buf), dec, tc, td


sz3, zfp = multi(_sz3), multi(_zfp)


def bisect(f, arrays, target, tol_rel):
    """Relative error bound (log-space bisection) so that f's ratio is closest to target."""
    lo, hi = math.log(1e-9), math.log(1.0)
    best = None
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        r = f(arrays, math.exp(mid))
        if best is None or abs(r[0] - target) < abs(best[0] - target):
            best = r
        if abs(r[0] / target - 1) <= tol_rel:
            break
        if r[0] < target:
            lo = mid
        else:
            hi = mid
    return best


def inr_encode(vti, ratio, out, steps, minutes, blocks=3):
    cmd = [INR, "encode", vti, "-o", out, "--ratio", str(ratio), "--steps", str(steps), "--device", "cpu",
           "--blocks", str(blocks)]
    if minutes:
        cmd += ["--max-minutes", str(minutes)]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        return dict(error=p.stderr.strip(), cmd=" ".join(cmd))
    rep = p.stdout
    ratio_a = float(re.search(r"ratio ([\d.]+)", rep).group(1))
    size = os.path.getsize(out)
    mean = re.search(r"^mean\s+([\d.]+)", rep, re.M)
    tr = re.search(r"training: (\d+) steps in ([\d.]+) s", rep)
    net = re.search(r"network: width (\d+) blocks (\d+)", rep)
    return dict(width=int(net.group(1)), blocks=int(net.group(2)), ratio=ratio_a, size=size, psnr=float(mean.group(1)), steps=int(tr.group(1)),
                train_s=float(tr.group(2)), wall=wall, report=rep, cmd=" ".join(cmd))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vti"); ap.add_argument("name")
    ap.add_argument("--ratios", type=float, nargs="+", default=[100, 200, 500])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--max-minutes", type=float, default=2.0)
    args = ap.parse_args()
    arrays = [x for _, x in read_vtk(args.vti)]
    raw_bytes = sum(x.nbytes for x in arrays)
    os.makedirs("bench/results", exist_ok=True)
    rows, logs = [], []
    for R in args.ratios:
        out = f"bench/results/{args.name}_cr{int(R)}.inr"
        for blocks in (3, 2, 1):  # 3 is the default; fewer only where 3 does not fit the budget
            e = inr_encode(args.vti, R, out, args.steps, args.max_minutes, blocks)
            logs.append(f"$ {e['cmd']}\n" + e.get("error", "") + "\n")
            if "error" not in e:
                break
        if "error" in e:
            continue
        actual = raw_bytes / e["size"]
        s = bisect(sz3, arrays, actual, 0.01)
        z = bisect(zfp, arrays, actual, 0.01)
        rows.append((R, actual, e, s, z))
        logs[-1] = f"$ {e['cmd']}\n{e['report']}"
        print(f"CR {R}: inr {actual:.1f} {e['psnr']:.2f} dB | SZ3 {s[0]:.1f} {s[1]:.2f} dB | ZFP {z[0]:.1f} {z[1]:.2f} dB", flush=True)
    md = [f"# {args.name}: rate-distortion (first, reduced set)\n",
          f"Data: `{args.vti}` ({len(arrays)} float32 arrays of {arrays[0].shape[2]}x{arrays[0].shape[1]}x{arrays[0].shape[0]}, {raw_bytes} bytes). "
          "SZ3/ZFP: each array compressed on its own, error bound = rel * its range, rel bisected on the total ratio; "
          "PSNR averaged over the arrays. "
          f"inr: `--steps {args.steps} --max-minutes {args.max_minutes} --device cpu` (2 CPU threads), default width/bits. "
          "PSNR = 20 log10(max-min) - 10 log10(MSE) over the original range; inr PSNR from its report "
          "(through the Rust decoder); actual ratio = float32 bytes / .inr file bytes.\n",
          "| CR target | inr CR | inr width/blocks | inr PSNR (dB) | inr steps | inr train s / total s | SZ3 CR | SZ3 PSNR (dB) | SZ3 rel eb | SZ3 comp/decomp s | ZFP CR | ZFP PSNR (dB) | ZFP rel tol | ZFP comp/decomp s |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for R, actual, e, s, z in rows:
        md.append(f"| {R:g} | {actual:.1f} | {e['width']}/{e['blocks']} | {e['psnr']:.2f} | {e['steps']} | {e['train_s']:.1f} / {e['wall']:.1f} | "
                  f"{s[0]:.1f} | {s[1]:.2f} | {s[4]:.3g} | {s[2]:.3f} / {s[3]:.3f} | "
                  f"{z[0]:.1f} | {z[1]:.2f} | {z[4]:.3g} | {z[2]:.3f} / {z[3]:.3f} |")
    md.append("\n## inr encode reports\n\n```\n" + "\n".join(logs) + "```\n")
    open(f"bench/results/{args.name}.md", "w").write("\n".join(md))


if __name__ == "__main__":
    main()
