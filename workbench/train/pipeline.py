"""dataset → teacher embeddings (cached) → a held-out split ready for the trainer.

Shared by the CLI and the GUI worker so both apply the same validation, filter and split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .config import RunConfig
from ..data.dataset import DataError, Dataset, Problem, ValidationRules, _norm, drop_invalid, load_dataset, validate
from ..data.stats import dataset_stats, quality_filter
from ..teacher.encoder import Teacher
from ..teacher.progress import EmbedProgress
from .trainer import TrainData


@dataclass
class PreparedRun:
    train: Dataset
    val: Dataset
    data: TrainData
    stats: dict                      # "all", "train", "val" → dataset_stats
    notes: list[str] = field(default_factory=list)   # every row dropped, and why
    teacher: str = ""
    cache_hits: int = 0
    model_calls: int = 0
    truncated: int = 0               # texts longer than the teacher's max_length (cut to it; a note says so)


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded, disjoint train/validation positions; at least 2 train and 2 validation rows."""
    if n < 4:
        raise DataError([Problem("<dataset>", None, None,
                                 f"need at least 4 valid pairs to hold out a validation set, found {n}")])
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_val = min(n - 2, max(2, int(round(val_fraction * n))))
    return sorted(perm[n_val:].tolist()), sorted(perm[:n_val].tolist())


def _load_checked(source, rules: ValidationRules, drop: bool, notes: list[str]) -> Dataset:
    ds = source if isinstance(source, Dataset) else load_dataset(source)
    problems = validate(ds, rules)
    if problems and not drop:
        raise DataError(problems)
    if problems:
        notes += [f"dropped: {p}" for p in problems]
        ds = drop_invalid(ds, problems)
    return ds


def prepare(cfg: RunConfig, train_source: str | Dataset, val_source: str | Dataset | None = None,
            drop_invalid_rows: bool = False, teacher: Teacher | None = None,
            progress: Callable[[EmbedProgress], None] | None = None) -> PreparedRun:
    rules = ValidationRules(cfg.data.min_chars, cfg.data.max_chars)
    notes: list[str] = []
    val_source = val_source or (cfg.split.val_file or None)
    full = _load_checked(train_source, rules, drop_invalid_rows, notes)
    val = _load_checked(val_source, rules, drop_invalid_rows, notes) if val_source else None
    if val is not None:
        seen = {_norm(p.question): r for p, r in zip(full.pairs, full.rows)}
        clashes = [Problem(val.path, r, "question", f"also in the training file {full.path} (row {seen[_norm(p.question)]}); "
                           "training and validation must not overlap", ln)
                   for p, r, ln in zip(val.pairs, val.rows, val.lines or [None] * len(val)) if _norm(p.question) in seen]
        if clashes:
            raise DataError(clashes)
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
        notes += [f"dropped: {p}" for p in dropped]
        full, q_all, a_all = full.subset(keep), q_all[keep], a_all[keep]
        if val is not None:
            keep, dropped = quality_filter(val, q_val, a_val, cfg.data.min_pair_cosine)
            notes += [f"dropped: {p}" for p in dropped]
            val, q_val, a_val = val.subset(keep), q_val[keep], a_val[keep]
    if val is None:
        tr_idx, va_idx = split_indices(len(full), cfg.split.val_fraction, cfg.seed)
        train, val = full.subset(tr_idx), full.subset(va_idx)
        q_tr, a_tr, q_val, a_val = q_all[tr_idx], a_all[tr_idx], q_all[va_idx], a_all[va_idx]
        stats_all = dataset_stats(full, q_all, a_all)
    else:
        if len(full) < 2 or len(val) < 2:
            raise DataError([Problem(val.path, None, None, "need at least 2 training and 2 validation pairs")])
        train, q_tr, a_tr = full, q_all, a_all
        stats_all = dataset_stats(Dataset(full.pairs + val.pairs, full.path), np.vstack([q_all, q_val]),
                                  np.vstack([a_all, a_val]))
    data = TrainData(q_tr, a_tr, q_val, a_val, val.questions(), teacher.identity)
    stats = {"all": stats_all, "train": dataset_stats(train, q_tr, a_tr), "val": dataset_stats(val, q_val, a_val)}
    return PreparedRun(train, val, data, stats, notes, teacher.identity, teacher.last_stats.cache_hits,
                       teacher.model_calls - calls0, teacher.last_stats.truncated)
