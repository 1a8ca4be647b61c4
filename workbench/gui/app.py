"""Launch the desktop workbench on a dataset (default: the shipped sample data)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time

HEAVY = ("torch", "transformers", "pyvista", "pyvistaqt")


def preload_heavy_modules() -> threading.Thread:
    """Import torch, transformers and pyvista in the background after the window is up (≈6 s here). The window
    never imports them to appear (tests/gui/test_startup.py); whatever needs one first imports it itself."""
    def work():
        for name in HEAVY:
            try:
                __import__(name)
            except (ImportError, OSError, RuntimeError) as exc:   # the real import later reports it in context
                logging.getLogger(__name__).warning("preloading %s failed: %s", name, exc)
    t = threading.Thread(target=work, name="preload", daemon=True)
    t.start()
    return t


def start_preload(win) -> threading.Thread:
    """Preload in the background, saying so in the status bar until done; then build the cube's 3D view."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QLabel
    note = QLabel("loading torch, transformers and pyvista in the background (training, Ask and the 3D cube "
                  "start once they are in)…")
    win.statusBar().addPermanentWidget(note)
    t0, thread = time.monotonic(), preload_heavy_modules()
    poll = QTimer(win)

    def check():
        if thread.is_alive():
            return
        poll.stop()
        win.statusBar().removeWidget(note)
        note.deleteLater()
        win.statusBar().showMessage(f"ready: torch, transformers and pyvista loaded in {time.monotonic() - t0:.1f} s",
                                    8000)
        win.lattice.ensure_plotter()
    poll.timeout.connect(check)
    poll.start(200)
    win.preload = (thread, note)      # for tests: the thread and its status note
    return thread


def save_edits_on_quit(app, win) -> None:
    """Unsaved edits reach the recovery file on every way out: quit, SIGTERM/SIGINT/SIGHUP (exit 128+signal)."""
    from workbench.gui.quit_signals import QuitOnSignal
    app.aboutToQuit.connect(win.autosaver.flush)
    QuitOnSignal(lambda signum: win.quit_now(128 + signum), win)


def x11_for_the_cube(env=os.environ, platform: str = sys.platform) -> bool:
    """On a Wayland desktop with XWayland, run Qt on X11 (xcb): the cube renders into a native X window of its
    own (the pyvistaqt pin in pyproject.toml), which Qt's Wayland backend cannot host. A platform the user chose
    (QT_QPA_PLATFORM) is kept. Returns whether it switched."""
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM") or not env.get("WAYLAND_DISPLAY") \
            or not env.get("DISPLAY"):
        return False
    env["QT_QPA_PLATFORM"] = "xcb"
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="workbench", description="Lattice Workbench desktop app")
    ap.add_argument("data", nargs="?", default=None,
                    help="dataset to open (default: the last one opened; at the first start a welcome offers "
                         "the shipped sample_data/pairs_160.csv)")
    ap.add_argument("--run", metavar="RUN_DIR",
                    help="follow a run folder (or a folder of runs, e.g. a sweep's), as Run ▸ Open run folder… does; "
                         "one a run is still setting up is waited for")
    ap.add_argument("--screenshot", help="train briefly, save a PNG of the window to this path, and quit")
    ap.add_argument("--epochs", type=int, help="epochs for --screenshot")
    args = ap.parse_args(argv)

    if (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
            and not os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("QT_QPA_PLATFORM")):
        print("workbench: no display found (DISPLAY is not set). Run it on a desktop, under "
              "`xvfb-run -a workbench --screenshot out.png`, or train headless with `workbench-train`.",
              file=sys.stderr)
        return 2
    x11_for_the_cube()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from workbench.gui.main_window import MainWindow
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Lattice Workbench")
    from workbench.gui.welcome import startup_dataset
    path, welcome = startup_dataset(args.data, screenshot=bool(args.screenshot))
    win = MainWindow()
    win.window_layout.persist = not args.screenshot   # a screenshot run leaves the saved layout and last file alone
    win.document.ask_columns = not args.screenshot    # no one answers a column-mapping dialog there
    if path:
        win.open_file(path)
    win.show()
    save_edits_on_quit(app, win)
    if args.run:
        QTimer.singleShot(0, lambda: win.library.open(args.run))
    if welcome and not args.run:
        QTimer.singleShot(0, win.show_welcome)
    if args.screenshot:
        from workbench.gui.screenshot import run_and_capture
        QTimer.singleShot(0, lambda: run_and_capture(win, args.screenshot, args.epochs))
    else:
        QTimer.singleShot(300, win, lambda: start_preload(win))   # never after the window is gone
    code = app.exec()
    import shiboken6
    shiboken6.delete(win)   # the window before the QApplication: the other order can crash at interpreter exit
    return code


if __name__ == "__main__":
    sys.exit(main())
