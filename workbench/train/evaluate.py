"""Score a finished run on any dataset file, beside identity and the ridge map the run fitted on its training pairs.

    result = evaluate_run("runs/medquad", "held_out.csv")
    print(result.table()); json.dump(result.as_json(), fh)

GUI-free: `workbench-eval` prints it and the desktop app can offer the same as "Evaluate on file…".
The texts are embedded by the run's own teacher settings (model, pooling, max_length) through the
normal disk cache. Retrieval ranks, for each row i, all answers of the file by cosine to the
prediction; row i's own answer is the hit and ties count against the model (score.py, the one scorer).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from workbench.config_meta import UserError
from workbench.train import metrics as M
from workbench.train.pipeline import validation_rules
from workbench.train.predict import load_model, predict
from workbench.train.record.compare import EVAL_COLUMNS, ComparisonRow, Figures, format_table
from workbench.train.state import BEST, LAST
from workbench.data.dataset import DataError, Problem, ValidationRules, apply_rules, load_dataset, validate
from workbench.data.problem_report import problem_headline
from workbench.teacher.encoder import Teacher
from workbench.teacher.model_files import pick_device
from workbench.teacher.progress import EmbedProgress

JSON_KEYS = ("n", "cosine", "top1", "mrr", "identity_cosine", "identity_top1", "identity_mrr",
             "ridge_cosine", "ridge_top1", "ridge_mrr")
# the trainer's best-epoch checkpoint (safetensors: never unpickled); a run stopped before it finished an epoch
# has only last.safetensors, its weights where the stop came, evaluated on demand all the same
CHECKPOINT_NAMES = (BEST, LAST)


class EvalError(UserError):
    """A run folder or file that cannot be evaluated; the message is one line naming it."""


@dataclass
class EvalResult:
    n: int                                   # pairs scored (after any dropped rows)
    model: Figures                           # the lattice's
    identity: Figures                        # answer := question
    ridge: Figures | None                    # the run's ridge map; None for runs saved before it was kept
    run_dir: str = ""
    data: str = ""
    checkpoint: str = ""
    teacher: str = ""
    notes: list[str] = field(default_factory=list)   # rows dropped, missing ridge weights, …

    @property
    def rows(self) -> list[ComparisonRow]:
        """The comparison rows shown by workbench-eval and the app (ridge with no figures when not saved)."""
        return [ComparisonRow("identity", "baseline", self.identity),
                ComparisonRow("ridge", "baseline", self.ridge or Figures(), "ridge (the run's map)"),
                ComparisonRow("lattice", "model", self.model, "lattice (best checkpoint)")]

    def as_json(self) -> dict:
        """Exactly JSON_KEYS; ridge figures are null when the run has no saved ridge map."""
        out: dict = {"n": self.n}
        for prefix, figs in (("", self.model), ("identity_", self.identity), ("ridge_", self.ridge)):
            for k in ("cosine", "top1", "mrr"):
                out[prefix + k] = None if figs is None else getattr(figs, k)
        return out

    def table(self) -> str:
        return (f"{self.n} pairs of {self.data}; retrieval among all {self.n} answers, ties count against the model\n"
                + format_table(self.rows, EVAL_COLUMNS))


def find_checkpoint(run_dir: str | Path) -> Path:
    run = Path(run_dir)
    if not run.is_dir():
        raise EvalError(f"{run}: run folder not found")
    for name in CHECKPOINT_NAMES:
        if (run / name).is_file():
            return run / name
    raise EvalError(f"{run}: no checkpoint ({' or '.join(CHECKPOINT_NAMES)}); did the run finish an epoch?")


def open_run(run: Path):
    """(checkpoint path, train.predict.LoadedModel) of run's best checkpoint; EvalError / CheckpointError name the file."""
    ckpt = find_checkpoint(run)
    try:
        return ckpt, load_model(str(ckpt))      # CheckpointError / ConfigError name the file themselves
    except (RuntimeError, KeyError, TypeError) as exc:   # weights that do not fit the recorded config
        raise EvalError(f"{ckpt}: checkpoint does not match its config ({str(exc).splitlines()[0]})") from None


def run_teacher(run: Path, ckpt: Path, cfg, dim: int, cache_dir: str | None = None) -> Teacher:
    """The run's own teacher settings (model, pooling, max_length), checked against what the run recorded."""
    teacher = Teacher(dataclasses.replace(cfg.teacher, cache_dir=cache_dir) if cache_dir else cfg.teacher)
    check_teacher(run, ckpt, teacher, dim)
    return teacher


def check_teacher(run: Path, ckpt: Path, teacher: Teacher, dim: int) -> None:
    """Another teacher's embeddings mean nothing to this lattice: refuse other weights or another size."""
    recorded = recorded_teacher(run)
    if recorded and recorded != teacher.identity:
        raise EvalError(f"{run}: trained with teacher {recorded}, but {teacher.identity} loads now "
                        "(different weights give different embeddings)")
    if teacher.dim != dim:
        raise EvalError(f"{ckpt}: lattice takes {dim}-d embeddings, teacher {teacher.identity} gives {teacher.dim}-d")


def recorded_teacher(run: Path) -> str:
    try:
        return str(json.loads((run / "metrics.json").read_text(encoding="utf-8")).get("teacher") or "")
    except (OSError, ValueError, AttributeError):
        return ""   # a run still in progress (or killed) has no metrics.json yet


def load_pairs(path: str | Path, rules: ValidationRules, drop: bool, notes: list[str], columns=None):
    ds = load_dataset(path, columns=columns)
    problems = validate(ds, rules)          # the run's data rules: errors stop, warnings drop, notes are counted
    if any(p.level == "error" for p in problems) and not drop:
        raise DataError(problems)
    if problems:
        n_read, ds = ds.n_records, apply_rules(ds, problems)
        notes.append("data: " + problem_headline(problems, n_read, len(ds)))
    if len(ds) < 2:
        raise DataError([Problem(str(path), None, None, f"need at least 2 valid pairs to rank answers, found {len(ds)}")])
    return ds


def evaluate_run(run_dir: str | Path, data: str | Path, cache_dir: str | None = None, drop_invalid_rows: bool = False,
                 teacher: Teacher | None = None, device: str = "auto",
                 progress: Callable[[EmbedProgress], None] | None = None,
                 columns: dict[str, str] | str | None = None) -> EvalResult:
    """Score run_dir's best checkpoint on the pairs in `data` (columns: as workbench-train's --columns).

    Raises EvalError / CheckpointError / DataError / TeacherError with a message naming the file at fault.
    """
    run = Path(run_dir)
    ckpt, loaded = open_run(run)
    cfg, model = loaded.config, loaded.trained
    notes: list[str] = []
    w = None                                  # the run's ridge map (D+1, D), checked before any embedding work
    if (run / M.RIDGE_FILE).is_file():
        try:
            w = M.load_ridge_weights(run / M.RIDGE_FILE, model.dim)
        except ValueError as exc:
            raise EvalError(str(exc)) from None
    else:
        notes.append(f"{run / M.RIDGE_FILE} not found (a run from before ridge weights were saved): no ridge figures")
    pairs = load_pairs(data, validation_rules(cfg), drop_invalid_rows, notes, columns)
    if teacher is None:
        teacher = run_teacher(run, ckpt, cfg, model.dim, cache_dir)
    else:
        check_teacher(run, ckpt, teacher, model.dim)
    emb = teacher.encode(pairs.questions() + pairs.answers(), progress=progress)
    notes += teacher.last_notes      # truncated texts, re-encoded cache entries, an unusable cache
    n = len(pairs)
    q, a = emb[:n], emb[n:]
    ridge = None if w is None else M.score(M.ridge_predict(w, q), a)
    pred = predict(model.to(pick_device(device)), q)
    return EvalResult(n, M.score(pred, a), M.score(q, a), ridge, str(run), str(data), str(ckpt), teacher.identity, notes)

