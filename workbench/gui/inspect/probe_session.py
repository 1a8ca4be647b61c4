"""The trained lattice of one checkpoint and its teacher, loaded once, for Ask and row tracing.

Plain Python, no Qt: every method runs in the background task thread (background.TaskRunner),
and only there, so the loaded torch modules are never touched by two threads. Results are plain
data (lists, numpy arrays) handed back to the GUI thread.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Trace:
    trained: np.ndarray        # (T+1, C, X, Y, Z) the question through the trained lattice
    untrained: np.ndarray      # the same through the run's untrained lattice (same seed)
    face: str                  # "z=0" (face io) or "volume"
    best_epoch: int | None     # the checkpoint's epoch, when its run folder says


class ProbeSession:
    def __init__(self):
        self.path: str | None = None
        self._stamp = None       # (mtime, size) of the loaded checkpoint: a run still writing it replaces it
        self.loaded = None       # train.predict.LoadedModel
        self.teacher = None
        self._answers_key = ""
        self._answers_emb: np.ndarray | None = None

    def load(self, checkpoint: str):
        """(LoadedModel, Teacher) of `checkpoint`; reloaded only when the path changes."""
        from workbench.teacher.encoder import Teacher
        from workbench.train.predict import load_model
        st = Path(checkpoint).stat()
        stamp = (st.st_mtime_ns, st.st_size)
        if checkpoint != self.path or self.loaded is None or stamp != self._stamp:
            self.loaded, self.path, self._stamp = load_model(checkpoint), checkpoint, stamp
        if self.teacher is None or self.teacher.config != self.loaded.config.teacher:
            self.teacher = Teacher(self.loaded.config.teacher)
            self._answers_key = ""
        return self.loaded, self.teacher

    def answer_embeddings(self, answers: list[str]) -> np.ndarray:
        """(N, D) embeddings of the dataset's answers, kept while the answers and teacher stay the same."""
        key = hashlib.sha1("\x1f".join(answers).encode()).hexdigest()
        if key != self._answers_key or self._answers_emb is None:
            self._answers_emb, self._answers_key = self.teacher.encode(answers), key
        return self._answers_emb

    def ask(self, checkpoint: str, question: str, answers: list[str], k: int) -> dict:
        """Top-k answers for the trained lattice and for identity: {"model"|"identity": [(answer, cosine)]}."""
        from workbench.train.predict import predict
        from workbench.train.metrics import nearest
        loaded, teacher = self.load(checkpoint)
        a = self.answer_embeddings(answers)
        q = teacher.encode([question])
        ranked = {"model": nearest(predict(loaded.trained, q)[0], a, k), "identity": nearest(q[0], a, k)}
        return {key: [(answers[i], c) for i, c in v] for key, v in ranked.items()}

    def trace(self, checkpoint: str, question: str) -> Trace:
        from workbench.train.predict import trace
        loaded, teacher = self.load(checkpoint)
        q = teacher.encode([question])[0]
        face = "z=0" if loaded.config.lattice.io == "face" else "volume"
        return Trace(trace(loaded.trained, q), trace(loaded.untrained, q), face, _best_epoch(checkpoint))


def _best_epoch(checkpoint: str) -> int | None:
    try:
        m = json.loads((Path(checkpoint).parent / "metrics.json").read_text(encoding="utf-8"))
        return int(m["best_epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
