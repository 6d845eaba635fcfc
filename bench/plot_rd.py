#!/usr/bin/env python3
"""Rate-distortion plot of the results bench/rd.py wrote.

Usage (from the repository root, python3 with matplotlib):
  python3 bench/plot_rd.py [--results bench/results] [--out docs/rd.png]

Reads every bench/results/*.json that carries rd.py's "rd_benchmark" key (the per-encode reports
<name>_cr<R>.json do not) and draws one panel per dataset: x = compression ratio (log scale),
y = mean PSNR over the variables (dB), one series each for inr, SZ3 and ZFP, at the ratios actually
reached. A dataset's full run is preferred over its --baselines-only run. Open ZFP markers: ZFP's
largest ratio at the largest error bound tried, below the target.
"""
import argparse
import glob
import json
import math
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

MARKER = "rd_benchmark"
ORDER = ["vf1", "vf20", "isabel1", "isabel4", "cth"]
STYLE = {"inr": dict(color="C3", marker="o"), "SZ3": dict(color="C0", marker="s"), "ZFP": dict(color="C2", marker="^")}


def load(folder):
    """{dataset: result} from rd.py's JSON files, full runs over --baselines-only ones."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path) as f:
            res = json.load(f)
        if not isinstance(res, dict) or MARKER not in res:
            continue
        have = out.get(res["dataset"])
        if have is None or (have["baselines_only"] and not res["baselines_only"]):
            out[res["dataset"]] = res
    return out


def series(res):
    """{label: [(ratio, mean PSNR, reached)]} sorted by ratio."""
    pts = {"inr": [], "SZ3": [], "ZFP": []}
    for row in res["rows"]:
        rep = row.get("inr", {}).get("report")
        if rep:
            pts["inr"].append((rep["ratio"], rep["mean_psnr"], True))
        for key, label in (("sz3", "SZ3"), ("zfp", "ZFP")):
            if key in row:
                pts[label].append((row[key]["ratio"], row[key]["mean_psnr"], row[key]["reached"]))
    return {k: sorted(set(v)) for k, v in pts.items() if v}


def title(res):
    shape = res["variables"][0]["shape"]
    grid = "x".join(str(d) for d in reversed(shape[-3:]))
    steps = f", {shape[0]} steps" if len(shape) == 4 else ""
    nvar = len(res["variables"])
    what = res["variables"][0]["name"] if nvar == 1 else f"{nvar} variables"
    return f"{res['dataset']}: {what}, {grid}{steps}"


def panel(ax, res):
    for label, pts in series(res).items():
        x, y = [p[0] for p in pts], [p[1] for p in pts]
        ax.plot(x, y, label=label, linewidth=1.5, markersize=6, **STYLE[label])
        capped = [p for p in pts if not p[2]]
        if capped:
            ax.plot([p[0] for p in capped], [p[1] for p in capped], linestyle="none", markersize=9,
                    label=f"{label}: max ratio, below target", marker=STYLE[label]["marker"], markerfacecolor="white", markeredgecolor=STYLE[label]["color"])
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_title(title(res) + (" (baselines only)" if res["baselines_only"] else ""), fontsize=11)
    ax.set_xlabel("compression ratio (float32 bytes / compressed bytes)")
    ax.set_ylabel("mean PSNR (dB)")
    ax.grid(True, which="both", alpha=0.3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default="bench/results")
    ap.add_argument("--out", default="docs/rd.png")
    args = ap.parse_args()
    results = load(args.results)
    if not results:
        raise SystemExit(f"no rd.py results (JSON with key {MARKER!r}) in {args.results}")
    names = [n for n in ORDER if n in results] + sorted(set(results) - set(ORDER))
    cols = min(len(names), 3)
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(14, 4.2 * rows), dpi=100, squeeze=False)
    for ax, name in zip(axes.flat, names):
        panel(ax, results[name])
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    legend = {}
    for ax in axes.flat[:len(names)]:
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
    legend = dict(sorted(legend.items(), key=lambda kv: (list(STYLE).index(kv[0].split(":")[0]), kv[0])))
    fig.suptitle("Rate-distortion: inr vs SZ3 (ABS) and ZFP (accuracy), equal compression ratio", fontsize=13)
    fig.legend(legend.values(), legend.keys(), loc="upper center", ncol=len(legend), fontsize=10,
               bbox_to_anchor=(0.5, 1 - 0.45 / fig.get_figheight()))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.75 / fig.get_figheight()))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out} ({len(names)} panels)")


if __name__ == "__main__":
    main()
