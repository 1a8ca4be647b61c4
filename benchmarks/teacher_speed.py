"""Teacher throughput: sentences/s with an empty cache, then the same texts when every entry hits the cache.

    python benchmarks/teacher_speed.py [DATA.csv]     (default: sample_data/pairs_160.csv)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from workbench.data.dataset import load_dataset
from workbench.teacher.encoder import Teacher, TeacherConfig

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "sample_data" / "pairs_160.csv")
    ds = load_dataset(path)
    texts = ds.questions() + ds.answers()
    with tempfile.TemporaryDirectory() as cache:
        cfg = TeacherConfig(cache_dir=cache)
        cold = Teacher(cfg)
        cold.encode(["a warm-up sentence, not in the data"])  # load the model outside the timing
        cold = Teacher(cfg)
        cold._load()
        t = time.perf_counter()
        cold.encode(texts)
        t_cold = time.perf_counter() - t
        warm = Teacher(cfg)                      # a fresh process would start like this
        t = time.perf_counter()
        warm.encode(texts)
        t_warm = time.perf_counter() - t
    n = len(texts)
    print(f"teacher {cold.identity} on {cold._device}, {n} texts from {Path(path).name}")
    print(f"  uncached: {t_cold:.2f} s = {n / t_cold:.0f} sentences/s ({cold.model_calls} model batches)")
    print(f"  cached:   {t_warm * 1000:.0f} ms = {n / t_warm:.0f} sentences/s ({warm.model_calls} model calls)")
    print(f"  cache is {t_cold / t_warm:.0f}x faster (same run)")


if __name__ == "__main__":
    main()
