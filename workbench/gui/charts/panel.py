"""Live training charts (pyqtgraph) on one x-axis, samples seen: per-batch loss and per-epoch metrics.

- The training loss of every batch is drawn faint, with its EMA (the smoothing slider) on top;
  validation and the other per-epoch metrics sit at the samples seen when their epoch ended.
- Fast at 13k pairs × 20 epochs: points go into preallocated buffers (charts/data.py), curves are
  made once and fed with setData, pyqtgraph downsamples and clips to the view, and the charts
  redraw on a timer at most 5 times a second, and not at all while hidden (drawing.py says how).
- Legends sit under each chart, never over the curves; baselines are dashed lines named with
  their value there, so no label is clipped at the edge of a plot. Log axes label decades only.
- Runs ticked in the run list are overlaid, each in its own colour, named in the run legend.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSizePolicy,
                               QSlider, QVBoxLayout, QWidget)

from workbench.gui.charts.axes import EpochAxis, LogAxis, XFollow
from workbench.gui.charts.data import RunSeries
from workbench.gui.charts.drawing import ChartDrawing
from workbench.gui.charts.legends import BASELINES, BATCH_COLOUR, PANELS, TARGET_COLOUR
from workbench.gui.common.theme import VIEW_COLOURS, view_colour

REDRAW_MS = 200      # ≤ 5 redraws a second, however fast batches arrive


class ChartsPanel(ChartDrawing, QWidget):
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
        self._x_due: list[str] = []       # plots still to take the followed x-range (_follow_x)
        self._x_syncing = False           # the panel itself sets an x-range: not a change to pass on (_x_changed)
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
        # One x-range for all charts, linked by hand (not setXLink): a followed range reaches the plots one per
        # tick (_draw_current), while a user's zoom, pan or auto-range reaches all of them at once (_x_changed).
        p.sigRangeChangedManually.connect(self._x_zoomed)     # the PlotItem's: a zoom or pan, and its "A" button
        p.getViewBox().sigXRangeChanged.connect(lambda vb, _r, t=title: self._x_changed(t, vb))
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
        self._x_due = []
        self.x_follow.reset()
        with self._own_x_change():
            for p in self.plots.values():
                p.getViewBox().enableAutoRange(x=True)

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

def _small_font():
    from PySide6.QtGui import QFont
    f = QFont()
    f.setPointSize(8)
    return f
