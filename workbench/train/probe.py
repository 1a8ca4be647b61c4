"""Look inside a trained lattice: per-step cell states for any question, trained and untrained.

GUI-free; the desktop app calls it when a table row is clicked, and the Ask panel uses
`rank_answers` to list the nearest dataset answers for a typed question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.train.record.checkpoint import CheckpointError, load_checkpoint
from workbench.train.config import ConfigError, RunConfig, from_dict
from workbench.model.lattice import build_lattice
from workbench.model.lattice import CellLattice


@dataclass
class LoadedModel:
    config: RunConfig
    trained: CellLattice
    untrained: CellLattice     # the same seed's initial lattice: the identity map


def load_model(checkpoint: str) -> LoadedModel:
    """Both lattices of a run's checkpoint, read with the same code-free loader as --resume (checkpoint.py).

    The untrained lattice is rebuilt from the run's seed by `build_lattice`, the function the trainer
    itself uses, in its own RNG fork: the same weights whatever ran before, and no global RNG moved.
    """
    ck = load_checkpoint(checkpoint, "cpu")
    try:
        cfg = from_dict(ck["config"], source=f"{checkpoint}: config")
    except ConfigError as exc:
        raise CheckpointError(str(exc)) from None
    dim = ck.get("embedding_dim")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise CheckpointError(f"{checkpoint}: checkpoint does not record its embedding size (a positive whole number)")
    untrained = build_lattice(dim, cfg.lattice, cfg.seed).eval()
    trained = build_lattice(dim, cfg.lattice, cfg.seed)
    try:
        trained.load_state_dict(ck["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint}: weights do not fit the recorded config "
                              f"({str(exc).splitlines()[0]})") from None
    return LoadedModel(cfg, trained.eval(), untrained)


@torch.no_grad()
def trace(model: CellLattice, q: np.ndarray) -> np.ndarray:
    """(T+1, C, X, Y, Z) states for one question embedding q (D,)."""
    _, tr = model(torch.from_numpy(np.asarray(q, np.float32)[None]), record=True)
    return model.trace_grids(tr)


@torch.no_grad()
def predict(model: CellLattice, q: np.ndarray) -> np.ndarray:
    return model(torch.from_numpy(np.asarray(q, np.float32))).numpy()


def rank_answers(pred: np.ndarray, answers: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
    """Top-k (answer index, cosine) for one prediction (D,) against answers (N, D)."""
    a = answers / np.maximum(np.linalg.norm(answers, axis=1, keepdims=True), 1e-12)
    p = pred / max(float(np.linalg.norm(pred)), 1e-12)
    sims = a @ p
    order = np.argsort(-sims)[:k]
    return [(int(i), float(sims[i])) for i in order]
