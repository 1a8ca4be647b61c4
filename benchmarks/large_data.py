"""The "large data" figures on MedQuAD: embedding cold and warm, a training epoch, and peak memory.

    python benchmarks/large_data.py [--data medquad_dev.csv] [--cache-dir DIR] [--cold] [--rows N]
                                    [--epochs 1] [--preset NAME]

Each run below is a fresh Python process doing what `workbench-train DATA --epochs 1` does (prepare:
load, data rules, teacher embeddings, split; then training), so its peak RSS is a real run's:
  cold (only with --cold; minutes on 2 cores): an empty cache, every text through the teacher;
  warm: the cache filled by the cold run (or an earlier one in --cache-dir): a batched cache read and
        zero model calls.
Printed per run: embedding time and texts/s, model batches, epoch time (training + validation),
samples/s, and the RSS after each stage, so it shows where memory goes. Target: peak RSS <= 2 GB.
--rows N keeps the first N rows (written to a temporary CSV) for a quick check on a busy machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_RSS_MB = 2048


def default_data() -> Path:
    for base in (ROOT.parent, ROOT.parents[1]):               # beside the repo, or beside a worktree's folder
        if (base / "shared" / "data" / "medquad_dev.csv").exists():
            return base / "shared" / "data" / "medquad_dev.csv"
    return ROOT.parent / "shared" / "data" / "medquad_dev.csv"


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB (Linux /proc; peak from getrusage)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # KiB on Linux
    try:
        with open("/proc/self/status") as fh:
            cur = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        cur = float("nan")
    return cur, peak


def child(args) -> None:
    """One run in this process: prepare (embeddings) and `epochs` epochs; one JSON line on stdout at the end."""
    stages = {"start": rss_mb()}
    from workbench.cli.progress import Printer
    from workbench.teacher.encoder import Teacher
    from workbench.train.config import RunConfig, apply_preset, set_value
    from workbench.train.events import BatchProgress, EpochMetrics
    from workbench.train.pipeline import prepare
    from workbench.train.trainer import TrainingState, train
    cfg = apply_preset(RunConfig(), args.preset)
    cfg.teacher.cache_dir = args.cache_dir
    set_value(cfg, "optim.epochs", args.epochs)
    stages["imports"] = rss_mb()
    printer = Printer(interval=30.0)
    teacher = Teacher(cfg.teacher)
    t0 = time.perf_counter()
    prepared = prepare(cfg, args.data, teacher=teacher, progress=printer)
    t_prepare = time.perf_counter() - t0
    st = teacher.last_stats
    stages["embedded"] = rss_mb()
    teacher.unload()                                           # as in the CLI: the model is not kept for training
    out = tempfile.mkdtemp(prefix="large-data-run-")
    state = TrainingState.create(cfg, prepared.data, out_dir=out)
    epochs, last_rate = [], 0.0
    for ev in train(state):
        printer(ev)
        if isinstance(ev, BatchProgress):
            last_rate = ev.samples_per_s
        elif isinstance(ev, EpochMetrics):
            epochs.append(ev.metrics["seconds"])
    stages["trained"] = rss_mb()
    print(json.dumps({"texts": st.texts, "distinct": st.distinct, "hits": st.cache_hits, "encoded": st.encoded,
                      "truncated": st.truncated, "model_batches": st.model_batches, "embed_s": st.seconds,
                      "prepare_s": t_prepare, "n_train": len(prepared.train), "n_val": len(prepared.val),
                      "epoch_s": epochs, "samples_per_s": last_rate, "stages": stages,
                      "peak_mb": rss_mb()[1], "cache_files": sorted(p.name for p in Path(args.cache_dir).iterdir())}))


def run_child(args, cache_dir: str, label: str) -> dict:
    cmd = [sys.executable, __file__, "--child", "--data", args.data, "--cache-dir", cache_dir,
           "--epochs", str(args.epochs), "--preset", args.preset]
    print(f"--- {label} run ({cache_dir}) ---", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        sys.exit(f"{label} run failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(label: str, r: dict, cache_dir: str) -> None:
    size = sum(p.stat().st_size for p in Path(cache_dir).iterdir() if p.is_file()) / 1e6
    rate = r["encoded"] / r["embed_s"] if r["encoded"] else r["distinct"] / max(r["embed_s"], 1e-9)
    what = (f"{r['encoded']:,} texts encoded, {rate:.1f} texts/s" if r["encoded"]
            else f"all {r['hits']:,} from the cache, {r['embed_s']:.2f} s (0 model calls)")
    print(f"{label}: {r['texts']:,} texts ({r['distinct']:,} distinct, {r['truncated']:,} truncated); embedding "
          f"{what}, {r['embed_s']:.1f} s; {r['model_batches']} model batches")
    ep = r["epoch_s"]
    print(f"  epoch: {ep[0]:.1f} s for {r['n_train']:,} training pairs (+{r['n_val']:,} validation) = "
          f"{r['n_train'] / ep[0]:.0f} samples/s incl. evaluation; last batches {r['samples_per_s']:.0f} samples/s")
    stages = ", ".join(f"{k} {cur:.0f}" for k, (cur, _) in r["stages"].items())
    verdict = "ok" if r["peak_mb"] <= TARGET_RSS_MB else "OVER the 2 GB target"
    print(f"  RSS MB after: {stages}; peak {r['peak_mb']:.0f} MB ({verdict})")
    print(f"  cache: {len(r['cache_files'])} file(s), {size:.1f} MB for "
          f"{r['distinct'] * 384 * 4 / 1e6:.1f} MB of float32 vectors (384-d)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--cache-dir", help="reuse this cache (default: a fresh temporary folder, which needs --cold)")
    ap.add_argument("--cold", action="store_true", help="embed into an empty cache first (minutes on 2 cores)")
    ap.add_argument("--rows", type=int, help="use only the first N rows")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--preset", help="default: the one workbench-train picks for the data's size")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    tmp = tempfile.TemporaryDirectory(prefix="large-data-")
    if args.rows:
        with open(args.data, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            rows = [next(reader)] + list(islice(reader, args.rows))
        args.data = os.path.join(tmp.name, f"first{args.rows}.csv")
        with open(args.data, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
    if not args.preset:                 # as workbench-train without --preset: 'large-data' for thousands of pairs
        from workbench.data.dataset import load_dataset
        from workbench.train.config import suggested_preset
        args.preset = suggested_preset(len(load_dataset(args.data)))
    if not args.cache_dir and not args.cold:
        ap.error("give --cache-dir DIR (a cache filled by an earlier run) or --cold")
    if args.cold:
        cold_dir = os.path.join(tmp.name, "cache") if not args.cache_dir else args.cache_dir
        if Path(cold_dir).exists() and any(Path(cold_dir).iterdir()):
            ap.error(f"--cold needs an empty cache folder; {cold_dir} is not empty")
        os.makedirs(cold_dir, exist_ok=True)
        report("cold", run_child(args, cold_dir, "cold"), cold_dir)
        args.cache_dir = cold_dir
    warm = run_child(args, args.cache_dir, "warm")
    report("warm", warm, args.cache_dir)
    if warm["encoded"]:
        print(f"  note: the cache was not warm ({warm['encoded']:,} texts encoded); run again for the warm figure")
    print(f"data: {args.data}; torch threads and machine load affect every figure: compare runs on a quiet machine")


if __name__ == "__main__":
    main()
