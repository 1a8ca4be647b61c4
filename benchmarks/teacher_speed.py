"""Teacher throughput on real MedQuAD texts: the plain loop against the shipped path, in the same run.

    python benchmarks/teacher_speed.py [--data medquad_dev.csv] [--texts 2000] [--threads N]

plain loop: fixed batches of 32 in input order, tokenized per batch and padded to the batch's longest
            (what most scripts do, and what the workbench did before);
shipped:    Teacher.encode into an empty cache: tokenized once, sorted by length, token-budget batches,
            vectors written to the SQLite cache in batches;
warm:       a fresh Teacher over the same cache: the batched cache read, zero model calls;
            then the same read at 30,000 texts (rows written under the real keys, random values).
Texts are questions then answers of the first texts/2 rows, the order a run embeds them in.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.teacher.batching import torch_threads  # noqa: E402
from workbench.teacher.encoder import Teacher, TeacherConfig  # noqa: E402


def default_data() -> Path:
    """../shared/data/medquad_dev.csv beside the repo (or beside the folder of a git worktree)."""
    for base in (ROOT.parent, ROOT.parents[1]):
        if (base / "shared" / "data" / "medquad_dev.csv").exists():
            return base / "shared" / "data" / "medquad_dev.csv"
    return ROOT.parent / "shared" / "data" / "medquad_dev.csv"


def plain_loop(teacher: Teacher, texts: list[str], batch: int = 32) -> np.ndarray:
    import torch
    out = []
    for s in range(0, len(texts), batch):
        enc = teacher._tok(texts[s:s + batch], padding=True, truncation=True,
                           max_length=teacher.config.max_length, return_tensors="pt")
        with torch.inference_mode():
            hidden = teacher._model(**enc).last_hidden_state                     # (B, L, D)
        m = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        out.append(((hidden * m).sum(1) / m.sum(1).clamp(min=1.0)).numpy())
    return np.concatenate(out)


def warm_30k(cache: str) -> tuple[float, int]:
    """A warm read at corpus scale without minutes of encoding: 30,000 rows under the real teacher's keys, holding
    random vectors (the read path does not look at the values), then Teacher.encode of those 30,000 texts."""
    texts = [f"synthetic text {i}: what does cell {i % 977} of the lattice compute?" for i in range(30_000)]
    t = Teacher(TeacherConfig(cache_dir=cache))
    vecs = np.random.default_rng(0).standard_normal((len(texts), t.dim)).astype(np.float32)
    keys = [t._key(x) for x in texts]
    for s in range(0, len(texts), 5000):
        t.cache.put_many(keys[s:s + 5000], vecs[s:s + 5000])
    t.cache.close()
    fresh = Teacher(TeacherConfig(cache_dir=cache))
    start = time.perf_counter()
    fresh.encode(texts)
    return time.perf_counter() - start, fresh.model_calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--texts", type=int, default=2000, help="questions + answers of the first N/2 rows")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: the teacher's choice)")
    args = ap.parse_args()
    with open(args.data, newline="", encoding="utf-8") as fh:
        rows = list(islice(csv.DictReader(fh), args.texts // 2))
    texts = [r["question"] for r in rows] + [r["answer"] for r in rows]
    n = len(texts)
    with tempfile.TemporaryDirectory() as cache:
        cfg = TeacherConfig(cache_dir=cache, normalize=False, threads=args.threads)
        probe = Teacher(cfg)
        probe._load()                                        # model load outside every timing
        with torch_threads(args.threads) as threads:
            t = time.perf_counter()
            plain = plain_loop(probe, texts)
            t_plain = time.perf_counter() - t
        cold = Teacher(cfg)
        cold._tok, cold._model, cold._device = probe._tok, probe._model, probe._device
        t = time.perf_counter()
        shipped = cold.encode(texts)
        t_cold = time.perf_counter() - t
        warm = Teacher(cfg)                                  # a fresh process would start like this
        t = time.perf_counter()
        again = warm.encode(texts)
        t_warm = time.perf_counter() - t
        cold.cache.close(), warm.cache.close(), probe.cache.close()   # the last close folds the WAL back in
        size = sum(p.stat().st_size for p in Path(cache).iterdir())
    st = cold.last_stats
    print(f"teacher {cold.identity} on {cold._device}, {threads} torch threads; {n} texts "
          f"({st.distinct} distinct, {st.truncated} truncated at {cfg.max_length} tokens) from {Path(args.data).name}")
    print(f"  plain loop (batch 32, input order): {t_plain:7.1f} s = {n / t_plain:6.1f} texts/s")
    print(f"  shipped (sorted, token budget):     {t_cold:7.1f} s = {n / t_cold:6.1f} texts/s "
          f"({cold.model_calls} model batches, cache written)  -> {t_plain / t_cold:.2f}x the plain loop")
    print(f"  warm (cache only):                  {t_warm * 1000:7.0f} ms = {n / t_warm:6.0f} texts/s "
          f"({warm.model_calls} model calls) -> {t_cold / t_warm:.0f}x the cold run")
    print(f"  cache file {size / 1e6:.1f} MB for {st.distinct * cold.dim * 4 / 1e6:.1f} MB of float32 vectors; "
          f"max |shipped - plain| = {np.abs(shipped - plain).max():.1e}, warm == cold: {np.array_equal(shipped, again)}")
    with tempfile.TemporaryDirectory() as cache:
        seconds, calls = warm_30k(cache)
    print(f"  warm read at scale: 30,000 cached texts in {seconds:.2f} s ({calls} model calls; target <= 2 s)")


if __name__ == "__main__":
    main()
