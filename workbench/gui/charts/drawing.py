"""How the charts draw a run: the shared x-range as it follows the data, the timer's redraws, overlays, legends,
the pointer readout and the exports. A mixin of ChartsPanel (panel.py), which builds the plots and takes the data.

The budget (benchmarks/gui_speed.py, gui_events.py): during a run the GUI thread's longest stall stays under
100 ms on a 2-core machine that trains on both cores. Each chart is a QGraphicsScene of its own, and Qt flushes
each scene's repaint to the screen separately, so what costs is the number of plots repainted in one pass of the
event loop: the timer feeds the loss curves and at most one other plot per tick.
"""

from __future__ import annotations

import csv
from contextlib import contextmanager

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap

from workbench.data.atomic import atomic_open
from workbench.train.events import EPOCH_KEYS
from workbench.gui.charts.data import RunSeries
from workbench.gui.charts.legends import PANELS, RUN_COLOURS, chart_legend, legend_state, runs_legend
from workbench.gui.common.theme import view_colour


class ChartDrawing:
    """Drawing for ChartsPanel: expects its plots, curves, legends, run list, x_follow and state flags."""

    # ---------------------------------------------------------------- the shared x-range
    def _follow_x(self, x: float) -> None:
        """Grow the shared x-range in coarse steps (axes.XFollow), applied by the timer's redraws one plot per
        tick. With auto-range the x-axis grew with every redraw, and every plot repainted each time; a range held
        over the whole planned run left the first minutes a sliver at its left edge. Set on all five plots at
        once, a step was five repaints in a row, each flushed to the screen on its own (one QGraphicsScene per
        plot): the GUI thread's longest stall during a run (benchmarks/gui_events.py)."""
        if self.x_follow.grow(float(x), float(self.planned_samples)):
            self._x_due = [title for title, *_ in PANELS]

    @contextmanager
    def _own_x_change(self):
        """The panel sets x-ranges itself inside this: _x_changed does not pass them on."""
        self._x_syncing = True
        try:
            yield
        finally:
            self._x_syncing = False

    def _set_x(self, title: str) -> None:
        """One plot takes the followed x-range (turning its x auto-range off), without passing it on."""
        with self._own_x_change():
            self.plots[title].getViewBox().setXRange(0.0, self.x_follow.span, padding=0.02)

    def _x_changed(self, title: str, vb) -> None:
        """A plot's x-range changed, not by the panel itself: every other plot shows the same range, as linked axes
        would. That is a user's zoom, pan or auto-range button on any chart, or the loss chart's own auto-range
        (runs shown as overlays only: every chart takes the loss chart's range, which spans the batches). Another
        chart's own auto-range is not passed on while the panel follows the run: pyqtgraph applies auto-range
        when a plot paints (the _x_syncing guard cannot see it), and a chart not yet given the followed range
        would push the range of its own few points onto all of them (a zoom or pan turns the plot's auto-range
        off before this signal; its "A" button stops following first, _x_zoomed)."""
        if self._x_syncing or (self.x_follow.following and vb.autoRangeEnabled()[0] and title != PANELS[0][0]):
            return
        lo, hi = vb.viewRange()[0]
        with self._own_x_change():
            for t, p in self.plots.items():
                if t != title:
                    p.getViewBox().setXRange(lo, hi, padding=0.0)

    def _x_zoomed(self, *_) -> None:
        self.x_follow.following = False       # the user's zoom or pan wins until the next run
        self._x_due = []

    # ---------------------------------------------------------------- drawing
    @property
    def pending_epoch_plots(self) -> tuple[str, ...]:
        """Plots whose new per-epoch points or x-range the timer has yet to draw (one per tick during a run)."""
        return tuple(t for t, *_ in PANELS if t in self._plots_due or t in self._x_due)

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
            self.batch_lr.setData(*run.lr_steps())
        # The per-epoch data changes only when an epoch ends (or the run, the x-range, the baselines or the
        # target do). Each setData repaints its plot: five plot repaints per redraw were most of the window's
        # stalls during training, and five at once at an epoch's end its longest (benchmarks/gui_events.py).
        # So a plot is fed only when its data changed, and the timer feeds one plot per tick; a new x-range
        # reaches the plots the same way. The loss plot repaints every tick anyway: it takes the range at once.
        if PANELS[0][0] in self._x_due:
            self._x_due.remove(PANELS[0][0])
            self._set_x(PANELS[0][0])
        x_end = max(run.x_max(), self.planned_samples, 1.0)
        state = (id(run), len(run.history), x_end, len(run.baselines), self.target, self.scheme)
        if state != self._epoch_state:
            self._epoch_state = state
            self._plots_due = [title for title, *_ in PANELS]
        for title in self.pending_epoch_plots:
            if title in self._x_due:
                self._x_due.remove(title)
                self._set_x(title)
            if title in self._plots_due:
                self._plots_due.remove(title)
                self._draw_epoch_plot(run, title, x_end)
            if staggered:
                self._dirty = self._dirty or bool(self._plots_due or self._x_due)   # the next tick: the next plot
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
        if self.batch_lr.getViewBox() is self.plots[title].getViewBox():
            self.batch_lr.setData(*run.lr_steps())       # the held rate runs on to the epoch's end
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
        return legend_state(self.current, self.curves, self.target)

    def _update_legends(self) -> None:
        """Legend text under each chart (legends.chart_legend) and the run list's, with its icons and fonts."""
        self._legend_state = self._legend_keys()
        run = self.current
        for title, keys, _, metric in PANELS:
            self.legends[title].setText(chart_legend(title, keys, metric, run, self.scheme, self.target))
        checked = self._checked_runs()
        self.run_legend.setText(runs_legend(run, checked, self.scheme))
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
