"""What every inspection reads: a run's trained lattice and the embedded pairs of a data file.

    src = open_source("runs/mq", "medquad_dev.csv", split="val")   # the run's own held-out pairs
    src.model, src.q, src.a, src.labels("category")

split="all" takes every valid pair of DATA (as workbench-eval scores it); split="val" rebuilds the run's own
validation split from DATA with the run's config (the trainer's pipeline.prepare: same rules, seed, group
column), and refuses a DATA whose split is not the one the checkpoint recorded. The texts are embedded by the
run's own teacher through the shared cache (evaluate.run_teacher).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from workbench.data.dataset import DataError, Dataset, Problem
from workbench.model.lattice import CellLattice
from workbench.teacher.encoder import Teacher
from workbench.teacher.progress import EmbedProgress
from workbench.train.config import RunConfig
from workbench.train.evaluate import EvalError, check_teacher, load_pairs, open_run, run_teacher
from workbench.train.pipeline import prepare, validation_rules
from workbench.train.record.checkpoint import read_state

SPLITS = ("all", "val")


@dataclass
class Source:
    run_dir: Path
    data: str
    checkpoint: Path
    config: RunConfig
    model: CellLattice           # the trained lattice (best checkpoint), eval mode, on the CPU
    pairs: Dataset               # the rows inspected, in the order of q and a
    q: torch.Tensor              # (P, D) question embeddings
    a: torch.Tensor              # (P, D) answer embeddings
    split: str = "all"
    notes: list[str] = field(default_factory=list)

    def labels(self, column: str = "category") -> list[str]:
        """One label per pair: the category, or any other column of DATA (DataError naming it when absent)."""
        if column == "category":
            return self.pairs.categories()
        if column not in self.pairs.columns:
            raise DataError([Problem(self.data, None, column, f"no column '{column}' (columns: "
                                     f"{', '.join(self.pairs.columns)})")])
        return self.pairs.column(column)


def open_source(run_dir: str | Path, data: str | Path, split: str = "all", cache_dir: str | None = None,
                columns=None, drop_invalid_rows: bool = False, teacher: Teacher | None = None,
                progress: Callable[[EmbedProgress], None] | None = None) -> Source:
    """Raises EvalError / CheckpointError / DataError / TeacherError with a one-line message naming the file."""
    if split not in SPLITS:
        raise EvalError(f"split must be one of {', '.join(SPLITS)}, not '{split}'")
    run = Path(run_dir)
    ckpt, loaded = open_run(run)
    cfg = loaded.config
    if teacher is None:
        teacher = run_teacher(run, ckpt, cfg, loaded.trained.dim, cache_dir)
    else:
        check_teacher(run, ckpt, teacher, loaded.trained.dim)
    notes: list[str] = []
    if split == "val":
        if cache_dir:
            cfg = dataclasses.replace(cfg, teacher=dataclasses.replace(cfg.teacher, cache_dir=cache_dir))
        prepared = prepare(cfg, str(data), drop_invalid_rows=drop_invalid_rows, teacher=teacher, progress=progress,
                           columns=columns)
        saved = read_state(ckpt).get("split_fingerprint")
        if saved and saved != prepared.data.split_fingerprint:
            raise EvalError(f"{data}: not the data {run} trained on (its validation split differs from the one "
                            f"{ckpt.name} recorded); pass the run's own DATA, or drop --split val")
        if not saved:
            notes.append(f"{ckpt} does not record its split: the validation pairs could not be checked")
        pairs, q, a = prepared.val, prepared.data.q_val, prepared.data.a_val
    else:
        pairs = load_pairs(data, validation_rules(cfg), drop_invalid_rows, notes, columns)
        emb = teacher.encode(pairs.questions() + pairs.answers(), progress=progress)
        q, a = emb[:len(pairs)], emb[len(pairs):]
    notes += teacher.last_notes
    return Source(run, str(data), ckpt, loaded.config, loaded.trained.eval(), pairs, torch.from_numpy(q),
                  torch.from_numpy(a), split, notes)
