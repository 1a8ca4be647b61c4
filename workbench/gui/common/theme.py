"""Light and dark themes. "system" (the default) follows the desktop's colour scheme, also when it changes."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from workbench.gui.common.settings import app_settings

CHOICES = ("system", "light", "dark")
# Text colours that read on both the light and the dark palette (contrast ≥ 3:1 on white and on #31363b)
ERROR_TEXT = "#d9304f"
WARNING_TEXT = "#c77700"
# Colours of the views Qt's palette does not reach (pyqtgraph charts, the VTK cube), per scheme.
# light is what the views always looked like; dark sits on the dark palette's base colour.
VIEW_COLOURS = {
    "light": {"background": "#ffffff", "axis": "#969696", "text": "#505050", "ink": "#000000"},
    "dark": {"background": "#232629", "axis": "#8c8c8c", "text": "#dcdcdc", "ink": "#f0f0f0"},
}
# Curve colours too dark to read on the dark background, and what the dark scheme draws instead
DARK_SUBSTITUTES = {"#08306b": "#6baed6", "#444444": "#bdbdbd", "#000000": "#f0f0f0", "#636363": "#bdbdbd"}


def view_colour(colour: str, scheme: str) -> str:
    """A curve's colour as drawn under `scheme`: the same, except the few that vanish on dark."""
    return DARK_SUBSTITUTES.get(colour.lower(), colour) if scheme == "dark" else colour


def effective(choice: str) -> str:
    """"light" or "dark" for a theme choice; the system's scheme decides for "system" (light when unknown)."""
    if choice in ("light", "dark"):
        return choice
    return "dark" if QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark else "light"


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text, mid = QColor(35, 38, 41), QColor(49, 54, 59), QColor(232, 232, 232), QColor(90, 96, 102)
    for role, colour in ((QPalette.Window, window), (QPalette.WindowText, text), (QPalette.Base, base),
                         (QPalette.AlternateBase, window), (QPalette.ToolTipBase, window),
                         (QPalette.ToolTipText, text), (QPalette.PlaceholderText, QColor(150, 150, 150)),
                         (QPalette.Text, text), (QPalette.Button, window), (QPalette.ButtonText, text),
                         (QPalette.BrightText, QColor(255, 90, 90)), (QPalette.Link, QColor(90, 170, 255)),
                         (QPalette.Highlight, QColor(61, 142, 201)), (QPalette.HighlightedText, QColor(255, 255, 255)),
                         (QPalette.Mid, mid), (QPalette.Dark, QColor(25, 27, 29)), (QPalette.Light, QColor(70, 75, 80))):
        p.setColor(role, colour)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(128, 128, 128))
    return p


class Theme(QObject):
    """Applies the chosen theme to the application and re-applies it when the system scheme changes.
    `changed` carries the scheme now in force ("light" or "dark") to views the palette does not reach."""
    changed = Signal(str)

    def __init__(self, app, choice: str | None = None):
        super().__init__(app)
        self.app = app
        self.scheme = "light"
        self.choice = choice or str(app_settings().value("view/theme", "system"))
        if self.choice not in CHOICES:
            self.choice = "system"
        app.setStyle("Fusion")   # the one style whose palette fully follows ours, on every platform
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_changed)
        self.apply()

    @classmethod
    def of(cls, app) -> "Theme":
        """The application's one Theme, created (and applied) on first use."""
        theme = getattr(app, "_lattice_theme", None)
        if theme is None:
            theme = cls(app)
            app._lattice_theme = theme
        return theme

    def set_choice(self, choice: str) -> None:
        self.choice = choice
        app_settings().setValue("view/theme", choice)
        self.apply()

    def apply(self) -> str:
        scheme = self.scheme = effective(self.choice)
        self.app.setPalette(dark_palette() if scheme == "dark" else self.app.style().standardPalette())
        self.changed.emit(scheme)
        return scheme

    def _system_changed(self, *_):
        if self.choice == "system":
            self.apply()
