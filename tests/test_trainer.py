import math

import numpy as np
import pytest
import torch

from workbench.train.events import BatchProgress, EpochMetrics, Finished, LatticeSnapshot, RunStarted, TrainWarning
from workbench.data.split import split_indices
from workbench.train.pipeline import prepare
from workbench.train.trainer import TrainingState, train
from helpers import SAMPLE_45, SAMPLE_160


def run_all(state):
    return list(train(state))


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


@pytest.fixture(scope="module")
def prepared_45(cache_dir):
    from helpers import small_config
    return prepare(small_config(cache_dir), str(SAMPLE_45))


def test_split_is_disjoint_seeded_and_complete():
    tr, va = split_indices(45, 0.2, seed=3)
    assert not set(tr) & set(va) and sorted(tr + va) == list(range(45)) and len(va) == 9
    assert split_indices(45, 0.2, seed=3) == (tr, va) and split_indices(45, 0.2, seed=4) != (tr, va)


def test_prepared_train_and_validation_never_overlap(prepared_45):
    p = prepared_45
    assert not set(p.train.rows) & set(p.val.rows)
    assert not set(p.train.questions()) & set(p.val.questions())
    # the validation embeddings are those of the validation rows, not the training ones
    tq = {tuple(np.round(v, 5)) for v in p.data.q_train}
    assert not any(tuple(np.round(v, 5)) in tq for v in p.data.q_val)


def test_lattice_learns_on_real_data(make_config, cache_dir):
    cfg = make_config(**{"optim.epochs": 5, "lattice.shape": "8x8x8", "optim.lr": 5e-3})
    p = prepare(cfg, str(SAMPLE_45))
    events = run_all(TrainingState.create(cfg, p.data))
    start = of(events, RunStarted)[0]
    epochs = [e.metrics for e in of(events, EpochMetrics)]
    assert len(epochs) == 5 and of(events, Finished)[0].reason == "completed"
    assert epochs[-1]["train_cosine"] > start.start["train_cosine_start"] + 0.03
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert all(m["grad_coverage"] == 1.0 for m in epochs)
    assert all(m["update_ratio"] > 0 for m in epochs)
    assert not of(events, TrainWarning)
    # baselines were computed on the same split and are reported beside the model
    assert set(start.baselines) == {"identity", "mean_answer", "ridge"}
    assert math.isclose(start.baselines["identity"]["val_cosine"], start.start["val_cosine_start"], abs_tol=1e-4)


def test_same_seed_same_metrics(make_config, prepared_45):
    cfg = make_config(**{"optim.epochs": 2, "optim.context_noise": 0.05, "lattice.fire_rate": 0.7})
    a = [e.metrics for e in of(run_all(TrainingState.create(cfg, prepared_45.data)), EpochMetrics)]
    b = [e.metrics for e in of(run_all(TrainingState.create(cfg, prepared_45.data)), EpochMetrics)]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(a) == strip(b)
    cfg.seed = 1
    c = [e.metrics for e in of(run_all(TrainingState.create(cfg, prepared_45.data)), EpochMetrics)]
    assert strip(c) != strip(a)


def test_lattice_outside_gradient_path_is_reported_loudly(make_config, prepared_45):
    cfg = make_config(**{"lattice.steps": 0, "optim.epochs": 2})   # zero steps: the rule never runs
    events = run_all(TrainingState.create(cfg, prepared_45.data))
    warnings = of(events, TrainWarning)
    assert any(w.code == "no-gradient" and "NOT IN GRADIENT PATH" in w.message for w in warnings)
    assert of(events, EpochMetrics)[0].metrics["grad_coverage"] < 1.0


def test_frozen_optimizer_is_reported(make_config, prepared_45):
    cfg = make_config(**{"optim.epochs": 1})
    state = TrainingState.create(cfg, prepared_45.data)
    for g in state.optimizer.param_groups:
        g["lr"] = 0.0
    assert any(w.code == "no-update" for w in of(run_all(state), TrainWarning))


def test_nan_loss_stops_with_clear_error(make_config, prepared_45):
    cfg = make_config()
    data = prepared_45.data
    bad = type(data)(data.q_train.copy(), data.a_train.copy(), data.q_val, data.a_val, data.val_questions)
    bad.q_train[:] = np.nan
    events = run_all(TrainingState.create(cfg, bad))
    fin = of(events, Finished)[0]
    assert fin.reason == "error" and "nan" in fin.error.lower() and "optim.lr" in fin.error
    assert not of(events, EpochMetrics)


def test_stop_between_batches(make_config, prepared_45):
    cfg = make_config(**{"optim.epochs": 50, "optim.batch_size": 2})
    state = TrainingState.create(cfg, prepared_45.data)
    seen = []
    for ev in train(state):
        seen.append(ev)
        if isinstance(ev, BatchProgress) and ev.batch == 3:
            state.request_stop()
    fin = of(seen, Finished)[0]
    assert fin.reason == "stopped" and len(of(seen, BatchProgress)) == 3


def test_snapshots_show_the_cube_before_and_after(make_config, prepared_45):
    cfg = make_config(**{"optim.epochs": 2})
    snaps = of(run_all(TrainingState.create(cfg, prepared_45.data)), LatticeSnapshot)
    assert [s.epoch for s in snaps] == [0, 1, 2]
    assert snaps[0].states.shape == (cfg.lattice.steps + 1, 4, 8, 8, 8)
    assert snaps[0].question == prepared_45.val.pairs[0].question
    assert not np.allclose(snaps[0].states, snaps[-1].states)


def test_checkpoint_resume_continues(make_config, prepared_45, tmp_path):
    cfg = make_config(**{"optim.epochs": 2})
    first = TrainingState.create(cfg, prepared_45.data, out_dir=tmp_path)
    run_all(first)
    assert (tmp_path / "last.safetensors").exists() and (tmp_path / "best.safetensors").exists()
    cfg.optim.epochs = 4
    resumed = TrainingState.create(cfg, prepared_45.data, out_dir=tmp_path)
    resumed.resume_from(tmp_path / "last.safetensors")
    events = run_all(resumed)
    assert of(events, RunStarted)[0].start_epoch == 3
    assert [e.epoch for e in of(events, EpochMetrics)] == [3, 4]
    assert len(resumed.history) == 4
    # resuming reproduces an uninterrupted run exactly
    straight = TrainingState.create(cfg, prepared_45.data)
    run_all(straight)
    assert torch.equal(torch.cat([p.flatten() for p in straight.model.parameters()]),
                       torch.cat([p.flatten() for p in resumed.model.parameters()]))


def test_early_stopping_keeps_best(make_config, prepared_45):
    cfg = make_config(**{"optim.epochs": 40, "optim.early_stop_patience": 2, "optim.lr": 0.05})
    events = run_all(TrainingState.create(cfg, prepared_45.data))
    fin = of(events, Finished)[0]
    rows = [e.metrics for e in of(events, EpochMetrics)]
    assert fin.reason == "early-stopped" and fin.epochs_run < 40
    assert fin.best["val_cosine"] == max(r["val_cosine"] for r in rows)


def test_quality_filter_runs_and_reports_each_dropped_row(make_config):
    cfg = make_config(**{"data.min_pair_cosine": 0.65})
    p = prepare(cfg, str(SAMPLE_45))
    dropped = [str(x) for x in p.problems if x.kind == "quality_filter" and x.level == "warning"]
    assert dropped and len(p.train) + len(p.val) == 45 - len(dropped)
    assert all("pairs_45.csv, row" in n and "field 'answer'" in n and "< 0.650" in n for n in dropped)
    assert p.stats["all"]["qa_cosine"]["min"] >= 0.65


def test_dataset_statistics(prepared_45):
    s = prepared_45.stats["all"]
    assert s["pairs"] == 45 and sum(s["categories"].values()) == 45 and len(s["categories"]) == 5
    assert s["answer_chars"]["mean"] > s["question_chars"]["mean"] > 0
    q = s["qa_cosine"]
    assert -1 <= q["min"] <= q["mean"] <= q["max"] <= 1 and q["std"] > 0


def test_explicit_validation_file_must_not_overlap(make_config):
    from workbench.data.dataset import DataError
    cfg = make_config()
    with pytest.raises(DataError) as e:
        prepare(cfg, str(SAMPLE_160), str(SAMPLE_45))    # the 45 pairs are also in the 160
    prob = e.value.problems[0]
    assert prob.file.endswith("pairs_45.csv") and prob.field == "question" and "must not overlap" in prob.message


def test_explicit_validation_file_is_used_as_is(make_config, tmp_path):
    from workbench.data.dataset import load_dataset, save_dataset
    big = load_dataset(SAMPLE_160)
    save_dataset(big.subset(list(range(0, 150))), tmp_path / "train.csv")
    save_dataset(big.subset(list(range(150, 160))), tmp_path / "val.jsonl")
    p = prepare(make_config(), str(tmp_path / "train.csv"), str(tmp_path / "val.jsonl"))
    assert len(p.train) == 150 and len(p.val) == 10
    assert p.val.questions() == [x.question for x in big.pairs[150:]]


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_each_optimizer_trains(make_config, prepared_45, optimizer):
    cfg = make_config(**{"optim.optimizer": optimizer, "optim.epochs": 2,
                         "optim.lr": 0.05 if optimizer == "sgd" else 3e-3})
    events = run_all(TrainingState.create(cfg, prepared_45.data))
    rows = [e.metrics for e in of(events, EpochMetrics)]
    assert len(rows) == 2 and all(r["update_ratio"] > 0 and r["grad_coverage"] == 1.0 for r in rows)
    assert not of(events, TrainWarning)
