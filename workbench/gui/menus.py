"""Menus and the toolbar: every action has a shortcut where a habit expects one, a tooltip and a status-bar tip."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar

from workbench.train.config import load_config, save_config
from workbench.gui import help as help_pages
from workbench.gui.inspect.export import pick_and_export


def _act(win, menu, text, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
    a = QAction(text, win)
    a.setCheckable(checkable)
    (a.toggled if checkable else a.triggered).connect(slot)
    if shortcut:
        a.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    if menu is not None:
        menu.addAction(a)
    return a


def _pick(win, action, title: str, filt: str, save: bool = False) -> None:
    path = win.choose_path(title, "", filt, save)
    if path:
        try:
            action(path)
        except Exception as exc:   # any failure of the chosen action is shown, never a dead app
            win.show_error("Could not complete", str(exc))


def menu_actions(win) -> list[QAction]:
    """Every action of the menu bar, in menu order (submenus included)."""
    out = []

    def walk(actions):
        for a in actions:
            if a.menu() is not None:
                walk(a.menu().actions())
            elif not a.isSeparator():
                out.append(a)
    walk(win.menuBar().actions())
    return out


def build_menus(win) -> dict[str, QAction]:
    """Fill win's menu bar and toolbar; returns the actions by name (tests and the shortcuts page read them)."""
    doc, acts, bar = win.document, {}, win.menuBar()
    f = bar.addMenu("&File")
    acts["open"] = _act(win, f, "&Open dataset…", lambda: doc.pick_open(), QKeySequence.Open,
                        "Open a CSV, JSON Lines, JSON or Parquet file of question/answer pairs (a file without "
                        "question and answer columns asks which columns they are)")
    acts["import"] = _act(win, f, "&Import with column mapping…", lambda: doc.pick_import(), "Ctrl+Shift+O",
                          "Open a file whose columns have other names (Q, prompt, response, topic, doc, …): choose "
                          "which column is the question, answer, category and group")
    acts["save"] = _act(win, f, "&Save", lambda: doc.save(), QKeySequence.Save,
                        "Save the table to its file (the shipped sample is saved as a copy in your folder)")
    acts["save_as"] = _act(win, f, "Save &as…", lambda: doc.pick_save(), QKeySequence.SaveAs,
                           "Save the table to a new file (CSV, JSONL, JSON or Parquet by its suffix)")
    f.addSeparator()
    form = win.training.form
    _act(win, f, "Load config…", lambda: _pick(win, lambda p: form.set_config(load_config(p)), "Load config",
                                               "Config (*.json)"),
         tip="Load hyperparameters from a JSON config (as written by the CLI or Save config)")
    _act(win, f, "Save config…", lambda: _pick(win, lambda p: save_config(form.config, p), "Save config",
                                               "Config (*.json)", True),
         tip="Save the hyperparameters as JSON, usable with workbench-train --config")
    _act(win, f, "Export charts as PNG…", lambda: _pick(win, win.charts.export_png, "Export charts", "PNG (*.png)",
                                                        True), tip="Save the charts as an image")
    _act(win, f, "Export history as CSV…", lambda: _pick(win, win.charts.export_csv, "Export history",
                                                         "CSV (*.csv)", True),
         tip="Save the current run's per-epoch metrics as CSV")
    f.addSeparator()
    acts["quit"] = _act(win, f, "&Quit", win.close, QKeySequence.Quit, "Close the workbench")

    e = bar.addMenu("&Edit")
    model, panel = win.model, win.dataset_panel
    undo = model.undo.createUndoAction(win, "&Undo")
    undo.setShortcut(QKeySequence.Undo)
    redo = model.undo.createRedoAction(win, "&Redo")
    redo.setShortcut(QKeySequence.Redo)
    for a, tip in ((undo, "Undo the last change to the table"), (redo, "Redo the change just undone")):
        a.setToolTip(tip)
        a.setStatusTip(tip)
    e.addActions([undo, redo])
    acts["undo"], acts["redo"] = undo, redo
    e.addSeparator()
    acts["find"] = _act(win, e, "&Find…", lambda: (panel.search.setFocus(), panel.search.selectAll()),
                        QKeySequence.Find, "Search questions, answers and categories")
    acts["add"] = _act(win, e, "Add row", panel.add_row, "Ctrl+N", "Append an empty pair to the table")
    acts["duplicate"] = _act(win, e, "Duplicate rows", lambda: model.duplicate_rows(panel.selected_rows()), "Ctrl+D",
                             "Copy the selected rows below the last of them")
    acts["delete"] = _act(win, e, "Delete rows", lambda: model.delete_rows(panel.selected_rows()), QKeySequence.Delete,
                          "Delete the selected rows (undo brings them back)")

    _run_menu(win, bar.addMenu("&Run"), acts)
    _view_menu(win, bar.addMenu("&View"), acts)
    _help_menu(win, bar.addMenu("&Help"), acts)
    tools = QToolBar("Main toolbar", win)
    tools.setObjectName("main_toolbar")   # saveState() identifies it by name
    for key in ("open", "save", None, "start", "pause", "stop"):
        tools.addSeparator() if key is None else tools.addAction(acts[key])
    win.addToolBar(tools)
    win.toolbar = tools
    return acts


def _run_menu(win, menu, acts) -> None:
    runs, pause_btn = win.runs, win.training.pause_btn
    acts["start"] = _act(win, menu, "&Start training", lambda: runs.start(),
                         [QKeySequence("F5"), QKeySequence("Ctrl+Return")],
                         "Train on the table as it is now, with the form's hyperparameters (F5 or Ctrl+Return)")
    acts["pause"] = _act(win, menu, "&Pause", pause_btn.setChecked, QKeySequence("F6"),
                         "Hold training between batches; press again to resume (F6)", checkable=True)
    acts["stop"] = _act(win, menu, "S&top", lambda: runs.stop(), QKeySequence("Shift+F5"),
                        "End the run after the current batch; last.safetensors keeps where it stopped, to resume (Shift+F5)")
    pause_btn.toggled.connect(acts["pause"].setChecked)   # button and action show one state
    acts["resume"] = _act(win, menu, "&Resume…", lambda: runs.pick_and_resume(),
                          tip="Go on from a run's checkpoint (its folder's last.safetensors) on the table open now; "
                              "a run stopped mid-epoch continues with its next batch")
    menu.addSeparator()
    acts["evaluate"] = _act(win, menu, "&Evaluate on file…", lambda: win.report.pick_and_evaluate(),
                            tip="Score the shown run's best checkpoint on a dataset file, beside identity and ridge")
    acts["export"] = _act(win, menu, "E&xport…", lambda: pick_and_export(win),
                          tip="Save the shown run's map as ONNX (question_embedding → answer_embedding, the teacher "
                              "named in its metadata), as workbench-export does; needs the onnx extra")
    acts["follow"] = _act(win, menu, "&Open run folder…", lambda: win.library.pick_and_follow(),
                          tip="Follow a run folder written by any process (CLI, torchrun, a cluster) live; "
                              "a folder of runs (a sweep) opens as a set to compare")

    def running(on: bool) -> None:
        acts["start"].setEnabled(not on)
        acts["resume"].setEnabled(not on)
        acts["pause"].setEnabled(on)
        acts["stop"].setEnabled(on)
        if not on:
            acts["pause"].setChecked(False)
    runs.runningChanged.connect(running)
    running(False)


def _view_menu(win, menu, acts) -> None:
    for dock in win.window_layout.docks():
        a = dock.toggleViewAction()
        a.setStatusTip(f"Show or hide the {dock.windowTitle()} panel")
        menu.addAction(a)
    acts["reset_layout"] = _act(win, menu, "Reset layout", lambda: win.window_layout.apply_default(),
                                tip="Put the panels back where they start, sized to this screen")
    theme_menu = menu.addMenu("Theme")
    group = QActionGroup(win)
    for choice in ("system", "light", "dark"):
        a = _act(win, theme_menu, choice.capitalize() if choice != "system" else "Follow the system",
                 lambda on, c=choice: on and win.theme.set_choice(c), tip=f"Use the {choice} colour theme",
                 checkable=True)
        a.setChecked(win.theme.choice == choice)
        group.addAction(a)
        acts[f"theme_{choice}"] = a


def _help_menu(win, menu, acts) -> None:
    acts["welcome"] = _act(win, menu, "&Welcome", lambda: win.show_welcome(),
                           tip="The three steps: edit, train, inspect; and the sample data")
    acts["readme"] = _act(win, menu, "&README", lambda: help_pages.show_page(
        win, "README", help_pages.readme_markdown(), markdown=True), QKeySequence.HelpContents,
        "The full guide: data formats, presets, the lattice, the CLI")
    acts["shortcuts"] = _act(win, menu, "&Keyboard shortcuts", lambda: help_pages.show_page(
        win, "Keyboard shortcuts", help_pages.shortcuts_html(menu_actions(win))),
        tip="Every shortcut of the menus and the table")
    acts["about"] = _act(win, menu, "&About Lattice Workbench", lambda: help_pages.show_page(
        win, "About Lattice Workbench", help_pages.about_html()), tip="Version and what this app does")
