"""A small step-dynamics chart beside the cube: what each lattice step adds (workbench.inspect.dynamics).

Two stacked plots on one step axis: the Q→A cosine of the prediction read out after each step (averaged over
a set of pairs, when computed), and the update size ‖s_t − s_{t−1}‖, both for that set and for the pair the
cube shows (from its recorded states, free). A vertical line follows the cube's step slider; clicking a plot
moves the slider to the nearest step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.gui.common.theme import VIEW_COLOURS

if TYPE_CHECKING:     # workbench.inspect.dynamics imports torch: the window must appear without it (test_startup)
    from workbench.inspect.dynamics import StepDynamics


class DynamicsChart(QWidget):
    stepClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumHeight(150)
        self.cos_plot = self.view.addPlot(row=0, col=0)
        self.upd_plot = self.view.addPlot(row=1, col=0)
        self.upd_plot.setXLink(self.cos_plot)
        self.cos_plot.setLabel("left", "Q→A cos")
        self.upd_plot.setLabel("left", "‖Δs‖")
        self.upd_plot.setLabel("bottom", "step")
        self.cos_plot.hideAxis("bottom")
        self.set_curve = self.cos_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=5,
                                            name="set")
        self.set_upd = self.upd_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=5)
        self.pair_upd = self.upd_plot.plot([], [], pen=pg.mkPen("#d62728", width=1, style=Qt.DashLine), symbol="t",
                                           symbolSize=5)
        self.lines = [pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#888888")) for _ in range(2)]
        for plot, line in zip((self.cos_plot, self.upd_plot), self.lines):
            plot.addItem(line)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
        self.view.scene().sigMouseClicked.connect(self._clicked)
        for plot in (self.cos_plot, self.upd_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)   # cosines read as 0.72, not 720 (×0.001)
            plot.getAxis("left").setWidth(44)
        self.title = QLabel("step dynamics: Compute step dynamics below (red: the pair shown)")
        self.title.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.title)
        self.dynamics: StepDynamics | None = None
        self.pair_norms: np.ndarray | None = None

    def set_scheme(self, scheme: str) -> None:
        self.view.setBackground(VIEW_COLOURS[scheme]["background"])

    def set_dynamics(self, dyn: StepDynamics | None, what: str = "") -> None:
        """The set's per-step figures (None clears them); `what` names the set in the title."""
        self.dynamics = dyn
        if dyn is None:
            self.set_curve.setData([], [])
            self.set_upd.setData([], [])
            return
        steps = np.arange(len(dyn.cosine))
        self.set_curve.setData(steps, dyn.cosine)
        self.set_upd.setData(steps, dyn.update_norm)
        self.cos_plot.setXRange(0, len(steps) - 1, padding=0.05)
        self.title.setText(f"{what}: Q→A cosine {dyn.cosine[0]:.3f} at step 0 (identity) → {dyn.cosine[-1]:.3f} "
                           f"at step {len(steps) - 1}. Blue: mean of {dyn.pairs:,} pairs; red: the pair shown")

    def set_states(self, states: np.ndarray | None) -> None:
        """The shown pair's recorded states (T+1, C, X, Y, Z): its own update sizes (red)."""
        from workbench.inspect.dynamics import state_update_norms   # torch is loaded by the time a pair is shown
        self.pair_norms = None if states is None else state_update_norms(states)
        if self.pair_norms is None:
            self.pair_upd.setData([], [])
        else:
            self.pair_upd.setData(np.arange(len(self.pair_norms)), self.pair_norms)
            self.cos_plot.setXRange(0, len(self.pair_norms) - 1, padding=0.05)

    def set_step(self, step: int) -> None:
        for line in self.lines:
            line.setValue(step)

    def _clicked(self, event) -> None:
        for plot in (self.cos_plot, self.upd_plot):
            if plot.sceneBoundingRect().contains(event.scenePos()):
                x = plot.vb.mapSceneToView(event.scenePos()).x()
                self.stepClicked.emit(max(0, int(round(x))))
                return
