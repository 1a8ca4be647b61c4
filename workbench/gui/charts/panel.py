"""Live training charts (pyqtgraph) on one x-axis, samples seen: per-batch loss and per-epoch metrics.

- The training loss of every batch is drawn faint, with its EMA (the smoothing slider) on top;
  validation and the other per-epoch metrics sit at the samples seen when their epoch ended.
- Fast at 13k pairs × 20 epochs: points go into preallocated buffers (chart_data), curves are
  made once and fed with setData, pyqtgraph downsamples and clips to the view, and the charts
  redraw on a timer at most 5 times a second, and not at all while hidden.
- Legends sit under each chart, never over the curves; baselines are dashed lines named with
  their value there, so no label is clipped at the edge of a plot. Log axes label decades only.
- Runs ticked in the run list are overlaid, each in its own colour, named in the run legend.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSizePolicy,
                               QSlider, QVBoxLayout, QWidget)

from workbench.data.atomic import atomic_open
from workbench.train.events import EPOCH_KEYS
from workbench.gui.charts.axes import EpochAxis, LogAxis, XFollow
from workbench.gui.charts.data import RunSeries
from workbench.gui.common.theme import VIEW_COLOURS, view_colour

PANELS = [  # title, [(metric key, colour, legend name)], log-y, baseline metric
    ("loss", [("loss", "#08306b", "train (epoch mean)"), ("val_loss", "#d62728", "validation"),
              ("loss_mse", "#ff7f0e", "mse"), ("loss_cosine", "#2ca02c", "cosine"), ("loss_l1", "#9467bd", "l1"),
              ("loss_infonce", "#8c564b", "InfoNCE")], False, None),
    ("Q→A cosine", [("train_cosine", "#1f77b4", "train"), ("val_cosine", "#d62728", "validation")], False,
     "val_cosine"),
    ("validation retrieval", [("val_top1", "#2ca02c", "top-1"), ("val_mrr", "#9467bd", "MRR")], False, "val_top1"),
    ("learning rate", [("lr", "#444444", "lr")], True, None),
    ("gradient norm · update ratio", [("grad_norm", "#ff7f0e", "grad norm"), ("update_ratio", "#17becf",
                                                                               "‖Δθ‖/‖θ‖")], True, None),
]
BATCH_COLOUR = "#1f77b4"
BASELINES = (("identity", "#888888"), ("ridge", "#bcbd22"), ("mean_answer", "#e377c2"))
TARGET_COLOUR = "#000000"
RUN_COLOURS = ("#e6550d", "#31a354", "#756bb1", "#636363", "#3182bd", "#d6616b", "#8c6d31")
REDRAW_MS = 200      # ≤ 5 redraws a second, however fast batches arrive


def _nb(text: str) -> str:
    """A legend entry that wraps only between entries, never mid-phrase (no-break spaces inside it)."""
    return text.replace(" ", "\u00a0")


def _swatch(colour: str, dash: bool = False, dot: bool = False) -> str:
    mark = "• " if dot else ("╌╌ " if dash else "━━ ")
    return f"<span style='color:{colour}; font-weight:bold'>{mark}</span>"


class ChartsPanel(QWidget):
    shownRunChanged = Signal(object)      # set_current: another run (a followed or past one) is now the one drawn

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs: list[RunSeries] = []
        self.current: RunSeries | None = None
        self.target = 0.8
        self.planned_samples = 0          # n_train × epochs: where the run will end (the x-range's cap)
        self.x_follow = XFollow()         # the x-range, grown in coarse steps as the data comes
        self._epoch_state = None          # what the per-epoch curves were last drawn from (see _draw_current)
        self._plots_due: list[str] = []   # plots whose per-epoch data is still to be fed
        self._lr_drawn = -1               # per-batch lr points last fed to the lr chart
        self._dirty = False
        self._overlays_dirty = False
        self.redraws = 0                  # counted for tests and the speed benchmark
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}   # per-epoch metric curves of the current run
        self.legends: dict[str, QLabel] = {}
        self.baseline_items: dict[tuple[str, str], pg.PlotDataItem] = {}   # (panel, baseline name) → dashed line
        self.overlays: list[pg.PlotDataItem] = []
        self._legend_state: tuple = ()
        self.scheme = "light"             # set_scheme: the theme's "light" or "dark"
        self.plot_widgets: list[pg.PlotWidget] = []
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        self._cols = 0
        self._cells: list[QWidget] = [self._make_chart(i, *panel) for i, panel in enumerate(PANELS)]
        self._make_batch_curves()
        self._cells.append(self._make_run_list())
        self.readout = QLabel("x-axis: training samples seen; epochs along the top. Point at a chart to read it.")
        self.readout.setFixedHeight(self.readout.fontMetrics().height() + 4)
        self.readout.setMinimumWidth(40)
        self.readout.setStyleSheet("font-size: 8pt;")
        self._arrange(2)
        self._make_cursor()
        self._lay_out()
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw_if_dirty)
        self.timer.start()
        self._update_legends()

    def _make_chart(self, i: int, title: str, keys: list, logy: bool, _baseline) -> QWidget:
        """One chart with its per-epoch curves and the legend under it, in a cell of the grid."""
        axes = {"bottom": pg.AxisItem("bottom"), "top": EpochAxis("top")}
        if logy:
            axes["left"] = LogAxis("left")
        w = pg.PlotWidget(background="w", axisItems=axes)
        self.plot_widgets.append(w)
        w.setMinimumSize(120, 70)    # below this a chart is unreadable: the panel scrolls instead (issue 19)
        p = w.getPlotItem()   # no title: the legend under the chart starts with it (height is scarce)
        p.showGrid(x=True, y=True, alpha=0.2)
        p.setLogMode(y=logy)
        p.showAxis("top")
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        p.getAxis("bottom").enableAutoSIPrefix(False)
        p.getAxis("bottom").setStyle(tickFont=_small_font())
        p.getAxis("left").setStyle(tickFont=_small_font())
        p.getAxis("top").setStyle(tickFont=_small_font(), tickLength=3)
        p.getAxis("left").setWidth(46)   # the same width on every chart, so the x-axes line up
        if i:
            p.setXLink(self.plots[PANELS[0][0]])
        p.getViewBox().sigRangeChangedManually.connect(self._x_zoomed)
        self.plots[title] = p
        for key, colour, _name in keys:
            self.curves[key] = p.plot([], [], pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                      symbolBrush=colour, symbolPen=None)
        legend = QLabel()
        legend.setWordWrap(True)
        legend.setStyleSheet("font-size: 8pt;")
        self.legends[title] = legend
        cell = QWidget()
        cv = QVBoxLayout(cell)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.setSpacing(0)
        cv.addWidget(w, 1)
        cv.addWidget(legend)
        return cell

    def _make_batch_curves(self) -> None:
        """The per-batch loss (faint) and its EMA, the per-batch learning rate, the baselines and the target."""
        loss = self.plots["loss"]
        faint = pg.mkColor(BATCH_COLOUR)
        faint.setAlpha(60)
        self.batch_raw = loss.plot([], [], pen=pg.mkPen(faint, width=1))
        self.batch_smooth = loss.plot([], [], pen=pg.mkPen(BATCH_COLOUR, width=2))
        self.batch_lr = self.plots["learning rate"].plot([], [], pen=pg.mkPen("#444444", width=1))
        for title, _, _, metric in PANELS:
            if metric:
                for name, colour in BASELINES:
                    item = self.plots[title].plot([], [], pen=pg.mkPen(colour, width=1.5, style=Qt.DashLine))
                    self.baseline_items[(title, name)] = item
        self.target_line = self.plots["Q→A cosine"].plot([], [], pen=pg.mkPen(TARGET_COLOUR, width=1,
                                                                              style=Qt.DotLine))

    def _make_run_list(self) -> QWidget:
        self.run_legend = QLabel()
        self.run_legend.setWordWrap(True)
        self.run_legend.setStyleSheet("font-size: 8pt;")
        self.run_list = QListWidget()
        self.run_list.setToolTip("runs of this session and earlier ones: tick one to overlay its curves on the "
                                 "current run, in the colour shown")
        self.run_list.itemChanged.connect(self._overlay_changed)
        info = QWidget()
        info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)   # its text must not take height from the charts
        iv = QVBoxLayout(info)
        iv.setContentsMargins(4, 0, 0, 0)
        iv.setSpacing(1)
        iv.addWidget(self.run_legend)
        iv.addWidget(self.run_list, 1)
        return info

    def _make_cursor(self) -> None:
        """A vertical line on every chart at the pointer, and the readout of the values there."""
        self.vlines = {}
        for t, p in self.plots.items():
            self.vlines[t] = pg.InfiniteLine(angle=90, pen=pg.mkPen("#999999", width=1))
            p.addItem(self.vlines[t], ignoreBounds=True)
        self._proxies = [pg.SignalProxy(p.scene().sigMouseMoved, rateLimit=30, slot=self._mouse_moved)
                         for p in self.plots.values()]

    def _lay_out(self) -> None:
        """Smoothing and log-loss controls on top, the chart grid, the readout under it."""
        self.smoothing = QSlider(Qt.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(90)
        self.smoothing.setToolTip("EMA smoothing of the per-batch training loss (0 = raw); the raw curve stays, faint")
        self.smoothing.valueChanged.connect(self._smoothing_changed)
        self.log_loss = QCheckBox("log loss")
        self.log_loss.setToolTip("draw the loss chart on a logarithmic axis")
        self.log_loss.toggled.connect(lambda on: self.plots["loss"].setLogMode(y=on))
        controls = QHBoxLayout()
        controls.addWidget(QLabel("smoothing"))
        controls.addWidget(self.smoothing, 1)
        controls.addWidget(self.log_loss)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        outer.addLayout(controls)
        self.grid_widget = QWidget()
        self.grid_widget.setLayout(self.grid)
        outer.addWidget(self.grid_widget, 1)
        outer.addWidget(self.readout)

    def set_scheme(self, scheme: str) -> None:
        """Draw for the theme's "light" or "dark" scheme: background, axes, tick labels and the curves too dark
        (or too light) for it. Called at start and whenever the theme changes."""
        self.scheme = scheme
        c = VIEW_COLOURS[scheme]
        for w in self.plot_widgets:
            w.setBackground(c["background"])
            for name in ("left", "bottom", "top"):
                axis = w.getPlotItem().getAxis(name)
                axis.setPen(pg.mkPen(c["axis"]))
                axis.setTextPen(pg.mkPen(c["text"]))
        for title, keys, _, _ in PANELS:
            for key, colour, _ in keys:
                shown = view_colour(colour, scheme)
                self.curves[key].setPen(pg.mkPen(shown, width=2))
                self.curves[key].setSymbolBrush(shown)
        self.target_line.setPen(pg.mkPen(view_colour(TARGET_COLOUR, scheme), width=1, style=Qt.DotLine))
        self._overlays_dirty = True
        self._update_legends()
        self.request_redraw()

    def _arrange(self, cols: int) -> None:
        """Charts in `cols` columns: 3 when the panel is wide and short (a laptop), else 2."""
        if cols == self._cols:
            return
        self._cols = cols
        for cell in self._cells:
            self.grid.removeWidget(cell)
        for i, cell in enumerate(self._cells):
            self.grid.addWidget(cell, i // cols, i % cols)
        rows = math.ceil(len(self._cells) / cols)
        for r in range(4):
            self.grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(3):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        size = event.size()
        self._arrange(3 if size.width() > 1.6 * size.height() else 2)

    # ---------------------------------------------------------------- data in (GUI thread, from RunViews)
    def start_run(self, name: str, baselines: dict, target: float, n_train: int = 0) -> RunSeries:
        run = RunSeries(name, self.smoothing.value() / 100.0)
        run.baselines, run.n_train = dict(baselines), n_train
        self.add_run(run, current=True)
        self.target = target
        self._new_view()
        return run

    def add_run(self, run: RunSeries, current: bool = False) -> None:
        """A run in the run list; `current` makes it the one drawn in full (the live or followed run)."""
        self.runs.append(run)
        item = QListWidgetItem(run.name)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Unchecked)
        item.setToolTip(run.folder or run.name)
        self.run_list.blockSignals(True)
        self.run_list.addItem(item)
        self.run_list.blockSignals(False)
        if current:
            self.current = run
            self._overlays_dirty = True
        self._update_legends()
        self.request_redraw()

    def set_current(self, run: RunSeries) -> None:
        changed = run is not self.current
        self.current = run
        self._new_view()
        self._follow_x(run.x_max())
        self._overlays_dirty = True
        self._update_legends()
        self.request_redraw()
        if changed:
            self.shownRunChanged.emit(run)

    def set_checked(self, run: RunSeries, on: bool) -> None:
        i = self.runs.index(run)
        self.run_list.item(i).setCheckState(Qt.Checked if on else Qt.Unchecked)

    def run_changed(self, run: RunSeries) -> None:
        """A run's data grew outside add_batch/add_epoch (a followed folder): redraw what shows it."""
        if run is not self.current:
            self._overlays_dirty = True
        else:
            self._follow_x(run.x_max())
        self.request_redraw()

    def add_batch(self, samples_seen: int, loss: float, n_epochs: int = 0, lr: float = 0.0) -> None:
        if self.current is None:
            self.start_run("run", {}, self.target)
        self.current.add_batch(samples_seen, loss, lr)
        if n_epochs and self.current.n_train:
            self.planned_samples = self.current.n_train * n_epochs
        self._follow_x(samples_seen)
        self._dirty = True

    def _new_view(self) -> None:
        """A new or newly shown run: nothing of the previous run's view stays (x-range, drawn state, zoom)."""
        self.planned_samples = 0
        self._epoch_state = None
        self._lr_drawn = -1
        self.x_follow.reset()
        self.plots[PANELS[0][0]].getViewBox().enableAutoRange(x=True)

    def _follow_x(self, x: float) -> None:
        """Grow the shared x-range in coarse steps (axes.XFollow). With auto-range the x-axis grew with every
        redraw, and through the x-link every plot repainted each time; a range held over the whole planned run
        left the first minutes a sliver at its left edge."""
        if self.x_follow.grow(float(x), float(self.planned_samples)):
            vb = self.plots[PANELS[0][0]].getViewBox()
            vb.setXRange(0.0, self.x_follow.span, padding=0.02)     # also turns x auto-range off

    def _x_zoomed(self, *_) -> None:
        self.x_follow.following = False       # the user's zoom or pan wins until the next run

    def add_epoch(self, metrics: dict) -> None:
        if self.current is None:
            self.start_run("run", {}, self.target)
        row = self.current.add_epoch(metrics)
        self._follow_x(row.get("samples_seen", 0))
        self._dirty = True

    def request_redraw(self, *_):
        self._dirty = True

    # ---------------------------------------------------------------- drawing
    def _smoothing_changed(self, value: int) -> None:
        for run in self.runs:
            run.set_smoothing(value / 100.0)
        self._overlays_dirty = True
        self.request_redraw()

    def _overlay_changed(self, *_):
        self._overlays_dirty = True
        self._update_legends()
        self.request_redraw()

    def showEvent(self, event):
        super().showEvent(event)
        self._redraw_if_dirty()      # a tab switched back: catch up at once

    @property
    def pending_epoch_plots(self) -> tuple[str, ...]:
        """Plots whose new per-epoch points the timer has yet to draw (one per tick during a run)."""
        return tuple(self._plots_due)

    def _redraw_if_dirty(self) -> None:
        """The timer's redraw: at most one plot's per-epoch data per tick (see _draw_current)."""
        if self._dirty and self.isVisible():
            self._dirty = False
            self.redraw(staggered=True)

    def redraw(self, staggered: bool = False) -> None:
        """Feed every curve of the current run its data (one setData each); rebuild overlays only when asked.
        `staggered` (the timer's redraws during a run) spreads an epoch's new points over the next ticks."""
        self.redraws += 1
        run = self.current
        if run is None:
            for c in (*self.curves.values(), self.batch_raw, self.batch_smooth, self.batch_lr, self.target_line,
                      *self.baseline_items.values()):
                c.setData([], [])
        else:
            self._draw_current(run, staggered)
        if self._overlays_dirty:
            self._overlays_dirty = False
            self._draw_overlays()
            self._update_legends()
        elif self._legend_keys() != self._legend_state:
            self._update_legends()     # a metric got its first values: name it (text changes are rare)

    def _draw_current(self, run: RunSeries, staggered: bool = False) -> None:
        self.batch_raw.setData(run.batch_loss.x, run.batch_loss.y)
        self.batch_smooth.setData(run.batch_ema.out.x, run.batch_ema.out.y)
        if run.batch_lr.n != self._lr_drawn:       # only when the rate moved (data.LR_STEP): a repaint of its plot
            self._lr_drawn = run.batch_lr.n
            self.batch_lr.setData(run.batch_lr.x, run.batch_lr.y)
        # The per-epoch data changes only when an epoch ends (or the run, the x-range, the baselines or the
        # target do). Each setData repaints its plot: five plot repaints per redraw were most of the window's
        # stalls during training, and five at once at an epoch's end its longest (benchmarks/gui_events.py).
        # So a plot is fed only when its data changed, and the timer feeds one plot per tick.
        x_end = max(run.x_max(), self.planned_samples, 1.0)
        state = (id(run), len(run.history), x_end, len(run.baselines), self.target, self.scheme)
        if state != self._epoch_state:
            self._epoch_state = state
            self._plots_due = [title for title, *_ in PANELS]
        while self._plots_due:
            self._draw_epoch_plot(run, self._plots_due.pop(0), x_end)
            if staggered:
                self._dirty = self._dirty or bool(self._plots_due)     # the next tick feeds the next plot
                break

    def _draw_epoch_plot(self, run: RunSeries, title: str, x_end: float) -> None:
        """One plot's per-epoch curves, baselines, target line and epoch ticks."""
        keys = next(k for t, k, _, _ in PANELS if t == title)
        for key, _, _ in keys:
            self.curves[key].setData(*run.epoch_series(key))
        metric = next(m for t, _, _, m in PANELS if t == title)
        for (t, name), item in self.baseline_items.items():
            if t == title:
                v = run.baselines.get(name, {}).get(metric)
                item.setData([0.0, x_end], [v, v]) if v is not None else item.setData([], [])
        if self.target_line.getViewBox() is self.plots[title].getViewBox():
            self.target_line.setData([0.0, x_end], [self.target, self.target])
        ticks = [(r["samples_seen"], int(r["epoch"])) for r in run.history if "epoch" in r]
        self.plots[title].getAxis("top").set_epochs(ticks)

    def _checked_runs(self) -> list[tuple[RunSeries, str]]:
        out = []
        for i in range(self.run_list.count()):
            run = self.runs[i]
            if self.run_list.item(i).checkState() == Qt.Checked and run is not self.current:
                out.append((run, RUN_COLOURS[len(out) % len(RUN_COLOURS)]))
        return out

    def _draw_overlays(self) -> None:
        for item in self.overlays:
            vb = item.getViewBox()
            if vb is not None:
                vb.removeItem(item)
        self.overlays = []
        for run, colour in self._checked_runs():
            colour = view_colour(colour, self.scheme)
            for title, keys, _, _ in PANELS:
                for j, (key, _, _) in enumerate(keys[:2]):
                    x, y = run.epoch_series(key)
                    style = Qt.DashLine if j == 0 else Qt.DotLine
                    self.overlays.append(self.plots[title].plot(x, y, pen=pg.mkPen(colour, width=1.5, style=style)))
            if run.batch_ema.out.n:
                self.overlays.append(self.plots["loss"].plot(run.batch_ema.out.x, run.batch_ema.out.y,
                                                             pen=pg.mkPen(colour, width=1)))

    def _legend_keys(self) -> tuple:
        run = self.current
        if run is None:
            return ()
        return (run.name, tuple(sorted(run.baselines)), self.target,
                tuple(k for k in self.curves if any(np.isfinite(v) and v != 0 for v in run.epoch_series(k)[1])))

    def _update_legends(self) -> None:
        """Legend text under each chart: the curves drawn there, baselines with their values."""
        self._legend_state = self._legend_keys()
        run = self.current
        for title, keys, _, metric in PANELS:
            parts = [f"<b>{_nb(title)}</b>"]
            if title == "loss":
                parts.append(_swatch(BATCH_COLOUR) + _nb("train, per batch (EMA; raw faint)"))
            for key, colour, name in keys:
                has = run is not None and any(np.isfinite(v) and v != 0 for v in run.epoch_series(key)[1])
                if has or key in ("loss", "val_loss", "train_cosine", "val_cosine", "val_top1", "val_mrr", "lr"):
                    parts.append(_swatch(view_colour(colour, self.scheme), dot=True) + _nb(name))
            if metric and run is not None:
                for name, colour in BASELINES:
                    v = run.baselines.get(name, {}).get(metric)
                    if v is not None:
                        parts.append(_swatch(colour, dash=True) + _nb(f"{name.replace('_', ' ')} {v:.3f}"))
            if title == "Q→A cosine":
                target = view_colour(TARGET_COLOUR, self.scheme)
                parts.append(_swatch(target, dash=True) + _nb(f"target {self.target:.2f}"))
            self.legends[title].setText(" &nbsp; ".join(parts))
        checked = self._checked_runs()
        parts = ["<b>runs</b> (tick to overlay)"]
        if run is not None:
            parts.append(f"━━ {run.name} (current)")
        parts += [_swatch(view_colour(c, self.scheme), dash=True) + r.name for r, c in checked]
        self.run_legend.setText(" &nbsp; ".join(parts))
        colours = {id(r): c for r, c in checked}
        self.run_list.blockSignals(True)      # icons and fonts are not a user's tick
        for i, r in enumerate(self.runs):
            item = self.run_list.item(i)
            pix = QPixmap(12, 12)
            pix.fill(QColor(view_colour(colours[id(r)], self.scheme)) if id(r) in colours else Qt.transparent)
            item.setIcon(QIcon(pix))
            f = item.font()
            f.setBold(r is run)
            item.setFont(f)
        self.run_list.blockSignals(False)

    def _mouse_moved(self, evt) -> None:
        pos = evt[0]
        for title, p in self.plots.items():
            if p.sceneBoundingRect().contains(pos) and p.scene() is not None:
                break
        else:
            return
        x = p.vb.mapSceneToView(pos).x()
        for line in self.vlines.values():
            line.setPos(x)
        run = self.current
        if run is None:
            return
        parts = [f"samples {max(0, x):,.0f}"]
        if title == "loss" and run.batch_ema.out.n:
            i = int(np.clip(np.searchsorted(run.batch_ema.out.x, x), 0, run.batch_ema.out.n - 1))
            parts.append(f"batch loss (EMA) {run.batch_ema.out.y[i]:.4g}")
        row = run.nearest_epoch(x)
        if row is not None:
            keys = [k for t, ks, _, _ in PANELS if t == title for k, _, _ in ks]
            parts.append(f"epoch {int(row['epoch'])}: " + ", ".join(
                f"{k} {row[k]:.4g}" for k in keys if k in row and np.isfinite(row[k])))
        self.readout.setText("<br>".join(parts))

    # ---------------------------------------------------------------- export
    def export_png(self, path: str) -> bool:
        self.redraw()
        return self.grid_widget.grab().save(path)

    def export_csv(self, path: str) -> None:
        """The current run's per-epoch metrics, with the samples seen at each epoch's end."""
        rows = self.current.history if self.current else []
        with atomic_open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["epoch", "samples_seen", *EPOCH_KEYS], extrasaction="ignore",
                               lineterminator="\n")
            w.writeheader()
            w.writerows(rows)


def _small_font():
    from PySide6.QtGui import QFont
    f = QFont()
    f.setPointSize(8)
    return f
