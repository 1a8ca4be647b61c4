"""Where a sweep's Optuna study lives and what every worker of it must share: opening (or creating) the study,
storing its settings once, atomically, and refusing a worker whose settings differ, naming the keys.

Timings. A running trial refreshes its heartbeat every HEARTBEAT_S; a SQLite write waits at most BUSY_TIMEOUT_S
for the lock; other workers fail a trial whose heartbeat is older than GRACE_S. GRACE_S is more than twice
HEARTBEAT_S + BUSY_TIMEOUT_S, so a live worker whose heartbeat write waited for the lock is never taken for a
dead one (with a 60 s busy timeout and a 20 s grace it could be, and its next report then failed).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from workbench.config_meta import UserError
from workbench.train.config import RunConfig, flat_dict
from workbench.sweep.space import Param, space_json

STUDY_FILE = "study.db"
SETTINGS_ATTR = "workbench"          # study user attribute: the base config and space every worker must share
# the timings (module docstring); env WORKBENCH_SWEEP_HEARTBEAT scales them, for tests that kill a worker
HEARTBEAT_S = float(os.environ.get("WORKBENCH_SWEEP_HEARTBEAT", "5"))
BUSY_TIMEOUT_S = 2 * HEARTBEAT_S
GRACE_S = 6 * HEARTBEAT_S
# The pruner reports step = epoch (1-based) and may prune from step n_warmup_steps on: 2 means "never on the
# first epoch alone", which is noisy (the plateau scheduler and early epochs differ most between trials).
PRUNE_FROM_EPOCH = 2
# keys that may differ between the machines of one sweep: where things are cached and run, not what is trained
MACHINE_KEYS = {"teacher.cache_dir", "teacher.device", "teacher.threads", "teacher.batch_size",
                "teacher.batch_tokens", "device"}


class SweepError(UserError):
    """The study cannot be opened or was started with other settings; the message says what to do."""


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


def sweep_settings(base: RunConfig, space: list[Param], data: str, val: str | None = None,
                   columns: str | None = None, drop_invalid: bool = False) -> dict:
    """What every worker of one study must share: the config, the space, and which data it reads and how
    (file names, not paths, so machines may mount the data in other places)."""
    cfg = {k: v for k, v in flat_dict(base).items() if k not in MACHINE_KEYS}
    return {"config": cfg, "space": space_json(space), "data": Path(data).name,
            "flags": {"--val": Path(val).name if val else None, "--columns": columns or None,
                      "--drop-invalid": bool(drop_invalid)}}


def open_study(url: str, name: str, settings: dict, pruning: bool = True):
    """Create or load the study (TPE, median pruner); refuse one that was started with other settings."""
    import optuna
    from sqlalchemy.exc import SQLAlchemyError
    optuna.logging.set_verbosity(optuna.logging.WARNING)   # the CLI prints its own line per trial
    kwargs = {"connect_args": {"timeout": BUSY_TIMEOUT_S}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    # constant_liar: a worker treats other workers' running trials as bad results, so parallel workers
    # spread out instead of proposing the same point
    sampler = optuna.samplers.TPESampler(constant_liar=True, n_startup_trials=5)
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=PRUNE_FROM_EPOCH) if pruning
              else optuna.pruners.NopPruner())
    last: Exception | None = None
    for attempt in range(6):        # two workers creating a fresh SQLite study at once can collide: retry
        try:
            with quiet_experimental():
                storage = optuna.storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=HEARTBEAT_S,
                                                     grace_period=GRACE_S)
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
    settings = json.loads(json.dumps(settings))        # as the database hands it back (tuples become lists)
    known = _claim_settings(storage, name, settings)
    if known is not None and "flags" not in known:     # a study from before the data flags were checked
        known = {**known, "flags": settings["flags"]}
    if known != settings:
        raise SweepError(f"study '{name}' in {redact(url)} was started with other settings ({_differences(known, settings)}); "
                         "trials would not compare: use the same flags, or another --out / --study-name")
    return study


def _claim_settings(storage, name: str, settings: dict) -> dict:
    """Store settings unless the study holds some already, atomically; return the study's settings.

    A plain INSERT: the (study, key) unique constraint lets exactly one of two racing workers in, the other's
    insert fails and it reads the winner's. (Optuna's set_user_attr reads, then updates or inserts: two fresh
    workers could both find nothing, and the later one's settings would silently replace the earlier's.)"""
    import sqlalchemy as sa
    study_id = storage.get_study_id_from_name(name)
    table = sa.table("study_user_attributes", sa.column("study_id"), sa.column("key"), sa.column("value_json"))
    try:
        with storage.engine.begin() as conn:
            conn.execute(table.insert().values(study_id=study_id, key=SETTINGS_ATTR, value_json=json.dumps(settings)))
    except sa.exc.IntegrityError:      # another worker stored its settings first: compare with those
        pass
    return storage.get_study_user_attrs(study_id).get(SETTINGS_ATTR)


def _differences(old: dict, new: dict) -> str:
    diffs = []
    for part in ("config", "space", "flags"):
        a, b = old.get(part, {}), new.get(part, {})
        diffs += [f"{part} {k}: {a.get(k)!r} then, {b.get(k)!r} now" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if old.get("data") != new.get("data"):
        diffs.append(f"data {old.get('data')!r} then, {new.get('data')!r} now")
    return "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")


class quiet_experimental:
    """Heartbeats are marked experimental in Optuna; the warning is noise for our users."""

    def __enter__(self):
        import warnings
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        import optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
