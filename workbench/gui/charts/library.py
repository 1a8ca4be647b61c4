"""Runs on disk: past runs listed in the charts across launches, and any run folder followed live.

A run folder written by any process (the CLI, a torchrun job, a cluster node on a shared file system) is
followed by polling it: the core's RunFolderReader (train/record/follow.py) decodes its progress.jsonl into
the trainer's own event dataclasses, and the follower hands each to a RunViews, the views of the app's own
runs. So a followed run shows the same charts, progress with ETA, warnings, state and report; only tracing
its newest checkpoint through the cube is the follower's own (an in-app run sends lattice snapshots instead).
A folder a run is still setting up (only run.log while the teacher embeds) is followed too, with a note,
until its first line arrives. A QFileSystemWatcher makes the poll come at once when files change locally; a
timer polls anyway, since network file systems send no notifications.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from workbench.train.record.follow import RunFolderReader, is_run_folder, read_json, setup_note
from workbench.train.record.progress_log import PROGRESS_FILE
from workbench.gui.charts.data import RunSeries
from workbench.gui.inspect.cube import CubeFrame
from workbench.gui.common.paths import user_dir
from workbench.gui.common.settings import app_settings
from workbench.gui.training.views import RunViews

PAST_RUNS = 20                   # listed at launch: the most recent run folders
OPENED_KEY = "runs/opened"       # QSettings: folders the user opened, newest last
NOT_A_RUN = ("no history.csv, progress.jsonl, config.json or run.log here{where} (a run folder is what "
             "workbench-train --out writes)")


def _opened(settings) -> list[str]:
    v = settings.value(OPENED_KEY) or []
    return [v] if isinstance(v, str) else [str(x) for x in v]   # QSettings gives one value back as a plain str


def _checkpoint(folder: Path, finished: bool) -> Path | None:
    from workbench.train.state import BEST, LAST
    names = (BEST, LAST) if finished else (LAST, BEST)   # live: the latest epoch; ended: the best one
    return next((folder / n for n in names if (folder / n).is_file()), None)


class RunFollower(QObject):
    """Follows one run folder; also the RunSource its RunViews reads (name, folder, series, state)."""
    updated = Signal()       # new events were read
    ended = Signal()         # the run's end was read: the writer has finished
    POLL_MS = 1000

    def __init__(self, win, folder: str | Path, run: RunSeries, trace: bool = True):
        super().__init__(win)
        self.win, self.folder, self.run, self.trace = win, Path(folder), run, trace
        self.run_name, self.out_dir, self.series = run.name, str(self.folder), run
        self.started = self.prepared = self.last_finished = None
        self.stopping = False                 # another process's run: never stopped from here
        self.reader = RunFolderReader(self.folder)
        self.views = RunViews(self)
        self.waiting_note = ""                # shown while the folder holds only run.log
        self._stamp = None        # (name, mtime, size) of the checkpoint last traced
        self._tracing = False
        self._failures = 0
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._soon)
        self.watcher.fileChanged.connect(self._soon)
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(150)    # a burst of writes is read once
        self._coalesce.timeout.connect(self.poll)
        self.timer = QTimer(self)
        self.timer.setInterval(self.POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self.poll()

    @property
    def finished(self) -> bool:
        return self.last_finished is not None

    @property
    def shown(self) -> bool:
        """It drives the training panel, report and Ask: the followed run, current, while the app trains nothing."""
        return self.trace and self.win.charts.current is self.run and not self.win.runs.is_running()

    @property
    def target(self) -> float:
        return float(read_json(self.folder / "config.json").get("target_similarity", self.win.charts.target))

    def ask_about_slow_run(self, message: str) -> None:
        """Another process's run: its warning shows in the banner; it is not ours to pause."""

    def _watch(self) -> None:
        """(Re)watch the folder and its files: an atomic write replaces a file, and the watcher loses it."""
        paths = [str(self.folder)] + [str(self.folder / n) for n in ("history.csv", PROGRESS_FILE, "metrics.json")
                                      if (self.folder / n).exists()]
        missing = [p for p in paths if p not in self.watcher.files() + self.watcher.directories()]
        if missing:
            self.watcher.addPaths(missing)

    def _soon(self, *_):
        self._coalesce.start()

    def poll(self) -> None:
        was_finished = self.finished
        events = self.reader.read_new()
        if events and self.waiting_note:
            self._show_waiting("")       # before the events' own labels, which must not be replaced
        for ev in events:
            self.views(ev)
        self._watch()
        if self.started is None and self.reader.state() == "setting up":
            last = setup_note(self.folder)
            self._show_waiting(f"{self.folder.name}: waiting for the run to start: the folder holds only run.log so "
                               f"far (the run is setting up, e.g. the teacher is embedding)"
                               + (f"; its log says: {last}" if last else ""))
        if events:
            self.updated.emit()
        self._trace_checkpoint()
        if self.finished and not was_finished:
            self.timer.stop()
            self.ended.emit()
        elif not self.finished and not self.timer.isActive():
            self.timer.start()      # a stopped run resumed into the same folder

    def _show_waiting(self, note: str) -> None:
        """A folder the run is still setting up (no first line yet) is waited for, saying so."""
        if note == self.waiting_note or not self.shown:
            return
        self.waiting_note = note
        self.win.training.show_status("waiting for the run to start…" if note else f"following {self.folder.name}")
        self.win.training.eta.setText(note)

    def stop(self) -> None:
        self.timer.stop()
        self._coalesce.stop()
        self.watcher.removePaths(self.watcher.files() + self.watcher.directories())

    def _trace_checkpoint(self) -> None:
        """Show the table's first question through the folder's newest checkpoint, when that changed."""
        if not self.trace:
            return
        ck = _checkpoint(self.folder, self.finished)
        pairs = self.win.model.dataset.pairs
        if ck is None or not pairs or self._tracing or self.win.runs.is_running():
            return
        try:
            st = ck.stat()
        except OSError:
            return
        stamp = (ck.name, st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        self._stamp, self._tracing = stamp, True
        text, session, epoch = pairs[0].question, self.win.ask_panel.session, len(self.run.history)
        which = "best checkpoint" if self.finished else f"epoch {epoch} (latest checkpoint)"
        self.win.ask_panel.tasks.submit(lambda: session.trace(str(ck), text),
                                        lambda res: self._show(res, which, text))

    def _show(self, res, which: str, text: str) -> None:
        self._tracing = False
        if not res.ok:       # a checkpoint caught mid-replace: try again shortly (a few times: it may not fit at all)
            self._failures += 1
            if self._failures <= 3:
                self._stamp = None
                QTimer.singleShot(1000, self._trace_checkpoint)
            return
        self._failures = 0
        QTimer.singleShot(0, self._trace_checkpoint)   # a newer checkpoint (the best, at the end) may be waiting
        tr = res.value
        out_face = f"z={tr.trained.shape[-1] - 1}" if tr.face != "volume" else "volume"
        name = f"{self.folder.name} · {which} · row 1 of the table"
        self.win.lattice.show_frame(CubeFrame(tr.trained, name, text, tr.face, out_face),
                                    CubeFrame(tr.untrained, f"{self.folder.name} · untrained lattice", text,
                                              tr.face, out_face))


class RunLibrary(QObject):
    """The runs the charts can overlay: past ones from disk (listed at launch) and followed ones."""
    followed = Signal(object)        # a RunFollower

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.followers: list[RunFollower] = []
        win.setAcceptDrops(True)     # a run folder dropped on the window is followed (MainWindow.dropEvent)
        QTimer.singleShot(0, self.load_past)     # after the window is up: reading folders never delays it

    def past_folders(self) -> list[Path]:
        own = user_dir("runs")
        folders = sorted((p for p in own.iterdir() if is_run_folder(p)), key=lambda p: p.stat().st_mtime) \
            if own.is_dir() else []
        opened = [Path(p) for p in _opened(app_settings()) if is_run_folder(Path(p))]
        seen, out = set(), []
        for p in folders[-PAST_RUNS:] + opened:
            if p.resolve() not in seen:
                seen.add(p.resolve())
                out.append(p)
        return out

    def load_past(self) -> int:
        """List earlier runs (unticked) in the charts' run list; returns how many."""
        known = {r.folder for r in self.win.charts.runs}
        n = 0
        for folder in self.past_folders():
            if str(folder) not in known:
                self.win.charts.add_run(RunSeries.from_folder(folder))
                n += 1
        return n

    def pick_and_follow(self) -> None:
        win = self.win
        from PySide6.QtWidgets import QFileDialog
        folder = QFileDialog.getExistingDirectory(win, "Open a run folder (or a folder of runs) to follow",
                                                  str(user_dir("runs")))
        if folder:
            self.open(folder)

    def open(self, folder: str | Path) -> list[RunFollower]:
        """A run folder is followed; a folder of run folders (a sweep) opens as a set of runs to compare."""
        folder = Path(folder)
        if is_run_folder(folder):
            f = self.follow(folder)
            return [f] if f else []
        subs = sorted(p for p in folder.iterdir() if is_run_folder(p)) if folder.is_dir() else []
        if not subs:
            self.win.show_error("Not a run folder", f"{folder}: " + NOT_A_RUN.format(where=", nor in its subfolders"))
            return []
        return [f for f in (self.follow(p, overlay=True) for p in subs) if f]

    def follow(self, folder: str | Path, overlay: bool = False) -> RunFollower | None:
        """Follow `folder` live. It becomes the charts' current run, shown as the app's own runs are (the previous
        run's curves, x-range, banner, progress and report go), or a ticked overlay (while the app trains, or as
        one run of a set). Its curves are replayed from the folder's first line."""
        folder = Path(folder)
        if not is_run_folder(folder):
            self.win.show_error("Not a run folder", f"{folder}: " + NOT_A_RUN.format(where=""))
            return None
        self._remember(folder)
        overlay = overlay or self.win.runs.is_running()
        charts = self.win.charts
        run = next((r for r in charts.runs if r.folder and Path(r.folder) == folder), None)
        if run is None:
            run = RunSeries(folder.name if overlay else f"{folder.name} (followed)", charts.smoothing.value() / 100)
            run.folder = str(folder)
            charts.add_run(run)
        run.clear()
        for f in [f for f in self.followers if f.folder == folder]:
            f.stop()
        self.followers = [f for f in self.followers if f.folder != folder]
        if overlay:
            charts.set_checked(run, True)
        else:
            self.win.training.run_started(0)       # no banner, bar or status of the previous run lingers
            self.win.training.show_status(f"following {folder.name}")
            self.win.report.show_run(str(folder))  # "no report" until the run ends
            charts.set_current(run)                # the view starts afresh: x-range, epochs, legends
        follower = RunFollower(self.win, folder, run, trace=not overlay)
        self.followers.append(follower)
        self.followed.emit(follower)
        return follower

    def drop(self, event, open_folders: bool) -> None:
        """A folder dragged over (or dropped on) the window is opened as Run ▸ Open run folder… opens it;
        anything else is left alone."""
        mime = event.mimeData()
        folders = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
        folders = [f for f in folders if Path(f).is_dir()]
        if not folders:
            event.ignore()
            return
        event.acceptProposedAction()
        if open_folders:
            for f in folders:
                self.open(f)

    def _remember(self, folder: Path) -> None:
        s = app_settings()
        opened = [p for p in _opened(s) if Path(p) != folder] + [str(folder)]
        s.setValue(OPENED_KEY, opened[-PAST_RUNS:])
