"""Issue 19: usable from the minimum size up. At 960×600 (the window's minimum) and at 1366×768, every panel is
shown in turn and every control in it keeps at least its minimum size (toolbars wrap, panels scroll rather than
clip); the charts keep a readable size and the Problems list gets room for more than a few rows."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QProgressBar,
                               QScrollBar, QSizePolicy, QWidget)

pytestmark = pytest.mark.gui

CONTROLS = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QProgressBar)


def squeezed(root: QWidget) -> list[str]:
    """Visible controls under root smaller than their minimum: max(minimumSize, minimumSizeHint) per direction,
    as a layout would give them (a direction whose size policy is Ignored has no minimum)."""
    out = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, CONTROLS) or isinstance(w, QScrollBar) or not w.isVisible() \
                or isinstance(w.parent(), CONTROLS):          # a spin box's own line edit is sized by it
            continue
        hint, pol = w.minimumSizeHint(), w.sizePolicy()
        need_w = 0 if pol.horizontalPolicy() == QSizePolicy.Ignored else max(w.minimumWidth(), hint.width())
        need_h = 0 if pol.verticalPolicy() == QSizePolicy.Ignored else max(w.minimumHeight(), hint.height())
        if w.width() < need_w or w.height() < need_h:
            name = w.objectName() or getattr(w, "text", lambda: "")() or type(w).__name__
            out.append(f"{name}: {w.width()}×{w.height()} < {need_w}×{need_h}")
    return out


def panels(win):
    """Every panel a user can bring to the front, each shown in turn: (name, how to show it)."""
    docks = win.window_layout
    yield "dataset/row", lambda: (docks.dataset_dock.raise_(), win.dataset_panel.lower.setCurrentIndex(0))
    yield "dataset/problems", lambda: (docks.dataset_dock.raise_(), win.dataset_panel.show_problems())
    yield "training", docks.show_training
    for i in range(win.tabs.count()):
        yield f"tab {win.tabs.tabText(i)}", lambda i=i: win.tabs.setCurrentIndex(i)


@pytest.mark.parametrize("size", [(960, 600), (1366, 768)])
def test_every_panel_keeps_its_controls_whole_at_the_minimum_size_and_on_a_laptop(window, qtbot, size):
    win = window
    win.resize(*size)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size, timeout=5000)
    problems = []
    for name, show in panels(win):
        show()
        qtbot.wait(50)
        problems += [f"{name}: {p}" for p in squeezed(win)]
    assert not problems, "\n".join(problems)
    for w in win.charts.plot_widgets:                     # charts keep a readable size (they scroll, not shrink)
        assert w.width() >= 120 and w.height() >= 70
    lattice = win.lattice
    assert lattice.step.width() >= 90 and lattice.threshold.width() >= 70
    win.window_layout.dataset_dock.raise_()
    win.dataset_panel.show_problems()
    qtbot.wait(50)
    table = win.dataset_panel.problem_panel.view
    rows = table.viewport().height() // max(1, table.verticalHeader().defaultSectionSize())
    assert rows >= (6 if size[1] < 700 else 8), f"the Problems list shows {rows} rows"
