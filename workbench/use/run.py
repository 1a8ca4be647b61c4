"""A trained run, loaded for use: embed texts, map embeddings, predict, evaluate, search an answer bank, export.

    import workbench
    run = workbench.load_run("runs/mq")               # best.safetensors, config.json, the run's teacher settings
    q = run.embed(["What causes anemia?"])             # (n, D) the teacher's embeddings, through the shared cache
    p = run.map(q)                                     # (n, D) the lattice's predicted answer embeddings
    p = run.predict(["What causes anemia?"])           # the same: run.map(run.embed(questions))
    res = run.evaluate("held_out.csv")                 # workbench-eval's figures; res.as_json() has its keys
    export_onnx(run, "map.onnx")                       # workbench.use.export: the map for a service

GUI-free. Rows are mapped in chunks (`MAP_ROWS`) and the teacher batches by token budget, so 100k rows fit
in memory. Nothing is unpickled: the checkpoint is safetensors, read by the trainer's own loader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from workbench.model.lattice import CellLattice
from workbench.teacher.encoder import Teacher
from workbench.teacher.model_files import pick_device
from workbench.train.config import RunConfig
from workbench.train.evaluate import EvalError, EvalResult, evaluate_run, find_checkpoint, run_teacher
from workbench.train.predict import load_model, predict
from workbench.train.record.pairs_record import RunPairs, read_run_pairs

MAP_ROWS = 4096     # rows per lattice call inside map(): ~6 MB in and out at 384-d, whatever n is


class RunError(EvalError):
    """A run folder, file or input that cannot be used; the message is one line naming it."""


@dataclass
class LoadedRun:
    run_dir: Path
    checkpoint: Path
    config: RunConfig
    model: CellLattice           # the trained lattice (best epoch), in eval mode
    untrained: CellLattice       # the same seed's initial lattice: exactly the identity map
    teacher: Teacher             # the run's teacher settings (model, pooling, max_length), the shared cache
    device: str = "cpu"
    _pairs: RunPairs | None | bool = field(default=False, repr=False)    # False: not read yet

    @property
    def dim(self) -> int:
        return self.model.dim

    def embed(self, texts: Sequence[str], progress: Callable | None = None) -> np.ndarray:
        """(n, D) float32 teacher embeddings of `texts`, cached like every text a run embeds."""
        if isinstance(texts, str):
            raise RunError("embed() takes a list of texts, not one string: run.embed([text])")
        return self.teacher.encode(list(texts), progress=progress)

    def map(self, question_embeddings: np.ndarray) -> np.ndarray:
        """(n, D) predicted answer embeddings for (n, D) question embeddings (the lattice, MAP_ROWS at a time)."""
        q = np.asarray(question_embeddings, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise RunError(f"map() takes an (n, {self.dim}) array of question embeddings, got shape {q.shape}")
        return predict(self.model, q, chunk=MAP_ROWS)       # the one predictor, on the model's device

    def predict(self, questions: Sequence[str], progress: Callable | None = None) -> np.ndarray:
        """run.map(run.embed(questions))."""
        return self.map(self.embed(questions, progress))

    def evaluate(self, data: str | Path, **kw) -> EvalResult:
        """workbench-eval on `data` with this run and its loaded teacher: the same figures and JSON keys
        (`.as_json()`). kw: drop_invalid_rows, columns, progress (as evaluate_run)."""
        return evaluate_run(self.run_dir, data, teacher=self.teacher, device=self.device, **kw)

    def pairs(self) -> RunPairs | None:
        """The run's training keys and validation pairs (RUN/pairs.json); None for a folder made before it."""
        if self._pairs is False:
            self._pairs = read_run_pairs(self.run_dir)
        return self._pairs


def load_run(run_dir: str | Path, cache_dir: str | None = None, device: str = "auto",
             checkpoint: str | Path | None = None) -> LoadedRun:
    """Load a run folder's best checkpoint (or `checkpoint`), its config and its teacher. Raises RunError,
    CheckpointError or TeacherError with one line naming the folder or file: a missing folder, no checkpoint,
    a damaged checkpoint, one from another version, weights that do not fit their config, another teacher."""
    run = Path(run_dir)
    if not run.is_dir():
        raise RunError(f"{run}: run folder not found")
    ckpt = Path(checkpoint) if checkpoint else find_checkpoint(run)
    loaded = load_model(str(ckpt))             # CheckpointError names the file (pickles, versions, damage)
    teacher = run_teacher(run, ckpt, loaded.config, loaded.trained.dim, cache_dir)   # EvalError: another teacher
    dev = pick_device(device)
    return LoadedRun(run, ckpt, loaded.config, loaded.trained.to(dev).eval(), loaded.untrained, teacher, dev)
