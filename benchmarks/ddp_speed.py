"""1 process against N processes under torchrun (gloo on CPU, NCCL on CUDA), same config, same data.

Trains the same run once per setting, each in its own run folder, and prints training seconds (the trainer's
active time: evaluation included, embedding excluded), samples/s, the speed-up against the first setting
and the largest per-epoch difference in validation cosine against it (the same trajectory, up to float
reduction order, is the point of the sharding scheme).

    python benchmarks/ddp_speed.py [--data ../shared/data/medquad_dev.csv] [--rows 2000] [--epochs 2]
                                   [--nproc 1,2] [--device cpu|cuda] [--preset recommended] [--set KEY=VALUE ...]

Settings: "plain" is workbench-train without torchrun (torch's default threads), "plain-1t" the same with
OMP_NUM_THREADS=1 (so the gain of N processes is not confused with threading); each N in --nproc is
torchrun --standalone --nproc-per-node N (torchrun gives each process OMP_NUM_THREADS=1 when N > 1).
On a 2-core machine, 1 vs 2 processes compares 2 threads in one process with 1 thread in each of two.
With --device cuda, use --nproc 1 per GPU count (1 GPU: --nproc 1 runs the NCCL path as a group of one).
The first `--rows` rows of --data are written to a temporary CSV (whole documents stay together in the
split through its `document` column); nothing is written into the project.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def subset(src: Path, rows: int, dest: Path) -> int:
    with src.open(newline="", encoding="utf-8") as fh, dest.open("w", newline="", encoding="utf-8") as out:
        reader = csv.reader(fh)
        writer = csv.writer(out)
        written = -1                       # the header is row 0
        for row in reader:
            if written >= rows:
                break
            writer.writerow(row)
            written += 1
    return written


def run(setting: str, data: Path, out: Path, cache: Path, args) -> dict:
    train = ["-m", "workbench.cli.train", str(data), "--out", str(out), "--cache-dir", str(cache),
             "--epochs", str(args.epochs), "--preset", args.preset, "--set", f"device={args.device}", "--quiet"]
    for kv in args.set:
        train += ["--set", kv]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if setting.startswith("plain"):
        cmd = [sys.executable, *train]
        if setting == "plain-1t":
            env["OMP_NUM_THREADS"] = "1"
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={setting}", *train]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"{setting}: failed\n{proc.stderr[-3000:]}")
    m = json.loads((out / "metrics.json").read_text())
    hist = [float(r["val_cosine"]) for r in csv.DictReader((out / "history.csv").open())]
    return {"setting": setting, "world": m["world_size"], "backend": m["backend"], "device": m["device"],
            "seconds": m["seconds"], "wall": wall, "samples_s": m["n_train"] * m["epochs_run"] / m["seconds"],
            "val": hist, "n_train": m["n_train"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "medquad_dev.csv"))
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--nproc", default="1,2", help="comma-separated process counts for torchrun")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--preset", default="recommended")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--no-plain", action="store_true", help="skip the two runs without torchrun")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "subset.csv"
        n = subset(Path(args.data), args.rows, data)
        settings = ([] if args.no_plain else ["plain", "plain-1t"]) + args.nproc.split(",")
        print(f"{n} rows of {args.data}, preset {args.preset}, {args.epochs} epoch(s), device {args.device}, "
              f"{os.cpu_count()} CPU core(s)")
        results = [run(s, data, tmp / f"run-{s}", tmp / "cache", args) for s in settings]
    base = results[0]
    print(f"{'setting':<12}{'procs':>6}{'backend':>9}{'device':>8}{'train s':>10}{'samples/s':>11}"
          f"{'speed-up':>10}{'max |Δ val cos|':>17}{'final val cos':>15}")
    for r in results:
        diff = max(abs(a - b) for a, b in zip(r["val"], base["val"]))
        name = r["setting"] if r["setting"].startswith("plain") else f"torchrun {r['setting']}"
        print(f"{name:<12}{r['world']:>6}{r['backend']:>9}{r['device']:>8}{r['seconds']:>10.1f}"
              f"{r['samples_s']:>11.0f}{base['seconds'] / r['seconds']:>9.2f}×{diff:>17.2e}{r['val'][-1]:>15.4f}")
    print("speed-up = first setting's training seconds / this one's; Δ val cos against the first setting, per epoch")


if __name__ == "__main__":
    main()
