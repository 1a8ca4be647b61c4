"""What the lattice itself adds: the trained model beside the same model with the lattice knocked out.

The model predicts pred = q + readout(s_T) − readout(s_0), so the question embedding is a path
around the lattice. Evaluating the same trained weights with 0 lattice steps removes everything the
cells compute and leaves that path alone (here: exactly the identity baseline); the difference to
the trained model is the lattice's own contribution. One extra evaluation pass, no retraining (a stopped run skips it:
eval_pass.ablation honours Stop between chunks).

Keys (metrics.json; the app's report table shows every `ablation_*` row):
  ablation_lattice_off_{val_cosine,val_top1,val_top5,val_mrr,train_cosine}   (train: the scored training subset)
  lattice_delta_ratio  mean ‖pred − q‖ / ‖pred‖ on validation: how much of the prediction the lattice writes
"""

from __future__ import annotations

import torch

from workbench.train import metrics as M

EVAL_ROWS = 256


@torch.no_grad()
def predict(model: torch.nn.Module, q: torch.Tensor, steps: int | None = None) -> torch.Tensor:
    """(N, D) predictions in chunks; steps=0 knocks the lattice out."""
    model.eval()
    return torch.cat([model(q[i:i + EVAL_ROWS], steps=steps) for i in range(0, len(q), EVAL_ROWS)])


def ablation_figures(off: torch.Tensor, full: torch.Tensor, q_va: torch.Tensor, a_va: torch.Tensor,
                     off_tr: torch.Tensor, a_tr: torch.Tensor) -> dict[str, float]:
    """The keys above from the predictions of the same weights with the lattice knocked out (`off`, (N_va, D);
    `off_tr` on the training rows scored, paired with `a_tr`) and with it on (`full`, (N_va, D)).
    The predictions are made by eval_pass.ablation, a chunk at a time with progress and Stop."""
    m = M.evaluate(off, a_va)
    ratio = ((full - q_va).norm(dim=-1) / full.norm(dim=-1).clamp(min=1e-12)).mean()
    return {"ablation_lattice_off_val_cosine": m["cosine"], "ablation_lattice_off_val_top1": m["top1"],
            "ablation_lattice_off_val_top5": m["top5"], "ablation_lattice_off_val_mrr": m["mrr"],
            "ablation_lattice_off_train_cosine": float(M.pair_cosine(off_tr, a_tr).mean()) if len(off_tr) else float("nan"),
            "lattice_delta_ratio": float(ratio)}
