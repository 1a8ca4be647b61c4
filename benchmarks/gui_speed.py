"""Desktop app figures: launch-to-usable time, main-thread stalls during training, in-app vs headless throughput.

Run under a display (the README uses `xvfb-run -a python benchmarks/gui_speed.py`).
  1. launch: a fresh `python -m workbench` process until its event loop answers a 0 ms timer
     after the window is shown (interpreter start and imports included);
  2. responsiveness: a 10 ms heartbeat timer in the main thread while training runs with live
     charts and the 3D cube updating; the largest gap and the 99th percentile of gaps;
  3. throughput: training samples/s of the same config headless (trainer generator, no Qt)
     and inside the app (worker in a QThread), measured in this run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data" / "pairs_160.csv"
EPOCHS = 4

LAUNCH_PROBE = r"""
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from workbench.gui.main_window import MainWindow
app = QApplication(sys.argv[:1])
win = MainWindow(sys.argv[1])
win.show()
def ready():
    print("READY", flush=True)
    win.model.undo.setClean(); app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""


def launch_seconds(runs: int = 3) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH_PROBE, str(DATA)], stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if line.startswith("READY"):
                out.append(time.perf_counter() - t)
                break
        proc.wait(60)
    return out


def config():
    from workbench.train.config import from_preset
    cfg = from_preset("recommended")
    cfg.optim.epochs = EPOCHS
    cfg.optim.early_stop_patience = 0
    return cfg


def headless_samples_per_s() -> float:
    from workbench.train.events import Finished
    from workbench.train.pipeline import prepare
    from workbench.train.trainer import TrainingState, train
    cfg = config()
    prep = prepare(cfg, str(DATA))
    fin = [e for e in train(TrainingState.create(cfg, prep.data)) if isinstance(e, Finished)][0]
    return len(prep.data.q_train) * fin.epochs_run / fin.seconds


def in_app(tmp: str) -> tuple[float, np.ndarray]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from workbench.gui.main_window import MainWindow
    os.environ["LATTICE_WORKBENCH_RUNS"] = str(Path(tmp) / "runs")
    os.environ["LATTICE_WORKBENCH_AUTOSAVE"] = str(Path(tmp) / "autosave")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow(str(DATA), config())
    win.show()
    win.lattice.ensure_plotter()
    app.processEvents()
    beats: list[float] = []
    heart = QTimer()
    heart.setInterval(10)
    heart.timeout.connect(lambda: beats.append(time.perf_counter()))
    win.start_training()
    # measure only while epochs run: the teacher phase is cached and the first snapshot builds VTK once
    while win.charts.current is None:
        app.processEvents()
    heart.start()
    while win.run.is_running():
        app.processEvents()
        time.sleep(0.001)
    heart.stop()
    app.processEvents()
    fin = win.last_finished
    n_train = fin["metrics"]["n_train"]
    win.model.undo.setClean()
    win.close()
    gaps = np.diff(np.array(beats)) * 1000.0
    return n_train * fin["epochs_run"] / fin["seconds"], gaps


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        launch = launch_seconds()
        headless = headless_samples_per_s()
        app_rate, gaps = in_app(tmp)
    print(f"launch to usable window: {', '.join(f'{s:.2f}' for s in launch)} s (best {min(launch):.2f} s; target ≤ 1.5 s)")
    print(f"main-thread heartbeat (10 ms timer) during training with live charts and cube, {len(gaps)} beats:")
    print(f"  largest gap {gaps.max():.0f} ms (target < 100), 99th percentile {np.percentile(gaps, 99):.0f} ms "
          f"(target < 50), median {np.median(gaps):.0f} ms")
    print(f"throughput, recommended preset, {DATA.name}, {EPOCHS} epochs: headless {headless:.1f} samples/s, "
          f"in the app {app_rate:.1f} samples/s = {app_rate / headless * 100:.0f}% of headless (target ≥ 90%)")


if __name__ == "__main__":
    main()
