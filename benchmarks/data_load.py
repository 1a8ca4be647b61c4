"""Dataset load and validate time on a real corpus (target: load + validate < ~1 s for medquad_dev.csv).

    python benchmarks/data_load.py [DATA] [--repeat N]     (default: ../shared/data/medquad_dev.csv, 5 repeats)

Prints the median and best of N runs for each stage, the rows per second, and the same figures
for the file saved as Parquet and JSONL in this run (so formats compare on the same machine).
With --baseline-rev REV (default: main before the streaming readers of issue 21) each file is also
loaded by that revision's formats.py (git show, loaded as a module), alternating with the current
loader, and the same-run ratio is printed; the two must give the same pairs, rows and lines.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from workbench.data.dataset import apply_rules, load_dataset, save_dataset, validate
from workbench.data.problem_report import count_problems
from workbench.data.split import split_dataset

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "medquad_dev.csv"
BASELINE_REV = "7e72403"     # main before the streaming readers (issue 21)


def old_loader(rev: str, tmp: str):
    """load_dataset of `rev`'s workbench/data/formats.py, or None when git cannot show it."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:workbench/data/formats.py"], capture_output=True,
                         text=True)
    if src.returncode:
        return None
    path = Path(tmp) / "old_formats.py"
    path.write_text(src.stdout, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_formats", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.load_dataset


def compare(path: Path, old, repeat: int) -> None:
    """Median load time of the current and the old loader, run alternately (same load on both)."""
    new_t, old_t = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        a = load_dataset(path)
        new_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        b = old(path)
        old_t.append(time.perf_counter() - t)
    assert a.pairs == b.pairs and a.rows == b.rows and a.lines == b.lines, f"{path}: the loaders disagree"
    n, o = statistics.median(new_t), statistics.median(old_t)
    print(f"  vs the loader before streaming: {n * 1000:.0f} ms vs {o * 1000:.0f} ms, ratio {n / o:.2f} (same run)")


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, statistics.median(times), min(times)


def bench(path: Path, repeat: int) -> float:
    ds, load_med, load_min = timed(lambda: load_dataset(path), repeat)
    problems, val_med, val_min = timed(lambda: validate(ds), repeat)
    _, rules_med, _ = timed(lambda: apply_rules(ds, problems), repeat)
    _, split_med, _ = timed(lambda: split_dataset(ds, 0.2, 0), repeat)
    mb = path.stat().st_size / 1e6
    print(f"{path.name}: {len(ds):,} rows, {mb:.1f} MB, longest answer {max(map(len, ds.answers())):,} chars")
    print(f"  load      median {load_med * 1000:7.0f} ms  best {load_min * 1000:7.0f} ms  ({len(ds) / load_med:,.0f} rows/s)")
    print(f"  validate  median {val_med * 1000:7.0f} ms  best {val_min * 1000:7.0f} ms  ({len(ds) / val_med:,.0f} rows/s)")
    print(f"  apply     median {rules_med * 1000:7.0f} ms   split median {split_med * 1000:5.0f} ms")
    print(f"  load + validate: median {(load_med + val_med):.2f} s (target < ~1 s)")
    return load_med + val_med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(DEFAULT))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    path = Path(args.data)
    ds = load_dataset(path)
    counts = count_problems(validate(ds))
    print("problems: " + ", ".join(f"{lvl} {sum(c.values()):,} {dict(c) if c else ''}".strip()
                                   for lvl, c in counts.items()))
    base = bench(path, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        old = old_loader(args.baseline_rev, tmp) if args.baseline_rev else None
        if old is not None:
            compare(path, old, args.repeat)
        for suffix in (".parquet", ".jsonl", ".json"):
            copy = Path(tmp) / f"{path.stem}{suffix}"
            t = time.perf_counter()
            save_dataset(ds, copy)
            print(f"save {suffix}: {time.perf_counter() - t:.2f} s")
            other = bench(copy, args.repeat)
            print(f"  ratio to {path.suffix}: {other / base:.2f}x (same run)")
            if old is not None:
                compare(copy, old, args.repeat)


if __name__ == "__main__":
    main()
