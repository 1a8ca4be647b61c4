"""Issue 8/11: the trainer's evaluation passes report progress per chunk, honour Stop between chunks, and score
the training set by its recorded figure only (train cosine) on a fixed seeded subset."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from workbench.cli.progress import Printer
from workbench.train import eval_pass
from workbench.train import metrics as M
from workbench.train.record.checkpoint import load_checkpoint
from workbench.train.events import BatchProgress, EpochMetrics, EvalProgress, Finished, RunStarted, TrainWarning
from workbench.train.pipeline import prepare
from workbench.train.trainer import TrainingState, train
from helpers import SAMPLE_45, SAMPLE_160, run_until


@pytest.fixture(scope="module")
def prepared(cache_dir):
    from helpers import small_config
    return prepare(small_config(cache_dir), str(SAMPLE_45))           # 36 training, 9 validation pairs


@pytest.fixture(scope="module")
def prepared_160(cache_dir):
    from helpers import small_config
    return prepare(small_config(cache_dir), str(SAMPLE_160))


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_scored_training_rows_are_a_fixed_seeded_subset():
    rows = eval_pass.train_score_rows(80_000, seed=3)
    assert len(rows) == eval_pass.TRAIN_SCORE_ROWS == 4096 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, eval_pass.train_score_rows(80_000, seed=3))           # every epoch, every resume
    assert not np.array_equal(rows, eval_pass.train_score_rows(80_000, seed=4))
    assert np.array_equal(eval_pass.train_score_rows(100, seed=3), np.arange(100))    # small data: every pair


def test_train_cosine_is_the_subsets_and_no_full_training_retrieval_runs(make_config, prepared_160, monkeypatch):
    monkeypatch.setattr(eval_pass, "TRAIN_SCORE_ROWS", 20)
    n_train = len(prepared_160.data.q_train)
    sizes = []                      # rows of every retrieval and of every loss computed without gradient
    real_ranks, real_loss = M.ranks, M.loss_terms
    monkeypatch.setattr(M, "ranks", lambda p, a, *k: (sizes.append(len(p)), real_ranks(p, a, *k))[1])
    monkeypatch.setattr(M, "loss_terms", lambda p, a, c: (sizes.append(len(p)) if not torch.is_grad_enabled()
                                                          else None, real_loss(p, a, c))[1])
    cfg = make_config(**{"optim.epochs": 2, "optim.batch_size": 16})
    state = TrainingState.create(cfg, prepared_160.data)
    untrained = [p.detach().clone() for p in state.model.parameters()]
    events = list(train(state))
    assert n_train not in sizes and len(prepared_160.data.q_val) in sizes

    rows = eval_pass.train_score_rows(n_train, cfg.seed)
    assert len(rows) == 20
    q, a = (torch.from_numpy(x[rows]) for x in (prepared_160.data.q_train, prepared_160.data.a_train))

    def subset_cosine():
        with torch.no_grad():
            return float(M.pair_cosine(state.model.eval()(q), a).mean())
    last = of(events, EpochMetrics)[-1].metrics["train_cosine"]
    assert last == pytest.approx(subset_cosine(), abs=1e-5)               # the last epoch's weights, on the subset
    with torch.no_grad():
        every = float(M.pair_cosine(state.model(torch.from_numpy(prepared_160.data.q_train)),
                                    torch.from_numpy(prepared_160.data.a_train)).mean())
    assert abs(every - last) > 1e-6                                      # …not on all training pairs
    with torch.no_grad():                                                # the start figure: same rows, untrained
        for p, p0 in zip(state.model.parameters(), untrained):
            p.copy_(p0)
    start = of(events, RunStarted)[0]
    assert start.start["train_cosine_start"] == pytest.approx(subset_cosine(), abs=1e-5)
    assert start.baselines["identity"]["train_cosine"] == pytest.approx(float(M.pair_cosine(q, a).mean()), abs=1e-5)


def test_every_evaluation_pass_reports_chunks(make_config, prepared, monkeypatch):
    monkeypatch.setattr(eval_pass, "CHUNK_ROWS", 8)
    events = list(train(TrainingState.create(make_config(**{"optim.epochs": 1}), prepared.data)))
    ev = of(events, EvalProgress)
    before = events[:events.index(of(events, RunStarted)[0])]
    assert [(e.label, e.done) for e in of(before, EvalProgress)] == [
        ("baselines", 0), *[("training subset", d) for d in (8, 16, 24, 32, 36)], ("validation", 8), ("validation", 9)]
    assert all(e.phase == "before training" for e in of(before, EvalProgress))
    epoch = [(e.label, e.done, e.total) for e in ev if e.phase == "epoch 1"]
    assert epoch[-1] == ("validation", 9, 9) and ("training subset", 36, 36) in epoch
    assert [e.label for e in ev if e.phase == "ablation"][-1] == "training subset, lattice off"
    assert events.index(ev[-1]) < events.index(of(events, Finished)[0])
    assert "ablation_lattice_off_val_cosine" in of(events, Finished)[0].extra




def test_a_stop_during_an_epochs_evaluation_ends_the_run_keeping_the_last_epoch(make_config, prepared, monkeypatch,
                                                                                tmp_path):
    monkeypatch.setattr(eval_pass, "CHUNK_ROWS", 8)
    state = TrainingState.create(make_config(**{"optim.epochs": 4}), prepared.data, out_dir=tmp_path)
    seen, after = run_until(state, lambda e: isinstance(e, EvalProgress) and e.phase == "epoch 2")
    assert not of(after, EvalProgress) and not of(after, BatchProgress)    # the next chunk did not run
    fin = of(seen, Finished)[0]
    assert fin.reason == "stopped" and fin.epochs_run == 1 and [e.epoch for e in of(seen, EpochMetrics)] == [1]
    assert load_checkpoint(tmp_path / "last.safetensors")["epoch"] == 1
    # epoch 2's batches all ran: a stop is a notice, and last.safetensors keeps them for a resume (not an error)
    assert fin.kept and fin.partial_batches == of(seen, BatchProgress)[-1].n_batches
    assert not [w for w in of(seen, TrainWarning) if w.code == "partial-epoch"]
    assert "ablation_lattice_off_val_cosine" not in fin.extra                # the ablation honours the stop too
    assert fin.extra["ablation_weights"].startswith("not measured")


@pytest.mark.parametrize("label", ["baselines", "validation"])
def test_a_stop_before_training_ends_the_run_before_any_batch(make_config, prepared, label):
    state = TrainingState.create(make_config(), prepared.data)
    seen, after = run_until(state, lambda e: isinstance(e, EvalProgress) and e.label == label)
    assert not of(seen, RunStarted) and not of(seen, BatchProgress) and not of(after, EvalProgress)
    fin = of(seen, Finished)[0]
    assert fin.reason == "stopped" and fin.epochs_run == 0 and state.step == 0


def test_a_stop_during_the_ablation_skips_it_and_keeps_the_trained_run(make_config, prepared, monkeypatch, tmp_path):
    monkeypatch.setattr(eval_pass, "CHUNK_ROWS", 4)
    state = TrainingState.create(make_config(**{"optim.epochs": 2}), prepared.data, out_dir=tmp_path)
    seen, after = run_until(state, lambda e: isinstance(e, EvalProgress) and e.phase == "ablation")
    fin = of(seen, Finished)[0]
    assert fin.reason == "completed" and fin.epochs_run == 2 and not of(after, EvalProgress)
    assert not any(k.startswith("ablation_lattice_off") for k in fin.extra)
    last = load_checkpoint(tmp_path / "last.safetensors")["model"]           # the best epoch's weights were put back
    assert all(torch.equal(v, last[k]) for k, v in state.model.state_dict().items())


def test_a_log_shows_evaluation_progress_at_most_every_interval():
    now = [0.0]
    out = io.StringIO()
    p = Printer(stream=out, interval=10.0, clock=lambda: now[0])
    for t, done in ((62.0, 1024), (64.0, 2048), (75.0, 2633)):
        now[0] = t
        p(EvalProgress("epoch 2", "validation", done, 2633))
    assert out.getvalue().splitlines() == ["[1m02s] epoch 2: evaluating validation: 1,024/2,633 pairs",
                                           "[1m15s] epoch 2: evaluating validation: 2,633/2,633 pairs"]
