"""File ▸ Import: which column of a file is the question, the answer, the category and the group.

Shown for Import, and by File ▸ Open for a file without `question`/`answer` columns. The choices
start from `guess_columns` (the role's name, q/prompt/response/topic/doc, …); every other column is
kept as an extra column. OK loads the file with `load_dataset(path, columns=mapping)` here, so a
mapping the file does not fit (a column that is not there, one used twice, a name clash) is shown
beside its field and the dialog stays open; Cancel changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QGridLayout, QLabel,
                               QVBoxLayout)

from workbench.data.columns import ColumnPeek, guess_columns
from workbench.data.dataset import FIELDS, DataError
from workbench.data.formats import REQUIRED, ROLES
from workbench.gui.dataset.loading import load_with_progress

ROLE_TEXT = {   # role → (label, tooltip)
    "question": ("Question", "The column that holds the questions (required)"),
    "answer": ("Answer", "The column that holds the answers the lattice learns to predict (required)"),
    "category": ("Category", "Optional: a label per pair (a topic, a type), shown in the table's category column"),
    "group": ("Group", "Optional: rows with the same value here (e.g. the same source document) stay together on one "
                       "side of the train/validation split, so validation never holds a near-copy of a training pair"),
}
EXAMPLE_CHARS = 70   # an example value is elided to this many characters; its tooltip holds more


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class ColumnMappingDialog(QDialog):
    def __init__(self, path: str, peek: ColumnPeek, parent=None, mapping: dict[str, str] | None = None):
        super().__init__(parent)
        self.path, self.peek, self.names = str(path), peek, list(peek.names)
        self.dataset = None                    # the loaded Dataset once accepted
        self.columns: dict[str, str] = {}      # ...and the mapping it was read with (role → file column)
        self.save_names: dict[str, str] = {}   # our column name → the file's, when saving keeps the file's names
        self.setWindowTitle(f"Import {Path(path).name}")
        self.setMinimumWidth(640)
        start = mapping if mapping is not None else guess_columns(self.names)

        intro = QLabel(f"<b>{Path(path).name}</b> has the columns {', '.join(self.names) or '(none)'}. "
                       "Choose which column holds each field; every other column is kept as an extra column.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.RichText)
        grid = self._role_grid(start)
        self._make_footer()
        lay = QVBoxLayout(self)
        for w in (intro, grid, self.extras_label, self.keep_names, self.save_label, self.general_error, self.hint,
                  self.buttons):
            lay.addLayout(w) if isinstance(w, QGridLayout) else lay.addWidget(w)
        self._update()

    def _role_grid(self, start: dict[str, str]) -> QGridLayout:
        """One row per role: its name, a combo of the file's columns (typed names too), an example, its error."""
        grid = QGridLayout()
        self.combos: dict[str, QComboBox] = {}
        self.examples: dict[str, QLabel] = {}
        self.errors: dict[str, QLabel] = {}
        for i, role in enumerate(ROLES):
            label, tip = ROLE_TEXT[role]
            name = QLabel(label + ("" if role in REQUIRED else " (optional)"))
            combo = self._role_combo(role, start.get(role, ""), tip)
            name.setBuddy(combo)
            name.setToolTip(tip)
            example, error = QLabel(), QLabel()
            example.setObjectName(f"example_{role}")
            error.setObjectName(f"error_{role}")
            error.setStyleSheet("color: #c62828;")
            error.setWordWrap(True)
            grid.addWidget(name, 2 * i, 0)
            grid.addWidget(combo, 2 * i, 1)
            grid.addWidget(example, 2 * i, 2)
            grid.addWidget(error, 2 * i + 1, 1, 1, 2)
            error.hide()
            self.combos[role], self.examples[role], self.errors[role] = combo, example, error
            combo.currentTextChanged.connect(self._update)
        grid.setColumnStretch(2, 1)
        return grid

    def _role_combo(self, role: str, chosen: str, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"column_{role}")
        combo.setEditable(True)                       # a typed name is checked like a chosen one
        combo.setInsertPolicy(QComboBox.NoInsert)
        combo.setMinimumContentsLength(min(24, max(12, *(len(n) for n in self.names or [""]))))
        combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.addItems(([] if role in REQUIRED else [""]) + self.names)
        combo.setCurrentText(chosen)
        combo.lineEdit().setPlaceholderText("choose a column" if role in REQUIRED else "(none)")
        combo.setToolTip(tip)
        combo.setStatusTip(tip)
        return combo

    def _make_footer(self) -> None:
        """Extra columns, the save-header choice, errors, the hovered control's hint and Import / Cancel."""
        self.extras_label = QLabel()
        self.extras_label.setWordWrap(True)
        self.keep_names = QCheckBox("Save with the file's own column names")
        self.keep_names.setChecked(True)
        self.keep_names.setToolTip("On: Save writes the file's header as it was (e.g. Q, A, topic), so other tools "
                                   "keep reading it.\nOff: Save writes question, answer, category, group, which "
                                   "workbench-train reads without --columns")
        self.keep_names.toggled.connect(self._update)
        self.save_label = QLabel()
        self.save_label.setObjectName("save_header")
        self.save_label.setWordWrap(True)
        self.general_error = QLabel()
        self.general_error.setStyleSheet("color: #c62828;")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_btn = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_btn.setText("Import")
        self.ok_btn.setToolTip("Load the file with this mapping (it replaces the table)")
        self.buttons.button(QDialogButtonBox.Cancel).setToolTip("Close without loading; the table stays as it is")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.hint = QLabel()        # the hovered control's status tip: a dialog has no status bar
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.hint.setEnabled(False)
        for w in (self.keep_names, self.ok_btn, self.buttons.button(QDialogButtonBox.Cancel)):
            w.setStatusTip(w.toolTip().splitlines()[0])

    # ------------------------------------------------------------------ the mapping
    def _column(self, text: str) -> str | None:
        """The file's column a typed or chosen name means (exact, else ignoring case, as load_dataset matches)."""
        if text in self.names:
            return text
        return next((n for n in self.names if n.casefold() == text.casefold()), None)

    def mapping(self) -> dict[str, str]:
        """role → file column, for the roles given (what load_dataset's columns= takes)."""
        out = {}
        for role, combo in self.combos.items():
            text = combo.currentText().strip()
            if text:
                out[role] = self._column(text) or text
        return out

    def problems(self) -> dict[str, str]:
        """role → what is wrong with its choice (nothing for a usable mapping)."""
        out, used = {}, {}
        for role in ROLES:
            text = self.combos[role].currentText().strip()
            if not text:
                if role in REQUIRED:
                    out[role] = f"Choose the column that holds the {role}s."
                continue
            col = self._column(text)
            if col is None:
                out[role] = f"No column '{text}' in this file (its columns: {', '.join(self.names)})."
            elif col in used:
                out[role] = f"'{col}' is already the {used[col]} column; each column can serve one field."
            else:
                used[col] = role
        return out

    def written_header(self) -> list[str]:
        """The header Save writes: question, answer, category, then the other columns (the group one as "group")."""
        m = self.mapping()
        fixed = {m.get(r) for r in FIELDS} - {None}
        ours = list(FIELDS) + [("group" if n == m.get("group") else n) for n in self.names
                               if n not in fixed and n.lower() not in FIELDS]
        if self.keep_names.isChecked():
            return [m.get(n, n) for n in ours]
        return ours

    def _update(self, *_) -> None:
        problems = self.problems()
        for role in ROLES:
            self._show_error(role, problems.get(role, ""))
            col = self._column(self.combos[role].currentText().strip())
            text = self.peek.example(col) if col else ""
            self.examples[role].setText(f"e.g. “{_short(text, EXAMPLE_CHARS)}”" if text else "")
            self.examples[role].setToolTip(f"The first value of '{col}': {_short(text, 600)}" if text else "")
        m = self.mapping()
        extras = [n for n in self.names if n not in m.values() and n.lower() not in FIELDS]
        by_name = [n for n in self.names if n not in m.values() and n.lower() in FIELDS]
        self.extras_label.setText(
            (f"Kept as extra columns (shown in the table, saved back): {', '.join(extras)}." if extras
             else "No other columns.")
            + "".join(f" '{n}' is read as the {n.lower()} by its name." for n in by_name))
        self.save_label.setText(f"Save and Save as write the header: {', '.join(self.written_header())}.")
        self.general_error.hide()
        self.ok_btn.setEnabled(not problems)

    def _show_error(self, role: str, text: str) -> None:
        self.errors[role].setText(text)
        self.errors[role].setVisible(bool(text))

    # ------------------------------------------------------------------ load
    def accept(self) -> None:
        problems = self.problems()
        if problems:
            for role, text in problems.items():
                self._show_error(role, text)
            return
        mapping = self.mapping()
        try:
            ds = load_with_progress(self, self.path, mapping)    # off the GUI thread, with progress and Cancel
        except DataError as exc:
            other = []
            for p in exc.problems:
                if p.row is None and p.field in self.errors:
                    self._show_error(p.field, p.message)
                else:
                    other.append(str(p))
            if other:
                self.general_error.setText("Cannot load the file: " + "; ".join(other[:3])
                                           + (f" (and {len(other) - 3} more)" if len(other) > 3 else ""))
                self.general_error.show()
            return
        if ds is None:
            return            # cancelled: the dialog stays open
        self.dataset, self.columns = ds, mapping
        self.save_names = dict(mapping) if self.keep_names.isChecked() else {}
        super().accept()

    def event(self, ev) -> bool:
        if ev.type() == QEvent.StatusTip:
            self.hint.setText(ev.tip())
            return True
        return super().event(ev)
