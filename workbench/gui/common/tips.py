"""Tooltips and status-bar tips for every control.

Panels set their own tooltips where they know best (the config form uses each field's reason).
Controls still without one get theirs here, and every tooltip doubles as the status-bar tip,
so hovering any control explains it in the status bar too.
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSpinBox, QComboBox, QHeaderView, QLineEdit,
                               QSlider, QTabBar, QWidget)

TIPS = {   # "attribute.path" from the window → tip (used only where the panel set none)
    "training.start_btn": "Start training on the table as it is now (F5 or Ctrl+Return)",
    "training.pause_btn": "Hold training between batches; press again to resume (F6)",
    "training.stop_btn": "End the run after the current batch; the best checkpoint is kept (Shift+F5)",
    "training.form.preset": "A preset sets every hyperparameter: choosing one resets the whole form",
    "training.form.apply_btn": "Reset every field to the chosen preset again",
    "lattice.mode": "How the cube is drawn: voxels above a threshold, points, volume rendering or three slices",
    "lattice.play": "Replay the steps as an animation",
    "report.text": "The report of the latest finished run",
    "ask_panel.question": "Type a question and press Enter: the trained lattice ranks the dataset's answers",
    "ask_panel.k": "How many answers to list",
    "ask_panel.button": "Rank the dataset's answers for this question, with the lattice and with the identity baseline",
    "ask_panel.model_table": "Answers nearest to the lattice's predicted answer embedding",
    "ask_panel.identity_table": "Answers nearest to the question's own embedding (the identity baseline)",
}
CONTROL_TYPES = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QSlider, QAbstractItemView)


def _resolve(root, path: str):
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def plain(tip: str) -> str:
    """The first line of a tooltip without markup, for the status bar."""
    return re.sub(r"<[^>]+>", "", tip).strip().splitlines()[0] if tip.strip() else ""


def controls(root: QWidget) -> list[QWidget]:
    """The widgets a user operates; internal parts (a spin box's line edit, dock and tab-bar buttons) excluded."""
    out = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, CONTROL_TYPES) or w.objectName().startswith("qt_") or w.window() is not root:
            continue   # popups (a combo box's list) are separate windows of the control that owns them
        parent = w.parentWidget()
        if isinstance(parent, (QAbstractSpinBox, QComboBox, QTabBar, QLineEdit)) or isinstance(w, QHeaderView) \
                or type(w).__name__ == "QtInteractor":   # a header belongs to its table (column tips come from the model)
            continue
        out.append(w)
    return out


def apply_tips(win) -> None:
    for path, tip in TIPS.items():
        w = _resolve(win, path)
        if isinstance(w, QWidget) and not w.toolTip():
            w.setToolTip(tip)
    for w in controls(win):
        if w.toolTip() and not w.statusTip():
            w.setStatusTip(plain(w.toolTip()))
