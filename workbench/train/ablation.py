"""What the lattice itself adds: the trained model beside the same model with the lattice knocked out.

The model predicts pred = q + readout(s_T) − readout(s_0), so the question embedding is a path
around the lattice. Evaluating the same trained weights with 0 lattice steps removes everything the
cells compute and leaves that path alone (here: exactly the identity baseline); the difference to
the trained model is the lattice's own contribution. One extra evaluation pass, no retraining.

Keys (metrics.json; the app's report table shows every `ablation_*` row):
  ablation_lattice_off_{val_cosine,val_top1,val_top5,val_mrr,train_cosine}
  lattice_delta_ratio  mean ‖pred − q‖ / ‖pred‖ on validation: how much of the prediction the lattice writes
"""

from __future__ import annotations

import torch

from . import metrics as M

EVAL_ROWS = 256


@torch.no_grad()
def predict(model: torch.nn.Module, q: torch.Tensor, steps: int | None = None) -> torch.Tensor:
    """(N, D) predictions in chunks; steps=0 knocks the lattice out."""
    model.eval()
    return torch.cat([model(q[i:i + EVAL_ROWS], steps=steps) for i in range(0, len(q), EVAL_ROWS)])


@torch.no_grad()
def lattice_ablation(model: torch.nn.Module, q_tr: torch.Tensor, a_tr: torch.Tensor, q_va: torch.Tensor,
                     a_va: torch.Tensor, weights: dict | None = None) -> dict[str, float]:
    """Metrics of `model` (with `weights` loaded for the measurement, then restored) with the lattice knocked out,
    and the share of the full prediction the lattice writes. Empty when there is no validation data."""
    if not len(q_va):
        return {}
    saved = None
    if weights is not None:
        saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(weights)
    try:
        off = predict(model, q_va, steps=0)
        full = predict(model, q_va)
        off_tr = predict(model, q_tr, steps=0) if len(q_tr) else q_tr
    finally:
        if saved is not None:
            model.load_state_dict(saved)
    m = M.evaluate(off, a_va)
    ratio = ((full - q_va).norm(dim=-1) / full.norm(dim=-1).clamp(min=1e-12)).mean()
    return {"ablation_lattice_off_val_cosine": m["cosine"], "ablation_lattice_off_val_top1": m["top1"],
            "ablation_lattice_off_val_top5": m["top5"], "ablation_lattice_off_val_mrr": m["mrr"],
            "ablation_lattice_off_train_cosine": float(M.pair_cosine(off_tr, a_tr).mean()) if len(q_tr) else float("nan"),
            "lattice_delta_ratio": float(ratio)}
