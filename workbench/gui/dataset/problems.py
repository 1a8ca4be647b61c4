"""Data problems as the run sees them: counts per level and kind, and a filterable list that jumps to the row."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTableView,
                               QVBoxLayout, QWidget)

from workbench.gui.dataset.model import CELL_TEXT, INVALID, WARNED
from workbench.gui.dataset.checks import LEVELS
from workbench.gui.common.theme import ERROR_TEXT, WARNING_TEXT

from workbench.data.problem_report import KIND_LABELS, effect

HEADERS = ["row", "level", "field", "problem"]
MIN_ROWS = 8


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " "))


def summary_text(counts: dict[str, Counter], n_rows: int, n_dropped: int) -> str:
    """One line per level with its kinds, as the CLI counts them; rich text for a QLabel."""
    if not any(counts.values()):
        return f"{n_rows:,} rows · no problems: every row is used as it is"
    lines = [f"<b>{n_rows:,} rows · {n_rows - n_dropped:,} would train</b> · "
             + ", ".join(f"{sum(counts[lv].values()):,} {lv}{'s' if sum(counts[lv].values()) != 1 else ''}"
                         for lv in LEVELS)]
    colour = {"error": ERROR_TEXT, "warning": WARNING_TEXT}
    for lv in LEVELS:
        if counts[lv]:
            kinds = ", ".join(f"{kind_label(k)} {n:,}" for k, n in counts[lv].most_common())
            line = f"{lv} ({effect(lv, '')}): {kinds}"
            lines.append(f"<span style='color:{colour[lv]}'>{line}</span>" if lv in colour else line)
    return "<br>".join(lines)


class ProblemListModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[tuple] = []     # (row, level, field, message)

    def set_items(self, items) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        item = self.items[index.row()]
        if role == Qt.DisplayRole:
            if index.column() == 0:
                return "file" if item[0] < 0 else item[0] + 1
            return item[index.column()]
        if role == Qt.UserRole:
            return item[0]
        if role == Qt.BackgroundRole and index.column() == 1 and item[1] in ("error", "warning"):
            return QBrush(INVALID if item[1] == "error" else WARNED)
        if role == Qt.ForegroundRole and index.column() == 1 and item[1] in ("error", "warning"):
            return QBrush(CELL_TEXT)
        if role == Qt.ToolTipRole and index.column() == 3:
            return item[3]
        return None


class ProblemPanel(QWidget):
    rowChosen = Signal(int)      # source row of the table

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.level = QComboBox()
        self.level.addItems(["all levels", *LEVELS])
        self.level.setToolTip("Show one level: error (the run cannot use the row), warning (the run drops it), "
                              "note (kept and counted)")
        self.search = QLineEdit()
        self.search.setPlaceholderText("filter problems")
        self.search.setToolTip("Show only problems whose row, field or message contains this text")
        self.items = ProblemListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.items)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setToolTip("Click a problem to select its row in the table")
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(20)
        # room for MIN_ROWS problems whatever the window's size (issue 19: ~3 rows at 1366×768); the dock scrolls
        self.view.setMinimumHeight(MIN_ROWS * 20 + self.view.horizontalHeader().sizeHint().height() + 4)
        self.view.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((52, 62, 70)):
            self.view.setColumnWidth(col, width)
        self.view.clicked.connect(self._chosen)
        self.view.activated.connect(self._chosen)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.level.currentIndexChanged.connect(self.refresh)
        bar = QHBoxLayout()
        bar.addWidget(self.level)
        bar.addWidget(self.search, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.summary)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        self._soon = QTimer(self)   # a burst of edits rebuilds the list once
        self._soon.setSingleShot(True)
        self._soon.setInterval(150)
        self._soon.timeout.connect(self.refresh)
        model.problemsChanged.connect(self._soon.start)
        self.refresh()

    def dropped_rows(self) -> list[int]:
        checks = self.model.checks
        return checks.rows_at("error") + checks.rows_dropped_by_run()

    def refresh(self) -> None:
        checks = self.model.checks
        level = self.level.currentText()
        items = [(-1, p.level, p.field or "", f"not in the table: {p}") for p in self.model.file_problems
                 if level == "all levels" or p.level == level]
        items += [(r, it.level, it.field, it.message) for r, it in checks.flat()
                  if level == "all levels" or it.level == level]
        self.items.set_items(items)
        self.summary.setText(summary_text(checks.counts(), self.model.rowCount(), len(self.dropped_rows())))

    def _chosen(self, index) -> None:
        row = self.items.items[self.proxy.mapToSource(index).row()][0]
        if row >= 0:
            self.rowChosen.emit(row)
