"""Make the README's screenshots by driving the real app on a real dataset, on a 1366×768 screen.

    xvfb-run -a -s "-screen 0 1366x768x24" python resources/make_screenshots.py --data DATA \
        [--limit N] [--sweep SWEEP_DIR] [--out resources/] [--batches K]

Saves (the whole window each time, filling the screen's available area):
  shot_dataset.png   DATA in the table, problem counts, a long answer in the row editor;
  shot_training.png  DURING training, after K per-batch events: per-batch loss on the samples-seen
                     axis, progress and ETA, the cube. The preset is the one the app suggests for
                     DATA's size (preset_hint), and rows with errors are left out as Start does;
  shot_960x600.png   the same paused run with the window at its minimum size, 960×600;
  shot_cube.png      the same paused run with the cube enlarged: step slider, channel, colour bar;
  shot_sweep.png     (--sweep) a folder of run folders opened as overlaid runs with the run legend.
Settings, runs, autosave and documents go to a temporary folder (as benchmarks/gui_speed.py does):
the user's QSettings, run history and recovery files are never read or written. The embedding
cache stays the user's: it holds only vectors, and a warm cache saves minutes on a big corpus.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.gui_speed import isolate_user_files, limited_copy  # noqa: E402  (same isolation, same --limit)


def pump(until, timeout_s: float, what: str) -> None:
    """Run the event loop until until() is true; exit 2 naming `what` when it takes longer than timeout_s."""
    from PySide6.QtWidgets import QApplication
    end = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > end:
            raise SystemExit(f"make_screenshots: gave up waiting for {what} after {timeout_s:.0f} s")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(seconds: float = 0.6) -> None:
    """Let timers fire (chart redraws every 200 ms, progress labels, the cube's delayed render)."""
    t = time.monotonic() + seconds
    pump(lambda: time.monotonic() > t, seconds + 1, "the window to settle")


def save(win, out: Path, name: str) -> Path:
    from PySide6.QtWidgets import QApplication
    QApplication.processEvents()
    path = out / name
    if not win.save_screenshot(str(path)):
        raise SystemExit(f"make_screenshots: could not save {path}")
    print(path, flush=True)
    return path


def new_window(data: Path):
    """The app's window on `data`, filling the available screen, its saved layout left alone."""
    from PySide6.QtGui import QGuiApplication
    from workbench.gui.main_window import MainWindow
    win = MainWindow(str(data))
    win.window_layout.persist = False
    win.show()
    win.window_layout.apply_default()
    win.setGeometry((win.screen() or QGuiApplication.primaryScreen()).availableGeometry())
    win.lattice.ensure_plotter()      # the app does this once pyvista has loaded in the background (app.py)
    pump(lambda: win.model.rowCount() > 0, 120, f"{data} to open")
    settle()
    return win


def long_answer_row(win, most: int = 2500) -> int:
    """A valid row whose answer is long but still fits the editor at a glance (longest up to `most` chars)."""
    bad = set(win.model.checks.rows_at("error", "warning"))
    pairs = win.model.dataset.pairs
    rows = [i for i, p in enumerate(pairs) if i not in bad and len(p.answer) <= most] or list(range(len(pairs)))
    return max(rows, key=lambda i: len(pairs[i].answer))


def shot_dataset(win, out: Path) -> None:
    from PySide6.QtCore import Qt
    lay, panel = win.window_layout, win.dataset_panel
    lay.dataset_dock.raise_()
    win.resizeDocks([lay.dataset_dock], [int(win.width() * 0.62)], Qt.Horizontal)   # the table, readable
    panel.go_to_row(long_answer_row(win))
    panel.lower.setCurrentIndex(0)                        # the Row tab; Problems (n) names the counts
    h = panel.splitter.height()
    panel.splitter.setSizes([int(h * 0.55), int(h * 0.45)])
    settle()
    save(win, out, "shot_dataset.png")


def apply_suggested_preset(win) -> str:
    """What a user does with the preset hint above Start: take the suggestion for this data size."""
    hint = win.training.preset_hint
    hint.update_for(len(win.model.dataset))
    if not hint.isHidden():
        hint.apply()
    return win.training.form.preset.currentText()


def train_until(win, batches: int | None, out: Path) -> int:
    """Start as the app's Start does (without the rows with errors), pause after K batch events; return K."""
    from PySide6.QtCore import QObject, Qt, Slot
    from workbench.train.events import BatchProgress

    class Counter(QObject):         # lives in the GUI thread: the worker's signal is queued to it
        def __init__(self):
            super().__init__()
            self.n, self.want = 0, batches

        @Slot(object)
        def on_event(self, ev):
            if not isinstance(ev, BatchProgress):
                return
            self.n += 1
            if self.want is None:   # mid-way through epoch 2: epoch 1's validation point and cube are in
                more = ev.n_batches // 2 if ev.n_epochs >= 2 else -max(1, ev.n_batches // 5)
                self.want = max(2, ev.n_batches + more)
            if self.n >= self.want:
                win.run.worker.pause()    # holds the trainer between batches; the labels stay as they are

    win.window_layout.show_training()
    win.resizeDocks([win.window_layout.training_dock], [int(win.width() * 0.36)], Qt.Horizontal)
    win.lattice.ensure_plotter()
    if not win.start_training(drop_errors=True):
        raise SystemExit(f"make_screenshots: the app did not start: {win.runs.refused or win.last_error}")
    counter = Counter()
    win.run.worker.event.connect(counter.on_event)
    print(f"training with preset '{win.training.form.preset.currentText()}', "
          f"{win.runs.dropped:,} rows with errors left out", flush=True)
    pump(lambda: counter.want is not None and counter.n >= counter.want or not win.runs.is_running(),
         6 * 3600, "the batches to train")
    if not win.runs.is_running():
        raise SystemExit(f"make_screenshots: the run ended before batch {counter.want}: {win.last_error}")
    settle(1.0)                      # queued events in, charts redrawn, cube rendered
    win.lattice.flush_render()
    save(win, out, "shot_training.png")
    return counter.n


def shot_small(win, out: Path) -> None:
    """The same paused run with the window at its minimum size (960×600): every control whole, panels scroll."""
    from workbench.gui.window_layout import MIN_SIZE
    geometry = win.geometry()
    win.resize(MIN_SIZE)
    pump(lambda: win.size() == MIN_SIZE, 30, "the window to shrink to its minimum size")
    settle(1.0)
    win.lattice.flush_render()
    save(win, out, "shot_960x600.png")
    win.setGeometry(geometry)
    settle()


def shot_cube(win, out: Path) -> None:
    from PySide6.QtCore import Qt
    lay, cube = win.window_layout, win.lattice
    win.resizeDocks([lay.training_dock], [int(win.width() * 0.36)], Qt.Horizontal)
    lay.center.setSizes([0, lay.center.height()])      # the charts' splitter pane folded away: the cube gets it all
    cube.mode.setCurrentText("voxels")
    settle()
    cube.refresh()
    save(win, out, "shot_cube.png")


def stop(win) -> None:
    win.stop_training()
    pump(lambda: not win.runs.is_running(), 600, "the run to stop")
    win.model.undo.setClean()
    win.close()


def shot_sweep(data: Path, sweep: Path, out: Path) -> None:
    from PySide6.QtCore import Qt
    """A fresh window, as a user comparing a sweep would open it; its trials drawn over each other."""
    os.environ["LATTICE_WORKBENCH_RUNS"] = str(Path(os.environ["LATTICE_WORKBENCH_RUNS"]) / "empty")  # no past runs
    win = new_window(data)
    followers = win.library.open(sweep)
    if not followers:
        raise SystemExit(f"make_screenshots: {sweep} holds no run folders ({win.last_error})")
    win.window_layout.show_training()
    win.resizeDocks([win.window_layout.training_dock], [int(win.width() * 0.36)], Qt.Horizontal)
    win.window_layout.show_tab(win.charts)
    lay = win.window_layout.center
    lay.setSizes([lay.height(), 0])                     # no cube: a sweep is compared on its curves
    settle()
    win.charts.redraw()
    save(win, out, "shot_sweep.png")
    win.model.undo.setClean()
    win.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="dataset file the app opens")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N rows of --data (CSV; quick checks)")
    ap.add_argument("--sweep", type=Path, help="a workbench-sweep output folder: also make shot_sweep.png")
    ap.add_argument("--out", type=Path, default=ROOT / "resources", help="folder for the PNGs (default: resources/)")
    ap.add_argument("--batches", type=int, default=None,
                    help="per-batch events before the training shot (default: half-way through epoch 2)")
    ap.add_argument("--theme", choices=("light", "dark"), help="colour theme of the shots (default: the system's)")
    args = ap.parse_args(argv)
    for path, what in ((args.data, "--data"), (args.sweep, "--sweep")):
        if path is not None and not path.exists():
            print(f"make_screenshots: {what} {path}: no such file or folder", file=sys.stderr)
            return 2
    if args.batches is not None and args.batches < 1:
        print("make_screenshots: --batches must be ≥ 1", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lattice-shots-") as tmp:
        isolate_user_files(tmp)               # before Qt or the app reads a setting
        data = limited_copy(args.data, args.limit, tmp)
        from PySide6.QtWidgets import QApplication
        app = QApplication.instance() or QApplication(sys.argv[:1])
        win = new_window(data)
        if args.theme:
            win.theme.set_choice(args.theme)   # written to the throw-away settings only
        print(f"{win.model.rowCount():,} rows; preset '{apply_suggested_preset(win)}'", flush=True)
        shot_dataset(win, args.out)
        n = train_until(win, args.batches, args.out)
        print(f"training shot after {n} batch events", flush=True)
        shot_small(win, args.out)
        shot_cube(win, args.out)
        stop(win)
        if args.sweep:
            shot_sweep(data, args.sweep, args.out)
        app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
