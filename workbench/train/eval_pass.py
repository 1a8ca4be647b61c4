"""The trainer's evaluation passes, a chunk at a time: an EvalProgress per chunk and a Stop check between chunks.

    tr = yield from train_cosine(ctx, q_sc, a_sc, "epoch 3")     # None: Stop was asked, the pass was cut short
    va = yield from validation(ctx, q_va, a_va, "epoch 3")

At 10k–100k pairs one pass takes seconds to minutes; without these events a run looks hung and a Stop
waits for the whole pass. Each pass yields after every CHUNK_ROWS pairs and checks Stop before the next
(through `ctx.stopped`, the trainer's `_stop_requested`: a collective under DDP, so every rank leaves the
pass at the same chunk).

The training set is scored by what is recorded of it, the mean Q→A cosine, on a fixed subset of at most
TRAIN_SCORE_ROWS pairs (`train_score_rows`): the subset depends only on the seed and the number of training
pairs, so it is the same before training, in every epoch and across a resume. Mean cosine over 4,096 pairs
has a standard error of about std/64 ≈ 0.002 (the per-pair cosine's spread is ~0.1–0.15), well under the
epoch-to-epoch changes it tracks. Scoring every training pair instead took about a quarter of an epoch at
MedQuAD size, and the full retrieval and InfoNCE over them, which nothing recorded, cost ~2×2.5e12
multiply-adds per epoch at 80k training pairs. The baselines' train cosine is taken on the same subset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from workbench.train import metrics as M
from workbench.train.ablation import ablation_figures
from workbench.train.events import EvalProgress

TRAIN_SCORE_ROWS = 4096   # training pairs scored per epoch: SE of the mean cosine ≈ 0.002 (module docstring)
CHUNK_ROWS = 1024         # pairs per progress event and Stop check: ~1 s of a large lattice on a CPU
MODEL_ROWS = 256          # rows per model call inside a chunk (estimate.EVAL_CHUNK sizes its memory)


@dataclass
class EvalContext:
    """What a pass needs from the trainer: the state (model, config, ddp), the run's active clock, the stop check."""
    state: object
    clock: Callable[[], float]
    stopped: Callable[[], bool]


def train_score_rows(n_train: int, seed: int, limit: int | None = None) -> np.ndarray:
    """Sorted indices of the training pairs scored each epoch: all of them up to `limit` (TRAIN_SCORE_ROWS),
    else a seeded sample. Its own generator: no global random stream moves, and the same (seed, n_train)
    always gives the same rows, in every epoch and after a resume."""
    limit = TRAIN_SCORE_ROWS if limit is None else limit
    if n_train <= limit:
        return np.arange(n_train)
    return np.sort(np.random.default_rng([seed, n_train]).choice(n_train, limit, replace=False))


def predict(ctx: EvalContext, q: torch.Tensor, phase: str, label: str,
            steps: int | None = None) -> Iterator[EvalProgress]:
    """(N, D) predictions of q, CHUNK_ROWS at a time, as the generator's return value; None when Stop was asked.
    Under DDP each chunk is sharded across the ranks and gathered (steps=None); a knocked-out pass runs whole."""
    model, ddp = ctx.state.model, ctx.state.ddp
    model.eval()
    out = []
    for i in range(0, len(q), CHUNK_ROWS):
        if ctx.stopped():
            return None
        chunk = q[i:i + CHUNK_ROWS]
        with torch.no_grad():     # not held across the yield below: the consumer runs with grad mode as it was
            if ddp is not None and steps is None:
                out.append(ddp.predict(model, chunk))
            else:
                out.append(torch.cat([model(chunk[j:j + MODEL_ROWS], steps=steps)
                                      for j in range(0, len(chunk), MODEL_ROWS)]))
        yield EvalProgress(phase, label, min(i + CHUNK_ROWS, len(q)), len(q), ctx.clock())
    return torch.cat(out) if out else q[:0]


def train_cosine(ctx: EvalContext, q: torch.Tensor, a: torch.Tensor, phase: str) -> Iterator[EvalProgress]:
    """Mean Q→A cosine on the scored training subset (q, a); None when stopped. Nothing else of it is recorded."""
    if not len(q):
        return float("nan")
    pred = yield from predict(ctx, q, phase, "training subset")
    return None if pred is None else float(M.pair_cosine(pred, a).mean())


def validation(ctx: EvalContext, q: torch.Tensor, a: torch.Tensor, phase: str) -> Iterator[EvalProgress]:
    """cosine, top1, top5, mrr and loss on the validation split; None when stopped."""
    if not len(q):
        return {"cosine": float("nan"), "top1": 0.0, "top5": 0.0, "mrr": 0.0, "loss": float("nan")}
    pred = yield from predict(ctx, q, phase, "validation")
    if pred is None:
        return None
    with torch.no_grad():
        out = M.evaluate(pred, a)
        out["loss"] = float(M.loss_terms(pred, a, ctx.state.config.loss)["total"])
    return out


def ablation(ctx: EvalContext, q_sc: torch.Tensor, a_sc: torch.Tensor, q_va: torch.Tensor, a_va: torch.Tensor,
             weights: dict | None) -> Iterator[EvalProgress]:
    """ablation.py's figures for `weights` (loaded for the measurement, then restored; None: the current ones);
    {} without validation data, None when stopped."""
    if not len(q_va):
        return {}
    model = ctx.state.model
    saved = None
    if weights is not None:
        saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(weights)
    try:
        off = yield from predict(ctx, q_va, "ablation", "validation, lattice off", steps=0)
        full = None if off is None else (yield from predict(ctx, q_va, "ablation", "validation"))
        off_tr = None if full is None else (yield from predict(ctx, q_sc, "ablation", "training subset, lattice off",
                                                                steps=0))
    finally:                      # also when the consumer closes the generator mid-pass
        if saved is not None:
            model.load_state_dict(saved)
    return None if off_tr is None else ablation_figures(off, full, q_va, a_va, off_tr, a_sc)
