"""The one predictor: a lattice over many rows, a chunk at a time (sharded under DDP); and a run's lattice loaded.

    pred = predict(model, q)                     # (N, D) numpy in → numpy out; a tensor in → a tensor out
    pred = predict(model, q, steps=0)            # the lattice knocked out (the ablation)
    chunks = predict_chunks(model, q_t)          # a generator: yields the rows done after each chunk and
                                                 # returns the (N, D) tensor (eval_pass adds progress and Stop)
    loaded = load_model("RUN/best.safetensors")  # the trained lattice and the seed's untrained one
    states = trace(loaded.trained, q[0])         # (T+1, C, X, Y, Z) per-step cell states of one question

Every prediction of many rows goes through `predict_chunks`: the trainer's evaluation passes (eval_pass.py,
with progress and Stop between chunks), workbench-eval, the Ask panel. GUI-free; the desktop app traces a
clicked table row through `trace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from workbench.train.record.checkpoint import CheckpointError, load_checkpoint
from workbench.train.config import ConfigError, RunConfig, from_dict
from workbench.model.lattice import CellLattice, build_lattice


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


CHUNK_ROWS = 1024         # rows per chunk: one progress step and Stop check in eval_pass, ~1 s of a large lattice
MODEL_ROWS = 256          # rows per model call inside a chunk (estimate.EVAL_CHUNK sizes its memory)


def predict_chunks(model: torch.nn.Module, q: torch.Tensor, *, chunk: int = CHUNK_ROWS, steps: int | None = None,
                   ddp=None) -> Iterator[int]:
    """Predictions (N, D) of q (N, D), `chunk` rows at a time: yields the rows done after each chunk and returns
    the predictions (a generator's return value, on q's device). The model runs where its parameters are.

    steps: lattice steps (None: the config's; 0 knocks the lattice out). ddp (distributed.Ddp): each chunk is
    split across the ranks and gathered, so every rank must call this with the same q."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(q), chunk):
        with torch.no_grad():     # not held across the yield below: the consumer runs with grad mode as it was
            rows = q[i:i + chunk].to(device)
            if ddp is not None:
                sizes, mine = ddp.own_rows(rows)
                out.append(ddp.gather_rows(_rows(model, mine, steps), sizes).to(q.device))
            else:
                out.append(_rows(model, rows, steps).to(q.device))
        yield min(i + chunk, len(q))
    return torch.cat(out) if out else q[:0].clone()


def _rows(model: torch.nn.Module, q: torch.Tensor, steps: int | None) -> torch.Tensor:
    if not len(q):
        return q.new_zeros((0, model.dim))
    return torch.cat([model(q[j:j + MODEL_ROWS], steps=steps) for j in range(0, len(q), MODEL_ROWS)])


def predict(model: torch.nn.Module, q, *, chunk: int = CHUNK_ROWS, steps: int | None = None, ddp=None):
    """(N, D) predictions of q (N, D) or (D,) → (1, D): numpy float32 for numpy input, else a tensor on q's
    device. The whole pass of predict_chunks, without progress."""
    x = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32)) if not isinstance(q, torch.Tensor) else q
    chunks = predict_chunks(model, x.reshape(-1, x.shape[-1]), chunk=chunk, steps=steps, ddp=ddp)
    while True:
        try:
            next(chunks)
        except StopIteration as end:
            return end.value if isinstance(q, torch.Tensor) else end.value.numpy()
