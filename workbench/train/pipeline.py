"""dataset → teacher embeddings (cached) → a held-out split (`prepare`) → a trained run folder (`run_training`).

Every kind of run (the CLI, each torchrun rank, the app's worker, each sweep trial) prepares its data with
`prepare` (rank 0 only under torchrun) and trains with `run_training`, so all apply the same data rules, filter,
split, state, resume and run-folder writers.
Errors stop the run (DataError carrying every problem, all levels) unless dropping is allowed;
warnings drop or clean rows; notes are counted. The full list travels in PreparedRun.problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from workbench.train.config import RunConfig, validation_rules
from workbench.data.dataset import DataError, Dataset, Problem, apply_rules, load_dataset, norm, validate
from workbench.data.problem_report import count_problems
from workbench.data.split import group_column, split_dataset
from workbench.data.stats import dataset_stats, quality_filter
from workbench.teacher.encoder import Teacher
from workbench.teacher.progress import EmbedProgress
from workbench.train.batching import group_codes
from workbench.train.resume_check import split_fingerprint
from workbench.train.events import Finished
from workbench.train.record.sinks import run_folder_sinks
from workbench.train import trainer
from workbench.train.state import TrainData, TrainingState


@dataclass
class PreparedRun:
    train: Dataset
    val: Dataset
    data: TrainData
    stats: dict                      # "all", "train", "val" → dataset_stats
    notes: list[str] = field(default_factory=list)   # short lines for the console and report (split, teacher)
    teacher: str = ""
    cache_hits: int = 0
    model_calls: int = 0
    problems: list[Problem] = field(default_factory=list)  # every data problem, all levels (data_problems.csv)
    split: dict = field(default_factory=dict)              # how validation was held out (split.split_dataset)
    rows_read: int = 0                                     # data records in the input file(s)
    truncated: int = 0                                     # texts longer than the teacher's max_length (cut to it; a note says so)

    def problem_counts(self) -> dict[str, dict[str, int]]:
        return count_problems(self.problems)


def _load(source, columns) -> Dataset:
    return source if isinstance(source, Dataset) else load_dataset(source, columns=columns)


def _overlap(full: Dataset, val: Dataset) -> list[Problem]:
    """Validation rows whose question is in the training file: a leak, an error."""
    seen: dict[str, int] = {}
    for p, r in zip(full.pairs, full.rows):
        seen.setdefault(norm(p.question), r)
    return [Problem(val.path, r, "question", f"also in the training file {full.path} (row {seen[norm(p.question)]}); "
                    "training and validation must not overlap", val.line_of(i), "error", "val_overlap")
            for i, (p, r) in enumerate(zip(val.pairs, val.rows)) if norm(p.question) in seen]


def train_groups(cfg: RunConfig, train: Dataset, column: str | None) -> tuple[np.ndarray | None, str]:
    """Group ids of the training rows for optim.batching = "group" (the split's group column), and a note when
    grouped batching was asked for but there is no column to group by (it then falls back to random batches)."""
    if cfg.optim.batching != "group":
        return None, ""
    if not column:
        return None, ("batching: optim.batching is \"group\" but the data has no group column (a 'document' or "
                      "'group' column, or split.group_column): batches are drawn at random")
    labels = train.categories() if column == "category" else train.column(column)
    codes = group_codes(labels)
    n_groups = len(np.unique(codes))
    return codes, (f"batching: whole groups of column '{column}' per batch ({n_groups:,} training groups, "
                   f"{len(codes) / max(1, n_groups):.1f} pairs each on average)")


def prepare(cfg: RunConfig, train_source: str | Dataset, val_source: str | Dataset | None = None,
            drop_invalid_rows: bool = False, teacher: Teacher | None = None,
            progress: Callable[[EmbedProgress], None] | None = None,
            columns: dict[str, str] | str | None = None) -> PreparedRun:
    """columns: a mapping for files with other column names (formats.parse_columns), used for both files."""
    full, val, problems, rows_read = _load_checked(cfg, train_source, val_source or (cfg.split.val_file or None),
                                                   drop_invalid_rows, columns)
    teacher = teacher or Teacher(cfg.teacher)
    calls0 = teacher.model_calls
    texts = full.questions() + full.answers() + (val.questions() + val.answers() if val else [])
    emb = teacher.encode(texts, progress=progress)
    notes = list(teacher.last_notes)  # truncated texts, re-encoded cache entries, a cache that could not be used
    n = len(full)
    full_part = _Part(full, emb[:n], emb[n:2 * n])
    val_part = _Part(val, emb[2 * n:2 * n + len(val)], emb[2 * n + len(val):]) if val is not None else None
    if cfg.data.min_pair_cosine > -1:
        full_part = full_part.filtered(cfg.data.min_pair_cosine, problems)
        val_part = val_part.filtered(cfg.data.min_pair_cosine, problems) if val_part else None
    tr, va, split, stats_all = (_held_out(cfg, full_part) if val_part is None else _given(cfg, full_part, val_part))
    notes.append(split["text"])
    groups, batching_note = train_groups(cfg, tr.ds, split.get("group_column") or None)
    if batching_note:
        notes.append(batching_note)
    data = TrainData(tr.q, tr.a, va.q, va.a, va.ds.questions(), teacher.identity, train_groups=groups,
                     split_fingerprint=split_fingerprint(tr.ds, va.ds))      # a --resume checks it (resume_check.py)
    stats = {"all": stats_all, "train": tr.stats(), "val": va.stats()}
    return PreparedRun(tr.ds, va.ds, data, stats, notes, teacher.identity, teacher.last_stats.cache_hits,
                       teacher.model_calls - calls0, problems, split, rows_read, teacher.last_stats.truncated)


def _load_checked(cfg: RunConfig, train_source, val_source, drop_invalid_rows: bool, columns):
    """(training rows, validation rows or None, every problem, records read): errors stop here unless dropped."""
    rules = validation_rules(cfg)
    full = _load(train_source, columns)
    val = _load(val_source, columns) if val_source else None
    p_full = validate(full, rules)
    p_val = validate(val, rules) if val is not None else []
    if val is not None:
        p_val += _overlap(full, val)
    problems = p_full + p_val
    rows_read = full.n_records + (val.n_records if val is not None else 0)
    if any(p.level == "error" for p in problems) and not drop_invalid_rows:
        raise DataError(problems)
    return apply_rules(full, p_full), apply_rules(val, p_val) if val is not None else None, problems, rows_read


@dataclass
class _Part:
    """Rows and their (n, D) question and answer embeddings, kept together through filtering and splitting."""
    ds: Dataset
    q: np.ndarray
    a: np.ndarray

    def take(self, idx) -> "_Part":
        return _Part(self.ds.subset(idx), self.q[idx], self.a[idx])

    def filtered(self, min_cosine: float, problems: list[Problem]) -> "_Part":
        keep, dropped = quality_filter(self.ds, self.q, self.a, min_cosine)
        problems += dropped
        return self.take(keep)

    def stats(self) -> dict:
        return dataset_stats(self.ds, self.q, self.a)


def _held_out(cfg: RunConfig, full: _Part):
    """A seeded (group-aware) split of one file."""
    tr_idx, va_idx, split = split_dataset(full.ds, cfg.split.val_fraction, cfg.seed, cfg.split.group_column)
    return full.take(tr_idx), full.take(va_idx), split, full.stats()


def _given(cfg: RunConfig, tr: _Part, va: _Part):
    """Validation from its own file, used as it is; the split text says whether groups are in both files."""
    if len(tr.ds) < 2 or len(va.ds) < 2:
        raise DataError([Problem(va.ds.path, None, None, "need at least 2 training and 2 validation pairs")])
    split = {"method": "file", "n_train": len(tr.ds), "n_val": len(va.ds),
             "text": f"split: validation is the file {va.ds.path} ({len(va.ds):,} rows), used as it is"}
    column = group_column(tr.ds, cfg.split.group_column)
    split["group_column"] = column or ""
    if column and column in va.ds.columns:
        shared = (set(tr.ds.column(column)) & set(va.ds.column(column))) - {""}
        split.update(group_column=column, shared_groups=len(shared))
        n = len(shared)
        split["text"] += (f"; {n:,} group{'s' if n > 1 else ''} of column '{column}' {'are' if n > 1 else 'is'} in "
                          "both files: validation is not held out by group" if shared
                          else f"; no group of column '{column}' is in both files")
    stats_all = dataset_stats(Dataset(tr.ds.pairs + va.ds.pairs, tr.ds.path), np.vstack([tr.q, va.q]),
                              np.vstack([tr.a, va.a]))
    return tr, va, split, stats_all


# -- the one run function ------------------------------------------------------------------------------------
class StopRequest:
    """A stop asked for before or during a run: by a view, another thread (the app's Stop) or a signal handler.
    The trainer ends between batches or evaluation chunks; `reason` replaces the Finished event's "stopped"
    (a sweep trial's "pruned")."""

    def __init__(self) -> None:
        self.requested, self.reason, self._state = False, "stopped", None

    def __call__(self, reason: str = "stopped") -> None:
        self.requested, self.reason = True, reason
        if self._state is not None:
            self._state.request_stop()

    def attach(self, state: TrainingState) -> None:
        self._state = state
        if self.requested:             # asked before the state existed (Stop while the teacher embedded)
            state.request_stop()


@dataclass
class RunOutcome:
    state: TrainingState
    finished: Finished | None
    metrics: dict                       # what metrics.json holds ({} on a process that writes no run folder)

    @property
    def failed(self) -> bool:
        return self.finished is None or self.finished.reason == "error"


def run_training(config: RunConfig, prepared: PreparedRun | TrainData, out_dir: str | Path | None = None, *,
                 ddp=None, resume: str | None = None, tensorboard: bool = False,
                 views: Sequence[Callable[[object], None]] = (), stop: StopRequest | None = None,
                 say: Callable[[str], None] = lambda text: None) -> RunOutcome:
    """The one way a training runs: workbench-train, every torchrun rank, the app's worker and each sweep trial
    call this. It builds the TrainingState (estimated first: a run that cannot fit is refused before allocating),
    resumes from `resume` (the path rank 0 resolved), builds the run folder's sinks (record, progress.jsonl,
    TensorBoard when asked) and hands every event to the folder first, then to each view in order.

    prepared: the pipeline's PreparedRun where the run folder is written; on torchrun ranks > 0 the TrainData
    rank 0 broadcast, with out_dir None (they write nothing). say: where resume warnings go."""
    data = prepared.data if isinstance(prepared, PreparedRun) else prepared
    state = TrainingState.create(config, data, out_dir=out_dir, ddp=ddp)
    if stop is not None:
        stop.attach(state)
    if resume:
        for note in state.resume_from(resume):     # after prepare: the split's fingerprint is known
            say(f"warning: {note}")
    folder = None
    if out_dir is not None and state.is_writer:
        # a resumed run's history.csv keeps the earlier epochs
        folder = run_folder_sinks(out_dir, config, prepared, world_size=ddp.world_size if ddp else 1,
                                  tensorboard=tensorboard, history=state.history)
    sinks = [folder, *views] if folder is not None else list(views)
    finished = None
    for ev in trainer.train(state):
        if isinstance(ev, Finished):
            if stop is not None and stop.requested and ev.reason == "stopped":
                ev = replace(ev, reason=stop.reason)
            finished = ev
        for sink in sinks:
            sink(ev)
    return RunOutcome(state, finished, folder.recorder.metrics if folder is not None else {})
