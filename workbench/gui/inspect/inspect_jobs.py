"""The inspect panel's background work: plain Python, no Qt, run only in the panel's own task thread.

One InspectSession per panel keeps the checkpoint's lattice and the teacher loaded (ProbeSession) and the
embeddings of the pairs last inspected, so recomputing with another block size or category costs no
embedding. Results are workbench.inspect's plain objects, handed back to the GUI thread.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from workbench.gui.inspect.probe_session import ProbeSession
from workbench.train.record.replay import REPLAY_FILE, Replay, read_replay

# workbench.inspect's modules import torch, and this module is imported when the window is built: they are
# imported inside the jobs, which run in the panel's task thread (the window appears before torch; test_startup)
if TYPE_CHECKING:
    import torch

    from workbench.inspect.atlas import Atlas
    from workbench.inspect.dynamics import StepDynamics
    from workbench.inspect.knockout import KnockoutResult


@dataclass
class SavedInspection:
    """What a run folder already holds: a knockout map made by workbench-inspect, and its report."""
    volume: np.ndarray | None
    report: dict


class InspectSession:
    def __init__(self):
        self.probe = ProbeSession()
        self._key = ""
        self._emb: tuple[torch.Tensor, torch.Tensor] | None = None

    def pairs(self, checkpoint: str, questions: list[str], answers: list[str]):
        """(model, q (P, D), a (P, D)) of the checkpoint's trained lattice and the pairs, embedded once."""
        run = self.probe.load(checkpoint)          # workbench.use.run.LoadedRun: the trained lattice and its teacher
        key = hashlib.sha1(("\x1e".join(questions) + "\x1f" + "\x1e".join(answers) + run.teacher.identity).encode(
            "utf-8", "surrogatepass")).hexdigest()
        if key != self._key or self._emb is None:
            import torch
            emb = run.embed(list(questions) + list(answers))
            n = len(questions)
            self._emb, self._key = (torch.from_numpy(emb[:n]), torch.from_numpy(emb[n:])), key
        return run.model.cpu(), *self._emb

    def knockout(self, checkpoint: str, questions, answers, block: int, progress=None) -> KnockoutResult:
        from workbench.inspect.knockout import knockout_map
        model, q, a = self.pairs(checkpoint, questions, answers)
        return knockout_map(model, q, a, block=block, progress=progress)

    def dynamics(self, checkpoint: str, questions, answers) -> StepDynamics:
        from workbench.inspect.dynamics import step_dynamics
        model, q, a = self.pairs(checkpoint, questions, answers)
        return step_dynamics(model, q, a)

    def atlas(self, checkpoint: str, questions, answers, labels: list[str]) -> Atlas:
        from workbench.inspect.atlas import category_atlas
        model, q, _ = self.pairs(checkpoint, questions, answers)
        return category_atlas(model, q, labels)

    def row_difference(self, checkpoint: str, first: str, second: str) -> np.ndarray:
        import torch

        from workbench.inspect.atlas import row_difference
        run = self.probe.load(checkpoint)
        q = torch.from_numpy(run.embed([first, second]))
        return row_difference(run.model.cpu(), q[0], q[1])


def saved_inspection(run_dir: str | Path) -> SavedInspection | None:
    """RUN/inspect/'s knockout map and report, when workbench-inspect made them; None when there are none."""
    from workbench.inspect import files
    folder = files.default_folder(run_dir)
    volume = files.load_knockout(folder / files.KNOCKOUT) if (folder / files.KNOCKOUT).is_file() else None
    try:
        report = json.loads((folder / files.REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {}
    return SavedInspection(volume, report) if volume is not None or report else None


def replay_of(run_dir: str | Path) -> Replay | None:
    """The run's epoch replay, or None when it recorded none (runs from before replays)."""
    path = Path(run_dir) / REPLAY_FILE
    return read_replay(path) if path.is_file() else None
