"""workbench-sweep: two workers share one SQLite study, re-runs resume, pruning stops a trial, space files checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from helpers import SAMPLE_45
from workbench.cli import sweep as cli
from workbench.train.config import ConfigError, load_config
from workbench.sweep.space import DEFAULT_SPACE, build_space

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--epochs", "2", "--set", "lattice.channels=4", "--set", "lattice.hidden=8",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=16", "--quiet"]


def study_of(out: Path) -> optuna.Study:
    return optuna.load_study(study_name=f"workbench-sweep-{out.name}", storage=f"sqlite:///{out / 'study.db'}")


def counted(study) -> list:
    return [t for t in study.get_trials() if t.state.name in ("COMPLETE", "PRUNED")]


def ran_by_worker(stdout: str) -> int:
    line = [x for x in stdout.splitlines() if "by this worker" in x][-1]
    return int(line.split("(")[1].split()[0])


@pytest.mark.slow
def test_two_workers_share_one_study_and_a_rerun_resumes(tmp_path, space, cache_dir):
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "workbench.cli.sweep", str(SAMPLE_45), "--trials", "4", "--out", str(out),
           "--space", str(space), "--cache-dir", str(cache_dir), *TINY]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for _ in range(2)]
    results = [w.communicate(timeout=300) for w in workers]
    for w, (stdout, stderr) in zip(workers, results):
        assert w.returncode == 0, stderr
        assert "Traceback" not in stderr
    study = study_of(out)
    trials = counted(study)
    # exactly the requested number, each trial number once, each with its own complete run folder
    assert len(trials) == 4 and len({t.number for t in trials}) == 4
    assert sum(ran_by_worker(stdout) for stdout, _ in results) == 4
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 4
    folders = sorted(p.name for p in out.glob("trial-*"))
    assert folders == sorted(f"trial-{t.number:04d}" for t in trials)
    for t in trials:
        folder = out / f"trial-{t.number:04d}"
        record = json.loads((folder / "trial.json").read_text())
        assert record["number"] == t.number and record["params"] == t.params
        assert json.loads((folder / "metrics.json").read_text())["epochs_run"] >= 1
        assert (folder / "config.json").exists() and (folder / "history.csv").exists()
    rows = (out / "trials.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[0].startswith("trial,state,val_cosine")
    # the best config is one workbench-train --config accepts, holding the best trial's values
    best = study.best_trial
    cfg = load_config(out / "best_config.json")
    assert cfg.optim.lr == pytest.approx(best.params["optim.lr"]) and cfg.lattice.steps == best.params["lattice.steps"]
    assert cfg.optim.epochs == 2 and cfg.lattice.channels == 4
    assert (out / "history.png").stat().st_size > 1000 and (out / "importance.png").stat().st_size > 1000

    # re-running the complete study adds nothing; asking for one more runs exactly one
    assert cli.run([str(SAMPLE_45), "--trials", "4", "--out", str(out), "--space", str(space),
                    "--cache-dir", str(cache_dir), *TINY]) == 0
    assert len(counted(study_of(out))) == 4 and len(list(out.glob("trial-*"))) == 4
    assert cli.run([str(SAMPLE_45), "--trials", "5", "--out", str(out), "--space", str(space),
                    "--cache-dir", str(cache_dir), "--tensorboard", *TINY]) == 0
    assert len(counted(study_of(out))) == 5 and len(list(out.glob("trial-*"))) == 5
    newest = max(out.glob("trial-*"))
    assert list((newest / "tensorboard").glob("events.out.tfevents.*")) and (newest / "progress.jsonl").exists()
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["trials_counted"] == 5 and summary["trials_run_by_this_worker"] == 1


def test_pruned_trial_stops_through_the_trainer_and_is_recorded(tmp_path, space, cache_dir, make_config):
    from workbench.train.pipeline import prepare
    from workbench.sweep.study import SweepSetup, TrialRunner, run_worker
    cfg = make_config(**{"optim.epochs": 4})
    prepared = prepare(cfg, str(SAMPLE_45))
    # a real Optuna pruner whose bar no lattice reaches: every trial is pruned after its first epoch
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=1.5))
    setup = SweepSetup(cfg, build_space(space), tmp_path, 2, lambda c: prepared)
    assert run_worker(study, TrialRunner(setup), 2) == 2
    assert [t.state.name for t in study.trials] == ["PRUNED", "PRUNED"]
    for t in study.trials:
        folder = tmp_path / f"trial-{t.number:04d}"
        assert json.loads((folder / "trial.json").read_text())["state"] == "pruned"
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["finish_reason"] == "pruned" and metrics["epochs_run"] == 1
        assert (folder / "history.csv").read_text().count("\n") == 2      # header + epoch 1


def test_changed_settings_are_refused_for_an_existing_study(tmp_path, space, cache_dir, capsys):
    """A sweep started again with other settings is refused with one line naming each differing key."""
    out = tmp_path / "s"
    args = [str(SAMPLE_45), "--trials", "1", "--out", str(out), "--space", str(space), "--cache-dir", str(cache_dir),
            *TINY]
    assert cli.run(args) == 0
    capsys.readouterr()
    assert cli.run([*args, "--set", "optim.weight_decay=0.5", "--drop-invalid"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "other settings" in err[0], err
    assert "optim.weight_decay: 0.1 then, 0.5 now" in err[0] and "--drop-invalid: False then, True now" in err[0]
    assert len(list(out.glob("trial-*"))) == 1                   # nothing ran for the refused worker


def test_space_file_schema_json_and_toml(tmp_path):
    toml = tmp_path / "space.toml"
    toml.write_text('[optim.lr]\nlow = 1e-4\nhigh = 1e-2\nlog = true\n\n'
                    '["lattice.neighbourhood"]\nchoices = ["moore", "von_neumann"]\n\n'
                    '["loss.infonce"]\n')
    with pytest.raises(ConfigError, match="loss.infonce"):      # an empty table is not a range
        build_space(toml)
    toml.write_text("defaults = true\n" + toml.read_text().replace('["loss.infonce"]\n', ""))
    keys = {p.key: p for p in build_space(toml)}
    assert set(DEFAULT_SPACE) | {"lattice.neighbourhood"} == set(keys)
    assert keys["optim.lr"].low == 1e-4 and keys["optim.lr"].log
    assert keys["lattice.neighbourhood"].choices == ("moore", "von_neumann")
    assert keys["lattice.steps"].kind == "int" and keys["optim.lr"].kind == "float"

    def error(spec: dict) -> str:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(spec))
        with pytest.raises(ConfigError) as exc:
            build_space(path)
        assert str(path) in str(exc.value)
        return str(exc.value)
    assert "not a config key" in error({"optim.speed": {"low": 1, "high": 2}})
    assert "above high" in error({"optim.lr": {"low": 0.1, "high": 0.01}})
    assert "out of range" in error({"optim.lr": {"low": 1e-4, "high": 5}})
    assert "whole number" in error({"lattice.steps": {"low": 1.5, "high": 3}})
    assert "not allowed" in error({"lattice.boundary": {"choices": ["walls", "sticky"]}})
    assert "empty" in error({"defaults": False})
    assert "log range" in error({"loss.cosine": {"low": 0, "high": 1, "log": True}})


def test_bad_space_file_exits_2_without_traceback(tmp_path, capsys):
    bad = tmp_path / "space.json"
    bad.write_text("{not json")
    assert cli.run([str(SAMPLE_45), "--trials", "2", "--out", str(tmp_path / "s"), "--space", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "space.json: not valid JSON" in err and "Traceback" not in err


def test_a_trial_created_after_the_study_is_full_trains_nothing(tmp_path, space, make_config):
    """Two workers racing for the last place: the later trial ends as a surplus FAIL, without a run folder."""
    from workbench.cli.sweep_report import trial_rows
    from workbench.sweep.study import SweepSetup, TrialRunner, open_study, sweep_settings, taken
    cfg = make_config()
    study = open_study(f"sqlite:///{tmp_path / 'study.db'}", "race", sweep_settings(cfg, build_space(space), "x.csv"))
    with pytest.warns(UserWarning, match="Heartbeat"):   # optuna's note: heartbeats are meant for optimize()
        held = study.ask()              # another worker's trial, still running: it holds the only place
    setup = SweepSetup(cfg, build_space(space), tmp_path, 1, lambda c: pytest.fail("a surplus trial must not train"))
    study.optimize(TrialRunner(setup), n_trials=1, catch=(Exception,))   # what run_worker does after its pre-check
    ours = study.trials[-1]
    assert ours.number == held.number + 1 and ours.state.name == "FAIL" and ours.user_attrs["surplus"]
    assert not (tmp_path / f"trial-{ours.number:04d}").exists()
    assert taken(study) == 1 and [r["trial"] for r in trial_rows(study)] == [held.number]
