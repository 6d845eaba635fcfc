#!/usr/bin/env python3
"""Does ECNR's seam CNN (seed 002, section 3.6) pay for its bytes? A measurement, not a feature.

    python3 bench/ecnr_cnn.py vf20 bench/results/vf20_ecnr_cr200.inr [--channels 8] [--layers 3]
        [--minutes 2] [--threads 1]

Decodes the file's native grid at every stored step through `inr decode`, then trains the paper's
post-processing network on (decoded, original) pairs: `layers` 3x3x3 convolutions of `channels`
channels (the paper: 5 x 32), ReLU between them, added to the decoded volume (one channel per
variable, each scaled by its range), Adam for a fixed time. Its weights are then quantized to 9 bits
per tensor as the paper does (no fine-tuning) and the whole series is evaluated again. The last line
is `RESULT {json}`: PSNR before and after (mean over the variables, over the whole series), the
CNN's bytes at 9 bits and the file's, so that the gain can be set against what the same bytes buy
the MLPs (docs/benchmarks.md, "ECNR (seed 002)").
"""

import argparse
import base64
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rd  # noqa: E402  (the datasets and the VTK reader)


def step_times(path):
    """The stored times of a .pvd, or [None] for a single file."""
    if not path.endswith(".pvd"):
        return [None]
    sets = ET.parse(path).getroot().iter("DataSet")
    return sorted(float(d.get("timestep")) for d in sets)


def read_inline(path):
    """{name: float32 (z, y, x)} of the .vti/.vtr `inr decode` writes: inline base64, UInt64 header."""
    root = ET.parse(path).getroot()
    grid = root[0]
    e = [int(v) for v in grid.get("WholeExtent").split()]
    pdims = (e[5] - e[4] + 1, e[3] - e[2] + 1, e[1] - e[0] + 1)
    out = {}
    for section, dims in (("PointData", pdims), ("CellData", tuple(max(d - 1, 1) for d in pdims))):
        for da in grid.find("Piece").findall(section + "/DataArray"):
            raw = base64.b64decode(da.text.strip())
            n = int(np.frombuffer(raw[:8], "<u8")[0])
            out[da.get("Name")] = np.frombuffer(raw[8:8 + n], "<f4").reshape(dims)
    return out


def decode_series(inr, model, src, times, names):
    """[(t, z, y, x) float32 per variable] of the file's native grid at every time."""
    out = {n: [] for n in names}
    suffix = ".vtr" if src.endswith(".vtr") else ".vti"  # the stored grid's own kind
    with tempfile.TemporaryDirectory() as tmp:
        for t in times:
            dst = os.path.join(tmp, "d" + suffix)
            cmd = [inr, "decode", model, "-o", dst] + ([] if t is None else ["--time", repr(t)])
            subprocess.run(cmd, check=True, capture_output=True)
            got = read_inline(dst)
            for n in names:
                out[n].append(got[n])
    return [np.stack(out[n]) for n in names]


def network(vars_, channels, layers):
    mods, c = [], vars_
    for i in range(layers):
        last = i == layers - 1
        mods.append(torch.nn.Conv3d(c, vars_ if last else channels, 3, padding=1, padding_mode="replicate"))
        if not last:
            mods.append(torch.nn.ReLU())
        c = channels
    net = torch.nn.Sequential(*mods)
    with torch.no_grad():  # starts as the identity correction
        net[-1].weight.zero_()
        net[-1].bias.zero_()
    return net


def quantize_(net, bits):
    """Uniform per-tensor quantization in place; returns the bytes it takes (values + min/max)."""
    total = 0
    with torch.no_grad():
        for p in net.parameters():
            lo, hi = float(p.min()), float(p.max())
            levels = (1 << bits) - 1
            if hi > lo:
                q = torch.round((p - lo) / (hi - lo) * levels)
                p.copy_(lo + q * (hi - lo) / levels)
            total += math.ceil(p.numel() * bits / 8) + 8
    return total


def psnrs(net, dec, gt, ranges):
    """Mean PSNR over the variables of the whole series, net applied per step (None: as decoded)."""
    vals = []
    with torch.no_grad():
        fixed = dec if net is None else np.stack(
            [(torch.from_numpy(s)[None] + net(torch.from_numpy(s)[None]))[0].numpy() for s in dec])
    for v, rng in enumerate(ranges):
        vals.append(rd.psnr(gt[:, v] * rng, fixed[:, v] * rng, rng))
    return float(np.mean(vals))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", choices=sorted(rd.DATASETS))
    ap.add_argument("model")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--crop", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--inr", default=rd.INR)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    src = rd.DATASETS[args.dataset]
    truth = rd.read_dataset(src)
    names = [n for n, _ in truth]
    arrays = [a if a.ndim == 4 else a[None] for _, a in truth]
    lows = [float(a.min()) for a in arrays]
    ranges = [float(a.max()) - lo for a, lo in zip(arrays, lows)]
    dec = decode_series(args.inr, args.model, src, step_times(src), names)
    norm = lambda xs: np.stack([(x - lo) / r for x, lo, r in zip(xs, lows, ranges)], axis=1).astype(np.float32)
    gt, dec = norm(arrays), norm(dec)  # (t, vars, z, y, x)

    net = network(len(names), args.channels, args.layers)
    before = psnrs(None, dec, gt, ranges)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    dims = dec.shape[2:]
    crop = [min(args.crop, d) for d in dims]
    rng = np.random.default_rng(0)
    steps, start = 0, time.time()
    while time.time() - start < args.minutes * 60:
        t = rng.integers(dec.shape[0])
        o = [rng.integers(d - c + 1) for d, c in zip(dims, crop)]
        sl = (slice(t, t + 1), slice(None)) + tuple(slice(a, a + c) for a, c in zip(o, crop))
        x, y = torch.from_numpy(dec[sl]), torch.from_numpy(gt[sl])
        loss = torch.mean((x + net(x) - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    trained = psnrs(net, dec, gt, ranges)
    cnn_bytes = quantize_(net, 9)
    after = psnrs(net, dec, gt, ranges)
    file_bytes = os.path.getsize(args.model)
    raw = sum(a.size for a in arrays) * 4
    res = {
        "dataset": args.dataset, "model": args.model, "channels": args.channels, "layers": args.layers,
        "params": sum(p.numel() for p in net.parameters()), "steps": steps, "minutes": args.minutes,
        "threads": args.threads, "psnr_before": round(before, 3), "psnr_trained": round(trained, 3),
        "psnr_after_9bit": round(after, 3), "gain_db": round(after - before, 3),
        "file_bytes": file_bytes, "cnn_bytes": cnn_bytes,
        "ratio_before": round(raw / file_bytes, 2), "ratio_after": round(raw / (file_bytes + cnn_bytes), 2),
    }
    print(f"{args.dataset}: {before:.2f} dB -> {after:.2f} dB with a {res['params']}-parameter CNN "
          f"({cnn_bytes} B at 9 bits, file {file_bytes} B), {steps} steps in {args.minutes} min")
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main()
