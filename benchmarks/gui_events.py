"""Which Qt events take the GUI thread's time while the app trains: a per-event profile beside gui_speed.py.

    xvfb-run -a -s "-screen 0 1366x768x24" python benchmarks/gui_events.py [--data FILE] [--limit 2000]

The QApplication's notify() is timed for every paint, update request, timer and queued call, grouped by
event type and receiver class (with its parent's class, which names the panel). It found the repaint of
all five plots per chart redraw (README, "The desktop app"). Same run as gui_speed.py's in-app phase:
its isolation of the user's files, its data slice and its config.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks import gui_speed  # noqa: E402

TIMED = (QEvent.Type.Paint, QEvent.Type.UpdateRequest, QEvent.Type.Timer, QEvent.Type.MetaCall)


class TimedApp(QApplication):
    """Every event of the TIMED types: wall and thread-CPU milliseconds, keyed by (type, receiver, its parent)."""

    def __init__(self, argv):
        super().__init__(argv)
        self.stats: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        self.timeline: list[tuple[float, float, float, str]] = []   # (start s, wall ms, cpu ms, key), outermost first
        self.depth = 0

    def notify(self, obj, ev):
        kind = ev.type()
        if kind not in TIMED:
            return super().notify(obj, ev)
        key = (kind.name, f"{type(obj).__name__} in {type(obj.parent()).__name__ if obj.parent() else '-'}")
        w, c = time.perf_counter(), time.thread_time()
        self.depth += 1
        try:
            return super().notify(obj, ev)
        finally:
            self.depth -= 1
            took = ((time.perf_counter() - w) * 1e3, (time.thread_time() - c) * 1e3)
            self.stats[key].append(took)
            if took[0] > 2:
                self.timeline.append((w, *took, f"{'  ' * self.depth}{key[0]} {key[1]}"))


def print_gaps(app: TimedApp, beats: np.ndarray, n: int) -> None:
    """The events longer than 2 ms that ran inside each of the n largest heartbeat gaps (nested ones indented)."""
    gaps = np.diff(beats)
    for i in np.argsort(gaps)[::-1][:n]:
        lo, hi = beats[i], beats[i + 1]
        print(f"gap of {gaps[i] * 1e3:.0f} ms at t={lo - beats[0]:.2f} s:")
        inside = sorted(e for e in app.timeline if e[0] < hi and e[0] + e[1] / 1e3 > lo)
        for start, wall, cpu, what in inside:
            print(f"   +{(start - lo) * 1e3:6.0f} ms  wall {wall:6.1f}  cpu {cpu:6.1f}  {what}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "medquad_dev.csv"))
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--preset", default="recommended")
    ap.add_argument("--rows", type=int, default=15, help="how many (event, receiver) rows to print")
    ap.add_argument("--gaps", type=int, default=3, help="list the events inside the N largest heartbeat gaps")
    args = ap.parse_args()
    app = TimedApp(sys.argv[:1])
    tmp = tempfile.mkdtemp(prefix="gui-events-")
    gui_speed.isolate_user_files(tmp)
    data = gui_speed.limited_copy(Path(args.data), args.limit, tmp)
    result = gui_speed.in_app(gui_speed.config(args), data, tmp)
    gaps = result["gaps"]
    print(f"heartbeat: largest gap {gaps.max():.0f} ms, 99th percentile {np.percentile(gaps, 99):.0f} ms over "
          f"{result['wall']:.1f} s")
    print(f"{'event':<14} {'receiver in parent':<44} {'n':>6} {'wall max':>9} {'wall sum':>9} {'cpu sum':>8}  (ms)")
    rows = sorted(app.stats.items(), key=lambda kv: -sum(w for w, _ in kv[1]))[:args.rows]
    for (kind, who), v in rows:
        w, c = np.array([x for x, _ in v]), np.array([y for _, y in v])
        print(f"{kind:<14} {who[:44]:<44} {len(v):>6} {w.max():>9.1f} {w.sum():>9.0f} {c.sum():>8.0f}")
    print_gaps(app, result["beats"], args.gaps)


if __name__ == "__main__":
    main()
