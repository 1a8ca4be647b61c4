"""Sweeps under races and faults: settings stored atomically, data flags checked, heartbeats that outlast a lock
wait, a trial failed by another worker, stale trials cleared before counting, pruning from epoch 2, and real
worker processes killed or started with other flags."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest

from helpers import SAMPLE_45
from workbench.sweep import storage as storage_mod
from workbench.sweep import study as S
from workbench.sweep.space import build_space
from workbench.train.events import EpochMetrics, TrainWarning

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.neighbourhood=von_neumann",
        "--set", "optim.batch_size=16"]


def test_two_fresh_workers_with_other_settings_one_is_refused(tmp_path, space, make_config, monkeypatch):
    """Both workers look at the fresh study before either has stored anything (a barrier holds the first read
    of each until both got there): exactly one may pass."""
    from optuna.storages import RDBStorage
    barrier, first_read = threading.Barrier(2, timeout=10), set()
    read = RDBStorage.get_study_user_attrs

    def read_together(self, study_id):
        if threading.get_ident() not in first_read:
            first_read.add(threading.get_ident())
            try:
                barrier.wait()
            except threading.BrokenBarrierError:     # the other worker never reads: nothing to line up with
                pass
        return read(self, study_id)
    monkeypatch.setattr(RDBStorage, "get_study_user_attrs", read_together)
    url, results = f"sqlite:///{tmp_path / 'study.db'}", {}
    settings = {lr: S.sweep_settings(make_config(**{"optim.lr": lr}), build_space(space), "x.csv") for lr in (1e-3, 2e-3)}
    S.open_study(url, "race", settings[1e-3])            # the study exists; its settings are stored in the race
    with storage_mod.quiet_experimental():
        storage = optuna.storages.RDBStorage(url)
        sid = storage.get_study_id_from_name("race")
        with storage.engine.begin() as conn:             # as a study created a moment ago: no settings yet
            conn.exec_driver_sql("DELETE FROM study_user_attributes WHERE study_id = ?", (sid,))

    def worker(lr):
        try:
            S.open_study(url, "race", settings[lr])
            results[lr] = "ok"
        except S.SweepError as exc:
            results[lr] = str(exc)
    threads = [threading.Thread(target=worker, args=(lr,)) for lr in settings]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results.values()).count("ok") == 1, results
    refused = next(v for v in results.values() if v != "ok")
    assert "optim.lr" in refused and "other settings" in refused


def test_data_flags_are_among_the_checked_settings(tmp_path, space, make_config):
    cfg, sp = make_config(), build_space(space)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    S.open_study(url, "flags", S.sweep_settings(cfg, sp, "data.csv", val="val.csv", columns="question=q,answer=a"))
    for changed, key in (({"val": "other.csv", "columns": "question=q,answer=a"}, "--val"),
                         ({"val": "val.csv", "columns": "question=q,answer=b"}, "--columns"),
                         ({"val": "val.csv", "columns": "question=q,answer=a", "drop_invalid": True}, "--drop-invalid")):
        with pytest.raises(S.SweepError, match=key):
            S.open_study(url, "flags", S.sweep_settings(cfg, sp, "data.csv", **changed))
    # the same flags from another folder (another machine's mount) are the same sweep
    S.open_study(url, "flags", S.sweep_settings(cfg, sp, "/mnt/x/data.csv", val="/mnt/x/val.csv",
                                                columns="question=q,answer=a"))


def test_a_heartbeat_that_waited_for_the_lock_is_still_in_time(tmp_path, space, make_config):
    """A worker's heartbeat write may wait up to SQLite's busy timeout; the grace after which other workers fail
    its trial must outlast one interval plus that wait, or a live trial is failed under it."""
    study = S.open_study(f"sqlite:///{tmp_path / 'study.db'}", "hb",
                         S.sweep_settings(make_config(), build_space(space), "x.csv"))
    storage = study._storage._backend if hasattr(study._storage, "_backend") else study._storage
    with storage.engine.connect() as conn:
        busy_s = conn.exec_driver_sql("PRAGMA busy_timeout").scalar() / 1000
    interval, grace = storage.get_heartbeat_interval(), storage.grace_period
    assert busy_s > 0 and interval > 0
    assert grace >= 2 * (interval + busy_s), (interval, busy_s, grace)


def test_a_trial_another_worker_failed_stops_with_one_line_and_its_place_is_filled(tmp_path, space, make_config,
                                                                                 capfd):
    """Another worker found this worker's heartbeat stale and failed its running trial: the next report raises
    optuna's UpdateFinishedTrialError. The worker stops that trial, says so in one line, and runs a new one."""
    from workbench.train.pipeline import prepare
    cfg = make_config(**{"optim.epochs": 3})
    prepared = prepare(cfg, str(SAMPLE_45))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = S.open_study(url, "lost", S.sweep_settings(cfg, build_space(space), "x.csv"), pruning=False)
    other = optuna.storages.RDBStorage(url)        # the other worker's connection
    warnings, failed = [], []

    def on_event(number, ev):
        if isinstance(ev, TrainWarning):
            warnings.append((number, ev))
        if isinstance(ev, EpochMetrics) and number == 0 and ev.epoch == 1 and not failed:
            trial_id = other.get_trial_id_from_study_id_trial_number(other.get_study_id_from_name("lost"), 0)
            other.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL)
            failed.append(trial_id)
    setup = S.SweepSetup(cfg, build_space(space), tmp_path, 1, lambda c: prepared, on_event=on_event, study_name="lost")
    assert S.run_worker(study, S.TrialRunner(setup), 1) == 1
    states = {t.number: t.state.name for t in study.trials}
    assert states == {0: "FAIL", 1: "COMPLETE"}
    assert [(n, w.code) for n, w in warnings] == [(0, "trial-taken-over")]
    assert json.loads((tmp_path / "trial-0000" / "trial.json").read_text())["state"] == "taken-over"
    assert json.loads((tmp_path / "trial-0000" / "metrics.json").read_text())["epochs_run"] == 2   # stopped after the epoch whose report failed
    out = capfd.readouterr()
    assert "Traceback" not in out.out + out.err


def test_stale_trials_are_cleared_before_counting(tmp_path, space, make_config, monkeypatch):
    """A killed worker's RUNNING trial goes stale while this worker trains: after its trial this worker must
    clear it before counting, or it stops with fewer than --trials trials done."""
    from workbench.train.pipeline import prepare
    monkeypatch.setattr(storage_mod, "HEARTBEAT_S", 0.5)
    monkeypatch.setattr(storage_mod, "BUSY_TIMEOUT_S", 1.0)
    monkeypatch.setattr(storage_mod, "GRACE_S", 2.0)
    cfg = make_config(**{"optim.epochs": 1})
    prepared = prepare(cfg, str(SAMPLE_45))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = S.open_study(url, "stale", S.sweep_settings(cfg, build_space(space), "x.csv"), pruning=False)
    with pytest.warns(UserWarning, match="Heartbeat"):
        dead = study.ask()               # a worker that then died: RUNNING, with a heartbeat that stops now
    study._storage.record_heartbeat(dead._trial_id)

    def slow_view(number, ev):           # this worker's trial outlasts the dead one's grace
        if isinstance(ev, EpochMetrics):
            time.sleep(storage_mod.GRACE_S + 0.5)
    setup = S.SweepSetup(cfg, build_space(space), tmp_path, 2, lambda c: prepared, on_event=slow_view)
    assert S.run_worker(study, S.TrialRunner(setup), 2) == 2
    assert sorted(t.state.name for t in study.trials) == ["COMPLETE", "COMPLETE", "FAIL"]


def test_pruning_never_judges_the_first_epoch_alone(tmp_path, space, make_config):
    study = S.open_study(f"sqlite:///{tmp_path / 'study.db'}", "prune",
                         S.sweep_settings(make_config(), build_space(space), "x.csv"))
    for value in (0.8, 0.8, 0.8):            # the median's start-up trials, 2 epochs each
        t = study.ask()
        t.report(value, 1)
        t.report(value, 2)
        study.tell(t, value)
    weak = study.ask()
    weak.report(0.1, 1)                      # far below the median after epoch 1: still not pruned
    assert not weak.should_prune()
    weak.report(0.1, 2)                      # and after epoch 2 it is
    assert weak.should_prune()


# -- real worker processes ---------------------------------------------------------------------------------------
def sweep_cmd(out: Path, space: Path, cache_dir, trials: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "workbench.cli.sweep", str(SAMPLE_45), "--trials", str(trials), "--out", str(out),
            "--space", str(space), "--cache-dir", str(cache_dir), "--no-prune", *TINY, *extra]


def env(**extra) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.slow
def test_two_fresh_worker_processes_with_different_flags_one_is_refused_naming_the_keys(tmp_path, space, cache_dir):
    out = tmp_path / "s"
    cmds = [sweep_cmd(out, space, cache_dir, 1, "--epochs", "1"),
            sweep_cmd(out, space, cache_dir, 1, "--epochs", "1", "--drop-invalid", "--set", "optim.lr=0.002")]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env()) for c in cmds]
    results = [p.communicate(timeout=400) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], results
    refused = next(err for p, (_, err) in zip(procs, results) if p.returncode == 2)
    assert "--drop-invalid" in refused and "optim.lr" in refused and "Traceback" not in refused
    assert len(refused.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_killed_sweep_worker_costs_nothing_after_a_rerun(tmp_path, space, cache_dir):
    """SIGKILL one of two workers mid-trial; a re-run of the same command completes the study with exactly
    --trials counted trials, none run twice, and no traceback from any worker."""
    out, logs = tmp_path / "s", [tmp_path / "w0.log", tmp_path / "w1.log"]
    cmd = sweep_cmd(out, space, cache_dir, 3, "--epochs", "3")
    hb = env(WORKBENCH_SWEEP_HEARTBEAT="1")          # a killed worker's trial is stale after 6 s, not 30 s
    procs = [subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, env=hb) for log in logs]
    try:
        deadline = time.monotonic() + 300
        while "epoch 1:" not in logs[1].read_text():        # worker 1 is inside a trial
            assert procs[1].poll() is None and time.monotonic() < deadline, logs[1].read_text()
            time.sleep(0.3)
        os.kill(procs[1].pid, signal.SIGKILL)
        assert procs[0].wait(timeout=400) == 0, logs[0].read_text()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    time.sleep(7)                                     # past the killed trial's grace, if worker 0 did not clear it
    rerun = subprocess.run(cmd, capture_output=True, text=True, env=hb, timeout=400)
    assert rerun.returncode == 0, rerun.stderr
    for text in (logs[0].read_text(), logs[1].read_text(), rerun.stdout + rerun.stderr):
        assert "Traceback" not in text
    study = optuna.load_study(study_name=f"workbench-sweep-{out.name}", storage=f"sqlite:///{out / 'study.db'}")
    counted = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(counted) == 3
    killed = [t for t in study.trials if t.state.name == "FAIL"]
    assert len(killed) == 1 and not killed[0].user_attrs.get("surplus")
    for t in counted:                                 # each counted trial ran once, to its end, in its own folder
        metrics = json.loads((out / f"trial-{t.number:04d}" / "metrics.json").read_text())
        assert metrics["epochs_run"] == 3
        started = (out / f"trial-{t.number:04d}" / "progress.jsonl").read_text().count('"kind":"started"')
        assert started == 1
    assert not math.isnan(study.best_value)
