"""Issue 7's audit, trainer side: exact resume, kill -9 during a save, no lost run, named config clashes, logging."""

from __future__ import annotations

import ast
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.cli import train as cli
from workbench.train.record.checkpoint import capture_rng, load_checkpoint, restore_rng
from workbench.train.events import EpochMetrics, Finished
from workbench.train.pipeline import prepare
from workbench.train.record.folder import clean_orphans, open_run_folder, RunFolderError
from workbench.train.trainer import TrainingState, train
from helpers import SAMPLE_45

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8"]


@pytest.fixture(scope="module")
def prepared(cache_dir):
    from helpers import small_config
    return prepare(small_config(cache_dir), str(SAMPLE_45))


def params(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def rows(events) -> list[dict]:
    return [{k: v for k, v in e.metrics.items() if k != "seconds"} for e in events if isinstance(e, EpochMetrics)]


def test_resume_is_bit_identical_with_stochastic_cells(make_config, prepared, tmp_path):
    """4 epochs straight == 2 epochs + resume for 2, with fire_rate < 1 masks and context noise (the run's generator)."""
    cfg = make_config(**{"optim.epochs": 4, "lattice.fire_rate": 0.6, "optim.context_noise": 0.05})
    straight = TrainingState.create(cfg, prepared.data)
    full = rows(list(train(straight)))
    cfg.optim.epochs = 2
    first = TrainingState.create(cfg, prepared.data, out_dir=tmp_path)
    part1 = rows(list(train(first)))
    torch.rand(1000), np.random.rand(10), random.random()      # other code drawing numbers in between
    cfg.optim.epochs = 4
    resumed = TrainingState.create(cfg, prepared.data, out_dir=tmp_path)
    resumed.resume_from(tmp_path / "last.safetensors")
    part2 = rows(list(train(resumed)))
    assert part1 + part2 == full
    assert torch.equal(params(straight.model), params(resumed.model))


def test_rng_states_round_trip():
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    saved = capture_rng()
    a = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(9), np.random.seed(9), random.seed(9)
    restore_rng(saved)
    b = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_resumed_report_keeps_the_original_before_training_values(tmp_path, cache_dir):
    out = tmp_path / "run"
    base = [str(SAMPLE_45), "--seed", "1", "--out", str(out), "--cache-dir", str(cache_dir), *FAST]
    assert cli.run(base + ["--epochs", "2"]) == 0
    first = json.loads((out / "metrics.json").read_text())
    assert cli.run(base + ["--epochs", "3", "--resume", str(out / "last.safetensors")]) == 0
    second = json.loads((out / "metrics.json").read_text())
    assert second["epochs_run"] == 3
    assert second["train_cosine_start"] == first["train_cosine_start"]
    assert second["val_cosine_start"] == first["val_cosine_start"]
    report = (out / "report.md").read_text()
    assert f"train cosine before the first update: {first['train_cosine_start']:.3f}" in report


def test_existing_run_folder_is_refused_then_moved_aside_never_lost(tmp_path, cache_dir, capsys):
    out = tmp_path / "run"
    base = [str(SAMPLE_45), "--epochs", "1", "--out", str(out), "--cache-dir", str(cache_dir), *FAST]
    assert cli.run(base) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert cli.run(base + ["--set", "lattice.hidden=16"]) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and f"--resume {out / 'last.safetensors'}" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before            # untouched
    assert cli.run(base + ["--overwrite"]) == 0
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("run.old-")]
    assert len(aside) == 1 and {p.name: p.read_bytes() for p in aside[0].iterdir()} == before
    assert (out / "last.safetensors").exists() and "moved to" in capsys.readouterr().err


def test_overwrite_with_resume_from_the_same_folder_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(RunFolderError, match="one or the other"):
        open_run_folder(tmp_path, resume=tmp_path / "last.safetensors", overwrite=True)
    assert (tmp_path / "config.json").exists()


def test_resume_with_another_model_config_names_the_keys(tmp_path, cache_dir, capsys):
    out = tmp_path / "run"
    base = [str(SAMPLE_45), "--out", str(out), "--cache-dir", str(cache_dir), *FAST]
    assert cli.run(base + ["--epochs", "1"]) == 0
    capsys.readouterr()
    code = cli.run(base + ["--epochs", "2", "--resume", str(out / "last.safetensors"),
                           "--set", "lattice.hidden=16", "--set", "lattice.boundary=periodic"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "lattice.hidden (checkpoint 8, this run 16)" in err
    assert "lattice.boundary (checkpoint 'walls', this run 'periodic')" in err


def test_orphaned_temp_files_are_cleaned_at_start(tmp_path, cache_dir):
    out = tmp_path / "run"
    assert cli.run([str(SAMPLE_45), "--epochs", "1", "--out", str(out), "--cache-dir", str(cache_dir), *FAST]) == 0
    orphans = [out / ".last.safetensors.k2j4_x9a.tmp", out / ".history.csv.abcdefgh.tmp"]
    for p in orphans:
        p.write_bytes(b"half a save")
    keep = out / "notes.tmp"
    keep.write_text("the user's own file")
    assert cli.run([str(SAMPLE_45), "--epochs", "2", "--out", str(out), "--resume", str(out / "last.safetensors"),
                    "--cache-dir", str(cache_dir), *FAST]) == 0
    assert not any(p.exists() for p in orphans) and keep.exists()
    assert "removed .last.safetensors.k2j4_x9a.tmp" in (out / "run.log").read_text()


KILL_SCRIPT = """
import sys, torch
from workbench.train.record.checkpoint import save_checkpoint
path = sys.argv[1]
# 16 MB: each save takes a while, so a kill lands mid-write; every weight holds the save's number, so a file
# that mixed one save's header with another's data shows it
i = 0
while True:
    i += 1
    save_checkpoint(path, {"model": {"w": torch.full((4_000_000,), float(i))}, "optimizer": {}, "config": {},
                           "epoch": i})
    print(i, flush=True)
"""


def test_kill_9_during_saves_leaves_a_readable_checkpoint(tmp_path):
    path = tmp_path / "last.safetensors"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.05, 0.23):
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)], stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline()                  # one save completed
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ck = load_checkpoint(path)                     # old or new, never a torn file
        assert ck["epoch"] >= 1
        w = ck["model"]["w"]
        assert w.numel() == 4_000_000 and bool((w == float(ck["epoch"])).all()), "weights from another save"
    clean_orphans(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["last.safetensors"]


def test_each_run_folder_gets_a_run_log_and_v_raises_its_level(tmp_path, cache_dir):
    out = tmp_path / "run"
    assert cli.run([str(SAMPLE_45), "--epochs", "2", "--out", str(out), "--cache-dir", str(cache_dir), *FAST]) == 0
    text = (out / "run.log").read_text()
    assert "epoch 1:" in text and "epoch 2:" in text and "finished: completed" in text and "DEBUG" not in text
    out2 = tmp_path / "run2"
    assert cli.run([str(SAMPLE_45), "--epochs", "1", "--out", str(out2), "--cache-dir", str(cache_dir), "-v",
                    *FAST]) == 0
    assert "DEBUG" in (out2 / "run.log").read_text()


def test_no_silently_swallowed_exceptions_in_the_package():
    """No bare `except:`, and no broad `except Exception`/`BaseException` that swallows silently (its whole body
    `pass`, `...` or `continue`), anywhere in workbench/. Narrow handlers (`except FileNotFoundError: pass`) may."""
    offenders = []
    for py in (ROOT / "workbench").rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler):
                silent = all(isinstance(s, (ast.Pass, ast.Continue)) or
                             (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in node.body)
                types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                broad = any(isinstance(t, ast.Name) and t.id in ("Exception", "BaseException") for t in types)
                if node.type is None or (broad and silent):
                    offenders.append(f"{py.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_cli_lets_a_real_bug_surface_as_a_traceback(tmp_path, cache_dir, monkeypatch):
    """A ValueError from inside the trainer is a bug, not bad input: it must not become 'exit 2'."""
    import workbench.train.trainer as trainer

    def broken(state):
        raise ValueError("an internal bug")
        yield  # pragma: no cover

    monkeypatch.setattr(trainer, "train", broken)
    with pytest.raises(ValueError, match="an internal bug"):
        cli.run([str(SAMPLE_45), "--epochs", "1", "--out", str(tmp_path / "r"), "--cache-dir", str(cache_dir), *FAST])


def test_impossible_lattice_is_bad_input_not_a_bug(tmp_path, cache_dir, capsys):
    code = cli.run([str(SAMPLE_45), "--out", str(tmp_path / "r"), "--cache-dir", str(cache_dir), *FAST,
                    "--set", "lattice.io=face", "--set", "lattice.shape=5x5x5"])
    err = capsys.readouterr().err
    assert code == 2 and "face io" in err and "Traceback" not in err
