"""The app's QSettings: one place, so tests can point it at a throw-away file ($LATTICE_WORKBENCH_SETTINGS)."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings


def app_settings() -> QSettings:
    path = os.environ.get("LATTICE_WORKBENCH_SETTINGS")
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings("lattice-workbench", "Lattice Workbench")
