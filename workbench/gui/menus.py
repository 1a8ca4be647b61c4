"""The menu bar: file, edit and run actions, each with a shortcut, a tooltip and a status-bar tip."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from ..train.config import load_config, save_config


def _act(win, menu, text, slot, shortcut=None, tip: str = "") -> QAction:
    a = QAction(text, win)
    a.triggered.connect(slot)
    if shortcut:
        a.setShortcut(shortcut)
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    menu.addAction(a)
    return a


def _pick(win, action, filt: str, save: bool = False) -> None:
    fn = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
    path, _ = fn(win, "Choose file", "", filt)
    if path:
        try:
            action(path)
        except Exception as exc:   # any failure of the chosen action is shown, never a dead app
            win.show_error("Could not complete", str(exc))


def build_menus(win) -> dict[str, QAction]:
    """Fill win.menuBar(); returns the actions by name (tests and the help page read them)."""
    doc, acts = win.document, {}
    f = win.menuBar().addMenu("&File")
    acts["open"] = _act(win, f, "&Open dataset…", lambda: doc.pick_open(), QKeySequence.Open,
                        "Open a CSV, JSON Lines or JSON file of question/answer pairs")
    acts["save"] = _act(win, f, "&Save", lambda: doc.save(), QKeySequence.Save, "Save the table to its file")
    acts["save_as"] = _act(win, f, "Save &as…", lambda: doc.pick_save(), QKeySequence.SaveAs,
                           "Save the table to a new file (CSV, JSONL or JSON by its suffix)")
    f.addSeparator()
    form = win.training.form
    _act(win, f, "Load config…", lambda: _pick(win, lambda p: form.set_config(load_config(p)), "Config (*.json)"),
         tip="Load hyperparameters from a JSON config (as written by the CLI or Save config)")
    _act(win, f, "Save config…", lambda: _pick(win, lambda p: save_config(form.config, p), "Config (*.json)", True),
         tip="Save the hyperparameters as JSON, usable with workbench-train --config")
    _act(win, f, "Export charts as PNG…", lambda: _pick(win, win.charts.export_png, "PNG (*.png)", True),
         tip="Save the charts as an image")
    _act(win, f, "Export history as CSV…", lambda: _pick(win, win.charts.export_csv, "CSV (*.csv)", True),
         tip="Save the current run's per-epoch metrics as CSV")
    f.addSeparator()
    acts["quit"] = _act(win, f, "&Quit", win.close, QKeySequence.Quit, "Close the workbench")

    e = win.menuBar().addMenu("&Edit")
    model, panel = win.model, win.dataset_panel
    undo = model.undo.createUndoAction(win, "&Undo")
    undo.setShortcut(QKeySequence.Undo)
    redo = model.undo.createRedoAction(win, "&Redo")
    redo.setShortcut(QKeySequence.Redo)
    e.addActions([undo, redo])
    acts["undo"], acts["redo"] = undo, redo
    acts["add"] = _act(win, e, "Add row", panel.add_row, "Ctrl+N", "Append an empty pair to the table")
    acts["duplicate"] = _act(win, e, "Duplicate rows", lambda: model.duplicate_rows(panel.selected_rows()), "Ctrl+D",
                             "Copy the selected rows below the last of them")
    acts["delete"] = _act(win, e, "Delete rows", lambda: model.delete_rows(panel.selected_rows()), QKeySequence.Delete,
                          "Delete the selected rows (undo brings them back)")
    return acts
