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

The ablation: what the lattice itself adds. The model predicts pred = q + readout(s_T) − readout(s_0), so the
question embedding is a path around the lattice. Evaluating the same trained weights with 0 lattice steps
removes everything the cells compute and leaves that path alone (here: exactly the identity baseline); the
difference to the trained model is the lattice's own contribution. One extra evaluation pass, no retraining
(a stopped run skips it). Its keys in metrics.json (the app's report table shows every `ablation_*` row):
  ablation_lattice_off_{val_cosine,val_top1,val_top5,val_mrr,train_cosine}   (train: the scored training subset)
  lattice_delta_ratio  mean ‖pred − q‖ / ‖pred‖ on validation: how much of the prediction the lattice writes
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from workbench.train import metrics as M
from workbench.train.events import EvalProgress
from workbench.train.predict import predict_chunks
from workbench.train.record.compare import ComparisonRow, metric_keys

TRAIN_SCORE_ROWS = 4096   # training pairs scored per epoch: SE of the mean cosine ≈ 0.002 (module docstring)
CHUNK_ROWS = 1024         # pairs per progress event and Stop check: ~1 s of a large lattice on a CPU


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
    """(N, D) predictions of q (predict.predict_chunks, sharded under DDP), CHUNK_ROWS at a time, as the
    generator's return value, with an EvalProgress per chunk; None when Stop was asked before a chunk."""
    chunks = predict_chunks(ctx.state.model, q, chunk=CHUNK_ROWS, steps=steps, ddp=ctx.state.ddp)
    done = 0
    while True:
        if done < len(q) and ctx.stopped():
            chunks.close()
            return None
        try:
            done = next(chunks)
        except StopIteration as end:
            return end.value
        yield EvalProgress(phase, label, done, len(q), ctx.clock())


def train_cosine(ctx: EvalContext, q: torch.Tensor, a: torch.Tensor, phase: str) -> Iterator[EvalProgress]:
    """Mean Q→A cosine on the scored training subset (q, a); None when stopped. Nothing else of it is recorded."""
    if not len(q):
        return float("nan")
    pred = yield from predict(ctx, q, phase, "training subset")
    return None if pred is None else float(M.pair_cosine(pred, a).mean())


def validation(ctx: EvalContext, q: torch.Tensor, a: torch.Tensor, phase: str) -> Iterator[EvalProgress]:
    """(Figures, loss) on the validation split; None when stopped."""
    if not len(q):
        return M.score(q, a), float("nan")
    pred = yield from predict(ctx, q, phase, "validation")
    if pred is None:
        return None
    with torch.no_grad():
        return M.score(pred, a), float(M.loss_terms(pred, a, ctx.state.config.loss)["total"])


def ablation(ctx: EvalContext, q_sc: torch.Tensor, a_sc: torch.Tensor, q_va: torch.Tensor, a_va: torch.Tensor,
             weights: dict | None) -> Iterator[EvalProgress]:
    """The ablation's figures (module docstring) for `weights` (loaded for the measurement, then restored;
    None: the current ones); {} without validation data, None when stopped."""
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


def ablation_figures(off: torch.Tensor, full: torch.Tensor, q_va: torch.Tensor, a_va: torch.Tensor,
                     off_tr: torch.Tensor, a_tr: torch.Tensor) -> dict[str, float]:
    """The keys above from the predictions of the same weights with the lattice knocked out (`off`, (N_va, D);
    `off_tr` on the training rows scored, paired with `a_tr`) and with it on (`full`, (N_va, D))."""
    off_row = ComparisonRow("lattice_off", "ablation", M.score(off, a_va, train_pred=off_tr, train_answers=a_tr))
    ratio = ((full - q_va).norm(dim=-1) / full.norm(dim=-1).clamp(min=1e-12)).mean()
    return {**metric_keys([off_row]), "lattice_delta_ratio": float(ratio)}
