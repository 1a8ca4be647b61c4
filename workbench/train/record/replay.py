"""The training replay: the cube of one fixed validation question at every epoch, kept in the run folder.

    RUN/replay.npz   epochs (E,) int, states (E, T+1, C, X, Y, Z) float16, sample () int, question () str

Written by ReplayRecorder from the trainer's LatticeSnapshot events, which come once before training
(epoch 0) and once per epoch's end, never per batch; the question is `snapshot_sample` of the validation split
(the cube's own pair). float16 halves the file (the view colours values, it does not compute with them):
8×8×8 cells, 8 channels, 5 states is 40 kB an epoch. The file is rewritten whole and atomically at each epoch,
so a follower (another process, the app's Open run folder) always reads a complete replay; a resumed run
keeps the epochs already recorded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.data.atomic import atomic_write_bytes
from workbench.train.events import EventSink, LatticeSnapshot

REPLAY_FILE = "replay.npz"


@dataclass
class Replay:
    epochs: np.ndarray          # (E,) int64, ascending; 0 = before training
    states: np.ndarray          # (E, T+1, C, X, Y, Z) float16
    sample: int                 # the validation row shown
    question: str


def read_replay(path: str | Path) -> Replay:
    """The replay of a run folder (or of the file itself); ValueError naming the file when it cannot be read."""
    path = Path(path)
    if path.is_dir():
        path = path / REPLAY_FILE
    try:
        with np.load(path, allow_pickle=False) as z:
            rep = Replay(z["epochs"].astype(np.int64), z["states"], int(z["sample"]), str(z["question"]))
    except (OSError, KeyError, ValueError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable training replay ({exc})") from None
    if rep.states.ndim != 6 or len(rep.states) != len(rep.epochs):
        raise ValueError(f"{path}: a replay holds (epochs, steps, channels, X, Y, Z) states, not {rep.states.shape}")
    return rep


class ReplayRecorder(EventSink):
    """Appends each LatticeSnapshot to RUN/replay.npz (rank 0 only, as every run-folder sink)."""

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / REPLAY_FILE
        self.epochs: list[int] = []
        self.states: list[np.ndarray] = []
        self.sample, self.question = 0, ""
        if self.path.is_file():              # a resumed run: keep what the earlier epochs recorded
            try:
                old = read_replay(self.path)
            except ValueError:
                return                          # unreadable: the new epochs replace it
            self.epochs, self.states = old.epochs.tolist(), list(old.states)
            self.sample, self.question = old.sample, old.question

    def on_lattice_snapshot(self, ev: LatticeSnapshot) -> None:
        states = np.asarray(ev.states, np.float16)
        if (self.states and (states.shape != self.states[0].shape or ev.sample != self.sample)):
            self.epochs, self.states = [], []   # another lattice or pair than the file held: start afresh
        keep = [i for i, e in enumerate(self.epochs) if e < ev.epoch]   # a resume replays from its epoch on
        self.epochs = [self.epochs[i] for i in keep] + [int(ev.epoch)]
        self.states = [self.states[i] for i in keep] + [states]
        self.sample, self.question = int(ev.sample), ev.question
        buf = io.BytesIO()
        np.savez_compressed(buf, epochs=np.asarray(self.epochs, np.int64), states=np.stack(self.states),
                            sample=np.int64(self.sample), question=np.asarray(self.question))
        atomic_write_bytes(self.path, buf.getvalue())
