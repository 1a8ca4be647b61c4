"""Data parallelism is exact, not approximately right: 2 gloo processes against 1, in process groups made here.

The trainer's own code runs in every rank (TrainingState, the sharded forward, _train_batch, train()), on
synthetic unit embeddings, so each test takes seconds. What each would catch:
- a gradient averaged instead of summed across ranks (the sum is the one-process gradient; AdamW and
  clipping hide a constant factor, plain SGD without clipping does not);
- fire_rate < 1 masks or context noise that depend on how the global batch is split;
- a stop asked on one rank that leaves the other rank training.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from workbench.train import distributed, trainer
from workbench.train.config import from_preset, set_value, to_dict, from_dict
from workbench.train.events import BatchProgress, Finished
from workbench.train.state import TrainData, TrainingState

# stochastic cells and context noise on a small lattice; InfoNCE couples the rows of a batch
SETTINGS = {"lattice.channels": 4, "lattice.hidden": 16, "lattice.steps": 3, "lattice.neighbourhood": "von_neumann",
            "lattice.fire_rate": 0.6, "optim.context_noise": 0.05, "loss.infonce": 0.3, "optim.batch_size": 16,
            "optim.early_stop_patience": 0, "optim.epochs": 3}
# plain SGD without clipping or momentum: a gradient off by a constant factor changes every step
PLAIN_SGD = {"optim.optimizer": "sgd", "optim.momentum": 0.0, "optim.weight_decay": 0.0, "optim.grad_clip": 0.0,
             "optim.lr": 0.5, "optim.scheduler": "none"}


def config(**extra):
    cfg = from_preset("recommended")
    for k, v in {**SETTINGS, **extra}.items():
        set_value(cfg, k, v)
    return cfg


def synthetic_data(n_train: int = 70, n_val: int = 24, dim: int = 384, dtype=np.float32) -> TrainData:
    """Unit rows where the answer is a fixed rotation-like map of the question plus noise: there is something to learn."""
    g = np.random.default_rng(0)
    m = np.eye(dim) + 0.3 * g.standard_normal((dim, dim)) / np.sqrt(dim)

    def pairs(n):
        q = g.standard_normal((n, dim))
        a = q @ m + 0.2 * g.standard_normal((n, dim))
        return [(x / np.linalg.norm(x, axis=1, keepdims=True)).astype(dtype) for x in (q, a)]
    (qt, at), (qv, av) = pairs(n_train), pairs(n_val)
    return TrainData(qt, at, qv, av, val_questions=[f"q{i}" for i in range(n_val)])


def state_for(job: str, cfg, ddp=None) -> TrainingState:
    """float64 for the gradient check, so that float32 summation order cannot hide in the tolerance."""
    double = job == "grad"
    state = TrainingState.create(cfg, synthetic_data(dtype=np.float64 if double else np.float32), ddp=ddp)
    if double:
        state.model.double()        # in place: the optimizer keeps the same parameters
    return state


def _rank(rank: int, world: int, store: str, job: str, cfg_json: str, out: str) -> None:
    """One process of the group: run `job` with the trainer's own code and write what it found to out/rank{r}.json"""
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        ddp = distributed.Ddp(rank, world, rank, "gloo", "cpu")
        state = state_for(job, from_dict(json.loads(cfg_json)), ddp)
        result = JOBS[job](state, rank)
        Path(out, f"rank{rank}.json").write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()


def spawn(tmp_path: Path, job: str, cfg, world: int = 2) -> list[dict]:
    """Run job in a world of `world` gloo processes; the results of every rank, in rank order."""
    store = tmp_path / f"store-{job}"
    mp.start_processes(_rank, args=(world, str(store), job, json.dumps(to_dict(cfg)), str(tmp_path)), nprocs=world,
                       join=True, start_method="spawn")
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world)]


def one_step_gradients(state: TrainingState, rank: int = 0) -> dict:
    """The gradient of the first global batch, after the ranks combined theirs (the trainer's own _train_batch)."""
    with torch.no_grad():      # a rule that is not the identity yet, so every parameter has a gradient
        state.model.w2.copy_(0.1 * torch.randn(state.model.w2.shape, generator=torch.Generator().manual_seed(1)))
    run = trainer._new_run(state, trainer.ActiveClock(), np.arange(4))
    ep = trainer.Epoch(1, trainer.flat_params(state.model), [torch.zeros_like(p, dtype=torch.bool)
                                                                 for p in state.model.parameters()])
    run.touched = {n: False for n, _ in state.model.named_parameters()}
    idx = next(trainer._batch_indices(state, run, ep))
    trainer._train_batch(state, run, ep, idx)
    return {n: p.grad.double().reshape(-1).tolist() for n, p in state.model.named_parameters() if p.grad is not None}


def whole_run(state: TrainingState, rank: int = 0) -> dict:
    events = list(trainer.train(state))
    fin = [e for e in events if isinstance(e, Finished)][-1]
    return {"history": state.history, "reason": fin.reason}


def stop_on_rank_1(state: TrainingState, rank: int) -> dict:
    """Rank 1 alone asks to stop after its 3rd batch of epoch 2; every rank must end at the same batch."""
    seen = []
    for ev in trainer.train(state):
        if isinstance(ev, BatchProgress):
            seen.append((ev.epoch, ev.batch))
            if rank == 1 and (ev.epoch, ev.batch) == (2, 2):
                state.request_stop()
        if isinstance(ev, Finished):
            fin = ev
    return {"batches": seen, "reason": fin.reason, "partial": fin.partial_batches, "epochs": state.epoch,
            "step": state.step}


JOBS = {"grad": one_step_gradients, "run": whole_run, "stop": stop_on_rank_1}


def alone(job: str, cfg) -> dict:
    return JOBS[job](state_for(job, cfg), 0)


@pytest.mark.slow
def test_the_summed_gradient_of_two_processes_is_the_one_process_gradient(tmp_path):
    cfg = config(**PLAIN_SGD)
    one = alone("grad", cfg)
    two = spawn(tmp_path, "grad", cfg)
    assert two[0] == two[1]                      # every rank holds the same combined gradient
    assert set(one) == set(two[0]) and len(one) >= 6
    for name, g1 in one.items():
        a, b = np.array(g1), np.array(two[0][name])
        rel = np.linalg.norm(b - a) / max(np.linalg.norm(a), 1e-30)
        assert np.linalg.norm(a) > 0, name
        assert rel <= 1e-6, f"{name}: relative difference {rel:.2e} between 2 processes and 1"


@pytest.mark.slow
def test_plain_sgd_with_stochastic_cells_follows_one_process_to_1e_6(tmp_path):
    cfg = config(**PLAIN_SGD)
    one = alone("run", cfg)
    two = spawn(tmp_path, "run", cfg)
    h1, h2 = one["history"], two[0]["history"]
    assert len(h1) == len(h2) == 3 and two[0]["history"] == two[1]["history"]
    for a, b in zip(h1, h2):
        for key in ("loss", "val_cosine", "train_cosine", "val_mrr"):
            assert b[key] == pytest.approx(a[key], abs=1e-6, rel=1e-6), (a["epoch"], key)
    assert h1[-1]["val_cosine"] != h1[0]["val_cosine"]          # it learned: epochs differ


@pytest.mark.slow
def test_a_stop_on_one_rank_stops_every_rank_at_the_same_batch(tmp_path):
    r0, r1 = spawn(tmp_path, "stop", config())
    assert r0 == r1                                  # same batches seen, same end, same step count
    assert r0["reason"] == "stopped" and r0["epochs"] == 1 and r0["partial"] == 2
    assert r0["batches"][-1] == [2, 2]


def sample_texts() -> list[str]:
    import csv
    from helpers import SAMPLE_45
    rows = list(csv.DictReader(SAMPLE_45.open(encoding="utf-8")))
    return [r["question"] for r in rows] + [r["answer"] for r in rows]


def _embed_rank(rank: int, world: int, store: str, cache: str, out: str) -> None:
    """Rank 0 embeds the sample's texts into an empty cache with every rank's help; rank 1 only helps."""
    import logging
    from workbench.teacher.encoder import Teacher, TeacherConfig
    logging.basicConfig(filename=str(Path(out, f"embed{rank}.log")), level=logging.INFO)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        ddp = distributed.Ddp(rank, world, rank, "gloo", "cpu", dist.new_group(backend="gloo"))
        if rank == 0:
            teacher = Teacher(TeacherConfig(cache_dir=cache))
            distributed.spread_embedding(ddp, teacher)
            vecs = teacher.encode(sample_texts())
            distributed.share_data(ddp, None)         # as a rank 0 that stops before training: the others end
            np.save(Path(out, "vecs.npy"), vecs)
        else:
            assert distributed.receive_data(ddp) is None
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_texts_missing_from_the_cache_are_embedded_by_every_rank(tmp_path, teacher):
    """Two ranks embed half of the cold texts each; rank 0 writes them all to the cache; the vectors are the
    single process's (the batches pad differently, so equal to float precision)."""
    cache = tmp_path / "cold-cache"
    mp.start_processes(_embed_rank, args=(2, str(tmp_path / "store"), str(cache), str(tmp_path)), nprocs=2,
                       join=True, start_method="spawn")
    texts = sample_texts()
    n = len(set(texts))
    for rank, share in ((0, (n + 1) // 2), (1, n // 2)):
        log = (tmp_path / f"embed{rank}.log").read_text()
        assert f"embedded {share} of {n} texts missing from the cache on rank {rank} of 2" in log
    two, one = np.load(tmp_path / "vecs.npy"), teacher.encode(texts)
    cos = (two * one).sum(1) / np.linalg.norm(two, axis=1) / np.linalg.norm(one, axis=1)
    assert two.shape == one.shape and cos.min() > 0.99999
    from workbench.teacher.encoder import Teacher, TeacherConfig
    warm = Teacher(TeacherConfig(cache_dir=str(cache)))       # rank 0 wrote every vector: no model call now
    assert np.allclose(warm.encode(texts), two, atol=1e-6) and warm.model_calls == 0
