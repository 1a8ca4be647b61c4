"""Category atlas: the mean lattice states of the pairs of each category (or each value of any column).

    atlas = category_atlas(model, q, labels)          # labels: one string per row of q
    atlas.states[k]                                   # (T+1, C, X, Y, Z): mean states of category atlas.names[k]
    diff = atlas.difference("symptoms", "treatment")  # (T+1, C, X, Y, Z): does one use other cells than the other?
    diff = row_difference(model, q[i], q[j])          # the same for two single rows

Every step is kept, not only the final state, so the cube's step slider replays a category's mean too.
Rows with an empty label are left out of the atlas (and counted in `unlabelled`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.model.lattice import CellLattice

ROWS = 256           # rows per lattice call


@dataclass
class Atlas:
    names: list[str]            # category names, most rows first
    counts: list[int]           # rows per category
    states: np.ndarray          # (K, T+1, C, X, Y, Z) float32 mean states per category
    unlabelled: int = 0

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no category '{name}' in the atlas (categories: {', '.join(self.names[:10])}…)") from None

    def difference(self, first: str, second: str) -> np.ndarray:
        """(T+1, C, X, Y, Z): mean states of `first` minus those of `second`."""
        return self.states[self.index(first)] - self.states[self.index(second)]

    def as_json(self) -> dict:
        final = self.states[:, -1]                                      # (K, C, X, Y, Z)
        return {"categories": [{"name": n, "rows": c, "mean_abs_final_state": float(np.abs(f).mean())}
                               for n, c, f in zip(self.names, self.counts, final)], "unlabelled": self.unlabelled}


@torch.inference_mode()
def mean_states(model: CellLattice, q: torch.Tensor, rows: int = ROWS) -> np.ndarray:
    """(T+1, C, X, Y, Z) mean recorded states of the rows of q (P, D)."""
    model.eval()
    dev = next(model.parameters()).device
    total = None
    for i in range(0, len(q), rows):
        _, trace = model(q[i:i + rows].to(dev), record=True)
        s = torch.stack(trace).double().sum(1)                           # (T+1, N, C)
        total = s if total is None else total + s
    T1, N, C = total.shape
    mean = (total / max(1, len(q))).float()
    return mean.permute(0, 2, 1).reshape(T1, C, *model.shape).numpy()


def category_atlas(model: CellLattice, q: torch.Tensor, labels: list[str]) -> Atlas:
    """The mean states per label value (most rows first, then by name)."""
    if len(labels) != len(q):
        raise ValueError(f"{len(labels)} labels for {len(q)} rows")
    values, inverse, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True,
                                        return_counts=True)
    order = sorted((i for i, v in enumerate(values) if v.strip()), key=lambda i: (-counts[i], values[i]))
    states = [mean_states(model, q[torch.from_numpy(np.flatnonzero(inverse == i))]) for i in order]
    unlabelled = int(sum(counts[i] for i, v in enumerate(values) if not v.strip()))
    shape = (0, model.cfg.steps + 1, model.cfg.channels, *model.shape)
    return Atlas([str(values[i]) for i in order], [int(counts[i]) for i in order],
                 np.stack(states) if states else np.zeros(shape, np.float32), unlabelled)


def row_difference(model: CellLattice, q_first: torch.Tensor, q_second: torch.Tensor) -> np.ndarray:
    """(T+1, C, X, Y, Z): states of one row (D,) minus those of another."""
    return mean_states(model, q_first.reshape(1, -1)) - mean_states(model, q_second.reshape(1, -1))
