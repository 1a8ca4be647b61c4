"""A QAbstractTableModel over the core Dataset, with QUndoStack commands and the run's data rules.

Edits go through undo commands, so every change (cell edit, add, duplicate, delete) can be
undone. Problems come from RowChecks (table_checks.py): the trainer's own rules with the
config's data section, cached per row, so the table shows what a run would refuse (error,
red), drop (warning, amber) or only count (note). Built for 10k+ rows: long texts are elided
for display (the row editor shows them in full) and nothing is computed per cell beyond a slice.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QUndoCommand, QUndoStack

from workbench.data.dataset import Dataset, DialoguePair
from workbench.gui.dataset.checks import Issue, RowChecks

TEXT_FIELDS = ["question", "answer", "category"]
DERIVED = ["Q len", "A len", "Q→A cos", "split"]
COLUMNS = TEXT_FIELDS + DERIVED   # without extra columns; a loaded file's extra columns go after "category"
ELIDE = 160                       # characters shown in a cell; the row editor shows the whole text
INVALID = QColor(255, 205, 205)   # error: the run cannot use the row
WARNED = QColor(255, 231, 186)    # warning: the run drops the row (or strips characters from it)
CELL_TEXT = QColor(20, 20, 20)    # dark text on the light marks, readable in the dark theme too
HEADER_TIPS = {"question": "the question the teacher embeds as input", "answer": "the answer whose embedding is the target",
               "category": "free label, used by the category filter", "Q len": "question length in characters",
               "A len": "answer length in characters",
               "Q→A cos": "teacher cosine between question and answer (after a run)",
               "split": "train or val in the latest run (validation rows are never trained on)"}


def get_field(pair: DialoguePair, name: str) -> str:
    if name in TEXT_FIELDS:
        return getattr(pair, name)
    return pair.extra.get(name, "")


def set_field(pair: DialoguePair, name: str, value: str) -> None:
    if name in TEXT_FIELDS:
        setattr(pair, name, value)
    else:
        pair.extra = {**pair.extra, name: value}   # a new dict: the row checks see the change


def elide(text: str) -> str:
    short = text[:ELIDE]
    return short.replace("\n", " ⏎ ") + ("…" if len(text) > ELIDE else "")


class DatasetModel(QAbstractTableModel):
    dirtyChanged = Signal(bool)
    contentChanged = Signal()
    problemsChanged = Signal()

    def __init__(self, dataset: Dataset | None = None, parent=None):
        super().__init__(parent)
        self.dataset = dataset or Dataset()
        self.checks = RowChecks()
        self.undo = QUndoStack(self)
        self.undo.cleanChanged.connect(lambda clean: self.dirtyChanged.emit(not clean))
        self.cosines: dict[int, float] = {}      # id(pair) → raw Q→A cosine, when embeddings are known
        self.splits: dict[int, str] = {}         # id(pair) → "train" / "val"
        self.file_problems: list = []            # load problems of records the table could not take in
        self.columns: list[str] = list(COLUMNS)
        self.editable: set[str] = set(TEXT_FIELDS)
        self._set_columns()
        self.checks.update(self.dataset.pairs)

    def _set_columns(self) -> None:
        extra = [c for c in self.dataset.columns if c not in COLUMNS]
        self.columns = TEXT_FIELDS + extra + DERIVED
        self.editable = set(TEXT_FIELDS) | set(extra)

    # ---------------------------------------------------------------- Qt model API
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.dataset.pairs)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Vertical:
            return str(section + 1) if role == Qt.DisplayRole else None
        name = self.columns[section]
        if role == Qt.DisplayRole:
            return name
        if role == Qt.ToolTipRole:
            return HEADER_TIPS.get(name, f"extra column '{name}' from the file (kept when saving)")
        return None

    def flags(self, index):
        base = Qt.ItemIsEnabled | Qt.ItemIsSelectable
        return base | Qt.ItemIsEditable if self.columns[index.column()] in self.editable else base

    def column_of(self, name: str) -> int:
        return self.columns.index(name)

    def sort_key(self, row: int, col: int):
        name = self.columns[col]
        pair = self.dataset.pairs[row]
        if name == "Q len":
            return len(pair.question)
        if name == "A len":
            return len(pair.answer)
        if name == "Q→A cos":
            return self.cosines.get(id(pair))
        if name == "split":
            return self.splits.get(id(pair), "")
        return get_field(pair, name).casefold()

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        pair = self.dataset.pairs[index.row()]
        name = self.columns[index.column()]
        text_col = name in self.editable
        if role == Qt.DisplayRole:
            if text_col:
                return elide(get_field(pair, name))
            value = self.sort_key(index.row(), index.column())
            return round(value, 3) if isinstance(value, float) else value
        if role == Qt.EditRole:
            return get_field(pair, name) if text_col else self.data(index, Qt.DisplayRole)
        if role == Qt.UserRole:  # sort key: numbers sort as numbers
            return self.sort_key(index.row(), index.column())
        if role not in (Qt.BackgroundRole, Qt.ForegroundRole, Qt.ToolTipRole) or not text_col:
            return None
        issues = [it for it in self.checks.issues[index.row()] if it.field == name]
        level = next((lv for lv in ("error", "warning") if any(it.level == lv for it in issues)), None)
        if role == Qt.BackgroundRole:
            return QBrush(INVALID if level == "error" else WARNED) if level else None
        if role == Qt.ForegroundRole:
            return QBrush(CELL_TEXT) if level else None
        if issues:
            return "\n".join(f"{it.level}: {name}: {it.message}" for it in issues)
        text = get_field(pair, name)
        return text[:1000] + ("…" if len(text) > 1000 else "") if text else None

    def setData(self, index, value, role=Qt.EditRole):
        if role != Qt.EditRole or not index.isValid():
            return False
        return self.set_text(index.row(), self.columns[index.column()], value)

    def set_text(self, row: int, name: str, value) -> bool:
        """One undoable cell edit (the table's editor and the row editor both come here)."""
        if name not in self.editable:
            return False
        old = get_field(self.dataset.pairs[row], name)
        value = str(value)
        if value == old:
            return False
        self.undo.push(_EditCell(self, row, name, old, value))
        return True

    # ---------------------------------------------------------------- editing API (all undoable)
    def add_row(self, pair: DialoguePair | None = None, at: int | None = None) -> int:
        at = len(self.dataset.pairs) if at is None else at
        self.undo.push(_InsertRows(self, at, [pair or DialoguePair("", "", "")], "Add row"))
        return at

    def duplicate_rows(self, rows: list[int]) -> None:
        if rows:
            last = max(rows)
            copies = [copy.deepcopy(self.dataset.pairs[r]) for r in sorted(rows)]
            self.undo.push(_InsertRows(self, last + 1, copies, "Duplicate rows"))

    def delete_rows(self, rows: list[int]) -> None:
        if rows:
            self.undo.push(_RemoveRows(self, sorted(set(rows))))

    def set_dataset(self, ds: Dataset) -> None:
        self.beginResetModel()
        self.dataset = ds
        self.cosines, self.splits = {}, {}
        in_table = set(ds.rows)
        self.file_problems = [p for p in ds.load_problems if p.row is None or p.row not in in_table]
        self._set_columns()
        self.checks.update(ds.pairs)
        self.endResetModel()
        self.undo.clear()
        self.undo.setClean()
        self.contentChanged.emit()
        self.problemsChanged.emit()

    def set_rules(self, rules) -> None:
        """New data rules (the config's data section changed): every row is checked again."""
        self.checks.set_rules(rules)
        self._revalidate()

    def set_annotations(self, cosines: dict[int, float], splits: dict[int, str]) -> None:
        """Per-row cosine and split from a run; keys are row positions at the time the run started."""
        self.cosines = {id(self.dataset.pairs[i]): c for i, c in cosines.items() if i < len(self.dataset.pairs)}
        self.splits = {id(self.dataset.pairs[i]): s for i, s in splits.items() if i < len(self.dataset.pairs)}
        if self.rowCount():
            first = self.column_of("Q len")
            self.dataChanged.emit(self.index(0, first), self.index(self.rowCount() - 1, len(self.columns) - 1))

    # ---------------------------------------------------------------- validation
    def problems(self) -> list[tuple[int, str, str]]:
        """(row, field, message) of every error and warning: what the run refuses or drops."""
        return [(r, it.field, it.message) for r, it in self.checks.flat() if it.level != "note"]

    def row_problems(self, row: int) -> dict[str, str]:
        """field → message of the row's errors and warnings (notes are not problems of the row)."""
        out: dict[str, str] = {}
        for it in self.checks.issues[row]:
            if it.level != "note":
                out.setdefault(it.field, it.message)
        return out

    def row_issues(self, row: int) -> tuple[Issue, ...]:
        return self.checks.issues[row]

    def _revalidate(self, rows: list[int] | None = None) -> None:
        changed = self.checks.update(self.dataset.pairs, rows)
        if changed and self.rowCount():
            last = len(self.columns) - len(DERIVED) - 1
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), last),
                                  [Qt.BackgroundRole, Qt.ForegroundRole, Qt.ToolTipRole])
        self.problemsChanged.emit()

    def _after_change(self, rows: list[int] | None = None) -> None:
        """rows: the rows whose text changed, when rows were neither added nor removed."""
        self._revalidate(rows)
        self.contentChanged.emit()


class _EditCell(QUndoCommand):
    def __init__(self, model: DatasetModel, row: int, name: str, old: str, new: str):
        super().__init__(f"Edit {name} in row {row + 1}")
        self.m, self.row, self.name, self.old, self.new = model, row, name, old, new

    def _set(self, value: str) -> None:
        pair = self.m.dataset.pairs[self.row]
        set_field(pair, self.name, value)
        self.m.cosines.pop(id(pair), None)       # the old cosine no longer describes this text
        self.m.dataChanged.emit(self.m.index(self.row, 0), self.m.index(self.row, len(self.m.columns) - 1))
        self.m._after_change([self.row])

    def redo(self):
        self._set(self.new)

    def undo(self):
        self._set(self.old)


class _InsertRows(QUndoCommand):
    def __init__(self, model: DatasetModel, at: int, pairs: list[DialoguePair], text: str):
        super().__init__(text)
        self.m, self.at, self.pairs = model, at, pairs

    def redo(self):
        self.m.beginInsertRows(QModelIndex(), self.at, self.at + len(self.pairs) - 1)
        self.m.dataset.pairs[self.at:self.at] = self.pairs
        self.m.endInsertRows()
        self.m._after_change()

    def undo(self):
        self.m.beginRemoveRows(QModelIndex(), self.at, self.at + len(self.pairs) - 1)
        del self.m.dataset.pairs[self.at:self.at + len(self.pairs)]
        self.m.endRemoveRows()
        self.m._after_change()


class _RemoveRows(QUndoCommand):
    def __init__(self, model: DatasetModel, rows: list[int]):
        super().__init__(f"Delete {len(rows)} row(s)")
        self.m, self.rows = model, rows
        self.saved = [(r, model.dataset.pairs[r]) for r in rows]

    def redo(self):
        for r in reversed(self.rows):
            self.m.beginRemoveRows(QModelIndex(), r, r)
            del self.m.dataset.pairs[r]
            self.m.endRemoveRows()
        self.m._after_change()

    def undo(self):
        for r, pair in self.saved:
            self.m.beginInsertRows(QModelIndex(), r, r)
            self.m.dataset.pairs.insert(r, pair)
            self.m.endInsertRows()
        self.m._after_change()
