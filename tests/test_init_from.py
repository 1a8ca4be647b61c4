"""Fine-tuning from a trained run: `workbench-train DATA --init-from RUN_DIR` (config key init_from).

The new run starts from the parent's best weights with a fresh optimizer and schedule, refuses a parent whose
lattice or teacher settings differ (naming each key, before anything is embedded), and records its parent
in config.json, metrics.json and report.md.
"""

from __future__ import annotations

import json

import pytest
import torch

from helpers import SAMPLE_45, SAMPLE_160, cli_run
from workbench.cli import train as cli_train
from workbench.train.pipeline import prepare
from workbench.train.predict import load_model
from workbench.train.record.checkpoint import CheckpointError
from workbench.train.state import TrainingState

FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8", "--seed", "3"]


@pytest.fixture(scope="module")
def parent(tmp_path_factory, cache_dir):
    return cli_run(tmp_path_factory.mktemp("parent") / "run", SAMPLE_160, cache_dir, 2, FAST)


def test_the_child_starts_from_the_parents_best_weights_with_a_fresh_optimizer(parent, make_config):
    cfg = make_config(**{"lattice.channels": 4, "lattice.hidden": 8, "lattice.steps": 2, "init_from": str(parent)})
    prep = prepare(cfg, str(SAMPLE_45))
    state = TrainingState.create(cfg, prep.data)
    best = load_model(str(parent / "best.safetensors")).trained.state_dict()
    for k, v in state.model.state_dict().items():
        assert torch.equal(v.cpu(), best[k]), k
    assert not state.optimizer.state and state.epoch == 0 and state.step == 0      # nothing of the parent's optimizer
    cfg.init_from = ""
    fresh = TrainingState.create(cfg, prep.data)
    assert any(not torch.equal(a, best[k]) for k, a in fresh.model.state_dict().items())
    # the schedule starts where a run from scratch starts (the parent ended with a decayed rate)
    assert state.optimizer.param_groups[0]["lr"] == fresh.optimizer.param_groups[0]["lr"]
    assert state.scheduler.state_dict() == fresh.scheduler.state_dict()


def test_cli_records_the_parent_run(parent, tmp_path, cache_dir):
    out = tmp_path / "child"
    assert cli_train.run([str(SAMPLE_45), "--epochs", "1", "--out", str(out), "--cache-dir", str(cache_dir), "--quiet",
                          "--init-from", str(parent), *FAST]) == 0
    assert json.loads((out / "config.json").read_text())["init_from"] == str(parent.resolve())
    assert json.loads((out / "metrics.json").read_text())["init_from"] == str(parent.resolve())
    assert f"started from the best weights of the run `{parent.resolve()}`" in (out / "report.md").read_text()


def test_a_parent_with_another_lattice_is_refused_naming_each_key(parent, tmp_path, cache_dir, capsys):
    out = tmp_path / "child"
    code = cli_train.run([str(SAMPLE_45), "--epochs", "1", "--out", str(out), "--cache-dir", str(cache_dir), "--quiet",
                          "--init-from", str(parent), *FAST, "--set", "lattice.channels=8", "--set", "lattice.steps=3"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "lattice.channels (checkpoint 4, this run 8)" in err and "lattice.steps (checkpoint 2, this run 3)" in err
    assert not (out / "config.json").exists()          # refused from the header, before any run folder or embedding


def test_differing_weights_are_named(parent, make_config, monkeypatch):
    """Weights that do not fit (a model class changed between versions) are named, each with its shapes."""
    from workbench.train import resume_check as st
    cfg = make_config(**{"lattice.channels": 4, "lattice.hidden": 8, "lattice.steps": 2, "init_from": str(parent)})
    real = st.load_checkpoint

    def altered(path, *a, **kw):
        ck = real(path, *a, **kw)
        ck["model"] = dict(ck["model"])
        name = next(iter(ck["model"]))
        ck["model"][name] = torch.zeros(3, 3)
        ck["model"]["extra.weight"] = torch.zeros(1)
        return ck
    monkeypatch.setattr(st, "load_checkpoint", altered)
    prep = prepare(cfg, str(SAMPLE_45))
    with pytest.raises(CheckpointError, match=r"weight extra\.weight \(only in the checkpoint\)") as info:
        TrainingState.create(cfg, prep.data)
    assert "checkpoint shape (3, 3)" in str(info.value)


def test_a_missing_parent_is_one_line(tmp_path, cache_dir, capsys):
    code = cli_train.run([str(SAMPLE_45), "--out", str(tmp_path / "c"), "--cache-dir", str(cache_dir), "--quiet",
                          "--init-from", str(tmp_path / "nowhere"), *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "nowhere" in err and "best.safetensors" in err
