"""Knockout map: silence each cell (or each N×N×N block) during all steps and measure the drop in Q→A cosine.

    res = knockout_map(model, q, a, block=1)      # q, a: (P, D) float32 tensors
    res.volume                                    # (X, Y, Z): each cell's region's delta_cosine (≤ 0: it matters)
    res.top_decile_delta, res.random_decile_delta

Silencing holds the cell at its injected value: the lattice's `live` mask drops the cell's update at every
step (CellLattice.run). Held at the injected value rather than zero, a silenced cell computes nothing but
still passes the question's value it was given to its neighbours and the readout: silencing every cell is
exactly the lattice knocked out (pred = q, the identity baseline), silencing none is the trained lattice.
Zeroing would measure a mix of "the cell computes" and "the question's value in that cell is erased" (in
volume io every cell carries part of the question), and silencing all would predict 0, not q.

Cost: the regions are batched, `rows` (region, pair) samples per lattice call. Step 1 is computed once per
pair: a silenced cell changes nothing in its neighbours' first update (they read s_0 everywhere), so each
region starts from the trained s_1 with its cells put back to s_0 and runs the remaining T−1 steps, exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from workbench.model.lattice import CellLattice
from workbench.train.events import EvalProgress
from workbench.train.metrics import pair_cosine
from workbench.train.predict import predict

ROWS = 1024          # (region, pair) samples per lattice call: the fastest size measured on 2 cores (8×8×8, C 8)
RANDOM_DRAWS = 5     # random deciles averaged for random_decile_delta


@dataclass
class KnockoutResult:
    base_cosine: float                       # mean Q→A cosine of the trained lattice over the pairs
    block: int
    regions: list[dict]                      # {"cells": [[x, y, z], …], "delta_cosine": float}
    volume: np.ndarray                       # (X, Y, Z) float32: the delta of the region holding each cell
    top_decile_delta: float                  # the 10% most important cells silenced together, minus base
    random_decile_delta: float               # a seeded random 10%, averaged over RANDOM_DRAWS draws
    random_draws: list[float] = field(default_factory=list)
    pairs: int = 0

    def as_json(self) -> dict:
        return {"base_cosine": self.base_cosine, "pairs": self.pairs, "block": self.block,
                "grid": list(self.volume.shape), "top_decile_delta": self.top_decile_delta,
                "random_decile_delta": self.random_decile_delta, "random_decile_draws": self.random_draws,
                "regions": self.regions}


def region_cells(shape: tuple[int, int, int], block: int) -> list[np.ndarray]:
    """Flat cell indices (x-major, as the lattice's N axis) of each block×block×block region, edges clipped."""
    X, Y, Z = shape
    ids = np.arange(X * Y * Z).reshape(X, Y, Z)
    return [ids[x:x + block, y:y + block, z:z + block].ravel()
            for x in range(0, X, block) for y in range(0, Y, block) for z in range(0, Z, block)]


def live_masks(cells: int, regions: list[np.ndarray]) -> torch.Tensor:
    """(R, N) float: 0 at each region's cells, 1 elsewhere."""
    live = torch.ones(len(regions), cells)
    for r, idx in enumerate(regions):
        live[r, torch.from_numpy(idx)] = 0.0
    return live


@torch.inference_mode()
def silenced_cosine(model: CellLattice, q: torch.Tensor, a: torch.Tensor, live: torch.Tensor, rows: int = ROWS,
                    progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """(R,) mean Q→A cosine over the P pairs (q, a: (P, D)) with each row of live (R, N) silencing its cells."""
    model.eval()
    dev = next(model.parameters()).device
    q, a, live = q.to(dev), a.to(dev), live.to(dev)
    R, P, steps = len(live), len(q), model.cfg.steps
    sums = torch.zeros(R, dtype=torch.float64, device=dev)
    per_pairs = max(1, min(P, rows))                 # pairs per chunk; regions per call fill the rest of `rows`
    per_regions = max(1, rows // per_pairs)
    done, total = 0, R * P
    for i in range(0, P, per_pairs):
        qc, ac = q[i:i + per_pairs], a[i:i + per_pairs]
        s0 = model.inject(qc)                                            # (p, N, C)
        s1 = model.run(s0, steps=min(1, steps))[0]                      # the first step, shared by every region
        for r in range(0, R, per_regions):
            lv = live[r:r + per_regions]                                 # (r, N)
            k, p = len(lv), len(qc)
            lv_rows = lv.repeat_interleave(p, 0)                         # (k·p, N): region-major, pair-minor
            s0k, s1k = s0.repeat(k, 1, 1), s1.repeat(k, 1, 1)           # (k·p, N, C)
            start = torch.where(lv_rows[..., None] > 0, s1k, s0k)        # silenced cells stay at s_0
            sT = model.run(start, steps=max(0, steps - 1), live=lv_rows)[0]
            cos = pair_cosine(model.prediction(qc.repeat(k, 1), s0k, sT), ac.repeat(k, 1))
            sums[r:r + k] += cos.view(k, p).double().sum(1)
            done += k * p
            if progress is not None:
                progress(done, total)
    return (sums / P).float().cpu()


def base_cosine(model: CellLattice, q: torch.Tensor, a: torch.Tensor) -> float:
    """The trained lattice's mean Q→A cosine over the pairs, through the project's one predictor (a test checks
    that silencing no cell gives the same)."""
    dev = next(model.parameters()).device
    return float(pair_cosine(predict(model, q.to(dev)), a.to(dev)).mean())


def knockout_map(model: CellLattice, q: torch.Tensor, a: torch.Tensor, block: int = 1, seed: int = 0,
                 rows: int = ROWS, progress: Callable[[EvalProgress], None] | None = None) -> KnockoutResult:
    """Silence every region of `block`³ cells in turn, then the top and random deciles (module docstring)."""
    if block < 1:
        raise ValueError(f"block must be at least 1, not {block}")
    regions = region_cells(model.shape, block)
    tell = None if progress is None else (lambda d, t: progress(EvalProgress("knockout", "silenced regions", d, t)))
    base = base_cosine(model, q, a)
    deltas = (silenced_cosine(model, q, a, live_masks(model.cells, regions), rows, tell) - base).numpy()
    volume = np.zeros(model.cells, np.float32)
    for idx, d in zip(regions, deltas):
        volume[idx] = d
    k = max(1, math.ceil(model.cells / 10))
    top = np.argsort(volume, kind="stable")[:k]                         # the largest drops first
    rng = np.random.default_rng(seed)
    sets = [top] + [rng.choice(model.cells, k, replace=False) for _ in range(RANDOM_DRAWS)]
    together = (silenced_cosine(model, q, a, live_masks(model.cells, sets), rows) - base).tolist()
    X, Y, Z = model.shape
    coords = lambda idx: [[int(i) // (Y * Z), int(i) // Z % Y, int(i) % Z] for i in idx]   # noqa: E731
    return KnockoutResult(base, block, [{"cells": coords(idx), "delta_cosine": float(d)} for idx, d in zip(regions, deltas)],
                          volume.reshape(X, Y, Z), together[0], float(np.mean(together[1:])), together[1:], len(q))
