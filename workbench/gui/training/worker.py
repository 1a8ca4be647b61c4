"""The training worker: a QObject moved to a QThread that drives the core's event generator.

One typed channel: `event` carries the trainer's own event dataclasses (workbench/train/events.py)
unchanged, plus the two GUI-only ones defined here (Prepared, Failed). The window dispatches them
by type in one place (run_views.RunViews, an EventSink like the CLI printer and the recorder).
Events are handed over, never changed afterwards: no tensor and no widget crosses the thread.

Rules kept here (each one cost a bug):
- `event` and `done` must be connected to bound methods of QObjects living in the GUI thread; a
  lambda has no receiver, so Qt would call it in this worker thread and it would touch widgets.
- Python's cyclic GC must not run in this thread while it trains (gc_guard.GuiThreadGC).
Pause holds the generator between batches, Stop asks the trainer to end between batches or evaluation
chunks (and the teacher between its batches), and any exception becomes a Failed event, not a dead thread.
The run folder gets a run.log like every other kind of run (runfolder.run_log).
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from workbench.data.dataset import Dataset
from workbench.train.config import RunConfig

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """GUI-only event: the data side of a run, known once the teacher has embedded it."""
    splits: dict[int, str]            # editor row (0-based) → "train" | "val"; rows dropped by the rules are absent
    cosines: dict[int, float]         # editor row → raw Q→A cosine of the teacher's embeddings
    notes: list[str]
    teacher: str
    val_file: str = ""                # "" when validation was held out of the table, else the file it came from
    extra: dict = field(default_factory=dict)   # e.g. problem counts, when the data rules report them


@dataclass
class Failed:
    """GUI-only event: the run could not go on. `message` is one line; `details` has the traceback."""
    message: str
    details: str = ""


class Cancelled(Exception):
    """Raised inside the teacher's progress callback when Stop is pressed while it embeds."""


class TrainingWorker(QObject):
    event = Signal(object)   # trainer events (RunStarted, BatchProgress, …) and Prepared / Failed
    done = Signal()          # always last: the thread may quit

    def __init__(self, config: RunConfig, dataset: Dataset, out_dir: str, val_path: str | None = None,
                 tensorboard: bool = False, resume: str | None = None):
        super().__init__()
        self.resume_path = resume        # a checkpoint to go on from (a stopped run: with its next batch)
        self.config, self.dataset, self.out_dir = config, dataset, out_dir
        self.tensorboard = tensorboard   # also write OUT/tensorboard/ (the training panel's toggle)
        # one decision, passed to prepare() explicitly, so the labels below match what the pipeline did
        self.val_source = val_path or config.split.val_file or None
        self._resume = threading.Event()
        self._resume.set()
        from workbench.train.pipeline import StopRequest   # here, not at import: the window opens before torch loads
        self._stop = StopRequest()      # Stop before the trainer exists (while embedding) is kept and applied

    # called from the GUI thread: plain flags, read between batches by the worker thread
    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def stop(self) -> None:
        self._stop()
        self._resume.set()

    @property
    def stopping(self) -> bool:
        return self._stop.requested

    @Slot()
    def run(self) -> None:
        try:
            self._run_logged()
        except Exception as exc:  # shown in a dialog by the window; the app keeps working
            from workbench.data.dataset import DataError
            msg = exc.report() if isinstance(exc, DataError) else f"{type(exc).__name__}: {exc}"
            self.event.emit(Failed(msg.splitlines()[0] if msg else type(exc).__name__,
                                   msg + "\n\n" + traceback.format_exc()))
        finally:
            self.done.emit()

    def _run_logged(self) -> None:
        """The run with the `workbench` loggers' records in OUT/run.log, as a CLI run and a sweep trial have it:
        teacher notes, every epoch's line, warnings, and the error when the run fails."""
        from workbench.train.record.folder import run_log
        Path(self.out_dir).mkdir(parents=True, exist_ok=True)
        with run_log(self.out_dir):
            log.info("app run: %s pairs from %s", len(self.dataset), self.dataset.path)
            try:
                self._run()
            except Cancelled:
                log.info("stopped while the teacher embedded the texts")
            except Exception as exc:
                log.error("run failed: %s: %s", type(exc).__name__, exc)
                raise

    def _embed_progress(self, ev) -> None:
        """The teacher's progress callback (an EmbedProgress after each batch): passed on, or Stop honoured."""
        if self._stop.requested:
            raise Cancelled()
        self.event.emit(ev)

    def _run(self) -> None:
        from workbench.data.stats import pair_cosines
        from workbench.train.events import TrainWarning
        from workbench.train.pipeline import prepare, run_training

        prep = prepare(self.config, self.dataset, self.val_source, progress=self._embed_progress)
        if self._stop.requested:
            return
        self.event.emit(self._prepared(prep, pair_cosines))
        # the one run function, as the CLI and a sweep trial call it: the run folder (record, progress.jsonl,
        # TensorBoard if asked) sees each event first, then this view passes it to the window
        # a resume (a stopped run: with its next batch) warns through the same channel, e.g. another batch size
        run_training(self.config, prep, self.out_dir, resume=self.resume_path, tensorboard=self.tensorboard,
                     views=[self._emit], stop=self._stop, say=lambda note: self._emit(TrainWarning("resume", note)))

    def _emit(self, ev) -> None:
        """Pause holds the trainer here, between batches; the event then goes to the GUI thread unchanged."""
        self._resume.wait()
        self.event.emit(ev)

    def _prepared(self, prep, pair_cosines) -> Prepared:
        """Which editor rows train and which validate. Dataset rows are 1-based records of the table;
        validation rows from a separate file are rows of THAT file and must not label the table."""
        splits = {r - 1: "train" for r in prep.train.rows}
        cos = dict(zip([r - 1 for r in prep.train.rows], pair_cosines(prep.data.q_train, prep.data.a_train).tolist()))
        if self.val_source is None:
            splits.update({r - 1: "val" for r in prep.val.rows})
            cos.update(zip([r - 1 for r in prep.val.rows], pair_cosines(prep.data.q_val, prep.data.a_val).tolist()))
        return Prepared(splits, cos, list(prep.notes), prep.teacher, str(self.val_source or ""),
                        {"problem_counts": prep.problem_counts()})


class TrainingRun:
    """Owns one worker and its QThread; the run controller keeps one of these per active run."""

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

