"""The run folder: never overwritten by accident, cleaned of a killed save's leftovers, with a run.log.

    notes = open_run_folder(out, resume=..., overwrite=...)   # refuses, or moves the old run aside
    with run_log(out, verbose):                               # run.log gets the `workbench` loggers' records
        ...

Policy for an `--out` that already holds a run (config.json, history.csv, a checkpoint, …):
- `--resume OUT/last.safetensors` continues it in place (the checkpoint's own folder); another checkpoint of
  OUT (best.safetensors) is refused there, as it would overwrite the later epochs: resume it into a new --out,
  or with --overwrite, which moves OUT aside and resumes from the moved checkpoint;
- `--overwrite` renames the old folder to `OUT.old-YYYYmmdd-HHMMSS` (a rename in the same parent
  folder: nothing is copied or deleted) and starts afresh in an empty OUT;
- otherwise the run is refused with a message that offers both, so two configs never mix.
An empty folder, or one holding only unrelated files, is used as it is.
"""

from __future__ import annotations

import logging
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from workbench.config_meta import UserError
from workbench.train.state import BEST, LAST

log = logging.getLogger(__name__)

# what marks a folder as holding a run (run.log and data_problems.csv alone do not: a run refused for bad data
# leaves only those, and the corrected run may use the folder)
RUN_FILES = ("config.json", "history.csv", "metrics.json", "report.md", LAST, BEST, "last.pt", "best.pt")
# tempfile.mkstemp names that data/atomic.py's atomic_open leaves when a save is killed: .NAME.XXXXXXXX.tmp
ORPHAN = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


class RunFolderError(UserError):
    """--out cannot be used as asked; the message says what to do instead."""


def run_files(folder: Path) -> list[str]:
    return [name for name in RUN_FILES if (folder / name).exists()] if folder.is_dir() else []


def move_aside(folder: Path) -> Path:
    """Rename folder to folder.old-<timestamp> (with -2, -3… if taken) and return the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = folder.with_name(f"{folder.name}.old-{stamp}")
    n = 1
    while dest.exists():
        n += 1
        dest = folder.with_name(f"{folder.name}.old-{stamp}-{n}")
    os.rename(folder, dest)
    log.info("moved the earlier run %s aside to %s", folder, dest)
    return dest


def clean_orphans(folder: Path) -> list[Path]:
    """Remove temp files a killed atomic save left behind; the finished files beside them are intact."""
    removed = []
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        if p.is_file() and ORPHAN.match(p.name):
            try:
                p.unlink()
            except OSError as exc:
                log.warning("cannot remove the leftover temp file %s: %s", p, exc.strerror or exc)
                continue
            log.info("removed %s, left by a save that was killed", p.name)
            removed.append(p)
    return removed


def open_run_folder(out: str | Path, resume: str | Path | None = None, overwrite: bool = False) -> list[str]:
    """Make `out` ready for a run under the policy above; returns notes for the user (what was moved/removed)."""
    return prepare_run_folder(out, resume, overwrite)[0]


def prepare_run_folder(out: str | Path, resume: str | Path | None = None,
                       overwrite: bool = False) -> tuple[list[str], str | None]:
    """open_run_folder, also returning where the --resume checkpoint is now (moved aside with OUT by
    --overwrite when it was inside OUT, e.g. OUT/best.safetensors), or None without --resume."""
    out = Path(out)
    notes: list[str] = []
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--out {out} is a file, not a folder; choose a folder for the run")
    found = run_files(out)
    resume_path = Path(resume).resolve() if resume is not None else None
    inside = resume_path is not None and resume_path.parent == out.resolve()
    # Only OUT/last.safetensors continues in place: it is the run's latest state, so nothing after it is lost.
    # Any other checkpoint of OUT (best.safetensors: epoch 6 of 20) would overwrite last.safetensors and the
    # history rows after it.
    continuing = inside and resume_path.name == LAST
    if found and overwrite:
        if continuing:
            raise RunFolderError(f"--overwrite would move {out} aside, and with it the checkpoint --resume "
                                 f"{resume} continues from; use one or the other")
        dest = move_aside(out)
        notes.append(f"the earlier run in {out} was moved to {dest} (nothing deleted)")
        if inside:
            resume = str(dest / resume_path.name)
            notes.append(f"resuming from {resume}, the checkpoint as moved aside")
    elif found and inside and not continuing:
        raise RunFolderError(
            f"--resume {resume} into its own folder would overwrite {out}'s later state ({', '.join(found)}: "
            f"the epochs after that checkpoint). Resume into a new folder with --out NEW_FOLDER, or pass --overwrite "
            f"to move the run aside to {out.name}.old-<date-time> and resume from its copy of {resume_path.name}; "
            f"--resume {out / LAST} continues the run itself.")
    elif found and not continuing:
        raise RunFolderError(
            f"{out} already holds a run ({', '.join(found)}). Continue it with --resume {out / LAST}, start "
            f"afresh with --overwrite (the old run is kept as {out.name}.old-<date-time>), or choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    for p in clean_orphans(out):
        notes.append(f"removed {p.name}, a temp file left by a killed save")
    return notes, (str(resume) if resume is not None else None)


@contextmanager
def run_log(folder: str | Path, verbose: int = 0) -> Iterator[Path]:
    """Append the `workbench` loggers' records to folder/run.log: INFO and up, DEBUG too when verbose."""
    path = Path(folder) / "run.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger("workbench")
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
