"""Hyperparameter sweeps as an Optuna study that any number of workers share through one database.

    study = open_study(storage_url(out), study_name(out), settings)
    run_worker(study, TrialRunner(setup), n_trials)       # each trial: a normal run folder OUT/trial-0007/

Why Optuna: TPE sampling, median pruning and a shared SQL store (SQLite in OUT/study.db by default,
PostgreSQL/MySQL for several machines) are what the field already uses; we add only the glue.

Counting. A sweep asks for N trials in total, over every worker and every re-run. A trial counts once it
is COMPLETE or PRUNED; RUNNING trials of other workers hold their place. A worker starts a trial only while
fewer than N are taken, and a trial that finds N trials numbered before it (two workers raced for the last
place) ends at once as FAIL with user attribute `surplus`, trains nothing and is left out of every table.
A worker killed mid-trial leaves its trial RUNNING until its heartbeat goes stale (GRACE_S); then it is failed
(at a worker's start and after each trial, before counting) and a re-run fills the place. So re-running the same
command resumes: it runs only what is missing. A live worker whose heartbeat was late (a long lock wait) and
whose trial another worker therefore failed stops that trial with one line and goes on with the next.

Opening the study and its settings: storage.py. Settings. The first worker of a fresh study stores the settings every worker must share (config, space, data
and data flags) with one INSERT that the database's unique key guards, so of two fresh workers started at once
with different flags exactly one stores them and the other is refused, naming the differing keys.

Every trial trains with the same seed, so all share one split and one initialisation stream: trials differ
only by the searched keys, and their validation cosines compare like for like.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from workbench.data.atomic import atomic_write_text
from workbench.train.config import ConfigError, RunConfig
from workbench.sweep.space import Param, apply_params
from workbench.sweep.storage import (STUDY_FILE, SweepError, quiet_experimental, open_study, redact,  # noqa: F401
                                     storage_url, study_name, sweep_settings)
from workbench.train.events import EpochMetrics, TrainWarning
from workbench.train.pipeline import StopRequest, run_training
from workbench.train.record.folder import open_run_folder, run_log

TRIAL_FILE = "trial.json"            # in each trial folder: number, params, state, value


class SurplusTrial(Exception):
    """N trials were already taken when this one was created: it ends as FAIL (user attr `surplus`)."""


class TrialTakenOver(Exception):
    """Another worker failed this trial while it ran (its heartbeat looked stale): it was stopped (a line says so)."""


def taken_over_line(number: int) -> str:
    return (f"trial {number}: another worker marked it failed (this worker's heartbeat was late, e.g. a long wait "
            "for the database lock); stopped it, its place goes to a new trial")


def counted_states():
    from optuna.trial import TrialState
    return (TrialState.COMPLETE, TrialState.PRUNED)


def taken(study, before: int | None = None) -> int:
    """Trials that hold a place toward N: counted ones and those running or waiting now (numbered < before)."""
    from optuna.trial import TrialState
    states = (*counted_states(), TrialState.RUNNING, TrialState.WAITING)
    return sum(before is None or t.number < before for t in study.get_trials(deepcopy=False, states=states))


def counted(study) -> int:
    return len(study.get_trials(deepcopy=False, states=counted_states()))


def trial_folder(out: str | Path, number: int) -> Path:
    return Path(out) / f"trial-{number:04d}"


@dataclass
class SweepSetup:
    base: RunConfig
    space: list[Param]
    out: Path
    n_trials: int
    prepare: Callable[[RunConfig], object]          # config → PreparedRun (the worker caches it per split)
    tensorboard: bool = False                       # each trial also writes trial-NNNN/tensorboard/
    on_event: Callable[[int, object], None] = lambda number, ev: None             # the console view
    study_name: str = ""
    notes: list[str] = field(default_factory=list)


class TrialRunner:
    """The objective: one trial = one normal run folder; each epoch's validation cosine goes to the pruner."""

    def __init__(self, setup: SweepSetup):
        self.setup = setup
        self.taken_over: int | None = None     # the number of a trial another worker failed while this one ran it

    def __call__(self, trial) -> float:
        s = self.setup
        if taken(trial.study, before=trial.number) >= s.n_trials:
            trial.set_user_attr("surplus", True)
            trial.study.stop()
            raise SurplusTrial(f"the study already has {s.n_trials} trials")
        params = {p.key: p.suggest(trial) for p in s.space}
        cfg = apply_params(s.base, params)
        folder = trial_folder(s.out, trial.number)
        open_run_folder(folder)            # refuses a folder that already holds a run: nothing is overwritten
        trial.set_user_attr("folder", folder.name)
        with run_log(folder):
            return self._run(trial, cfg, params, folder)

    def _run(self, trial, cfg: RunConfig, params: dict, folder: Path) -> float:
        import optuna
        s = self.setup
        stop, pruned_at, lost = StopRequest(), [], []

        def prune(ev) -> None:
            """Each epoch's validation cosine goes to the pruner; a pruned trial stops through the trainer's own stop.
            A report the study refuses (another worker failed this trial) stops it too, with one line."""
            if isinstance(ev, EpochMetrics) and not lost:
                if not _report(trial, float(ev.metrics["val_cosine"]), ev.epoch):
                    lost.append(ev.epoch)
                    stop()
                    s.on_event(trial.number, TrainWarning("trial-taken-over", taken_over_line(trial.number)))
                elif not pruned_at and trial.should_prune():
                    pruned_at.append(ev.epoch)
                    stop("pruned")          # ends cleanly before the next batch; Finished says "pruned"
            s.on_event(trial.number, ev)

        prepared = s.prepare(cfg)
        try:
            outcome = run_training(cfg, prepared, folder, tensorboard=s.tensorboard, views=[prune], stop=stop)
        except ConfigError as exc:        # too large for this machine, or a combination the lattice cannot build
            self._record(trial, folder, params, "pruned", None, 0, 0, "refused", str(exc))
            raise optuna.TrialPruned(f"config refused: {exc}") from None
        state, finished = outcome.state, outcome.finished
        best = state.best_value if state.best_epoch else None
        reason, error = (finished.reason, finished.error) if finished else ("none", "")
        if lost:         # the study holds this trial as FAIL already: optuna's tell of it will raise (run_worker)
            self.taken_over = trial.number
            self._write_trial_file(trial, folder, params, "taken-over", best, state.best_epoch, state.epoch, reason,
                                   error)
            # optuna then fails to tell the finished trial (a ValueError that run_worker expects); the line was shown
            raise TrialTakenOver(taken_over_line(trial.number))
        self._record(trial, folder, params, "pruned" if pruned_at or best is None else "complete", best,
                     state.best_epoch, state.epoch, reason, error)
        if pruned_at:
            raise optuna.TrialPruned(f"validation cosine below the median of earlier trials at epoch {pruned_at[0]}")
        if best is None:         # no epoch completed (diverged in the first epoch): a result, but not a score
            raise optuna.TrialPruned(error or "no epoch completed")
        return best

    def _record(self, trial, folder: Path, params: dict, status: str, value, best_epoch: int, epochs: int,
                reason: str, error: str) -> None:
        """The trial's outcome in the study (user attributes) and beside its run (trial.json)."""
        trial.set_user_attr("best_epoch", best_epoch)
        trial.set_user_attr("epochs_run", epochs)
        trial.set_user_attr("finish_reason", reason)
        self._write_trial_file(trial, folder, params, status, value, best_epoch, epochs, reason, error)

    def _write_trial_file(self, trial, folder: Path, params: dict, status: str, value, best_epoch: int, epochs: int,
                          reason: str, error: str) -> None:
        atomic_write_text(folder / TRIAL_FILE, json.dumps({
            "study": self.setup.study_name, "number": trial.number, "state": status, "value": value,
            "params": params, "best_epoch": best_epoch, "epochs_run": epochs, "finish_reason": reason,
            "error": error}, indent=2) + "\n")


def _report(trial, value: float, epoch: int) -> bool:
    """Report an epoch to the pruner; False when the study already holds this trial as finished (another worker
    found its heartbeat stale and failed it)."""
    from optuna.exceptions import UpdateFinishedTrialError
    try:
        trial.report(value, epoch)
    except UpdateFinishedTrialError:
        return False
    return True


class _HideSurplus(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(name in record.getMessage() for name in ("SurplusTrial", "TrialTakenOver"))


def run_worker(study, runner: TrialRunner, n_trials: int) -> int:
    """Run trials until the study holds n_trials counted or running ones; returns how many this worker ran."""
    from optuna.storages import fail_stale_trials
    with quiet_experimental():
        fail_stale_trials(study)           # places held by killed workers are freed before counting
    if taken(study) >= n_trials:
        return 0
    ran = []

    def stop_when_full(study, trial) -> None:
        if not trial.user_attrs.get("surplus"):
            ran.append(trial.number)
        with quiet_experimental():
            fail_stale_trials(study)       # a killed worker's trial must not hold a place: clear, then count
        if taken(study) >= n_trials:
            study.stop()

    # optuna logs a caught exception as a failed trial, with its traceback; a surplus trial is not a failure worth
    # a line, and a trial taken over has had its one line already.
    # (Records come from optuna's child loggers, so the filter goes on the handlers they propagate to.)
    hide, handlers = _HideSurplus(), logging.getLogger("optuna").handlers
    for h in handlers:
        h.addFilter(hide)
    try:
        while taken(study) < n_trials:
            try:
                study.optimize(runner, n_trials=n_trials, callbacks=[stop_when_full], catch=(SurplusTrial,),
                               gc_after_trial=True)
                break
            except ValueError:      # optuna's "Cannot tell a FAIL trial": the trial another worker failed
                if runner.taken_over is None:
                    raise
                runner.taken_over = None        # its line was shown; go on with the next trial
    finally:
        for h in handlers:
            h.removeFilter(hide)
    return len(ran)


def is_surplus(trial) -> bool:
    return bool(trial.user_attrs.get("surplus"))


__all__ = ["SweepSetup", "TrialRunner", "SweepError", "open_study", "run_worker", "storage_url", "study_name",
           "sweep_settings", "redact", "taken", "counted", "trial_folder", "is_surplus", "STUDY_FILE", "TRIAL_FILE"]
