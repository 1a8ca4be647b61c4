"""Hyperparameter sweeps as an Optuna study that any number of workers share through one database.

    study = open_study(storage_url(out), study_name(out), settings)
    run_worker(study, TrialRunner(setup), n_trials)       # each trial: a normal run folder OUT/trial-0007/

Why Optuna: TPE sampling, median pruning and a shared SQL store (SQLite in OUT/study.db by default,
PostgreSQL/MySQL for several machines) are what the field already uses; we add only the glue.

Counting. A sweep asks for N trials in total, over every worker and every re-run. A trial counts once it
is COMPLETE or PRUNED; RUNNING trials of other workers hold their place. A worker starts a trial only while
fewer than N are taken, and a trial that finds N trials numbered before it (two workers raced for the last
place) ends at once as FAIL with user attribute `surplus`, trains nothing and is left out of every table.
A worker killed mid-trial leaves its trial RUNNING until its heartbeat goes stale (HEARTBEAT_S × 2); then it
is failed and a re-run fills the place. So re-running the same command resumes: it runs only what is missing.

Every trial trains with the same seed, so all share one split and one initialisation stream: trials differ
only by the searched keys, and their validation cosines compare like for like.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from workbench.config_meta import UserError
from workbench.data.atomic import atomic_write_text
from workbench.train.config import ConfigError, RunConfig, flat_dict
from workbench.sweep.space import Param, apply_params, space_json
from workbench.train.events import EpochMetrics
from workbench.train.pipeline import StopRequest, run_training
from workbench.train.record.folder import open_run_folder, run_log

STUDY_FILE = "study.db"
TRIAL_FILE = "trial.json"            # in each trial folder: number, params, state, value
SETTINGS_ATTR = "workbench"          # study user attribute: the base config and space every worker must share
HEARTBEAT_S = 10                     # a running trial refreshes its heartbeat this often; stale after 2×
# keys that may differ between the machines of one sweep: where things are cached and run, not what is trained
MACHINE_KEYS = {"teacher.cache_dir", "teacher.device", "teacher.threads", "teacher.batch_size",
                "teacher.batch_tokens", "device"}


class SweepError(UserError):
    """The study cannot be opened or was started with other settings; the message says what to do."""


class SurplusTrial(Exception):
    """N trials were already taken when this one was created: it ends as FAIL (user attr `surplus`)."""


def storage_url(out: str | Path, storage: str | None = None) -> str:
    return storage or f"sqlite:///{(Path(out) / STUDY_FILE).resolve()}"


def redact(url: str) -> str:
    """The storage URL with any password hidden, for the console and sweep.json."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:        # not a URL sqlalchemy can parse: show its scheme only
        return url.split(":", 1)[0] + "://…"


def study_name(out: str | Path, name: str | None = None) -> str:
    """Fixed per sweep folder, so re-running the command on the same --out finds the same study."""
    return name or f"workbench-sweep-{Path(out).resolve().name}"


def sweep_settings(base: RunConfig, space: list[Param], data: str) -> dict:
    cfg = {k: v for k, v in flat_dict(base).items() if k not in MACHINE_KEYS}
    return {"config": cfg, "space": space_json(space), "data": Path(data).name}


def open_study(url: str, name: str, settings: dict, pruning: bool = True):
    """Create or load the study (TPE, median pruner); refuse one that was started with other settings."""
    import optuna
    from sqlalchemy.exc import SQLAlchemyError
    optuna.logging.set_verbosity(optuna.logging.WARNING)   # the CLI prints its own line per trial
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    # constant_liar: a worker treats other workers' running trials as bad results, so parallel workers
    # spread out instead of proposing the same point
    sampler = optuna.samplers.TPESampler(constant_liar=True, n_startup_trials=5)
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1) if pruning
              else optuna.pruners.NopPruner())
    last: Exception | None = None
    for attempt in range(6):        # two workers creating a fresh SQLite study at once can collide: retry
        try:
            with _quiet_experimental():
                storage = optuna.storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=HEARTBEAT_S,
                                                     grace_period=2 * HEARTBEAT_S)
            study = optuna.create_study(storage=storage, study_name=name, direction="maximize", sampler=sampler,
                                        pruner=pruner, load_if_exists=True)
            break
        except (SQLAlchemyError, optuna.exceptions.DuplicatedStudyError) as exc:
            last = exc
            time.sleep(0.5 + attempt)
        except (ImportError, ValueError) as exc:      # an unknown URL scheme or a missing database driver
            raise SweepError(f"storage {redact(url)}: {exc}") from None
    else:
        raise SweepError(f"storage {redact(url)}: cannot open the study ({type(last).__name__}: {last})")
    known = study.user_attrs.get(SETTINGS_ATTR)
    if known is None:
        study.set_user_attr(SETTINGS_ATTR, settings)
    elif known != settings:
        raise SweepError(f"study '{name}' in {redact(url)} was started with other settings ({_differences(known, settings)}); "
                         "trials would not compare: use the same flags, or another --out / --study-name")
    return study


def _differences(old: dict, new: dict) -> str:
    diffs = []
    for part in ("config", "space"):
        a, b = old.get(part, {}), new.get(part, {})
        diffs += [f"{part} {k}: {a.get(k)!r} then, {b.get(k)!r} now" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if old.get("data") != new.get("data"):
        diffs.append(f"data {old.get('data')!r} then, {new.get('data')!r} now")
    return "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")


class _quiet_experimental:
    """Heartbeats are marked experimental in Optuna; the warning is noise for our users."""

    def __enter__(self):
        import warnings
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        import optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


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
        stop, pruned_at = StopRequest(), []

        def prune(ev) -> None:
            """Each epoch's validation cosine goes to the pruner; a pruned trial stops through the trainer's own stop."""
            if isinstance(ev, EpochMetrics):
                trial.report(float(ev.metrics["val_cosine"]), ev.epoch)
                if not pruned_at and trial.should_prune():
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
        atomic_write_text(folder / TRIAL_FILE, json.dumps({
            "study": self.setup.study_name, "number": trial.number, "state": status, "value": value,
            "params": params, "best_epoch": best_epoch, "epochs_run": epochs, "finish_reason": reason,
            "error": error}, indent=2) + "\n")


class _HideSurplus(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "SurplusTrial" not in record.getMessage()


def run_worker(study, runner: TrialRunner, n_trials: int) -> int:
    """Run trials until the study holds n_trials counted or running ones; returns how many this worker ran."""
    from optuna.storages import fail_stale_trials
    with _quiet_experimental():
        fail_stale_trials(study)           # places held by killed workers are freed before counting
    if taken(study) >= n_trials:
        return 0
    ran = []

    def stop_when_full(study, trial) -> None:
        if not trial.user_attrs.get("surplus"):
            ran.append(trial.number)
        if taken(study) >= n_trials:
            study.stop()

    # optuna logs a caught exception as a failed trial; a surplus trial is not a failure worth a line.
    # (Records come from optuna's child loggers, so the filter goes on the handlers they propagate to.)
    hide, handlers = _HideSurplus(), logging.getLogger("optuna").handlers
    for h in handlers:
        h.addFilter(hide)
    try:
        study.optimize(runner, n_trials=n_trials, callbacks=[stop_when_full], catch=(SurplusTrial,),
                       gc_after_trial=True)
    finally:
        for h in handlers:
            h.removeFilter(hide)
    return len(ran)


def is_surplus(trial) -> bool:
    return bool(trial.user_attrs.get("surplus"))


__all__ = ["SweepSetup", "TrialRunner", "SweepError", "open_study", "run_worker", "storage_url", "study_name",
           "sweep_settings", "redact", "taken", "counted", "trial_folder", "is_surplus", "STUDY_FILE", "TRIAL_FILE"]
