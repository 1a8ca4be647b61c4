"""The large-data recipe: grouped batches, warm-up + cosine schedule, the 'large-data' preset, the lattice ablation."""

import copy
import json
import math
from argparse import Namespace

import numpy as np
import pytest
import torch

from helpers import SAMPLE_45
from shared_data import realistic_rows, write_rows_csv
from workbench.cli.run_flags import choose_preset
from workbench.train import batching
from workbench.train.predict import predict
from workbench.train.config import LARGE_DATA_MIN_PAIRS, from_preset, suggested_preset
from workbench.train.events import EpochMetrics, Finished, RunStarted
from workbench.train.pipeline import prepare
from workbench.train.record.recorder import RunRecorder
from workbench.train.schedule import WarmupCosine
from workbench.train.trainer import Epoch, Run, TrainingState, _batch_indices, train
from workbench.train.pace import ActiveClock
from workbench.train.predict import load_model
from workbench.model.lattice_config import check_config


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def flat(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


# -- grouped batching -----------------------------------------------------------------------------------------

def test_group_order_keeps_each_group_contiguous_and_is_seeded():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 40, size=500)                      # 40 groups of uneven size, rows interleaved
    order = batching.epoch_order(500, torch.Generator().manual_seed(3), groups).numpy()
    assert sorted(order.tolist()) == list(range(500))           # a permutation: every row once per epoch
    seq = groups[order]
    runs = [g for i, g in enumerate(seq) if i == 0 or seq[i - 1] != g]
    assert len(runs) == len(set(seq.tolist()))                  # each group appears as one contiguous run
    again = batching.epoch_order(500, torch.Generator().manual_seed(3), groups).numpy()
    other = batching.epoch_order(500, torch.Generator().manual_seed(4), groups).numpy()
    assert np.array_equal(order, again) and not np.array_equal(order, other)
    # the next epoch from the same generator is a different order (groups and rows inside them reshuffled)
    gen = torch.Generator().manual_seed(3)
    e1, e2 = batching.epoch_order(500, gen, groups).numpy(), batching.epoch_order(500, gen, groups).numpy()
    assert not np.array_equal(e1, e2)
    first_group = groups[e1[0]]
    in_group = np.flatnonzero(groups == first_group)
    assert sorted(e1[:len(in_group)].tolist()) == in_group.tolist()


def test_batch_counts_with_and_without_drop_last():
    order = torch.arange(10)
    assert [len(b) for b in batching.cut(order, 4, False)] == [4, 4, 2]
    assert [len(b) for b in batching.cut(order, 4, True)] == [4, 4]
    assert [len(b) for b in batching.cut(order, 16, True)] == [10]      # never drop the only batch
    assert batching.group_codes(["a", "b", "a", "", ""]).tolist() == [0, 1, 0, 2, 3]   # empty = a group of its own


@pytest.fixture(scope="module")
def grouped(cache_dir):
    """pairs_45 (5 categories of 9) grouped by its category column: validation is one whole category, training
    the other 4 (36 rows), in grouped batches of 8."""
    from helpers import small_config
    cfg = small_config(cache_dir, **{"split.group_column": "category", "optim.batching": "group",
                                     "optim.batch_size": 8, "optim.epochs": 2})
    return cfg, prepare(cfg, str(SAMPLE_45))


def test_trainer_batches_hold_whole_groups(grouped):
    cfg, p = grouped
    groups = p.data.train_groups
    assert groups is not None and len(groups) == len(p.data.q_train)
    assert any("whole groups of column 'category'" in n for n in p.notes)
    # the train labels line up with the rows: every training row's group is its category
    cats = p.train.categories()
    assert all((groups[i] == groups[j]) == (cats[i] == cats[j]) for i in range(0, len(cats), 7) for j in range(len(cats)))
    state = TrainingState.create(cfg, p.data)
    run = Run(torch.from_numpy(p.data.q_train), torch.from_numpy(p.data.a_train), torch.from_numpy(p.data.q_val),
               torch.from_numpy(p.data.a_val), ActiveClock(), 8)
    batches = [b.numpy() for b in _batch_indices(state, run, Epoch(1, None, []))]
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(groups)))
    # whole groups are contiguous, so a batch of 8 spans at most 2 of the 9-row groups
    assert max(len(set(groups[b].tolist())) for b in batches) <= 2
    state2 = TrainingState.create(cfg, p.data)
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(batches, _batch_indices(state2, run, Epoch(1, None, []))))


def test_group_batching_without_a_group_column_falls_back_with_a_note(make_config):
    cfg = make_config(**{"optim.batching": "group", "split.group_column": ""})
    p = prepare(cfg, str(SAMPLE_45))
    assert p.data.train_groups is None
    assert any("batches are drawn at random" in n for n in p.notes)


# -- warm-up + cosine schedule -------------------------------------------------------------------------------

def test_warmup_cosine_shape():
    f = WarmupCosine(100, 0.1, 0.0)
    lr = [f(s) for s in range(101)]
    assert lr[0] == pytest.approx(0.1) and lr[9] == pytest.approx(1.0)          # linear ramp over 10 steps
    assert all(a < b for a, b in zip(lr[:10], lr[1:10]))
    assert all(a >= b for a, b in zip(lr[10:], lr[11:]))                         # then only down
    assert lr[55] == pytest.approx(0.5, abs=1e-9) and lr[100] == pytest.approx(0.0, abs=1e-12)
    assert WarmupCosine(100, 0.0, 0.2)(100) == pytest.approx(0.2) and WarmupCosine(100, 0.0, 0.2)(0) == 1.0


def test_cosine_schedule_in_a_run_and_exact_resume(grouped, tmp_path):
    cfg, p = copy.deepcopy(grouped[0]), grouped[1]     # the small lattice and grouped batches, with a cosine schedule
    cfg.optim.scheduler, cfg.optim.warmup_fraction, cfg.optim.epochs, cfg.optim.drop_last = "cosine", 0.25, 3, True
    cfg.optim.lr = 3e-3
    straight = TrainingState.create(cfg, p.data)
    events = list(train(straight))
    lrs = [e.metrics["lr"] for e in of(events, EpochMetrics)]
    steps_per_epoch = len(p.data.q_train) // 8
    assert straight.step == 3 * steps_per_epoch
    f = WarmupCosine(3 * steps_per_epoch, 0.25, 0.0)
    assert lrs == pytest.approx([3e-3 * f(e * steps_per_epoch) for e in (1, 2, 3)])
    assert lrs[0] > lrs[1] > lrs[2] == pytest.approx(0.0, abs=1e-12)
    # stop after epoch 1, resume from last.safetensors: the same weights as the straight run, bit for bit
    first = TrainingState.create(cfg, p.data, out_dir=tmp_path)
    for ev in train(first):
        if isinstance(ev, EpochMetrics) and ev.epoch == 1:
            first.request_stop()
    assert first.epoch == 1
    resumed = TrainingState.create(cfg, p.data, out_dir=tmp_path)
    resumed.resume_from(tmp_path / "last.safetensors")
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(3e-3 * f(steps_per_epoch))
    list(train(resumed))
    assert torch.equal(flat(straight.model), flat(resumed.model))
    assert [r["lr"] for r in resumed.history] == pytest.approx(lrs)


# -- the large-data preset ------------------------------------------------------------------------------------

def test_large_data_preset_loads_validates_and_builds():
    cfg = from_preset("large-data")
    assert check_config(cfg.lattice, 384) == []
    assert (cfg.optim.batching, cfg.optim.scheduler, cfg.optim.batch_size, cfg.loss.infonce) == ("group", "cosine", 128, 0.03)
    assert cfg.loss.mse == 0 and cfg.loss.cosine == 1 and cfg.optim.early_stop_patience == 0
    from workbench.model.lattice import build_lattice
    model = build_lattice(384, cfg.lattice, 0)
    assert model.shape == (8, 8, 8) and cfg.lattice.steps == 4
    assert suggested_preset(LARGE_DATA_MIN_PAIRS) == "large-data"
    assert suggested_preset(LARGE_DATA_MIN_PAIRS - 1) == "recommended"


def test_cli_picks_the_preset_from_the_data_size(tmp_path):
    small = Namespace(preset=None, data=str(SAMPLE_45), columns=None)
    data, note = choose_preset(small)
    assert small.preset == "recommended" and len(data) == 45 and "chosen for 45 pairs" in note
    path = tmp_path / "big.csv"
    rows = realistic_rows(LARGE_DATA_MIN_PAIRS)
    write_rows_csv(path, rows)
    big = Namespace(preset=None, data=str(path), columns=None)
    data, note = choose_preset(big)
    assert big.preset == "large-data" and len(data) == LARGE_DATA_MIN_PAIRS and "large-data" in note
    given = Namespace(preset="prototype-2.1", data=str(path), columns=None)
    assert choose_preset(given) == (str(path), "preset: prototype-2.1") and given.preset == "prototype-2.1"


# -- the ablation ---------------------------------------------------------------------------------------------

def test_ablation_knocks_the_lattice_out_and_equals_identity(make_config, tmp_path):
    cfg = make_config(**{"optim.epochs": 3, "optim.lr": 5e-3})
    p = prepare(cfg, str(SAMPLE_45))
    state = TrainingState.create(cfg, p.data, out_dir=tmp_path)
    rec = RunRecorder(tmp_path, cfg, p.stats, p.notes, p.teacher)
    events = list(train(state))
    for ev in events:
        rec(ev)
    fin, base = of(events, Finished)[0], of(events, RunStarted)[0].baselines["identity"]
    ab = fin.extra
    for k in ("val_cosine", "val_top1", "val_top5", "val_mrr", "train_cosine"):
        assert ab[f"ablation_lattice_off_{k}"] == pytest.approx(base[k], abs=1e-6)
    # the knocked-out forward pass is exactly the bypass (the question), the full one is not
    q = torch.from_numpy(p.data.q_val)
    best = load_model(str(tmp_path / "best.safetensors")).trained      # the ablation measures the best epoch
    assert torch.allclose(predict(best, q, steps=0), q, atol=1e-6)
    full = predict(best, q)
    assert not torch.allclose(full, q, atol=1e-4)
    ratio = float(((full - q).norm(dim=-1) / full.norm(dim=-1)).mean())
    assert ab["lattice_delta_ratio"] == pytest.approx(ratio, rel=1e-4) and ab["lattice_delta_ratio"] > 0
    # the trained model's figures are the best epoch's (the run reports those), not changed by the ablation pass
    assert math.isfinite(fin.best["val_cosine"]) and ab["ablation_weights"] == "best epoch"
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["ablation_lattice_off_val_top1"] == pytest.approx(base["val_top1"], abs=1e-6)
    report = (tmp_path / "report.md").read_text()
    assert "What the lattice adds (ablation)" in report and "lattice knocked out" in report
    delta = fin.best["val_cosine"] - base["val_cosine"]
    assert f"cosine {delta:+.3f}" in report
