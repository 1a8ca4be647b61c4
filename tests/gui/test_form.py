"""The hyperparameter form (issue 11, item 2): wheel, typed 3e-4, errors beside the field, presets reset all."""

import dataclasses

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from workbench.train.config import from_preset, get_value

pytestmark = pytest.mark.gui


def wheel(widget, steps=1):
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps), Qt.NoButton,
                     Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def shown(ed):
    """The value a widget displays, read from the widget itself."""
    if isinstance(ed, QComboBox):
        return ed.currentText()
    if isinstance(ed, QCheckBox):
        return ed.isChecked()
    if isinstance(ed, (QSpinBox, QDoubleSpinBox)):
        return ed.value()
    return ed.text()


def displayed(value):
    """The same value as the matching widget kind would display it."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return "" if value is None else str(value)


def show_training(window, qtbot):
    window.window_layout.show_training()
    qtbot.waitUntil(lambda: window.training.form.isVisible(), timeout=2000)
    return window.training.form


def test_wheel_changes_a_field_only_when_it_has_focus(window, qtbot):
    form = show_training(window, qtbot)
    box = form.editors["optim.batch_size"]
    combo = form.editors["optim.optimizer"]
    before, choice = box.value(), combo.currentText()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    window.dataset_panel.view.setFocus()
    wheel(box)
    wheel(combo, -1)
    assert box.value() == before and combo.currentText() == choice     # scrolling past them changes nothing
    assert form.config.optim.batch_size == before
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    wheel(box)
    assert box.value() == before + 1 and form.config.optim.batch_size == before + 1


def test_learning_rate_can_be_typed_in_scientific_notation(window, qtbot):
    form = show_training(window, qtbot)
    box = form.editors["optim.lr"]
    window.activateWindow()
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "3e-4")
    qtbot.keyClick(box.lineEdit(), Qt.Key_Return)
    assert form.config.optim.lr == pytest.approx(3e-4) and box.text() == "0.0003"
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "1.5E-7")
    qtbot.keyClick(box.lineEdit(), Qt.Key_Return)
    assert form.config.optim.lr == pytest.approx(1.5e-7)                 # no rounding to a few decimals
    box.stepBy(10)                                                     # log-scale arrows: ×10 per 10 steps
    assert form.config.optim.lr == pytest.approx(1.5e-6)


def test_a_refused_value_is_explained_beside_its_field(window, qtbot):
    form = show_training(window, qtbot)
    assert not form.set_value("optim.lr", 5.0)
    err, ed = form.errors["optim.lr"], form.editors["optim.lr"]
    assert err.isVisibleTo(form) and "out of range" in err.text()
    below = err.mapTo(form, QPoint(0, 0)).y() - ed.mapTo(form, QPoint(0, 0)).y()
    assert 0 < below < 2 * ed.height()                                   # right under the field, not at the bottom
    assert all(not e.isVisibleTo(form) for k, e in form.errors.items() if k != "optim.lr")
    assert form.set_value("optim.lr", 1e-3)
    assert not err.isVisibleTo(form) and form.error_text() == ""


@pytest.mark.parametrize("preset", ["prototype-2.1", "recommended"])
def test_choosing_a_preset_resets_every_field(window, qtbot, preset):
    form = show_training(window, qtbot)
    for key, value in (("seed", 7), ("split.val_fraction", 0.3), ("teacher.max_length", 64),
                       ("lattice.boundary", "periodic"), ("optim.lr", 0.02), ("data.min_chars", 9),
                       ("lattice.shape", "4x4x24"), ("optim.epochs", 3)):
        assert form.set_value(key, value), form.error_text()
    form.preset.textActivated.emit(preset)                              # what choosing it in the list sends
    expected = from_preset(preset)
    assert dataclasses.asdict(form.config) == dataclasses.asdict(expected)
    for key, ed in form.editors.items():                                 # what each widget shows, not the model
        assert shown(ed) == displayed(get_value(expected, key)), key
    assert form.editors["seed"].value() == 0 and form.editors["lattice.shape"].text() == ""


def test_fields_show_units_ranges_and_reasons_from_the_config_metadata(window, qtbot):
    from PySide6.QtWidgets import QLabel
    from workbench.train.config import field_metas
    form = show_training(window, qtbot)
    metas = field_metas()
    lr = form.editors["optim.lr"]
    assert metas["optim.lr"].reason in lr.toolTip() and "1e-07 to 1" in lr.toolTip()
    assert lr.minimum() == metas["optim.lr"].range[0] and lr.log_scale   # hint="log"
    unit = metas["optim.epochs"].unit
    assert unit and any(lbl.text() == unit for lbl in form.editors["optim.epochs"].parentWidget().findChildren(QLabel))
    for key, m in metas.items():
        if m.choices:
            ed = form.editors[key]
            assert [ed.itemText(i) for i in range(ed.count())] == list(m.choices), key
