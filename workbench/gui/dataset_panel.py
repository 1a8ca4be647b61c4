"""The dataset editor: a QTableView over DatasetModel, with search, category filter and row actions."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QStyledItemDelegate, QTableView, QVBoxLayout, QWidget)

from .dataset_model import DatasetFilter, DatasetModel


class MultiLineDelegate(QStyledItemDelegate):
    """Edits long questions and answers in a multi-line box (Ctrl+Enter or leaving the cell commits)."""

    def createEditor(self, parent, option, index):
        ed = QPlainTextEdit(parent)
        ed.setTabChangesFocus(True)
        ed.setMinimumHeight(90)
        return ed

    def setEditorData(self, editor, index):
        editor.setPlainText(index.model().data(index, Qt.EditRole) or "")

    def setModelData(self, editor, model, index):
        model.setData(index, editor.toPlainText(), Qt.EditRole)

    def updateEditorGeometry(self, editor, option, index):
        rect = option.rect
        rect.setHeight(max(rect.height(), 110))
        editor.setGeometry(rect)


class DatasetPanel(QWidget):
    rowActivated = Signal(int)          # source row clicked (for the 3D view)

    def __init__(self, model: DatasetModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.proxy = DatasetFilter(self)
        self.proxy.setSourceModel(model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setWordWrap(False)
        self.view.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed |
                                  QAbstractItemView.AnyKeyPressed)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setItemDelegateForColumn(0, MultiLineDelegate(self.view))
        self.view.setItemDelegateForColumn(1, MultiLineDelegate(self.view))
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        for col, width in enumerate((260, 360, 120, 55, 55, 70, 55)):
            self.view.setColumnWidth(col, width)
        self.view.clicked.connect(lambda idx: self.rowActivated.emit(self.proxy.mapToSource(idx).row()))

        self.search = QLineEdit()
        self.search.setPlaceholderText("search questions, answers, categories")
        self.search.textChanged.connect(self.proxy.set_text)
        self.category = QComboBox()
        self.category.currentTextChanged.connect(lambda t: self.proxy.set_category("" if t == "all categories" else t))
        self.add_btn, self.dup_btn, self.del_btn = QPushButton("Add"), QPushButton("Duplicate"), QPushButton("Delete")
        self.add_btn.clicked.connect(self.add_row)
        self.dup_btn.clicked.connect(lambda: self.model.duplicate_rows(self.selected_rows()))
        self.del_btn.clicked.connect(lambda: self.model.delete_rows(self.selected_rows()))
        self.summary = QLabel()
        for w, tip in ((self.search, "Show only rows whose question, answer or category contains this text (Ctrl+F)"),
                       (self.category, "Show only one category"),
                       (self.add_btn, "Append an empty pair (Ctrl+N)"),
                       (self.dup_btn, "Copy the selected rows (Ctrl+D)"),
                       (self.del_btn, "Delete the selected rows (Del); Ctrl+Z brings them back"),
                       (self.view, "Double-click or type to edit a cell; Enter commits, Shift+Enter adds a line, "
                                   "Esc cancels. Red cells break a data rule: hover them for why")):
            w.setToolTip(tip)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 2)
        bar.addWidget(self.category, 1)
        for b in (self.add_btn, self.dup_btn, self.del_btn):
            bar.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.summary)
        model.contentChanged.connect(self.refresh_categories)
        model.modelReset.connect(self.refresh_categories)
        self.refresh_categories()

    def selected_rows(self) -> list[int]:
        return sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()})

    def add_row(self) -> None:
        row = self.model.add_row()
        self.search.clear()
        self.proxy.set_category("")
        self.category.setCurrentIndex(0)
        idx = self.proxy.mapFromSource(self.model.index(row, 0))
        self.view.scrollTo(idx)
        self.view.setCurrentIndex(idx)

    def refresh_categories(self) -> None:
        cats = sorted({p.category for p in self.model.dataset.pairs if p.category})
        current = self.category.currentText()
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItems(["all categories", *cats])
        self.category.setCurrentText(current if current in cats else "all categories")
        self.category.blockSignals(False)
        n_bad = len({r for r, _, _ in self.model.problems()})
        self.summary.setText(f"{self.model.rowCount()} pairs · {len(cats)} categories" +
                             (f" · <span style='color:#b00020'>{n_bad} invalid row(s): hover the red cells</span>"
                              if n_bad else " · all rows valid"))

    def index_of(self, row: int, col: int = 0) -> QModelIndex:
        return self.proxy.mapFromSource(self.model.index(row, col))
