"""The training loop's shape and its issue-11 bugs: a mid-epoch stop, the untrained probe, the estimate event."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
import torch

from workbench.train.record.checkpoint import load_checkpoint
from workbench.train.events import BatchProgress, EpochMetrics, Finished, RunEstimate, RunStarted, TrainWarning
from workbench.train.pipeline import prepare
from workbench.train.trainer import TrainingState, train
from helpers import SAMPLE_45

TRAINER = Path(__file__).resolve().parents[1] / "workbench" / "train" / "trainer.py"


@pytest.fixture(scope="module")
def prepared(cache_dir):
    from helpers import small_config
    return prepare(small_config(cache_dir), str(SAMPLE_45))


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_stop_in_mid_epoch_is_not_recorded_as_an_epoch(make_config, prepared, tmp_path):
    cfg = make_config(**{"optim.epochs": 5, "optim.batch_size": 4})     # 36 training pairs: 9 batches per epoch
    state = TrainingState.create(cfg, prepared.data, out_dir=tmp_path)
    seen = []
    for ev in train(state):
        seen.append(ev)
        if isinstance(ev, BatchProgress) and ev.epoch == 2 and ev.batch == 3:
            state.request_stop()
    fin = of(seen, Finished)[0]
    assert [e.epoch for e in of(seen, EpochMetrics)] == [1]
    assert fin.reason == "stopped" and fin.epochs_run == 1 and fin.partial_batches == 3
    assert len(state.history) == 1 and state.epoch == 1
    warn = [w for w in of(seen, TrainWarning) if w.code == "partial-epoch"]
    assert warn and "after 3 of 9 batches" in warn[0].message
    assert load_checkpoint(tmp_path / "last.safetensors")["epoch"] == 1    # the checkpoint is the whole epoch 1


def test_untrained_probe_is_the_seeds_initial_lattice_whatever_ran_before(make_config, prepared, tmp_path):
    from workbench.train.predict import load_model
    cfg = make_config(**{"optim.epochs": 1, "seed": 5})
    state = TrainingState.create(cfg, prepared.data, out_dir=tmp_path)
    initial = [p.detach().clone() for p in state.model.parameters()]
    list(train(state))
    a = load_model(str(tmp_path / "best.safetensors"))
    torch.rand(12345)                                       # other code consumed random numbers in between
    rng = torch.get_rng_state()
    b = load_model(str(tmp_path / "best.safetensors"))
    assert torch.equal(torch.get_rng_state(), rng)          # loading moves no global RNG
    for x, y, z in zip(a.untrained.parameters(), b.untrained.parameters(), initial):
        assert torch.equal(x, y) and torch.equal(x, z)
    assert not all(torch.equal(x, y) for x, y in zip(a.trained.parameters(), a.untrained.parameters()))


def test_estimate_is_the_first_event_and_slow_epochs_warn(make_config, prepared):
    state = TrainingState.create(make_config(), prepared.data)
    assert isinstance(state.estimate, RunEstimate) and state.estimate.seconds_per_epoch > 0
    state.estimate = dataclasses.replace(state.estimate, seconds_per_epoch=5 * 3600.0)
    events = []
    for ev in train(state):
        events.append(ev)
        if isinstance(ev, RunStarted):
            break
    assert isinstance(events[0], RunEstimate)
    slow = [w for w in of(events, TrainWarning) if w.code == "slow-epoch"]
    assert slow and "5.0 h" in slow[0].message


def test_train_is_split_into_small_steps():
    """No function in trainer.py runs past 40 lines: the loop reads as epoch, batch and evaluation steps."""
    tree = ast.parse(TRAINER.read_text(encoding="utf-8"))
    long = {n.name: n.end_lineno - n.lineno + 1 for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef) and n.end_lineno - n.lineno + 1 > 40}
    assert not long, long
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert {"_train_epoch", "_train_batch", "_evaluate_epoch", "_batch_indices", "_reduce_gradients"} <= names
