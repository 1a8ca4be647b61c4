"""The row editor: the current row's full question, answer, category and extra columns, beside the table.

Cells show long texts elided; here they are whole and editable. Changes are applied as one
undoable step when the user presses Ctrl+Return or Apply, or moves to another row.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout,
                               QWidget)

from workbench.gui.dataset.model import TEXT_FIELDS, get_field
from workbench.gui.common.theme import ERROR_TEXT, WARNING_TEXT


class RowEditor(QWidget):
    applied = Signal(int)

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.row: int | None = None
        self._loading = False
        self._typed = False      # the user typed here since the row was shown or applied
        self.title = QLabel("no row selected")
        self.issues = QLabel()
        self.issues.setWordWrap(True)
        self.issues.setTextFormat(Qt.RichText)
        self.question, self.answer = QPlainTextEdit(), QPlainTextEdit()
        self.question.setToolTip("The whole question of this row")
        self.answer.setToolTip("The whole answer of this row, however long")
        self.question.setMaximumHeight(52)
        self.answer.setMinimumHeight(120)
        self.category = QLineEdit()
        self.category.setToolTip("The row's category")
        self.extra: dict[str, QLineEdit] = {}
        self.apply_btn, self.revert_btn = QPushButton("Apply"), QPushButton("Revert")
        self.apply_btn.setToolTip("Write these texts into the table as one undoable step (Ctrl+Return)")
        self.revert_btn.setToolTip("Throw away changes made here since the row was shown")
        self.apply_btn.clicked.connect(self.apply)
        self.revert_btn.clicked.connect(self.load)
        for ed in (self.question, self.answer):
            ed.setTabChangesFocus(True)
            ed.textChanged.connect(self._touched)
        self.category.textEdited.connect(self._touched)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.apply, context=Qt.WidgetWithChildrenShortcut)
        self.form = QFormLayout()
        self.form.addRow("question", self.question)
        self.form.addRow("answer", self.answer)
        self.form.addRow("category", self.category)
        buttons = QHBoxLayout()
        buttons.addWidget(self.title, 1)
        buttons.addWidget(self.revert_btn)
        buttons.addWidget(self.apply_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(buttons)
        lay.addWidget(self.issues)
        lay.addLayout(self.form, 1)
        model.modelReset.connect(self._rebuild_extra)
        model.dataChanged.connect(self._model_changed)
        model.rowsRemoved.connect(lambda *_: self.row is not None and self.row >= model.rowCount() and self.set_row(None))
        self._rebuild_extra()
        self.set_row(None)

    def _rebuild_extra(self) -> None:
        for name, ed in self.extra.items():
            self.form.removeRow(ed)
        self.extra = {}
        for name in self.model.columns:
            if name in self.model.editable and name not in TEXT_FIELDS:
                ed = QLineEdit()
                ed.setToolTip(f"The row's '{name}' column")
                ed.textEdited.connect(self._touched)
                self.form.addRow(name, ed)
                self.extra[name] = ed
        self.set_row(None)

    def editors(self) -> dict:
        return {"question": self.question, "answer": self.answer, "category": self.category, **self.extra}

    def _text(self, name: str) -> str:
        ed = self.editors()[name]
        return ed.toPlainText() if isinstance(ed, QPlainTextEdit) else ed.text()

    def dirty(self) -> bool:
        if not self._typed or self.row is None or self.row >= self.model.rowCount():
            return False
        pair = self.model.dataset.pairs[self.row]
        return any(self._text(n) != get_field(pair, n) for n in self.editors())

    def _touched(self, *_):
        if not self._loading:
            self._typed = True
            self.apply_btn.setEnabled(self.dirty())
            self.revert_btn.setEnabled(self.apply_btn.isEnabled())

    def set_row(self, row: int | None) -> None:
        """Show another row; changes typed here for the previous one are applied first, never lost."""
        if row != self.row and self.dirty():
            self.apply()
        self.row = row
        self.load()

    def load(self) -> None:
        self._loading = True
        valid = self.row is not None and self.row < self.model.rowCount()
        pair = self.model.dataset.pairs[self.row] if valid else None
        for name, ed in self.editors().items():
            text = get_field(pair, name) if pair is not None else ""
            (ed.setPlainText if isinstance(ed, QPlainTextEdit) else ed.setText)(text)
            ed.setEnabled(valid)
        self.title.setText(f"row {self.row + 1}: {len(pair.question):,} + {len(pair.answer):,} characters"
                           if valid else "select a row to see and edit its full text")
        colour = {"error": ERROR_TEXT, "warning": WARNING_TEXT}
        self.issues.setText("<br>".join(
            (f"<span style='color:{colour[it.level]}'>" if it.level in colour else "<span>")
            + html.escape(f"{it.level}: {it.field}: {it.message}") + "</span>"
            for it in self.model.row_issues(self.row)) if valid else "")
        self._loading = False
        self._typed = False
        self.apply_btn.setEnabled(False)
        self.revert_btn.setEnabled(False)

    def apply(self) -> bool:
        """Write changed fields as one undo step."""
        if not self.dirty():
            return False
        row, pair = self.row, self.model.dataset.pairs[self.row]
        changes = {n: self._text(n) for n in self.editors() if self._text(n) != get_field(pair, n)}
        self.model.undo.beginMacro(f"Edit row {row + 1}")
        for name, value in changes.items():
            self.model.set_text(row, name, value)
        self.model.undo.endMacro()
        self.load()
        self.applied.emit(row)
        return True

    def _model_changed(self, top, bottom, roles=()) -> None:
        if self.row is not None and top.row() <= self.row <= bottom.row() and not self.dirty():
            self.load()   # an undo, or an edit in the table: show the row as it is now
