#!/usr/bin/env python3
"""NeRVI against still-image codecs at equal bytes, on a Cinema database of renderings.

Usage (from the repository root, with the python3 of the torch venv: numpy, pillow):
  python3 bench/nervi_rd.py DB.cdb [--ratios 100 300 1000] [--max-minutes 3] [--out NAME]
DB.cdb is a Cinema database from scripts/render_sweep.py. Writes bench/results/nervi/NAME.json
and NAME.md.

Method, per target ratio R (the collection counted as 4 bytes per pixel: RGB and mask):
- NeRVI: `inr encode DB --method nervi --ratio R --max-minutes M --device cpu` (release binary,
  $CARGO_TARGET_DIR or ~/.cache/inr/target); then every stored image decoded by
  `inr decode FILE --params ... -o x.png` (the composite over white) and compared here.
- The reference of every codec is the rendered composite: mask x RGB + (1 - mask) x white,
  rounded to 8 bits (what a viewer shows).
- JPEG (libjpeg through Pillow, 4:2:0) and AVIF (AV1 still images, libavif/aom through Pillow,
  speed 6): every composite at one quality setting, the highest whose total bytes stay within
  NeRVI's file (bisected); "above budget" where even the lowest quality is larger. "AVIF
  downscaled": the images reduced 2, 4 or 8 times (Lanczos), AVIF at the budget, upscaled back
  (bicubic); the scale with the best PSNR. PNG: the lossless size of the composites and of the
  database's own RGBA files. The mean image (one picture for all) is the floor of any method.
- Decode speed: examples/bench_nervi.rs (the `inr decode` processes here load libtorch).
- PSNR over all pixels and channels of all images (8-bit peak); SSIM as the Rust encoder's
  (11 x 11 Gaussian window, sigma 1.5, valid positions, mean over channels), averaged over images.
"""
import argparse
import csv
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def inr_binary():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/inr/target"))
    return os.path.join(target, "release", "inr")


def load(db):
    """Rows (params dict, RGBA uint8 array) of the database, and its parameter names."""
    with open(os.path.join(db, "data.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    names = [k for k in rows[0] if k != "FILE"]
    images = []
    for r in rows:
        rgba = np.asarray(Image.open(os.path.join(db, r["FILE"])).convert("RGBA"), dtype=np.float64)
        params = {k: float(r[k]) for k in names}
        images.append((params, rgba))
    return names, images


def composite(rgba):
    a = rgba[..., 3:4] / 255.0
    return np.round((rgba[..., :3] / 255.0 * a + (1.0 - a)) * 255.0).astype(np.uint8)


def gaussian(k=11, sigma=1.5):
    x = np.arange(k) - (k - 1) / 2.0
    g = np.exp(-x * x / (2 * sigma * sigma))
    return g / g.sum()


def blur(x, g):
    """Valid separable filtering of [H, W, C] along H and W."""
    k = len(g)
    h = sum(g[i] * x[i:x.shape[0] - k + 1 + i] for i in range(k))
    return sum(g[i] * h[:, i:h.shape[1] - k + 1 + i] for i in range(k))


def ssim(a, b):
    a = a.astype(np.float64) / 255.0
    b = b.astype(np.float64) / 255.0
    g = gaussian(min(11, a.shape[0], a.shape[1]))
    mu_a, mu_b = blur(a, g), blur(b, g)
    va = blur(a * a, g) - mu_a ** 2
    vb = blur(b * b, g) - mu_b ** 2
    cov = blur(a * b, g) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    m = (2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a ** 2 + mu_b ** 2 + c1) * (va + vb + c2))
    return float(m.mean())


def quality(refs, got):
    se = sum(float(((r.astype(np.float64) - g) ** 2).sum()) for r, g in zip(refs, got))
    n = sum(r.size for r in refs)
    psnr = 10 * np.log10(255.0 ** 2 / max(se / n, 1e-12))
    return psnr, float(np.mean([ssim(r, g) for r, g in zip(refs, got)]))


def codec_bytes(img, fmt, q, scale=1):
    """`img` compressed at quality `q`, downscaled by `scale` first (Lanczos)."""
    pic = Image.fromarray(img)
    if scale > 1:
        pic = pic.resize((img.shape[1] // scale, img.shape[0] // scale), Image.LANCZOS)
    buf = io.BytesIO()
    if fmt == "JPEG":
        pic.save(buf, "JPEG", quality=q)
    else:
        pic.save(buf, "AVIF", quality=q, speed=6)
    return buf.getvalue()


def at_budget(refs, fmt, budget, lo, hi, scale=1):
    """The highest quality in [lo, hi] whose total bytes fit `budget`, and its results."""
    def total(q):
        blobs = [codec_bytes(r, fmt, q, scale) for r in refs]
        return sum(len(b) for b in blobs), blobs
    size, blobs = total(lo)
    if size > budget:
        return {"quality": lo, "scale": scale, "bytes": size, "above_budget": True,
                **measured(refs, blobs)}
    while hi - lo > 1:
        mid = (lo + hi) // 2
        s, b = total(mid)
        if s <= budget:
            lo, size, blobs = mid, s, b
        else:
            hi = mid
    s, b = total(hi)
    if s <= budget:
        lo, size, blobs = hi, s, b
    return {"quality": lo, "scale": scale, "bytes": size, "above_budget": False,
            **measured(refs, blobs)}


def best_downscaled(refs, budget):
    """AVIF of the images downscaled by 2, 4 or 8 (and upscaled back bicubically), the
    scale that fits `budget` with the best PSNR: what a still codec can do at high ratios."""
    fits = [at_budget(refs, "AVIF", budget, 0, 100, s) for s in (2, 4, 8)]
    fits = [f for f in fits if not f["above_budget"]] or fits[-1:]
    return max(fits, key=lambda f: f["psnr"])


def measured(refs, blobs):
    start = time.perf_counter()
    got = []
    for r, b in zip(refs, blobs):
        pic = Image.open(io.BytesIO(b)).convert("RGB")
        if pic.size != (r.shape[1], r.shape[0]):
            pic = pic.resize((r.shape[1], r.shape[0]), Image.BICUBIC)
        got.append(np.asarray(pic))
    seconds = time.perf_counter() - start
    psnr, s = quality(refs, got)
    return {"psnr": psnr, "ssim": s, "decode_ms_per_image": 1e3 * seconds / len(refs)}


def nervi(args, db, names, images, ratio, work):
    inr = inr_binary()
    out = os.path.join(work, f"r{ratio}.inr")
    report = os.path.join(work, f"r{ratio}.json")
    cmd = [inr, "encode", db, "-o", out, "--method", "nervi", "--ratio", str(ratio),
           "--max-minutes", str(args.max_minutes), "--device", "cpu", "--report-json", report]
    cmd += shlex.split(args.extra)
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    rep = json.load(open(report))
    got, seconds = [], 0.0
    for params, _ in images:
        png = os.path.join(work, "view.png")
        spec = ",".join(("t" if k == "time" else k) + f"={v!r}" for k, v in params.items())
        start = time.perf_counter()
        subprocess.run([inr, "decode", out, "--params", spec, "-o", png, "--threads", "1"],
                       check=True, stderr=subprocess.DEVNULL)
        seconds += time.perf_counter() - start
        got.append(np.asarray(Image.open(png).convert("RGB")))
    psnr, s = quality([composite(i) for _, i in images], got)
    return {"bytes": os.path.getsize(out), "psnr": psnr, "ssim": s,
            "encoder_psnr": rep["file_quality"]["psnr"], "channels": rep["channels"],
            "parameters": rep["parameters"], "steps": rep["training"]["steps"],
            "train_seconds": rep["training"]["seconds"],
            "decode_ms_per_image": 1e3 * seconds / len(images)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db")
    ap.add_argument("--ratios", type=float, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--max-minutes", type=float, default=3.0)
    ap.add_argument("--extra", default="", help="appended to every inr encode command line")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    names, images = load(args.db)
    refs = [composite(i) for _, i in images]
    h, w = refs[0].shape[:2]
    raw = len(images) * w * h * 4
    png_composites = sum(len(_png(r)) for r in refs)
    png_db = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(args.db) for f in fs)
    mean = np.mean(np.stack(refs).astype(np.float64), axis=0)
    mean_psnr, _ = quality(refs, [mean] * len(refs))
    name = args.out or os.path.basename(os.path.normpath(args.db)).removesuffix(".cdb")
    result = {"database": args.db, "images": len(images), "width": w, "height": h,
              "raw_bytes": raw, "png_composites_bytes": png_composites, "png_database_bytes": png_db,
              "mean_image_psnr": mean_psnr, "max_minutes": args.max_minutes, "rows": []}
    with tempfile.TemporaryDirectory() as work:
        for ratio in args.ratios:
            n = nervi(args, args.db, names, images, ratio, work)
            row = {"ratio": ratio, "nervi": n,
                   "jpeg": at_budget(refs, "JPEG", n["bytes"], 1, 95),
                   "avif": at_budget(refs, "AVIF", n["bytes"], 0, 100),
                   "avif_downscaled": best_downscaled(refs, n["bytes"])}
            result["rows"].append(row)
            print(json.dumps(row), flush=True)
    out_dir = os.path.join(ROOT, "bench", "results", "nervi")
    os.makedirs(out_dir, exist_ok=True)
    json.dump(result, open(os.path.join(out_dir, name + ".json"), "w"), indent=1)
    md = table(result)
    open(os.path.join(out_dir, name + ".md"), "w").write(md)
    print(md)


def _png(img):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def table(r):
    lines = [f"{r['images']} images of {r['width']} x {r['height']}; raw (RGB + mask) "
             f"{r['raw_bytes']} bytes; PNG composites {r['png_composites_bytes']} bytes "
             f"(ratio {r['raw_bytes'] / r['png_composites_bytes']:.1f}); the mean image's PSNR "
             f"{r['mean_image_psnr']:.2f} dB; NeRVI trained {r['max_minutes']} min on the CPU.", "",
             "| target ratio | NeRVI bytes | NeRVI PSNR / SSIM | JPEG | AVIF | AVIF downscaled |",
             "|---|---|---|---|---|---|"]
    for row in r["rows"]:
        n = row["nervi"]
        def cell(c):
            flag = ", above budget" if c["above_budget"] else ""
            scale = f", 1/{c['scale']} size" if c.get("scale", 1) > 1 else ""
            return (f"{c['psnr']:.2f} / {c['ssim']:.3f} (q {c['quality']}{scale}, "
                    f"{c['bytes']} B{flag})")
        lines.append(f"| {row['ratio']:g} | {n['bytes']} | {n['psnr']:.2f} / {n['ssim']:.3f} "
                     f"(c2 {n['channels']}, {n['steps']} steps) | {cell(row['jpeg'])} | "
                     f"{cell(row['avif'])} | {cell(row['avif_downscaled'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
