"""The epoch replay on a slider: the cube of one fixed validation question at every recorded epoch.

Its source is the run folder's replay.npz (train/record/replay.py), re-read whenever the file changes (a run
followed while another process writes it; a 2 s poll of its size and time, the read itself in the task
thread), or the snapshots of this app's own run as they arrive. Moving the slider shows that epoch in the
cube's "replay" source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSlider, QVBoxLayout, QWidget

from workbench.gui.inspect import save_view as export
from workbench.gui.inspect.cube import CubeFrame
from workbench.gui.inspect.inspect_jobs import replay_of
from workbench.train.record.replay import REPLAY_FILE, Replay

SOURCE = "replay"
POLL_MS = 2000


class ReplayTab(QWidget):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.replay: Replay | None = None
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("the epoch whose lattice the cube shows (0 = before training)")
        self.label = QLabel("no epoch replay yet: train a run, or open a run folder")
        self.label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        lay.addWidget(self.slider)
        lay.addStretch(1)
        self.slider.valueChanged.connect(lambda i: self.show_epoch(i, show=True))
        self._run: Path | None = None
        self._stamp = None
        self._tasks = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def count(self) -> int:
        return 0 if self.replay is None else len(self.replay.epochs)

    def follow(self, run_dir: str, tasks) -> None:
        """Read run_dir's replay now and again whenever it changes."""
        self._run, self._stamp, self._tasks = Path(run_dir), None, tasks
        self._poll()
        self._timer.start()

    def _poll(self) -> None:
        path = self._run / REPLAY_FILE if self._run else None
        try:
            st = path.stat() if path else None
        except OSError:
            return                        # not written yet (before the first snapshot)
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            run = self._run
            self._tasks.submit(lambda: replay_of(run), self._loaded)

    def _loaded(self, res) -> None:
        if not res.ok:
            self.label.setText(f"could not read the replay: {res.error}")
        elif res.value is not None:
            self.set_replay(res.value)

    def add_snapshot(self, ev) -> None:
        """One more epoch from this app's own run (epoch 0 starts a new replay)."""
        states = np.asarray(ev.states, np.float16)[None]
        r = self.replay
        if ev.epoch == 0 or r is None or r.states.shape[1:] != states.shape[1:]:
            r = Replay(np.zeros(0, np.int64), states[:0], ev.sample, ev.question)
        keep = r.epochs < ev.epoch
        self.set_replay(Replay(np.append(r.epochs[keep], ev.epoch), np.concatenate([r.states[keep], states]),
                               ev.sample, ev.question))

    def set_replay(self, replay: Replay) -> None:
        at_end = self.slider.value() == self.slider.maximum()
        self.replay = replay
        self.slider.blockSignals(True)
        self.slider.setMaximum(len(replay.epochs) - 1)
        if at_end:
            self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)
        self.show_epoch(self.slider.value(), show=False)

    def show_epoch(self, i: int, show: bool) -> None:
        r = self.replay
        if r is None or not len(r.epochs):
            return
        i = min(max(i, 0), len(r.epochs) - 1)
        epoch = int(r.epochs[i])
        self.label.setText(f"epoch {epoch} ({i + 1} of {len(r.epochs)} recorded) · validation pair {r.sample + 1}: "
                           f"“{r.question}”")
        what = f"epoch replay · epoch {epoch}" + (" (untrained)" if epoch == 0 else "")
        self.view.set_extra(SOURCE, CubeFrame(r.states[i].astype(np.float32), what, r.question), show=show)

    def frames(self) -> list[np.ndarray]:
        """One rendered image per recorded epoch (the cube's channel and step as set), for export."""
        def show(i: int) -> None:
            self.slider.setValue(i)
            self.show_epoch(i, show=True)
        return export.grab_frames(self.view, show, self.count())
