"""Live training charts (pyqtgraph): curves made once and fed with setData, redrawn on a throttle timer.

Panels: loss (total and components), train/val Q→A cosine with identity, ridge and target
lines, validation retrieval (top-1, MRR), learning rate (log axis), gradient norm and
update ratio. An EMA slider draws a smoothed curve over a faint raw one; runs ticked in the
run list are overlaid for comparison.
"""

from __future__ import annotations

import csv

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSlider, QSplitter,
                               QVBoxLayout, QWidget)

from ..data.atomic import atomic_open
from ..train.events import EPOCH_KEYS

PANELS = [  # title, [(metric key, colour)], log-y
    ("loss", [("loss", "#1f77b4"), ("loss_mse", "#ff7f0e"), ("loss_cosine", "#2ca02c"), ("loss_l1", "#9467bd"),
              ("loss_infonce", "#8c564b"), ("val_loss", "#d62728")], False),
    ("Q→A cosine", [("train_cosine", "#1f77b4"), ("val_cosine", "#d62728")], False),
    ("val retrieval", [("val_top1", "#2ca02c"), ("val_mrr", "#9467bd")], False),
    ("learning rate", [("lr", "#444444")], True),
    ("gradient norm / update ratio", [("grad_norm", "#ff7f0e"), ("update_ratio", "#17becf")], True),
]
OVERLAY_STYLE = Qt.DashLine
LOG_KEYS = ("lr", "grad_norm", "update_ratio")   # drawn on log axes: zero or negative points are left out


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average; alpha=0 returns the raw values."""
    if alpha <= 0 or len(values) == 0:
        return values
    out = np.empty_like(values)
    acc = values[0]
    for i, v in enumerate(values):
        acc = alpha * acc + (1 - alpha) * v
        out[i] = acc
    return out


class Run:
    def __init__(self, name: str):
        self.name = name
        self.history: list[dict] = []
        self.baselines: dict = {}

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        x = np.array([r["epoch"] for r in self.history], dtype=float)
        y = np.array([r.get(key, np.nan) for r in self.history], dtype=float)
        return x, y

    def plottable(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The finite points of a series; positive ones only for the log-axis metrics."""
        x, y = self.series(key)
        ok = np.isfinite(y) & ((y > 0) if key in LOG_KEYS else True)
        return x[ok], y[ok]


class ChartsPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs: list[Run] = []
        self.current: Run | None = None
        self.target = 0.8
        self._dirty = False
        self.plots: dict[str, pg.PlotItem] = {}
        self.raw: dict[str, pg.PlotDataItem] = {}
        self.smooth: dict[str, pg.PlotDataItem] = {}
        self.overlays: list[pg.PlotDataItem] = []
        self.ref_lines: dict[str, pg.InfiniteLine] = {}

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        for i, (title, keys, logy) in enumerate(PANELS):
            p = self.graphics.addPlot(row=i // 2, col=i % 2, title=title)
            p.showGrid(x=True, y=True, alpha=0.2)
            p.addLegend(offset=(-5, 5), labelTextSize="8pt")
            p.setLogMode(y=logy)
            p.setLabel("bottom", "epoch")
            self.plots[title] = p
            for key, colour in keys:
                faint = pg.mkColor(colour)
                faint.setAlpha(70)
                self.raw[key] = p.plot([], [], pen=pg.mkPen(faint, width=1))
                self.smooth[key] = p.plot([], [], pen=pg.mkPen(colour, width=2), name=key,
                                          symbol="o", symbolSize=4, symbolBrush=colour)
        cos_plot = self.plots["Q→A cosine"]
        for name, colour in (("identity", "#888888"), ("ridge", "#bcbd22"), ("target", "#000000")):
            line = pg.InfiniteLine(angle=0, pen=pg.mkPen(colour, style=Qt.DashLine), label=name,
                                   labelOpts={"position": 0.05, "color": colour})
            line.setVisible(False)
            cos_plot.addItem(line)
            self.ref_lines[name] = line
        self.readout = QLabel("move the mouse over a chart to read values")
        self.vline = {t: pg.InfiniteLine(angle=90, pen=pg.mkPen("#999999", width=1)) for t in self.plots}
        for t, p in self.plots.items():
            p.addItem(self.vline[t], ignoreBounds=True)
        self._proxy = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._mouse_moved)

        self.smoothing = QSlider(Qt.Horizontal)
        self.smoothing.setRange(0, 95)
        self.smoothing.setValue(0)
        self.smoothing.setToolTip("EMA smoothing of the curves; the raw curve stays visible, faint")
        self.smoothing.valueChanged.connect(self.request_redraw)
        self.log_loss = QCheckBox("log loss")
        self.log_loss.toggled.connect(lambda on: self.plots["loss"].setLogMode(y=on))
        self.run_list = QListWidget()
        self.run_list.setMaximumWidth(180)
        self.run_list.itemChanged.connect(self.request_redraw)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("smoothing"))
        controls.addWidget(self.smoothing, 1)
        controls.addWidget(self.log_loss)
        controls.addWidget(self.readout, 2)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(controls)
        lv.addWidget(self.graphics, 1)
        side = QWidget()
        sv = QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.addWidget(QLabel("runs (tick to overlay)"))
        sv.addWidget(self.run_list)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(side)
        split.setStretchFactor(0, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(split)

        self.timer = QTimer(self)   # redraws at most ~8 times a second, however fast epochs arrive
        self.timer.setInterval(120)
        self.timer.timeout.connect(self._redraw_if_dirty)
        self.timer.start()

    # ---------------------------------------------------------------- data in
    def start_run(self, name: str, baselines: dict, target: float) -> None:
        self.current = Run(name)
        self.current.baselines = baselines
        self.target = target
        self.runs.append(self.current)
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Unchecked)
        self.run_list.blockSignals(True)
        self.run_list.addItem(item)
        self.run_list.blockSignals(False)
        for key, line in (("identity", "identity"), ("ridge", "ridge")):
            self.ref_lines[line].setValue(baselines.get(key, {}).get("val_cosine", 0.0))
            self.ref_lines[line].setVisible(key in baselines)
        self.ref_lines["target"].setValue(target)
        self.ref_lines["target"].setVisible(True)
        self.request_redraw()

    def add_epoch(self, metrics: dict) -> None:
        if self.current is None:
            self.start_run("run", {}, self.target)
        self.current.history.append(dict(metrics))
        self.request_redraw()

    def request_redraw(self, *_):
        self._dirty = True

    # ---------------------------------------------------------------- drawing
    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self.redraw()

    def redraw(self) -> None:
        alpha = self.smoothing.value() / 100.0
        run = self.current
        for key in self.raw:
            if run is None or not run.history:
                self.raw[key].setData([], [])
                self.smooth[key].setData([], [])
                continue
            x, y = run.plottable(key)
            self.raw[key].setData(x, y)
            self.smooth[key].setData(x, ema(y, alpha))
        for item in self.overlays:
            item.getViewBox() and item.getViewBox().removeItem(item)
        self.overlays = []
        for i in range(self.run_list.count()):
            it = self.run_list.item(i)
            other = self.runs[i]
            if it.checkState() != Qt.Checked or other is run or not other.history:
                continue
            for title, keys, _ in PANELS:
                for key, colour in keys[:2]:
                    x, y = other.plottable(key)
                    curve = self.plots[title].plot(x, ema(y, alpha),
                                                   pen=pg.mkPen(colour, width=1, style=OVERLAY_STYLE))
                    self.overlays.append(curve)

    def _mouse_moved(self, evt) -> None:
        pos = evt[0]
        for title, p in self.plots.items():
            if p.sceneBoundingRect().contains(pos):
                x = p.vb.mapSceneToView(pos).x()
                for line in self.vline.values():
                    line.setPos(x)
                run = self.current
                if run and run.history:
                    row = min(run.history, key=lambda r: abs(r["epoch"] - x))
                    keys = [k for t, ks, _ in PANELS if t == title for k, _ in ks]
                    self.readout.setText(f"epoch {row['epoch']}: " + ", ".join(
                        f"{k} {row[k]:.4g}" for k in keys if k in row))
                return

    # ---------------------------------------------------------------- export
    def export_png(self, path: str) -> bool:
        self.redraw()
        return self.graphics.grab().save(path)

    def export_csv(self, path: str) -> None:
        rows = self.current.history if self.current else []
        with atomic_open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["epoch", *EPOCH_KEYS], extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
