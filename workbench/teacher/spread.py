"""The texts missing from the cache, embedded by several processes at once (under torchrun), and one process's part.

    teacher.spread = fn          # fn(texts) -> ((n, D) float32 vectors, (n,) truncated flags), e.g. every rank 1/N
    teacher.encode(texts)        # misses go to fn in rounds of SPREAD_ROUND texts; this process writes the cache

Who runs what is train/distributed.py's business (rank 0 hands each round to every rank and gathers the
vectors); this module only knows rounds and parts. Each round is written to the cache before the next one
starts, so a kill loses at most one round, as FLUSH_TEXTS bounds the single-process loss.
"""

from __future__ import annotations

import time

import numpy as np

from workbench.teacher.batching import plan_batches, tokenize, torch_threads
from workbench.teacher.progress import EmbedProgress

SPREAD_ROUND = 2048      # texts per round: ~10-30 s of work per rank on a CPU, one cache write per round


def embed_part(teacher, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(n, D) float32 pooled vectors (not normalised) and (n,) truncated flags, through the model only: no cache.
    Sorted token-budget batches, as the single-process path runs them."""
    dim = teacher.dim
    if not texts:
        return np.zeros((0, dim), np.float32), np.zeros(0, bool)
    teacher.load_checked()
    budget = teacher.config.batch_tokens * (4 if str(teacher.device).startswith("cuda") else 1)
    with torch_threads(teacher.config.threads):
        ids, was_cut = tokenize(teacher.tokenizer, texts, teacher.config.max_length)
        lengths = np.fromiter((len(x) for x in ids), np.int64, len(ids))
        out = np.zeros((len(texts), dim), np.float32)
        for b in plan_batches(lengths, budget, max(1, teacher.config.batch_size)):
            out[b] = teacher.forward([ids[j] for j in b])
    return out, np.asarray(was_cut, bool)


def encode_spread(teacher, distinct, keys, todo, vecs, cut, progress, label: str, hits: int, t0: float) -> None:
    """Fill vecs/cut for the rows `todo` of `distinct` through teacher.spread, one round at a time, writing each
    round to the cache (teacher._encode_misses does the same on one process)."""
    t_model, encoded = time.perf_counter(), 0
    for start in range(0, len(todo), SPREAD_ROUND):
        rows = todo[start:start + SPREAD_ROUND]
        out, was_cut = teacher.spread([distinct[i] for i in rows])
        teacher.check_finite(out, [distinct[i] for i in rows])
        vecs[rows], cut[rows] = out, was_cut
        teacher.cache.put_many([keys[i] for i in rows], vecs[rows], cut[rows])
        encoded += len(rows)
        if progress:
            spent = max(time.perf_counter() - t_model, 1e-9)
            progress(EmbedProgress(hits + encoded, len(distinct), hits, label, encoded, encoded / spent,
                                   (len(todo) - encoded) * spent / encoded, time.perf_counter() - t0))
