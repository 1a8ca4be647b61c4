"""The knockout map's time on a real run: the target is the MedQuAD large-data run's 2,633 validation pairs,
every cell silenced, within 15 minutes on 2 cores.

    python benchmarks/knockout_speed.py RUN_DIR DATA [any workbench-inspect flags; default --split val --knockout]

Runs workbench-inspect itself (the same code, writing RUN_DIR/inspect/ or --out) and prints around it: the CPU
model, the load average before and after, a dense-matmul rate measured just before and just after (a shared
machine's speed moves), the knockout's wall time, (region, pair) lattice runs per second, and the same-run
ratio of the knockout to one plain pass of the trained lattice over the same pairs × the number of regions
(the batched regions and the shared first step should make it < 1).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model, matmul_gflops  # noqa: E402




def plain_pass_seconds(run_dir: str, data: str, split: str, cache_dir: str | None) -> tuple[float, int, int]:
    """Seconds of one trained-lattice pass over the pairs (the one predictor), the pairs, the cells."""
    import torch
    from workbench.inspect.source import open_source
    src = open_source(run_dir, data, split=split, cache_dir=cache_dir)
    with torch.inference_mode():
        t = time.perf_counter()
        for i in range(0, len(src.q), 1024):
            src.model(src.q[i:i + 1024])
        return time.perf_counter() - t, len(src.q), src.model.cells


def main() -> int:
    from workbench.cli import inspect as cli_inspect
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    extra = args[2:] or ["--split", "val", "--knockout"]
    split = extra[extra.index("--split") + 1] if "--split" in extra else "all"
    cache = extra[extra.index("--cache-dir") + 1] if "--cache-dir" in extra else None
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores, torch threads {__import__('torch').get_num_threads()}")
    print(f"load average before: {os.getloadavg()}; matmul before: {matmul_gflops():.1f} GFLOP/s", flush=True)
    plain, pairs, cells = plain_pass_seconds(args[0], args[1], split, cache)
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "r.json"
        t = time.perf_counter()
        code = cli_inspect.run([*args[:2], *extra, "--json", str(report_path), "--quiet"])
        wall = time.perf_counter() - t
        if code:
            return code
        report = json.loads(report_path.read_text())
    print(f"load average after: {os.getloadavg()}; matmul after: {matmul_gflops():.1f} GFLOP/s")
    ko = report.get("knockout_seconds")
    regions = len(report.get("regions", []))
    print(f"{pairs:,} pairs, {cells} cells; one plain pass {plain:.2f} s")
    print(f"workbench-inspect wall {wall:.0f} s; knockout {ko} s for {regions} regions "
          f"({regions * pairs / max(ko or 1e-9, 1e-9):,.0f} (region, pair) runs/s); "
          f"target 900 s: {'met' if ko is not None and ko <= 900 else 'NOT met'}")
    if ko and regions:
        print(f"same-run ratio knockout / ({regions} × plain pass): {ko / (regions * plain):.2f}")
    print(f"base {report.get('base_cosine')}, top-decile {report.get('top_decile_delta')}, "
          f"random-decile {report.get('random_decile_delta')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
