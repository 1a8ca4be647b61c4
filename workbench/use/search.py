"""Exact top-k search of an answer bank by cosine, in chunks, with identical answers merged.

    bank = AnswerBank.build(texts, rows, run.embed)      # distinct texts embedded once, each with the rows holding it
    hits = bank.search(run.predict(questions), k=5)     # per question: [Hit(row, answer, score, rows), ...]

Exact: every bank vector is compared with every query, no index or approximation. The bank is scanned in
chunks and each chunk's top-k is merged into a running top-k, so at most SIM_FLOATS similarities (64 MB) are
held however large the bank is (100k answers: `benchmarks/ask_speed.py`).

Identical answer texts (exactly the same string) are one entry: they have the same embedding, so they would
tie and fill several of the top places with one answer. A hit carries every row holding its text. Ties
between different texts (equal float cosines) are broken by the lower row. Scores are cosines computed as
the scorer computes them (metrics.unit on both sides, then a product), so the top answer here is the one
workbench-eval ranks first: its top-1 counts a hit only when that answer is strictly nearest, and a text
shared by several rows ties with itself (a hit here with len(rows) > 1 is a miss there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from workbench.train.metrics import unit

SIM_FLOATS = 1 << 24       # similarities held at once: 64 MB, whatever the number of questions and answers
QUERY_ROWS = 1024          # queries per block
BANK_ROWS = SIM_FLOATS // QUERY_ROWS   # bank vectors per chunk for a full block (16,384); fewer queries, larger
                                       # chunks: one question scans 100k answers in one product, not seven calls


@dataclass
class Hit:
    row: int                   # the first (0-based) row of the bank's file holding this answer
    answer: str
    score: float               # cosine between the query and the answer's embedding
    rows: list[int]            # every row holding exactly this answer text (row first)


def top_k(queries: np.ndarray, bank: np.ndarray | torch.Tensor, k: int, bank_rows: int | None = None,
          query_rows: int = QUERY_ROWS, bank_is_unit: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(scores (n, k'), indices (n, k')) of the k' = min(k, N) nearest bank rows by cosine, best first.
    queries (n, D), bank (N, D); bank_is_unit: the bank is already metrics.unit(bank) (AnswerBank keeps it so,
    which saves normalising N rows per question). Exact; equal scores are listed lower index first."""
    q_all = unit(torch.as_tensor(np.asarray(queries, np.float32)))
    b = torch.as_tensor(bank, dtype=torch.float32)
    n, kk = len(q_all), min(k, len(b))
    if bank_rows is None:      # each call has a fixed cost (threads wake up): as few chunks as the budget allows
        bank_rows = max(BANK_ROWS, SIM_FLOATS // max(1, min(n, query_rows)))
    scores, index = np.zeros((n, kk), np.float32), np.zeros((n, kk), np.int64)
    for i in range(0, n, query_rows):
        q = q_all[i:i + query_rows]
        best_s = torch.full((len(q), 0), -torch.inf)
        best_i = torch.zeros((len(q), 0), dtype=torch.int64)
        for j in range(0, len(b), bank_rows):
            chunk = b[j:j + bank_rows]
            sims = q @ (chunk if bank_is_unit else unit(chunk)).T          # (r, chunk)
            s, ix = torch.topk(sims, min(kk, sims.shape[1]), dim=1)
            best_s, best_i = _merge(torch.cat([best_s, s], 1), torch.cat([best_i, ix + j], 1), kk)
        scores[i:i + len(q)], index[i:i + len(q)] = best_s.numpy(), best_i.numpy()
    return scores, index


def _merge(s: torch.Tensor, ix: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k best of candidate columns: by score, descending, then by index, ascending (a stable tie-break).
    NaN scores (a NaN prediction) sort last."""
    s = torch.nan_to_num(s, nan=-torch.inf)
    order = np.lexsort((ix.numpy(), -s.numpy()), axis=1)[:, :k]          # last key first: score, then index
    order_t = torch.from_numpy(order)
    return torch.gather(s, 1, order_t), torch.gather(ix, 1, order_t)


class AnswerBank:
    """Distinct answer texts, their embeddings (N, D), and the file rows that hold each."""

    def __init__(self, texts: list[str], rows: list[list[int]], vectors: np.ndarray):
        self.texts, self.rows, self.vectors = texts, rows, vectors
        self.unit = unit(torch.as_tensor(vectors, dtype=torch.float32))     # (N, D), normalised once per bank

    @classmethod
    def build(cls, texts: Sequence[str], rows: Sequence[int], embed: Callable[[list[str]], np.ndarray]) -> "AnswerBank":
        """texts[i] is the answer at file row rows[i]; embed: e.g. LoadedRun.embed (the teacher, cached)."""
        where: dict[str, int] = {}
        distinct: list[str] = []
        holders: list[list[int]] = []
        for text, row in zip(texts, rows):
            at = where.setdefault(text, len(distinct))
            if at == len(distinct):
                distinct.append(text)
                holders.append([])
            holders[at].append(int(row))
        return cls(distinct, holders, embed(distinct) if distinct else np.zeros((0, 0), np.float32))

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_rows(self) -> int:
        return sum(len(r) for r in self.rows)

    def search(self, predictions: np.ndarray, k: int = 5) -> list[list[Hit]]:
        """The k nearest distinct answers to each prediction (n, D), best first."""
        scores, index = top_k(predictions, self.unit, k, bank_is_unit=True)
        return [[Hit(self.rows[j][0], self.texts[j], float(s), list(self.rows[j])) for s, j in zip(sr, ir)]
                for sr, ir in zip(scores, index)]
