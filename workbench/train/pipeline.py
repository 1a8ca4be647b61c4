"""dataset → teacher embeddings (cached) → a held-out split ready for the trainer.

Shared by the CLI and the GUI worker so both apply the same data rules, filter and split.
Errors stop the run (DataError carrying every problem, all levels) unless dropping is allowed;
warnings drop or clean rows; notes are counted. The full list travels in PreparedRun.problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from workbench.train.config import RunConfig
from workbench.data.dataset import DataError, Dataset, Problem, ValidationRules, apply_rules, load_dataset, norm, validate
from workbench.data.problem_report import count_problems
from workbench.data.split import group_column, split_dataset
from workbench.data.stats import dataset_stats, quality_filter
from workbench.teacher.encoder import Teacher
from workbench.teacher.progress import EmbedProgress
from workbench.train.batching import group_codes
from workbench.train.resume_check import split_fingerprint
from workbench.train.state import TrainData


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


def validation_rules(cfg: RunConfig) -> ValidationRules:
    """The run's data rules. The app's table must use this too, so it flags what a run would do."""
    return ValidationRules(cfg.data.min_chars, cfg.data.max_chars)


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
    rules = validation_rules(cfg)
    val_source = val_source or (cfg.split.val_file or None)
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
    full = apply_rules(full, p_full)
    val = apply_rules(val, p_val) if val is not None else None
    notes: list[str] = []

    teacher = teacher or Teacher(cfg.teacher)
    calls0 = teacher.model_calls
    texts = full.questions() + full.answers() + (val.questions() + val.answers() if val else [])
    emb = teacher.encode(texts, progress=progress)
    notes += teacher.last_notes      # truncated texts, re-encoded cache entries, a cache that could not be used
    n = len(full)
    q_all, a_all = emb[:n], emb[n:2 * n]
    if val is not None:
        q_val, a_val = emb[2 * n:2 * n + len(val)], emb[2 * n + len(val):]
    if cfg.data.min_pair_cosine > -1:
        keep, dropped = quality_filter(full, q_all, a_all, cfg.data.min_pair_cosine)
        problems += dropped
        full, q_all, a_all = full.subset(keep), q_all[keep], a_all[keep]
        if val is not None:
            keep, dropped = quality_filter(val, q_val, a_val, cfg.data.min_pair_cosine)
            problems += dropped
            val, q_val, a_val = val.subset(keep), q_val[keep], a_val[keep]
    if val is None:
        tr_idx, va_idx, split = split_dataset(full, cfg.split.val_fraction, cfg.seed, cfg.split.group_column)
        train, val = full.subset(tr_idx), full.subset(va_idx)
        q_tr, a_tr, q_val, a_val = q_all[tr_idx], a_all[tr_idx], q_all[va_idx], a_all[va_idx]
        stats_all = dataset_stats(full, q_all, a_all)
    else:
        if len(full) < 2 or len(val) < 2:
            raise DataError([Problem(val.path, None, None, "need at least 2 training and 2 validation pairs")])
        train, q_tr, a_tr = full, q_all, a_all
        split = {"method": "file", "n_train": len(full), "n_val": len(val),
                 "text": f"split: validation is the file {val.path} ({len(val):,} rows), used as it is"}
        column = group_column(full, cfg.split.group_column)
        split["group_column"] = column or ""
        if column and column in val.columns:
            shared = (set(full.column(column)) & set(val.column(column))) - {""}
            split.update(group_column=column, shared_groups=len(shared))
            n = len(shared)
            split["text"] += (f"; {n:,} group{'s' if n > 1 else ''} of column '{column}' {'are' if n > 1 else 'is'} in "
                              "both files: validation is not held out by group" if shared
                              else f"; no group of column '{column}' is in both files")
        stats_all = dataset_stats(Dataset(full.pairs + val.pairs, full.path), np.vstack([q_all, q_val]),
                                  np.vstack([a_all, a_val]))
    notes.append(split["text"])
    groups, batching_note = train_groups(cfg, train, split.get("group_column") or None)
    if batching_note:
        notes.append(batching_note)
    data = TrainData(q_tr, a_tr, q_val, a_val, val.questions(), teacher.identity, train_groups=groups,
                     split_fingerprint=split_fingerprint(train, val))      # a --resume checks it (resume_check.py)
    stats = {"all": stats_all, "train": dataset_stats(train, q_tr, a_tr), "val": dataset_stats(val, q_val, a_val)}
    return PreparedRun(train, val, data, stats, notes, teacher.identity, teacher.last_stats.cache_hits,
                       teacher.model_calls - calls0, problems, split, rows_read, teacher.last_stats.truncated)
