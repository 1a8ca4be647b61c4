"""The hyperparameter form, generated from the core's RunConfig dataclasses and their field facts.

Each field gets a typed editor bounded by its range or choices, its unit beside it and the
reason behind its default as tooltip. A refused value is explained right under its field.
Floats take scientific notation (a learning rate is typed as 3e-4); spin boxes and lists
take the mouse wheel only when focused, so scrolling the form never changes a value. Choosing
a preset resets every field: the preset's values on top of the defaults, nothing left over.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from workbench.train.config import (DEFAULT_PRESET, PRESETS, ConfigError, RunConfig, field_metas, fields_of, from_preset,
                            get_value, set_value)
from workbench.model.lattice_config import grid_shape
from workbench.gui.common.form_widgets import SciSpinBox, WheelGuard, nice_step
from workbench.gui.common.theme import ERROR_TEXT

SECTIONS = {"teacher": "Teacher", "lattice": "Lattice", "loss": "Loss weights", "optim": "Optimizer & schedule",
            "split": "Split", "data": "Data checks", "": "Run"}
ERROR_STYLE = f"color: {ERROR_TEXT};"


def field_facts() -> dict[str, tuple]:
    """Dotted key → (reason, range, choices, unit, hint), from the config's field metadata."""
    return {k: (m.reason, m.range, m.choices, m.unit, m.hint) for k, m in field_metas().items()}


def tooltip(key: str, reason: str, rng, unit: str) -> str:
    bounds = f"\nallowed: {rng[0]:g} to {rng[1]:g}{' ' + unit if unit else ''}" if rng else ""
    return f"{key}: {reason}{bounds}"


class ConfigForm(QWidget):
    changed = Signal()

    def __init__(self, config: RunConfig | None = None, parent=None):
        super().__init__(parent)
        self.config = config or RunConfig()
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.facts = field_facts()
        self.embedding_dim = 384          # the default teacher's; a run's RunStarted tells the real one
        self.wheel_guard = WheelGuard(self)
        top = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Preset:"))
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setCurrentText(DEFAULT_PRESET)
        self.preset.setToolTip("A preset sets every hyperparameter: choosing one resets the whole form")
        self.preset.textActivated.connect(self.load_preset)   # the user's choice only, not programmatic changes
        self.wheel_guard.guard(self.preset)
        row.addWidget(self.preset, 1)
        self.apply_btn = QPushButton("Reset")
        self.apply_btn.setToolTip("Reset every field to the chosen preset again")
        self.apply_btn.clicked.connect(lambda: self.load_preset(self.preset.currentText()))
        row.addWidget(self.apply_btn)
        top.addLayout(row)
        groups: dict[str, QFormLayout] = {}
        for key, _ in fields_of(self.config):
            section = key.split(".")[0] if "." in key else ""
            if section not in groups:
                box = QGroupBox(SECTIONS.get(section, section))
                groups[section] = QFormLayout(box)
                top.addWidget(box)
            reason, rng, choices, unit, hint = self.facts.get(key, ("", None, None, "", ""))
            ed = self._editor(key, get_value(self.config, key), rng, choices, hint)
            ed.setToolTip(tooltip(key, reason, rng, unit))
            ed.setObjectName(key)
            self.editors[key] = ed
            err = QLabel()
            err.setStyleSheet(ERROR_STYLE)
            err.setWordWrap(True)
            err.hide()
            self.errors[key] = err
            cell = QVBoxLayout()
            cell.setSpacing(1)
            line = QHBoxLayout()
            line.addWidget(ed, 1)
            if unit:
                line.addWidget(QLabel(unit))
            cell.addLayout(line)
            cell.addWidget(err)
            label = QLabel(key.split(".")[-1])
            label.setToolTip(ed.toolTip())
            groups[section].addRow(label, cell)
        top.addStretch(1)
        self._show_auto_shape()

    def _editor(self, key: str, value, rng, choices, hint: str) -> QWidget:
        if choices:
            ed = QComboBox()
            ed.addItems(list(choices))
            ed.currentTextChanged.connect(lambda v, k=key: self._commit(k, v))
        elif isinstance(value, bool):
            ed = QCheckBox()
            ed.toggled.connect(lambda v, k=key: self._commit(k, v))
        elif isinstance(value, int) and hint != "shape":
            ed = QSpinBox()
            lo, hi = rng or (0, 10 ** 9)
            ed.setRange(int(lo), int(min(hi, 2 ** 31 - 1)))
            ed.setKeyboardTracking(False)
            ed.valueChanged.connect(lambda v, k=key: self._commit(k, v))
        elif isinstance(value, float):
            ed = SciSpinBox(log_scale=hint == "log")
            lo, hi = rng or (-1e9, 1e9)
            ed.setRange(lo, hi)
            ed.setSingleStep(nice_step(lo, hi))
            ed.valueChanged.connect(lambda v, k=key: self._commit(k, v))
        else:
            ed = QLineEdit()
            ed.editingFinished.connect(lambda k=key, e=ed: self._commit(k, e.text()))
        if isinstance(ed, (QComboBox, QSpinBox, SciSpinBox)):
            self.wheel_guard.guard(ed)
        self._show(ed, key, value)
        return ed

    def _show(self, ed: QWidget, key: str, value) -> None:
        ed.blockSignals(True)
        if isinstance(ed, QComboBox):
            ed.setCurrentText(str(value))
        elif isinstance(ed, QCheckBox):
            ed.setChecked(bool(value))
        elif isinstance(ed, (QSpinBox, SciSpinBox)):
            ed.setValue(value)
        else:
            ed.setText("" if value is None else ("x".join(map(str, value)) if isinstance(value, tuple) else str(value)))
        ed.blockSignals(False)

    def _commit(self, key: str, value) -> bool:
        """Apply one editor's value; a refused value is explained under its field and the old one shown again."""
        err = self.errors[key]
        try:
            set_value(self.config, key, value)
        except ConfigError as exc:
            err.setText(str(exc))
            err.show()
            self._show(self.editors[key], key, get_value(self.config, key))
            return False
        err.hide()
        err.setText("")
        self._show_auto_shape()
        self.changed.emit()
        return True

    def _show_auto_shape(self) -> None:
        """An empty shape means the default grid: the field says which one this config gets (issue 19: it was
        blank while the run used 8×8×8)."""
        ed = self.editors.get("lattice.shape")
        if isinstance(ed, QLineEdit):
            x, y, z = grid_shape(self.config.lattice, self.embedding_dim)
            ed.setPlaceholderText(f"auto: {x}x{y}x{z} for {self.embedding_dim}-d embeddings")

    def set_embedding_dim(self, dim: int) -> None:
        self.embedding_dim = int(dim)
        self._show_auto_shape()

    def error_text(self) -> str:
        """Every field error now shown, one per line ('' when none)."""
        return "\n".join(e.text() for e in self.errors.values() if e.text())

    def set_value(self, key: str, value) -> bool:
        """Programmatic edit through the same checks as typing (used by tests and presets)."""
        ok = self._commit(key, value)
        self._show(self.editors[key], key, get_value(self.config, key))
        return ok

    def set_config(self, cfg: RunConfig) -> None:
        self.config = cfg
        for key, ed in self.editors.items():
            self._show(ed, key, get_value(cfg, key))
            self.errors[key].hide()
            self.errors[key].setText("")
        self._show_auto_shape()
        self.changed.emit()

    def load_preset(self, name: str) -> None:
        """Every field to its default, then the preset's values: no value of the previous config survives."""
        self.set_config(from_preset(name))
        self.preset.setCurrentText(name)

    def set_read_only(self, read_only: bool) -> None:
        for ed in [*self.editors.values(), self.preset, self.apply_btn]:
            ed.setEnabled(not read_only)
