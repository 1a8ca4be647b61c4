"""Exact top-k search of an answer bank by cosine, in chunks, with identical answers merged.

    bank = AnswerBank.build(texts, rows, run.embed)      # distinct texts embedded once, each with the rows holding it
    hits = bank.search(run.predict(questions), k=5)     # per question: [Hit(row, answer, score, rows), ...]

Exact: every bank vector is compared with every query, no index or approximation. The search is the scorer's
own `metrics.top_k`: the bank is scanned in chunks and each chunk's top-k is merged into a running top-k, so at
most metrics.SIM_FLOATS similarities (64 MB) are held however large the bank is (100k answers:
`benchmarks/ask_speed.py`).

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

from workbench.train.metrics import top_k, unit  # noqa: F401  (top_k: the search, re-exported)


@dataclass
class Hit:
    row: int                   # the first (0-based) row of the bank's file holding this answer
    answer: str
    score: float               # cosine between the query and the answer's embedding
    rows: list[int]            # every row holding exactly this answer text (row first)


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
