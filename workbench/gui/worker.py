"""The training worker: a QObject moved to a QThread that drives the core's event generator.

Only plain Python data crosses the thread boundary (dicts of floats, strings, numpy arrays);
no tensor and no widget. Pause holds the generator between batches, Stop asks the trainer to
end between batches, and any exception becomes a `failed` signal instead of a dead thread.
"""

from __future__ import annotations

import dataclasses
import threading
import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..train.config import RunConfig
from ..data.dataset import Dataset


class TrainingWorker(QObject):
    embedProgress = Signal(int, int, int)     # done, total, cache hits
    prepared = Signal(dict)                   # {"splits": {row: "train"|"val"}, "cosines": {row: cos}, "notes": [...]}
    started = Signal(dict)                    # RunStarted as a dict
    batch = Signal(dict)                      # BatchProgress as a dict
    epoch = Signal(dict)                      # {"epoch", "metrics", "is_best"}
    snapshot = Signal(dict)                   # LatticeSnapshot as a dict (states: numpy (T+1, C, X, Y, Z))
    warning = Signal(str, str)                # code, message
    finished = Signal(dict)                   # Finished as a dict, plus "out_dir" and "metrics"
    failed = Signal(str, str)                 # one-line message, details
    done = Signal()                           # always last: the thread may quit

    def __init__(self, config: RunConfig, dataset: Dataset, out_dir: str, val_path: str | None = None):
        super().__init__()
        self.config, self.dataset, self.out_dir, self.val_path = config, dataset, out_dir, val_path
        self._resume = threading.Event()
        self._resume.set()
        self._stop = False
        self.state = None

    # called from the GUI thread: plain flags, read between batches by the worker thread
    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def stop(self) -> None:
        self._stop = True
        if self.state is not None:
            self.state.request_stop()
        self._resume.set()

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # shown in a dialog by the window; the app keeps working
            from ..data.dataset import DataError
            msg = exc.report() if isinstance(exc, DataError) else f"{type(exc).__name__}: {exc}"
            self.failed.emit(msg.splitlines()[0] if msg else type(exc).__name__, msg + "\n\n" + traceback.format_exc())
        finally:
            self.done.emit()

    def _run(self) -> None:
        from ..train.events import BatchProgress, EpochMetrics, Finished, LatticeSnapshot, RunStarted, TrainWarning
        from ..train.pipeline import prepare
        from ..train.recorder import RunRecorder
        from ..data.stats import pair_cosines
        from ..train.trainer import TrainingState, train

        prep = prepare(self.config, self.dataset, self.val_path,
                       progress=lambda ev: self.embedProgress.emit(ev.done, ev.total, ev.cache_hits))
        if self._stop:
            return
        splits = {r - 1: "train" for r in prep.train.rows}
        cos = dict(zip([r - 1 for r in prep.train.rows], pair_cosines(prep.data.q_train, prep.data.a_train).tolist()))
        if self.val_path is None:
            splits.update({r - 1: "val" for r in prep.val.rows})
            cos.update(zip([r - 1 for r in prep.val.rows], pair_cosines(prep.data.q_val, prep.data.a_val).tolist()))
        self.prepared.emit({"splits": splits, "cosines": cos, "notes": prep.notes, "teacher": prep.teacher,
                            "problem_counts": prep.problem_counts()})
        self.state = state = TrainingState.create(self.config, prep.data, out_dir=self.out_dir)
        if self._stop:
            state.request_stop()
        recorder = RunRecorder(self.out_dir, self.config, prep.stats, prep.notes, prep.teacher, problems=prep.problems)
        for ev in train(state):
            self._resume.wait()
            recorder(ev)
            if isinstance(ev, BatchProgress):
                self.batch.emit(dataclasses.asdict(ev))
            elif isinstance(ev, EpochMetrics):
                self.epoch.emit({"epoch": ev.epoch, "metrics": dict(ev.metrics), "is_best": ev.is_best})
            elif isinstance(ev, LatticeSnapshot):
                self.snapshot.emit({**dataclasses.asdict(ev), "states": ev.states})
            elif isinstance(ev, TrainWarning):
                self.warning.emit(ev.code, ev.message)
            elif isinstance(ev, RunStarted):
                d = dataclasses.asdict(ev)
                d["lattice_shape"] = tuple(ev.lattice_shape)
                self.started.emit(d)
            elif isinstance(ev, Finished):
                d = dataclasses.asdict(ev)
                d.update(out_dir=self.out_dir, metrics=getattr(recorder, "metrics", {}))
                self.finished.emit(d)


class TrainingRun:
    """Owns one worker and its QThread; the window keeps one of these per active run."""

    def __init__(self, worker: TrainingWorker):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("lattice-training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        worker.done.connect(self.thread.quit)

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def stop_and_wait(self, timeout_ms: int = 10000) -> bool:
        self.worker.stop()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
