"""Editors for the config form: a float box that takes `3e-4`, and a wheel guard so scrolling the form never edits it."""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QDoubleSpinBox

_PARTIAL = re.compile(r"^[+-]?(\d*\.?\d*)([eE][+-]?\d*)?$")


class SciSpinBox(QDoubleSpinBox):
    """A float spin box that shows and accepts scientific notation (3e-4, 1.5E-3, 0.0003).

    QDoubleSpinBox rounds to a fixed number of decimals (1e-7 would become 0) and refuses an 'e'.
    Here the value keeps full precision, text is parsed with float(), and the arrows step
    linearly, or by ×10^0.1 for log-scale fields (a learning rate spans decades)."""

    def __init__(self, log_scale: bool = False, parent=None):
        super().__init__(parent)
        self.log_scale = log_scale
        self.setDecimals(15)          # no rounding of small values; textFromValue keeps the display short
        self.setKeyboardTracking(False)   # commit when typing is done (Enter, focus out, arrows), not per digit

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip()
        if not t or not _PARTIAL.match(t):
            return (QValidator.Intermediate if not t else QValidator.Invalid), text, pos
        try:
            v = float(t)
        except ValueError:
            return QValidator.Intermediate, text, pos     # "3e", "-", "1e-" while typing
        ok = self.minimum() <= v <= self.maximum()
        return (QValidator.Acceptable if ok else QValidator.Intermediate), text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:
        v = self.value()
        if self.log_scale and v > 0:
            self.setValue(min(self.maximum(), max(self.minimum(), v * 10 ** (0.1 * steps))))
        else:
            super().stepBy(steps)


def nice_step(lo: float, hi: float) -> float:
    """An arrow step of about 1/100 of a small range, 0.1 for wide ones."""
    span = hi - lo
    return 10 ** math.floor(math.log10(span / 100)) if 0 < span < 10 else 0.1


class WheelGuard(QObject):
    """Wheel events reach a spin box or list only while it has keyboard focus; otherwise the form scrolls."""

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Wheel and isinstance(obj, (QAbstractSpinBox, QComboBox)) and not obj.hasFocus():
            event.ignore()
            return True      # not handled by the editor: the scroll area behind it gets the wheel
        return False

    def guard(self, widget) -> None:
        widget.setFocusPolicy(Qt.StrongFocus)   # a wheel turn alone never focuses it
        widget.installEventFilter(self)
