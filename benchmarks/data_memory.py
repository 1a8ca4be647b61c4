"""Peak resident memory per MB of input while loading, per format (issue 21), with the old loader in the same run.

    python benchmarks/data_memory.py [DATA] [--huge-mb 200] [--baseline-rev REV] [--skip-old-huge]

For DATA (default ../shared/data/medquad_dev.csv) saved as CSV, JSONL, JSON and Parquet, and for a
file of three records whose second holds one field of --huge-mb MiB (CSV, JSONL, JSON), each load runs
in a fresh interpreter that reports its own peak RSS (VmHWM: a child's ru_maxrss starts at its parent's
size). Printed per file: its size,
the peak, the peak above the interpreter's own (imports done, nothing read) and that growth per MB of
input, and how long the load took; then the same for the loader at --baseline-rev (git show of its
formats.py, loaded as a module: the reader before streaming), so the ratio is same-run. The old loader
on the huge file needs about 17x the file in memory (--skip-old-huge to leave it out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "medquad_dev.csv"
BASELINE_REV = "7e72403"     # main before the streaming readers (issue 21)
CHILD = """
import importlib.util, json, sys, time
from workbench.data.dataset import DataError, load_dataset
if sys.argv[2] != "-":
    spec = importlib.util.spec_from_file_location("old_formats", sys.argv[2])
    old = importlib.util.module_from_spec(spec); spec.loader.exec_module(old)
    load_dataset = old.load_dataset
if sys.argv[1].endswith(".parquet"):
    import pyarrow.parquet, pyarrow.compute   # imported by the loaders for Parquet: part of the base, not the read
from workbench.data.stream import peak_resident_memory, resident_memory
base = resident_memory()                       # now; the peak below is this process's high-water mark (VmHWM)
t = time.perf_counter()
try:
    ds = load_dataset(sys.argv[1]); rows, err = len(ds), ""
except DataError as exc:
    rows, err = 0, str(exc).splitlines()[0][:100]
print(json.dumps({"base": base, "peak": peak_resident_memory(),
                  "seconds": time.perf_counter() - t, "rows": rows, "error": err}))
"""


def measure(path: Path, old: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", CHILD, str(path), old], capture_output=True, text=True, env=env,
                         timeout=1800)
    if res.returncode:
        return {"error": (res.stderr.strip().splitlines() or ["killed"])[-1][:100], "peak": 0, "base": 0,
                "seconds": 0, "rows": 0}
    return json.loads(res.stdout.strip().splitlines()[-1])


def write_huge(path: Path, fmt: str, mb: int) -> None:
    """Rows 1 and 3 ordinary, row 2 holding an answer of `mb` MiB (written 1 MiB at a time: seconds, not minutes).
    fmt: csv, jsonl or json. tests/test_data_bounded.py writes its huge files with this too."""
    chunk = "x" * (1 << 20)
    with open(path, "w", encoding="utf-8") as fh:
        if fmt == "csv":
            fh.write("question,answer\nWhat is one?,One.\nWhat is big?,")
            end = "\nWhat is three?,Three.\n"
        else:
            sep = "\n" if fmt == "jsonl" else ",\n"
            fh.write(("" if fmt == "jsonl" else "[") + '{"question": "What is one?", "answer": "One."}' + sep
                     + '{"question": "What is big?", "answer": "')
            end = '"}' + sep + '{"question": "What is three?", "answer": "Three."}' + ("\n" if fmt == "jsonl" else "]")
        for _ in range(mb):
            fh.write(chunk)
        fh.write(end)


def row(label: str, path: Path, r: dict) -> str:
    mb = path.stat().st_size / 2**20
    grown = (r["peak"] - r["base"]) / 2**20
    what = f"{r['rows']:,} rows" if not r["error"] else r["error"]
    return (f"  {label:<22}{mb:9.1f} MB  peak {r['peak'] / 2**20:7.0f} MB  +{grown:7.0f} MB  "
            f"{grown / mb:5.2f}/MB  {r['seconds']:6.2f} s  {what}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(DEFAULT))
    ap.add_argument("--huge-mb", type=int, default=200)
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    ap.add_argument("--skip-old-huge", action="store_true")
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    sys.path.insert(0, str(ROOT))
    from workbench.data.dataset import load_dataset, save_dataset
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old_formats.py"
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{args.baseline_rev}:workbench/data/formats.py"],
                             capture_output=True, text=True)
        old_arg = str(old) if src.returncode == 0 else ""
        if old_arg:
            old.write_text(src.stdout, encoding="utf-8")
        ds = load_dataset(args.data)
        files = [Path(args.data)]
        for suffix in (".jsonl", ".json", ".parquet"):
            files.append(Path(tmp) / (Path(args.data).stem + suffix))
            save_dataset(ds, files[-1])
        del ds
        print("file                    size          peak RSS   above base  per MB    load   result   (new, then old)")
        for path in files:
            print(row(path.name, path, measure(path, "-")))
            if old_arg:
                print(row("  old loader", path, measure(path, old_arg)))
        for fmt in ("csv", "jsonl", "json"):
            path = Path(tmp) / f"one_huge_record.{fmt}"
            write_huge(path, fmt, args.huge_mb)
            print(row(path.name, path, measure(path, "-")))
            if old_arg and not args.skip_old_huge:
                print(row("  old loader", path, measure(path, old_arg)))
            path.unlink()


if __name__ == "__main__":
    main()
