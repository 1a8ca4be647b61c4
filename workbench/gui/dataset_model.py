"""A QAbstractTableModel over the core Dataset, with QUndoStack commands and inline validation.

Edits go through undo commands, so every change (cell edit, add, duplicate, delete) can be
undone. Validation reuses the core's rules (`validate_pair` per row plus `repeat_problems` across
rows), so the table flags what the trainer would drop or refuse (errors and warnings).
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QUndoCommand, QUndoStack

from ..data.dataset import Dataset, DialoguePair, ValidationRules, repeat_problems, validate_pair

COLUMNS = ["question", "answer", "category", "Q len", "A len", "Q→A cos", "split"]
EDITABLE = 3          # the first three columns hold text; the rest are derived
INVALID = QColor(255, 205, 205)


class DatasetModel(QAbstractTableModel):
    dirtyChanged = Signal(bool)
    contentChanged = Signal()

    def __init__(self, dataset: Dataset | None = None, parent=None):
        super().__init__(parent)
        self.dataset = dataset or Dataset()
        self.rules = ValidationRules()
        self.undo = QUndoStack(self)
        self.undo.cleanChanged.connect(lambda clean: self.dirtyChanged.emit(not clean))
        self.cosines: dict[int, float] = {}      # id(pair) → raw Q→A cosine, when embeddings are known
        self.splits: dict[int, str] = {}         # id(pair) → "train" / "val"
        self._problems: list[dict[str, str]] = []
        self._revalidate()

    # ---------------------------------------------------------------- Qt model API
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.dataset.pairs)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role != Qt.DisplayRole:
            return None
        return COLUMNS[section] if orientation == Qt.Horizontal else str(section + 1)

    def flags(self, index):
        base = Qt.ItemIsEnabled | Qt.ItemIsSelectable
        return base | Qt.ItemIsEditable if index.column() < EDITABLE else base

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        pair = self.dataset.pairs[index.row()]
        col = index.column()
        name = COLUMNS[col]
        if role in (Qt.DisplayRole, Qt.EditRole):
            if col < EDITABLE:
                text = getattr(pair, name)
                return text if role == Qt.EditRole else text.replace("\n", " ⏎ ")
            if col == 3:
                return len(pair.question)
            if col == 4:
                return len(pair.answer)
            if col == 5:
                c = self.cosines.get(id(pair))
                return None if c is None else round(c, 3)
            return self.splits.get(id(pair), "")
        if role == Qt.UserRole:  # sort key: numbers sort as numbers
            return self.data(index, Qt.DisplayRole)
        problem = self._problems[index.row()].get(name) if col < EDITABLE else None
        if role == Qt.BackgroundRole and problem:
            return QBrush(INVALID)
        if role == Qt.ToolTipRole:
            if problem:
                return f"{name}: {problem}"
            return getattr(pair, name) if col < EDITABLE else None
        return None

    def setData(self, index, value, role=Qt.EditRole):
        if role != Qt.EditRole or not index.isValid() or index.column() >= EDITABLE:
            return False
        name = COLUMNS[index.column()]
        old = getattr(self.dataset.pairs[index.row()], name)
        value = str(value)
        if value == old:
            return False
        self.undo.push(_EditCell(self, index.row(), name, old, value))
        return True

    # ---------------------------------------------------------------- editing API (all undoable)
    def add_row(self, pair: DialoguePair | None = None, at: int | None = None) -> int:
        at = len(self.dataset.pairs) if at is None else at
        self.undo.push(_InsertRows(self, at, [pair or DialoguePair("", "", "")], "Add row"))
        return at

    def duplicate_rows(self, rows: list[int]) -> None:
        if rows:
            last = max(rows)
            copies = [copy.copy(self.dataset.pairs[r]) for r in sorted(rows)]
            self.undo.push(_InsertRows(self, last + 1, copies, "Duplicate rows"))

    def delete_rows(self, rows: list[int]) -> None:
        if rows:
            self.undo.push(_RemoveRows(self, sorted(set(rows))))

    def set_dataset(self, ds: Dataset) -> None:
        self.beginResetModel()
        self.dataset = ds
        self.cosines, self.splits = {}, {}
        self._revalidate(emit=False)
        self.endResetModel()
        self.undo.clear()
        self.undo.setClean()
        self.contentChanged.emit()

    def set_annotations(self, cosines: dict[int, float], splits: dict[int, str]) -> None:
        """Per-row cosine and split from a run; keys are row positions at the time the run started."""
        self.cosines = {id(self.dataset.pairs[i]): c for i, c in cosines.items() if i < len(self.dataset.pairs)}
        self.splits = {id(self.dataset.pairs[i]): s for i, s in splits.items() if i < len(self.dataset.pairs)}
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 3), self.index(self.rowCount() - 1, len(COLUMNS) - 1))

    # ---------------------------------------------------------------- validation
    def problems(self) -> list[tuple[int, str, str]]:
        return [(r, f, why) for r, d in enumerate(self._problems) for f, why in d.items()]

    def row_problems(self, row: int) -> dict[str, str]:
        return self._problems[row]

    def _revalidate(self, emit: bool = True) -> None:
        pairs = self.dataset.pairs
        probs: list[dict[str, str]] = [{} for _ in pairs]
        for i, pair in enumerate(pairs):
            for p in validate_pair(pair, self.rules):
                if p.level != "note":
                    probs[i].setdefault(p.field, p.message)
        rows = Dataset(pairs)            # positions as rows, so messages point at table rows
        for p in repeat_problems(rows):
            if p.level != "note":
                probs[p.row - 1].setdefault(p.field, p.message)
        changed = emit and len(probs) == len(self._problems) and probs != self._problems
        self._problems = probs
        if changed and self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, EDITABLE - 1))

    def _after_change(self) -> None:
        self._revalidate()
        self.contentChanged.emit()


class _EditCell(QUndoCommand):
    def __init__(self, model: DatasetModel, row: int, name: str, old: str, new: str):
        super().__init__(f"Edit {name} in row {row + 1}")
        self.m, self.row, self.name, self.old, self.new = model, row, name, old, new

    def _set(self, value: str) -> None:
        pair = self.m.dataset.pairs[self.row]
        setattr(pair, self.name, value)
        self.m.cosines.pop(id(pair), None)       # the old cosine no longer describes this text
        self.m.dataChanged.emit(self.m.index(self.row, 0), self.m.index(self.row, len(COLUMNS) - 1))
        self.m._after_change()

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


class DatasetFilter(QSortFilterProxyModel):
    """Search box (question/answer/category contain the text) and a category filter; sorts numbers as numbers."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.text, self.category = "", ""
        self.setSortRole(Qt.UserRole)

    def _refilter(self, change) -> None:
        if hasattr(self, "beginFilterChange"):   # Qt ≥ 6.9: invalidate*Filter() are deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateRowsFilter()

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "text", text.casefold()))

    def set_category(self, category: str) -> None:
        self._refilter(lambda: setattr(self, "category", category))

    def filterAcceptsRow(self, row, parent):
        pair = self.sourceModel().dataset.pairs[row]
        if self.category and pair.category != self.category:
            return False
        if self.text:
            return any(self.text in getattr(pair, f).casefold() for f in ("question", "answer", "category"))
        return True

    def lessThan(self, left, right):
        # Ask the Python model directly: QModelIndex.data() returning None from Python over-releases
        # None in PySide6 6.12 (a refcount bug that later aborts the interpreter).
        src = self.sourceModel()
        a, b = src.data(left, Qt.UserRole), src.data(right, Qt.UserRole)
        if a is None or b is None:
            return (a is None) and (b is not None)
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)
