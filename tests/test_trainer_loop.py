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
from helpers import SAMPLE_45, run_until

TRAIN = Path(__file__).resolve().parents[1] / "workbench" / "train"
LOOP = (TRAIN / "trainer.py", TRAIN / "epoch.py")     # the loop, and what it carries and does at an epoch's end


@pytest.fixture(scope="module")
def prepared(cache_dir):
    from helpers import small_config
    return prepare(small_config(cache_dir), str(SAMPLE_45))


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_stop_in_mid_epoch_is_not_recorded_as_an_epoch(make_config, prepared, tmp_path):
    cfg = make_config(**{"optim.epochs": 5, "optim.batch_size": 4})     # 36 training pairs: 9 batches per epoch
    state = TrainingState.create(cfg, prepared.data, out_dir=tmp_path)
    seen, _ = run_until(state, lambda ev: isinstance(ev, BatchProgress) and ev.epoch == 2 and ev.batch == 3)
    fin = of(seen, Finished)[0]
    assert [e.epoch for e in of(seen, EpochMetrics)] == [1]
    assert fin.reason == "stopped" and fin.epochs_run == 1 and fin.partial_batches == 3
    assert len(state.history) == 1 and state.epoch == 1
    ck = load_checkpoint(tmp_path / "last.safetensors")
    assert ck["epoch"] == 1 and ck["history"] == state.history      # epoch 1 recorded; epoch 2 only as a position
    assert ck["partial"]["batches"] == 3 and len(ck["partial"]["order"]) == 36


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
    """No function of the loop runs past 40 lines: it reads as epoch, batch and evaluation steps."""
    funcs = [n for f in LOOP for n in ast.walk(ast.parse(f.read_text(encoding="utf-8")))
             if isinstance(n, ast.FunctionDef)]
    long = {n.name: n.end_lineno - n.lineno + 1 for n in funcs if n.end_lineno - n.lineno + 1 > 40}
    assert not long, long
    names = {n.name for n in funcs}
    assert {"_train_epoch", "_train_batch", "evaluate_epoch", "_batch_indices", "_reduce_gradients"} <= names


def test_a_stop_in_mid_epoch_keeps_its_position_and_the_resume_ends_where_a_straight_run_ends(
        make_config, prepared, tmp_path):
    """Issue 19: a stop after batch 3 of epoch 2 writes last.safetensors with the epoch's order, running sums and
    RNG states; the resume trains batch 4 next (not batch 1) and the whole history equals an uninterrupted run's,
    with the stochastic parts on (fire_rate < 1 masks and context noise, both from the run's generator)."""
    cfg = make_config(**{"optim.epochs": 3, "optim.batch_size": 4, "lattice.fire_rate": 0.6,
                         "optim.context_noise": 0.05})
    straight = TrainingState.create(cfg, prepared.data)
    list(train(straight))
    first = TrainingState.create(cfg, prepared.data, out_dir=tmp_path)
    events, _ = run_until(first, lambda ev: isinstance(ev, BatchProgress) and ev.epoch == 2 and ev.batch == 3)
    fin = of(events, Finished)[0]
    assert fin.reason == "stopped" and fin.partial_batches == 3 and fin.kept == str(tmp_path / "last.safetensors")
    assert not [w for w in of(events, TrainWarning) if w.code == "partial-epoch"]      # a notice, not a warning
    notice = fin.stop_notice("Resume with X.")
    assert "epoch 2 after 3 batches" in notice and "last.safetensors" in notice and notice.endswith("Resume with X.")
    ck = load_checkpoint(tmp_path / "last.safetensors")
    assert ck["epoch"] == 1 and ck["partial"]["epoch"] == 2 and ck["partial"]["batches"] == 3
    torch.rand(1000)                                     # other code drawing numbers in between
    resumed = TrainingState.create(cfg, prepared.data, out_dir=tmp_path)
    resumed.resume_from(tmp_path / "last.safetensors")
    after = list(train(resumed))
    batches = of(after, BatchProgress)
    assert (batches[0].epoch, batches[0].batch) == (2, 4)                # the next batch, not epoch 2 again
    assert len([b for b in batches if b.epoch == 2]) == 9 - 3
    strip = lambda hist: [{k: v for k, v in r.items() if k != "seconds"} for r in hist]   # noqa: E731
    assert strip(resumed.history) == strip(straight.history)
    assert torch.equal(torch.cat([p.flatten() for p in resumed.model.parameters()]),
                       torch.cat([p.detach().flatten() for p in straight.model.parameters()]))
    assert load_checkpoint(tmp_path / "last.safetensors")["partial"] is None           # the epoch ended: no position


def test_an_epoch_stopped_before_its_end_is_still_evaluable(make_config, prepared, tmp_path, cache_dir):
    """A stop in epoch 1 leaves no best epoch, only last.safetensors with the weights where it stopped:
    workbench-eval's core scores them all the same."""
    from workbench.train.evaluate import evaluate_run
    cfg = make_config(**{"optim.epochs": 2, "optim.batch_size": 4})
    state = TrainingState.create(cfg, prepared.data, out_dir=tmp_path)
    run_until(state, lambda ev: isinstance(ev, BatchProgress) and ev.batch == 5)
    assert not (tmp_path / "best.safetensors").exists() and (tmp_path / "last.safetensors").exists()
    result = evaluate_run(tmp_path, SAMPLE_45, cache_dir=str(cache_dir))
    assert result.n > 0 and -1.0 <= result.model.cosine <= 1.0 and result.checkpoint.endswith("last.safetensors")
