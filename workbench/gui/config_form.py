"""The hyperparameter form, generated from the core's RunConfig dataclasses.

Each field gets a typed editor bounded by config.RANGES / CHOICES, with the reason written
beside its default as tooltip. Values outside a range cannot be typed (spin boxes clamp),
and free-text fields (teacher, grid shape) are checked with the same set_value the CLI uses.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ..train.config import (CHOICES, DEFAULT_PRESET, PRESETS, RANGES, ConfigError, RunConfig, apply_preset, fields_of, field_reasons,
                      get_value, set_value)

SECTIONS = {"teacher": "Teacher", "lattice": "Lattice", "loss": "Loss weights", "optim": "Optimizer & schedule",
            "split": "Split", "data": "Data checks", "": "Run"}


class ConfigForm(QWidget):
    changed = Signal()

    def __init__(self, config: RunConfig | None = None, parent=None):
        super().__init__(parent)
        self.config = config or RunConfig()
        self.editors: dict[str, QWidget] = {}
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        reasons = field_reasons()
        top = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Preset:"))
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setCurrentText(DEFAULT_PRESET)
        row.addWidget(self.preset, 1)
        self.apply_btn = QPushButton("Apply")
        self.apply_btn.clicked.connect(lambda: self.load_preset(self.preset.currentText()))
        row.addWidget(self.apply_btn)
        top.addLayout(row)
        groups: dict[str, QFormLayout] = {}
        for key, f in fields_of(self.config):
            section = key.split(".")[0] if "." in key else ""
            if section not in groups:
                box = QGroupBox(SECTIONS.get(section, section))
                groups[section] = QFormLayout(box)
                top.addWidget(box)
            ed = self._editor(key, get_value(self.config, key))
            ed.setToolTip(f"{key}: {reasons.get(key, '')}")
            ed.setObjectName(key)
            self.editors[key] = ed
            groups[section].addRow(key.split(".")[-1], ed)
        top.addWidget(self.error)
        top.addStretch(1)

    def _editor(self, key: str, value) -> QWidget:
        if key in CHOICES:
            ed = QComboBox()
            ed.addItems(list(CHOICES[key]))
            ed.currentTextChanged.connect(lambda v, k=key: self._commit(k, v))
        elif isinstance(value, bool):
            ed = QCheckBox()
            ed.toggled.connect(lambda v, k=key: self._commit(k, v))
        elif isinstance(value, int) and key != "lattice.shape":
            ed = QSpinBox()
            lo, hi = RANGES.get(key, (0, 10 ** 9))
            ed.setRange(int(lo), int(min(hi, 2 ** 31 - 1)))
            ed.valueChanged.connect(lambda v, k=key: self._commit(k, v))
        elif isinstance(value, float):
            ed = QDoubleSpinBox()
            lo, hi = RANGES.get(key, (-1e9, 1e9))
            ed.setDecimals(6 if hi <= 1 else 4)
            ed.setRange(lo, hi)
            ed.setSingleStep((hi - lo) / 100 if hi - lo < 10 else 0.1)
            ed.valueChanged.connect(lambda v, k=key: self._commit(k, v))
        else:
            ed = QLineEdit()
            ed.editingFinished.connect(lambda k=key, e=ed: self._commit(k, e.text()))
        self._show(ed, key, value)
        return ed

    def _show(self, ed: QWidget, key: str, value) -> None:
        ed.blockSignals(True)
        if isinstance(ed, QComboBox):
            ed.setCurrentText(str(value))
        elif isinstance(ed, QCheckBox):
            ed.setChecked(bool(value))
        elif isinstance(ed, (QSpinBox, QDoubleSpinBox)):
            ed.setValue(value)
        else:
            ed.setText("" if value is None else ("x".join(map(str, value)) if key == "lattice.shape" else str(value)))
        ed.blockSignals(False)

    def _commit(self, key: str, value) -> bool:
        """Apply one editor's value; a refused value is explained and the editor shows the old one again."""
        try:
            set_value(self.config, key, value)
        except ConfigError as exc:
            self.error.setText(str(exc))
            self._show(self.editors[key], key, get_value(self.config, key))
            return False
        self.error.setText("")
        self.changed.emit()
        return True

    def set_value(self, key: str, value) -> bool:
        """Programmatic edit through the same checks as typing (used by tests and presets)."""
        ok = self._commit(key, value)
        self._show(self.editors[key], key, get_value(self.config, key))
        return ok

    def set_config(self, cfg: RunConfig) -> None:
        self.config = cfg
        for key, ed in self.editors.items():
            self._show(ed, key, get_value(cfg, key))
        self.changed.emit()

    def load_preset(self, name: str) -> None:
        cfg = dataclasses.replace(self.config)
        for sub in ("teacher", "lattice", "loss", "optim", "split", "data"):
            setattr(cfg, sub, dataclasses.replace(getattr(self.config, sub)))
        self.set_config(apply_preset(cfg, name))
        self.preset.setCurrentText(name)

    def set_read_only(self, read_only: bool) -> None:
        for ed in [*self.editors.values(), self.preset, self.apply_btn]:
            ed.setEnabled(not read_only)
