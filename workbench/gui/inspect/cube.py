"""The 3D cube: cell activations of one pair, replayed step by step (pyvistaqt QtInteractor).

pyvista/VTK are imported when the view is first shown, not at app start. Snapshots arrive
as numpy arrays (T+1, C, X, Y, Z); the view writes new values into its existing meshes'
arrays and re-renders, so the camera stays where the user put it.
Modes: thresholded voxels, points, volume rendering, three orthogonal slices.

What is shown is a CubeFrame: a training snapshot (a validation pair at some epoch) or a table
row traced through the trained lattice (row_inspector). Its caption says which, with the channel
and step on screen. While training, renders are rate-limited and skipped while the view is hidden:
with software OpenGL one render costs tens of milliseconds of the GUI thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from workbench.gui.common.theme import VIEW_COLOURS
from workbench.gui.inspect import cube_scene
from workbench.gui.inspect.cube_scene import MODES

SOURCES = ("latest", "untrained", "difference")
MIN_RENDER_GAP_S = 1.0   # training snapshots: at most one render a second (a user action renders at once)


@dataclass
class CubeFrame:
    """One pair's journey through a lattice, ready to show."""
    states: np.ndarray          # (T+1, C, X, Y, Z) float32
    what: str                   # "epoch 3 · validation pair 1", "row 4 (train pair) · trained lattice", …
    question: str = ""
    input_face: str = "volume"
    output_face: str = "volume"
    unit: str = ""              # the colour bar's title when not a state channel (cube_sources.py: "Δ cosine …")

    @classmethod
    def from_snapshot(cls, ev) -> "CubeFrame":
        """A trainer LatticeSnapshot (the trainer always shows a validation pair)."""
        what = "untrained lattice (before epoch 1)" if ev.epoch == 0 else f"epoch {ev.epoch}"
        return cls(np.asarray(ev.states, dtype=np.float32), f"{what} · validation pair {ev.sample + 1}",
                   ev.question, ev.input_face, ev.output_face)


class LatticeView(QWidget):
    rendered = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.latest: CubeFrame | None = None      # what is shown
        self.reference: CubeFrame | None = None   # the same pair through the untrained lattice ("untrained", "difference")
        self._train_reference: CubeFrame | None = None   # training's epoch-0 snapshot
        self._last_render = 0.0
        self.plotter = None
        self.scheme = "light"     # set_scheme: the theme's "light" or "dark"
        self._closed = False
        self._camera_set = False   # the first build sets an isometric view; later builds keep the user's camera
        self._meshes: dict = {}
        self._actors: dict = {}
        self._shape: tuple[int, int, int] | None = None
        self._make_controls()
        self._lay_out()
        self._connect()

    def _make_controls(self) -> None:
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.source = QComboBox()
        self.source.addItems(SOURCES)
        self.source.setToolTip("latest trained snapshot, the untrained lattice (epoch 0) on the same pair, or their difference")
        self.channel = QSpinBox()
        self.channel.setRange(0, 0)
        self.channel.setToolTip("state channel to show; channel 0 carries the embedding in volume io")
        self.step = QSlider(Qt.Horizontal)
        self.step.setRange(0, 0)
        self.step.setMinimumWidth(90)       # a slider narrower than this cannot be aimed at a step (issue 19)
        self.step.setToolTip("lattice update step: 0 is the injected question, the last step is read out as the answer")
        self.step_label = QLabel("step 0/0")
        self.step_label.setMinimumWidth(70)
        self.play = QPushButton("▶ play")
        self.play.setCheckable(True)
        self.threshold = QSlider(Qt.Horizontal)
        self.threshold.setRange(0, 100)
        self.threshold.setValue(30)
        self.threshold.setMinimumWidth(70)
        self.threshold.setToolTip("voxels: hide cells whose |activation| is below this share of the largest")
        self.info = QLabel("no snapshot yet: start training, or click a table row after a run")
        self.info.setWordWrap(False)
        # one line of fixed height: new text every epoch must not re-layout (and repaint) the charts beside it
        self.info.setFixedHeight(self.info.fontMetrics().height() + 6)
        self.info.setMinimumWidth(50)
        self.info.setStyleSheet("padding: 2px 4px; background: palette(alternate-base);")
        self.placeholder = QLabel("the 3D view starts once its libraries have loaded in the background")
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(80)
        self.busy.setTextVisible(False)
        self.busy.hide()

    def _lay_out(self) -> None:
        """Two rows of controls (what is shown; which step and threshold), so that at the window's minimum
        width every control keeps its size instead of squeezing the sliders."""
        what = QHBoxLayout()
        for label, w in (("mode", self.mode), ("show", self.source), ("channel", self.channel)):
            what.addWidget(QLabel(label))
            what.addWidget(w)
        what.addWidget(self.play)
        what.addWidget(self.busy)
        what.addStretch(1)
        when = QHBoxLayout()
        when.addWidget(self.step_label)
        when.addWidget(self.step, 2)
        when.addWidget(QLabel("threshold"))
        when.addWidget(self.threshold, 1)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(2)
        self.layout_.addLayout(what)
        self.layout_.addLayout(when)
        self.layout_.addWidget(self.info)
        self.layout_.addWidget(self.placeholder, 1)

    def _connect(self) -> None:
        self._render_soon = QTimer(self)
        self._render_soon.setSingleShot(True)
        self._render_soon.setInterval(30)
        self._render_soon.timeout.connect(self.refresh)
        self.timer = QTimer(self)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self._advance)
        self.play.toggled.connect(lambda on: (self.timer.start() if on else self.timer.stop(),
                                              self.play.setText("❚❚ pause" if on else "▶ play")))
        for sig in (self.mode.currentIndexChanged, self.source.currentIndexChanged):
            sig.connect(self._rebuild)
        self.source.currentIndexChanged.connect(self._update_caption)
        self._stale = False   # a frame arrived while hidden: render when shown
        for sig in (self.channel.valueChanged, self.step.valueChanged, self.threshold.valueChanged):
            sig.connect(self.refresh)
        self.channel.valueChanged.connect(self._update_caption)
        self.step.valueChanged.connect(self._update_caption)

    # ---------------------------------------------------------------- lifecycle
    def ensure_plotter(self) -> None:
        """Create the VTK render window (imports pyvista) the first time it is needed."""
        if self.plotter is not None or self._closed:
            return
        import pyvista as pv
        from pyvistaqt import QtInteractor
        pv.global_theme.allow_empty_mesh = True
        self.plotter = QtInteractor(self, auto_update=False)  # we render on new data only; 5 Hz redraws cost ~40 ms each
        self.plotter.set_background(VIEW_COLOURS[self.scheme]["background"])
        self.layout_.replaceWidget(self.placeholder, self.plotter.interactor)
        self.placeholder.deleteLater()
        if self._shape:
            self._rebuild()


    def set_scheme(self, scheme: str) -> None:
        """Background, outline and colour-bar text for the theme's "light" or "dark" scheme (also live)."""
        if scheme == self.scheme:
            return
        self.scheme = scheme
        self.info.setStyleSheet(self.info.styleSheet())   # re-resolve its palette(alternate-base) for the new palette
        if self.plotter is not None:
            self.plotter.set_background(VIEW_COLOURS[scheme]["background"])
            self._rebuild()        # the bar's text and the outline take their colours when built
            self.plotter.render()

    def close_plotter(self) -> None:
        self._closed = True   # late snapshots from a stopping worker must not rebuild VTK
        self.timer.stop()
        self._render_soon.stop()
        if self.plotter is not None:
            widget = self.plotter.interactor
            self.plotter.close()
            widget.hide()          # closed, its VTK interactor is gone: a later paint event would call into it
            widget.deleteLater()
            self.plotter = None

    # ---------------------------------------------------------------- data in
    def set_snapshot(self, ev) -> None:
        """A trainer LatticeSnapshot; epoch 0 is kept as the untrained reference of training's pair."""
        frame = CubeFrame.from_snapshot(ev)
        if ev.epoch == 0:
            self._train_reference = frame
        self.show_frame(frame, self._train_reference, from_training=True)

    def show_frame(self, frame: CubeFrame, reference: CubeFrame | None = None, from_training: bool = False) -> None:
        """Show `frame`; `reference` is the same pair through the untrained lattice."""
        self.latest, self.reference = frame, reference
        self.ensure_plotter()   # by the first snapshot torch is loaded anyway; creating VTK now costs little extra
        T1, C = frame.states.shape[:2]
        shape = tuple(frame.states.shape[2:])
        for w in (self.channel, self.step):  # one render per frame, not one per widget change
            w.blockSignals(True)
        self.channel.setMaximum(C - 1)
        at_end = self.step.value() == self.step.maximum()
        self.step.setMaximum(T1 - 1)
        if at_end or self.step.value() > T1 - 1:
            self.step.setValue(T1 - 1)
        for w in (self.channel, self.step):
            w.blockSignals(False)
        self._update_caption()
        if shape != self._shape:
            self._shape = shape
            self._rebuild()
        elif from_training:
            if not self._render_soon.isActive():   # a render already pending will draw this newer frame
                self._render_soon.setInterval(self._render_delay_ms())
                self._render_soon.start()  # its own event-loop turn, apart from the chart redraw of the same epoch
        else:
            self.refresh()

    def set_busy(self, text: str) -> None:
        """A background trace is running ("" when it ended): a busy bar, and the caption says what."""
        self.busy.setVisible(bool(text))
        if text:
            self.info.setText(text)
        else:
            self._update_caption()

    def flush_render(self) -> None:
        """Draw a frame still waiting for its rate-limited render now (the run has ended)."""
        if self._render_soon.isActive():
            self._render_soon.stop()
            self.refresh()

    def _render_delay_ms(self) -> int:
        return int(max(30.0, (MIN_RENDER_GAP_S - (time.perf_counter() - self._last_render)) * 1000))

    def _update_caption(self, *_):
        f = self.latest
        if f is None:
            return
        src = self.source.currentText()
        shown = {"latest": "", "untrained": " · showing the UNTRAINED lattice",
                 "difference": " · showing trained − untrained"}[src]
        text = (f"{f.what}{shown} · channel {self.channel.value()} · step {self.step.value()}/{self.step.maximum()}"
                f" · “{f.question}”")
        self.step_label.setText(f"step {self.step.value()}/{self.step.maximum()}")
        self.info.setText(self.info.fontMetrics().elidedText(text, Qt.ElideRight, max(50, self.info.width() - 10)))
        self.info.setToolTip(f"{f.what}{shown}\nchannel {self.channel.value()}, step {self.step.value()} of "
                             f"{self.step.maximum()}\ninput: {f.input_face}, output: {f.output_face}\n{f.question}")
        self._set_bar_title()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._update_caption()

    def showEvent(self, event):
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def prepare_shape(self, shape: tuple[int, int, int]) -> None:
        """Build the actors for a grid before its first snapshot arrives, so building VTK objects
        (~0.3 s in software GL) happens when the user clicks Start, not while training runs."""
        if self.plotter is not None and tuple(shape) != self._shape:
            self._shape = tuple(shape)
            self._rebuild()

    def current_values(self) -> np.ndarray | None:
        """(X, Y, Z) values of the chosen channel and step for the chosen source."""
        if self.latest is None:
            return None
        t, c = self.step.value(), self.channel.value()

        def pick(frame: CubeFrame):
            s = frame.states
            return s[min(t, len(s) - 1), min(c, s.shape[1] - 1)]
        base = self.reference or self.latest
        src = self.source.currentText()
        if src == "untrained":
            return pick(base)
        if src == "difference":
            return pick(self.latest) - pick(base)
        return pick(self.latest)

    # ---------------------------------------------------------------- drawing
    def _rebuild(self, *_):
        """(Re)create meshes and actors for the current mode (cube_scene.build); on mode or grid-shape change only."""
        if self.plotter is None or self._shape is None:
            return
        face = self.latest is not None and self.latest.input_face != "volume"
        self._meshes, self._actors = cube_scene.build(self.plotter, self._shape, self.mode.currentText(),
                                                      VIEW_COLOURS[self.scheme], self.channel.value(), face)
        if not self._camera_set:
            self.plotter.view_isometric()
            self._camera_set = True
        self.refresh()

    def refresh(self, *_):
        """Write the current values into the existing meshes and render; no actor or camera is recreated."""
        vals = self.current_values()
        if vals is None or self.plotter is None or "main" not in self._actors:
            return
        if not self.isVisible():
            self._stale = True      # nobody can see it: render when the view is shown again
            return
        self._stale = False
        cube_scene.write(self._meshes, self._actors, self.mode.currentText(), vals, self.threshold.value() / 100.0)
        self.plotter.render()
        self._last_render = time.perf_counter()
        self.rendered.emit()

    def _set_bar_title(self) -> None:
        """The colour bar names what it colours: the channel, and trained/untrained/difference."""
        bars = getattr(self.plotter, "scalar_bars", None) if self.plotter is not None else None
        if not bars:
            return
        src = {"latest": "", "untrained": " (untrained)", "difference": " (difference)"}[self.source.currentText()]
        for bar in bars.values():
            bar.SetTitle(f"channel {self.channel.value()}{src}")

    def _advance(self) -> None:
        nxt = self.step.value() + 1
        self.step.setValue(0 if nxt > self.step.maximum() else nxt)
