"""The open dataset file: open, import with a column mapping, save, save as, and asking before unsaved edits
are thrown away. A file opened through the column mapping keeps it: Save writes the file's own column
names unless the user chose ours in the dialog (`save_names`). The mapping is remembered per file
(QSettings), so opening that file again, e.g. at the next start, reads it the same way without asking."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from workbench.data.columns import needs_mapping, peek_columns
from workbench.data.dataset import DataError, save_dataset
from workbench.gui.common.paths import is_shipped_sample, user_documents_dir
from workbench.gui.common.settings import app_settings
from workbench.gui.dataset.loading import load_with_progress

FILTERS = ("Datasets (*.csv *.jsonl *.ndjson *.json *.parquet);;CSV (*.csv);;JSON Lines (*.jsonl *.ndjson);;"
           "JSON (*.json);;Parquet (*.parquet)")


class DatasetDocument(QObject):
    pathChanged = Signal(str)

    def __init__(self, win, autosave):
        """Uses win.model (the table), win.ask / win.show_error (dialogs, looked up at call time)."""
        super().__init__(win)
        self.win = win
        self.autosave = autosave
        self.path: str | None = None
        self.save_names: dict[str, str] = {}   # our column name → the file's, for a file opened with a mapping
        self.ask_columns = True        # False: no one can answer the mapping dialog (--screenshot)
        self.mapping_dialog = None     # the column-mapping dialog while it is open

    def pick_open(self) -> bool:
        return self._pick_and("Open dataset", self.open)

    def pick_import(self) -> bool:
        return self._pick_and("Import dataset", self.import_file)

    def _pick_and(self, title: str, then) -> bool:
        """Ask to discard unsaved edits, pick a file beside the current one, and open it with `then`."""
        if self.confirm_discard():
            path = self.win.choose_path(title, str(Path(self.path).parent) if self.path else "", FILTERS)
            if path:
                return then(path)
        return False

    def pick_save(self) -> bool:
        """Save As; for the shipped sample the dialog starts in the user's documents folder."""
        if self.path and is_shipped_sample(self.path):
            start = str(user_documents_dir() / Path(self.path).name)
        else:
            start = self.path or str(user_documents_dir() / "pairs.csv")
        path = self.win.choose_path("Save dataset as", start, FILTERS, save=True)
        return bool(path) and self.save(path)

    def import_file(self, path: str) -> bool:
        """Ask which column is which (column_dialog.py), then load with that mapping; False if cancelled."""
        from workbench.gui.dataset.column_dialog import ColumnMappingDialog
        try:
            peek = peek_columns(path)
        except DataError as exc:
            self._show_data_error("Cannot import dataset", exc)
            return False
        dlg = self.mapping_dialog = ColumnMappingDialog(path, peek, self.win)
        try:
            if dlg.exec() != ColumnMappingDialog.Accepted:
                return False
        finally:
            self.mapping_dialog = None
            dlg.setParent(None)        # freed here, with its Python wrapper: a deferred delete would run inside
            #                            the next read's progress loop (loading.py) and stall it there
        self._remember(path, dlg.columns, bool(dlg.save_names))
        self._adopt(path, dlg.dataset, dlg.save_names)
        return True

    def _show_data_error(self, title: str, exc: DataError) -> None:
        """The first problem as the message, every problem in the details."""
        self.win.show_error(title, str(exc.problems[0]) if exc.problems else str(exc), exc.report())

    @staticmethod
    def _mapping_key(path: str) -> str:
        return "column_mappings/" + hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:16]

    def _remember(self, path: str, columns: dict[str, str], keep_names: bool) -> None:
        app_settings().setValue(self._mapping_key(path), json.dumps({"columns": columns, "keep_names": keep_names}))

    def _open_as_before(self, path: str) -> bool | None:
        """Read path with the mapping chosen for it earlier; False when there is none or the file no longer fits it,
        None when the user cancelled the read."""
        try:
            saved = json.loads(app_settings().value(self._mapping_key(path), "") or "null")
            columns, keep = dict(saved["columns"]), bool(saved["keep_names"])
            ds = load_with_progress(self.win, path, columns)
        except (ValueError, TypeError, KeyError, DataError):
            return False
        if ds is None:
            return None       # cancelled: the user chose to stop; nothing more to ask
        self._adopt(path, ds, columns if keep else {})
        spec = ", ".join(f"{role}={col}" for role, col in columns.items())
        self.win.statusBar().showMessage(f"Read {Path(path).name} with the column mapping chosen before ({spec}); "
                                         "File ▸ Import with column mapping changes it", 15000)
        return True

    def _needs_mapping(self, path: str) -> bool:
        try:
            return needs_mapping(peek_columns(path).names)
        except DataError:
            return False      # load_dataset reports what is wrong with the file

    def open(self, path: str) -> bool:
        if self._needs_mapping(path):
            opened = self._open_as_before(path)
            if opened is not False:
                return bool(opened)
            if self.ask_columns:
                return self.import_file(path)
        try:
            ds = load_with_progress(self.win, path)   # off the GUI thread: the window paints, Cancel works
        except DataError as exc:
            self._show_data_error("Cannot open dataset", exc)
            return False
        if ds is None:
            return False
        self._adopt(path, ds, {})
        return True

    def _adopt(self, path: str, ds, save_names: dict[str, str]) -> None:
        """Make ds the table's dataset, read from path (unsaved edits of path recovered if the user wants)."""
        self.path, self.save_names = str(path), dict(save_names)
        recovered = self.autosave.offer_recovery()
        self.win.model.set_dataset(recovered or ds)
        if recovered:
            self.win.model.undo.resetClean()  # the recovered edits are not saved yet
        self.pathChanged.emit(self.path)

    def save(self, path: str | None = None) -> bool:
        target = path or self.path
        if not target or (path is None and is_shipped_sample(target)):
            # never overwrite the shipped sample: Ctrl+S offers a copy in the user's folder instead
            return self.pick_save()
        lost = self.win.model.file_problems
        if lost and Path(target).resolve() == Path(self.path or "").resolve():
            answer = self.win.ask(
                "Overwrite records the table could not read?",
                f"{len(lost):,} record(s) of {Path(target).name} could not be read (first: {lost[0]}) and are not "
                f"in the table. Saving over the file leaves them out of it. Save anyway? (No: choose another file)",
                QMessageBox.Yes | QMessageBox.No | QMessageBox.Cancel, QMessageBox.No)
            if answer == QMessageBox.No:
                return self.pick_save()
            if answer != QMessageBox.Yes:
                return False
        try:
            save_dataset(self.win.model.dataset, target, self.save_names)
        except (OSError, DataError, TypeError) as exc:
            self.win.show_error("Could not save", f"{target}: {exc}")
            return False
        if self.save_names:     # the new file has the old one's column names: it opens with the same mapping
            self._remember(target, self.save_names, True)
        old, self.path = self.path, str(target)
        self.win.model.file_problems = []      # the file now holds exactly the table
        self.win.model.problemsChanged.emit()
        self.win.model.undo.setClean()
        self.autosave.discard()
        if old and old != self.path:
            self.autosave.discard(old)   # the edits made to the old file are safe in the new one
        self.pathChanged.emit(self.path)
        return True

    def confirm_discard(self) -> bool:
        """True when the table may be replaced or closed: nothing unsaved, or the user saved or discarded it."""
        if self.win.model.undo.isClean():
            return True
        answer = self.win.ask("Unsaved changes", "The dataset has unsaved changes. Save them?",
                              QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        if answer == QMessageBox.Discard:
            self.autosave.discard()
        return answer == QMessageBox.Discard
