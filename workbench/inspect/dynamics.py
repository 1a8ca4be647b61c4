"""Step dynamics: what each lattice step adds, for one pair or averaged over a set.

    dyn = step_dynamics(model, q, a)       # q, a: (P, D)
    dyn.cosine[t]        mean Q→A cosine of the prediction read out after step t (t = 0: the question itself)
    dyn.update_norm[t]   mean ‖s_t − s_{t−1}‖ over the pairs (all cells and channels; 0 at t = 0)

The prediction at step t is the one formula the lattice reads out at its last step
(CellLattice.prediction(q, s_0, s_t)), so cosine[T] is the run's own validation cosine on the same pairs,
and cosine[0] is the identity baseline. A lattice that converges shows update_norm falling towards 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.model.lattice import CellLattice
from workbench.train.metrics import pair_cosine

ROWS = 256           # pairs per lattice call


@dataclass
class StepDynamics:
    cosine: np.ndarray          # (T+1,) mean Q→A cosine after each step
    update_norm: np.ndarray     # (T+1,) mean ‖s_t − s_{t−1}‖; 0 at step 0
    pairs: int

    def as_json(self) -> dict:
        return {"pairs": self.pairs, "step_cosine": [float(c) for c in self.cosine],
                "update_norm": [float(u) for u in self.update_norm]}


def state_update_norms(states: np.ndarray) -> np.ndarray:
    """(T+1,) ‖s_t − s_{t−1}‖ of one pair's recorded states (T+1, C, X, Y, Z) (a cube frame), 0 at step 0."""
    flat = np.asarray(states, np.float64).reshape(len(states), -1)
    return np.concatenate([[0.0], np.linalg.norm(np.diff(flat, axis=0), axis=1)])


@torch.inference_mode()
def step_dynamics(model: CellLattice, q: torch.Tensor, a: torch.Tensor, rows: int = ROWS) -> StepDynamics:
    """Per-step mean cosine and update size over the pairs (q, a: (P, D) tensors)."""
    model.eval()
    dev = next(model.parameters()).device
    T = model.cfg.steps
    cos = torch.zeros(T + 1, dtype=torch.float64)
    upd = torch.zeros(T + 1, dtype=torch.float64)
    for i in range(0, len(q), rows):
        qc, ac = q[i:i + rows].to(dev), a[i:i + rows].to(dev)
        s = s0 = model.inject(qc)                                        # (p, N, C)
        cos[0] += pair_cosine(qc, ac).double().sum().cpu()
        for t in range(1, T + 1):
            nxt = model.run(s, steps=1)[0]
            upd[t] += (nxt - s).flatten(1).norm(dim=1).double().sum().cpu()
            cos[t] += pair_cosine(model.prediction(qc, s0, nxt), ac).double().sum().cpu()
            s = nxt
    n = max(1, len(q))
    return StepDynamics((cos / n).numpy(), (upd / n).numpy(), len(q))
