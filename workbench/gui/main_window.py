"""The window shell: builds the panels and menus and hands the work to small controllers.

- DatasetDocument (document.py): open, save, save as, ask before discarding edits;
- AutosaveController (autosave.py): recovery file of unsaved edits;
- RunController (run_controller.py): Start / Pause / Stop, worker signals, GC during a run;
- RowInspector (row_inspector.py): a clicked row's journey through the trained cube.

Heavy modules (torch, transformers, pyvista) are imported only when first needed, so the
window appears fast. Dialogs go through `self.ask` / `self.show_error`, which tests replace.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox

from workbench.train.config import RunConfig, from_preset
from workbench.gui.dataset.autosave import AutosaveController
from workbench.gui.charts.panel import ChartsPanel
from workbench.gui.dataset.model import DatasetModel
from workbench.gui.dataset.panel import DatasetPanel
from workbench.gui.dataset.document import DatasetDocument
from workbench.gui.inspect.cube_sources import InspectableView
from workbench.gui.inspect.inspect_panel import InspectPanel
from workbench.gui.menus import build_menus
from workbench.gui.inspect.ask import AskPanel
from workbench.gui.inspect.report import ReportPanel
from workbench.gui.inspect.row_inspector import RowInspector
from workbench.gui.inspect.save_view import grab_window
from workbench.gui.charts.library import RunLibrary
from workbench.gui.training.controller import RunController
from workbench.gui.dataset.checks import rules_from_config
from workbench.gui.common.theme import Theme
from workbench.gui.common.tips import apply_tips
from workbench.gui.training.panel import TrainingPanel
from workbench.gui.welcome import remember_last
from workbench.gui.window_layout import WindowLayout


class MainWindow(QMainWindow):
    def __init__(self, path: str | None = None, config: RunConfig | None = None):
        super().__init__()
        self.last_error: tuple[str, str] | None = None
        self.model = DatasetModel()
        self.dataset_panel = DatasetPanel(self.model)
        self.training = TrainingPanel(config or from_preset())
        self.charts = ChartsPanel()
        self.lattice = InspectableView()
        self.inspect = InspectPanel(self.lattice, self)     # beside the cube: knockout, dynamics, atlas, replay
        self.report = ReportPanel()
        self.ask_panel = AskPanel(lambda: self.model.dataset.pairs)
        self.window_layout = WindowLayout(self)
        self.autosaver = AutosaveController(self)
        self.document = DatasetDocument(self, self.autosaver)
        self.runs = RunController(self)
        self.inspector = RowInspector(self)
        self.library = RunLibrary(self)      # past runs listed in the charts; run folders followed live
        self.theme = Theme.of(QApplication.instance())
        self.theme.changed.connect(self._scheme_changed)    # charts and cube follow the theme, also live
        self._scheme_changed(self.theme.scheme)
        self.actions_ = build_menus(self)
        apply_tips(self)
        self.statusBar().showMessage("Hover a control for what it does; F1 opens the guide", 8000)
        self.training.form.changed.connect(self._rules_changed)
        self.ask_panel.checkpointChanged.connect(self.inspect.set_checkpoint)
        self.library.followed.connect(lambda f: f.trace and self.inspect.follow_folder(f.folder))
        self.document.pathChanged.connect(lambda _: self.inspect.refresh_table())
        self._rules_changed()
        self.model.dirtyChanged.connect(self._update_title)
        self.document.pathChanged.connect(self._update_title)
        self.document.pathChanged.connect(lambda p: self.window_layout.persist and remember_last(p))
        self.document.pathChanged.connect(lambda _: self.training.preset_hint.update_for(len(self.model.dataset)))
        self.window_layout.restore()
        if path:
            self.open_file(path)
        self._update_title()

    def showEvent(self, event):
        super().showEvent(event)
        if not getattr(self, "_shown", False):   # the frame size is known only once shown
            self._shown = True
            self.window_layout.fit_to_screen()

    def dragEnterEvent(self, event):
        self.library.drop(event, open_folders=False)

    def dropEvent(self, event):
        self.library.drop(event, open_folders=True)

    # ---------------------------------------------------------------- dialogs (replaceable in tests)
    def ask(self, title: str, text: str, buttons, default):
        return QMessageBox.question(self, title, text, buttons, default)

    def choose_path(self, title: str, start: str, filters: str, save: bool = False) -> str:
        """A file dialog; "" when cancelled."""
        if save:
            return QFileDialog.getSaveFileName(self, title, start, filters)[0]
        return QFileDialog.getOpenFileName(self, title, start, filters)[0]

    def show_welcome(self):
        from workbench.gui.welcome import WelcomeDialog
        self.welcome = WelcomeDialog(self)
        self.welcome.open()
        return self.welcome

    def show_error(self, title: str, message: str, details: str = "") -> None:
        self.last_error = (title, message)
        box = QMessageBox(QMessageBox.Critical, title, message, QMessageBox.Ok, self)
        if details:
            box.setDetailedText(details)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()  # window-modal but non-blocking: the app keeps running

    # ---------------------------------------------------------------- the controllers' faces
    @property
    def path(self) -> str | None:
        return self.document.path

    @property
    def run(self):
        return self.runs.run

    @property
    def last_finished(self):   # the latest run's Finished event
        return self.runs.last_finished

    def open_file(self, path: str) -> bool:
        return self.document.open(path)

    def save(self, path: str | None = None) -> bool:
        return self.document.save(path)

    def autosave(self) -> Path | None:
        return self.autosaver.autosave()

    def start_training(self, drop_errors: bool | None = None) -> bool:
        return self.runs.start(drop_errors)

    def set_paused(self, paused: bool) -> None:
        self.runs.set_paused(paused)

    def stop_training(self) -> None:
        self.runs.stop()

    def inspect_row(self, row: int) -> bool:
        return self.inspector.inspect(row)

    def save_screenshot(self, path: str) -> bool:
        return grab_window(self, self.lattice).save(path)

    # ---------------------------------------------------------------- window
    def _rules_changed(self) -> None:
        """The table checks rows with the run's own data rules, from the form's config."""
        rules = rules_from_config(self.training.form.config)
        if rules != self.model.checks.rules:
            self.model.set_rules(rules)

    def _scheme_changed(self, scheme: str) -> None:
        self.charts.set_scheme(scheme)
        self.lattice.set_scheme(scheme)
        self.inspect.set_scheme(scheme)

    def _update_title(self, *_):
        name = Path(self.path).name if self.path else "untitled"
        self.setWindowTitle(f"{name}[*] — Lattice Workbench")
        self.setWindowModified(not self.model.undo.isClean())

    def quit_now(self, code: int = 0) -> None:
        """Leave without asking (SIGTERM, logout): unsaved edits go to the recovery file, the run stops."""
        self._quitting = True
        self.autosaver.flush()
        self.window_layout.save()
        self.runs.shutdown(5000)
        self.lattice.close_plotter()
        QApplication.instance().exit(code)

    def closeEvent(self, event):
        if getattr(self, "_quitting", False):
            event.accept()
            return
        if not self.runs.closing and not self.document.confirm_discard():
            event.ignore()
            return
        if self.runs.stop_for_close():   # "stopping…" shows at once; the window closes when the run has ended
            event.ignore()
            return
        self.window_layout.save()
        self.runs.shutdown()
        self.lattice.close_plotter()
        event.accept()
