"""Dataset load and validate time on a real corpus (target: load + validate < ~1 s for medquad_dev.csv).

    python benchmarks/data_load.py [DATA] [--repeat N]     (default: ../shared/data/medquad_dev.csv, 5 repeats)

Prints the median and best of N runs for each stage, the rows per second, and the same figures
for the file saved as Parquet and JSONL in this run (so formats compare on the same machine).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from workbench.data.dataset import apply_rules, load_dataset, save_dataset, validate
from workbench.data.problem_report import count_problems
from workbench.data.split import split_dataset

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "medquad_dev.csv"


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
    args = ap.parse_args()
    path = Path(args.data)
    ds = load_dataset(path)
    counts = count_problems(validate(ds))
    print("problems: " + ", ".join(f"{lvl} {sum(c.values()):,} {dict(c) if c else ''}".strip()
                                   for lvl, c in counts.items()))
    base = bench(path, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".parquet", ".jsonl"):
            copy = Path(tmp) / f"{path.stem}{suffix}"
            t = time.perf_counter()
            save_dataset(ds, copy)
            print(f"save {suffix}: {time.perf_counter() - t:.2f} s")
            other = bench(copy, args.repeat)
            print(f"  ratio to {path.suffix}: {other / base:.2f}x (same run)")


if __name__ == "__main__":
    main()
