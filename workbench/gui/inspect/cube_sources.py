"""The cube with more sources in its "show" list: the knockout map, a category atlas, the epoch replay.

InspectableView is the app's LatticeView plus named extra frames (set by inspect_panel.py). An extra frame is
shown as it is (no untrained reference subtracted); its `unit` titles the colour bar (the knockout map's
"Δ cosine when silenced"). A click on a cell reports the cell (cellClicked) with its value, so the panel can
show that cell's figures. Kept apart from cube.py so the cube's own layout can change without these.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal

from workbench.gui.inspect.cube import CubeFrame, LatticeView


class InspectableView(LatticeView):
    cellClicked = Signal(object)        # (x, y, z) of the clicked cell

    def __init__(self, parent=None):
        super().__init__(parent)
        self.extras: dict[str, CubeFrame] = {}
        self._picking = False
        self.rendered.connect(self._enable_picking)

    def set_extra(self, name: str, frame: CubeFrame | None, show: bool = False) -> None:
        """Add (or replace) the source `name`; None drops its frame. show: switch the view to it."""
        if frame is None:
            self.extras.pop(name, None)
            if self.source.currentText() == name:
                self.source.setCurrentIndex(0)
            return
        if self.latest is None:                   # nothing shown yet (a run folder opened): set the view up
            self.show_frame(frame)
        self.extras[name] = frame
        T1, C = frame.states.shape[:2]
        self.step.setMaximum(max(self.step.maximum(), T1 - 1))
        self.channel.setMaximum(max(self.channel.maximum(), C - 1))
        if self.source.findText(name) < 0:
            self.source.addItem(name)
        shape = tuple(frame.states.shape[2:])
        if shape != self._shape:
            self._shape = shape
            self._rebuild()
        if show and self.source.currentText() != name:
            self.source.setCurrentText(name)      # rebuilds, refreshes and re-captions
        elif self.source.currentText() == name:
            self._update_caption()
            self.refresh()

    def shown_frame(self) -> CubeFrame | None:
        return self.extras.get(self.source.currentText(), self.latest)

    def current_values(self) -> np.ndarray | None:
        extra = self.extras.get(self.source.currentText())
        if extra is None:
            return super().current_values()
        s = extra.states
        return s[min(self.step.value(), len(s) - 1), min(self.channel.value(), s.shape[1] - 1)]

    def _update_caption(self, *_):
        extra = self.extras.get(self.source.currentText())
        if extra is None:
            return super()._update_caption()
        T = len(extra.states) - 1
        text = f"{extra.what} · channel {self.channel.value()}" if extra.states.shape[1] > 1 else extra.what
        text += f" · step {min(self.step.value(), T)}/{T}" if T else ""
        self.step_label.setText(f"step {self.step.value()}/{self.step.maximum()}")
        self.info.setText(self.info.fontMetrics().elidedText(text, Qt.ElideRight, max(50, self.info.width() - 10)))
        self.info.setToolTip(f"{extra.what}\n{extra.question}")
        self._set_bar_title()

    def _set_bar_title(self) -> None:
        extra = self.extras.get(self.source.currentText())
        bars = getattr(self.plotter, "scalar_bars", None) if self.plotter is not None else None
        if extra is None:
            return super()._set_bar_title()
        for bar in (bars or {}).values():
            bar.SetTitle(extra.unit or f"channel {self.channel.value()} ({self.source.currentText()})")

    # ---------------------------------------------------------------- clicking a cell
    def _enable_picking(self) -> None:
        if self._picking or self.plotter is None:
            return
        self._picking = True
        self.plotter.track_click_position(self._picked, side="left", double=True, viewport=False)

    def _picked(self, position) -> None:
        """A double-click's picked point lies on the face the camera sees: step a hair away from the camera,
        into the cell behind that face."""
        eye = np.asarray(self.plotter.camera.position, float)
        p = np.asarray(position, float)
        away = (p - eye) / max(float(np.linalg.norm(p - eye)), 1e-9)
        self.click_at(p + 1e-3 * away)

    def click_at(self, position) -> tuple[int, int, int] | None:
        """A click at a world position: the cell under it (cells span [i, i+1) on each axis), or None outside."""
        if self._shape is None or position is None:
            return None
        cell = tuple(int(math.floor(float(p))) for p in position[:3])
        if not all(0 <= c < n for c, n in zip(cell, self._shape)):
            return None
        self.cellClicked.emit(cell)
        return cell
