"""Time to the first window: process start → the main window mapped on screen, against a bare `import torch`.

Run under a display, e.g.
    xvfb-run -a -s "-screen 0 1366x768x24" python benchmarks/startup.py [--data DATA] [--runs 3]

Each run starts a fresh interpreter, as a user's `workbench DATA` does: the app's own main() with the dataset, up
to the moment the window's surface is exposed (mapped). The clock starts before the process is spawned, so the
interpreter's start and every import count. In the same run, alternating with it, a fresh `python -c "import
torch"` is timed the same way, from spawn to exit. The goal (issue 15) is a window in at most 0.7× the bare torch
import, median of 3: the window must not wait for torch, transformers or pyvista, which load in the background
after it (the status bar says so). Settings, runs and autosave go to a throw-away folder, never the user's.

Printed with the CPU model, the load average, and a same-run numpy matmul rate, so figures from a busy shared
machine can be read as ratios. No test asserts a time: tests/gui/test_startup.py asserts what is imported.
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "sample_data" / "pairs_160.csv"

# the real app start; prints the monotonic clock (system-wide on Linux) when the window is first exposed, then quits
PROBE = r"""
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from workbench.gui import app as app_module
def mapped():
    win = next((w for w in QApplication.topLevelWidgets() if hasattr(w, "library")), None)
    if win is None or win.windowHandle() is None or not win.windowHandle().isExposed():
        return QTimer.singleShot(1, mapped)
    print("MAPPED", time.monotonic(), [m for m in app_module.HEAVY if m in sys.modules], flush=True)
    win.model.undo.setClean()
    win.quit_now(0)
QTimer.singleShot(0, mapped)
sys.exit(app_module.main([sys.argv[1]]))
"""


def time_window(data: Path, env: dict) -> tuple[float, list]:
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", PROBE, str(data)], env=env, capture_output=True, text=True,
                         timeout=300, cwd=ROOT)     # `python -c` puts the working folder first on sys.path
    line = next((x for x in out.stdout.splitlines() if x.startswith("MAPPED")), None)
    if line is None:
        raise SystemExit(f"the app did not map a window:\n{out.stdout}\n{out.stderr}")
    _, t, heavy = line.split(" ", 2)
    return float(t) - t0, ast.literal_eval(heavy)


def time_torch(env: dict) -> float:
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", "import torch"], env=env, check=True, cwd=ROOT)
    return time.monotonic() - t0


def matmul_gflops(n: int = 512, reps: int = 5) -> float:
    """numpy, not machine.matmul_gflops: this process must not import torch before it times the window."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a
    t = time.perf_counter()
    for _ in range(reps):
        a @ a
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        raise SystemExit("needs a display: xvfb-run -a python benchmarks/startup.py")
    tmp = Path(tempfile.mkdtemp(prefix="wb-startup-"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "LATTICE_WORKBENCH_SETTINGS": str(tmp / "settings.ini"), "LATTICE_WORKBENCH_RUNS": str(tmp / "runs"),
           "LATTICE_WORKBENCH_AUTOSAVE": str(tmp / "autosave"), "LATTICE_WORKBENCH_DOCUMENTS": str(tmp / "docs")}
    time_torch(env)                       # warm the file cache for both (the first start reads from disk)
    time_window(args.data, env)
    load_before, rate = os.getloadavg()[0], matmul_gflops()
    windows, torches, heavy = [], [], []
    for _ in range(args.runs):            # alternated, so a load change hits both alike
        w, h = time_window(args.data, env)
        windows.append(w)
        heavy = h
        torches.append(time_torch(env))
    win, torch = statistics.median(windows), statistics.median(torches)
    print(f"CPU: {cpu_model()} · {os.cpu_count()} cores · load average {load_before:.2f} → {os.getloadavg()[0]:.2f} "
          f"· numpy 512³ fp32 matmul {rate:.1f} GFLOP/s (same run)")
    print(f"data: {args.data.name}")
    print(f"process start → window mapped: median {win:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in windows)})")
    print(f"bare `python -c 'import torch'`: median {torch:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in torches)})")
    print(f"ratio: {win / torch:.2f}× of a bare torch import (goal ≤ 0.70×); heavy modules loaded when the window "
          f"was mapped: {heavy or 'none'}")


if __name__ == "__main__":
    main()
