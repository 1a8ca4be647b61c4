"""The dataset editor: the table (search, category filter, row actions), the row editor and the problem list.

Built for 10k+ rows: fixed row heights, no per-row widgets, a debounced search over a
precomputed index (table_search.py), elided cells with the full text in the row editor.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFrame, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QScrollArea, QSplitter, QStyledItemDelegate, QTableView,
                               QTabWidget, QVBoxLayout, QWidget)

from workbench.gui.dataset.model import DatasetModel
from workbench.gui.dataset.problems import ProblemPanel
from workbench.gui.dataset.row_editor import RowEditor
from workbench.gui.dataset.search import DatasetFilter
from workbench.gui.common.theme import ERROR_TEXT

SEARCH_DELAY_MS = 200   # typing "gradient" runs one search, not eight


class MultiLineDelegate(QStyledItemDelegate):
    """Edits a text cell in a multi-line box: Enter commits, Shift+Enter starts a new line, Esc cancels."""

    def createEditor(self, parent, option, index):
        ed = QPlainTextEdit(parent)
        ed.setTabChangesFocus(True)
        ed.setMinimumHeight(90)
        ed.installEventFilter(self)
        return ed

    def eventFilter(self, editor, event):
        if isinstance(editor, QPlainTextEdit) and event.type() in (QEvent.KeyPress, QEvent.ShortcutOverride) \
                and event.key() in (Qt.Key_Return, Qt.Key_Enter):
            if event.modifiers() & Qt.ShiftModifier:
                return False          # a newline in the text
            if event.type() == QEvent.ShortcutOverride:
                event.accept()        # Enter belongs to the editor here, not to Ctrl+Return "start training"
                return True
            self.commitData.emit(editor)
            self.closeEditor.emit(editor, QStyledItemDelegate.NoHint)
            return True
        return super().eventFilter(editor, event)

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
        self.view = self._table()
        self._delegate = MultiLineDelegate(self.view)
        self._make_controls()
        self._tips()
        self._lay_out()
        model.contentChanged.connect(self.refresh_categories)
        model.modelReset.connect(self._reset)
        self._summary_soon = QTimer(self)     # counts over 13k rows: once after a burst of edits, not per edit
        self._summary_soon.setSingleShot(True)
        self._summary_soon.setInterval(120)
        self._summary_soon.timeout.connect(self._update_summary)
        model.problemsChanged.connect(self._summary_soon.start)
        self._reset()

    def _make_controls(self) -> None:
        """Search, category filter, row buttons, the summary, the row editor and the problem list."""
        self.search = QLineEdit()
        self.search.setPlaceholderText("search questions, answers, categories")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.proxy.set_text(self.search.text()))
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.category = QComboBox()
        self.category.currentTextChanged.connect(lambda t: self.proxy.set_category("" if t == "all categories" else t))
        self.add_btn, self.dup_btn, self.del_btn = QPushButton("Add"), QPushButton("Duplicate"), QPushButton("Delete")
        self.add_btn.clicked.connect(self.add_row)
        self.dup_btn.clicked.connect(lambda: self.model.duplicate_rows(self.selected_rows()))
        self.del_btn.clicked.connect(lambda: self.model.delete_rows(self.selected_rows()))
        self.summary = QLabel()
        self.row_editor = RowEditor(self.model)
        self.problem_panel = ProblemPanel(self.model)
        self.problem_panel.rowChosen.connect(self.go_to_row)
        self.lower = QTabWidget()
        editor_area = QScrollArea()              # its fields keep a usable height; the table keeps the space
        editor_area.setWidgetResizable(True)
        editor_area.setFrameShape(QFrame.NoFrame)
        editor_area.setWidget(self.row_editor)
        self.lower.addTab(editor_area, "Row")
        self.lower.addTab(self.problem_panel, "Problems")
        self.lower.setTabToolTip(0, "The selected row's full text, editable")
        self.lower.setTabToolTip(1, "Every data problem the run would see; click one to go to its row")

    def _tips(self) -> None:
        for w, tip in ((self.search, "Show only rows whose question, answer, category or extra columns contain "
                                     "this text (Ctrl+F)"),
                       (self.category, "Show only one category"),
                       (self.add_btn, "Append an empty pair (Ctrl+N)"),
                       (self.dup_btn, "Copy the selected rows (Ctrl+D)"),
                       (self.del_btn, "Delete the selected rows (Del); Ctrl+Z brings them back"),
                       (self.view, "Double-click or type to edit a cell; Enter commits, Shift+Enter adds a line, "
                                   "Esc cancels. Red cells: the run cannot use the row; amber: the run drops it")):
            w.setToolTip(tip)

    def _lay_out(self) -> None:
        """Search on a line of its own, the filter and row buttons under it, the table, then Row | Problems below
        a splitter."""
        bar = QHBoxLayout()
        bar.addWidget(self.category, 1)
        for b in (self.add_btn, self.dup_btn, self.del_btn):
            bar.addWidget(b)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.search)          # a line of its own: room to type even in a narrow panel
        tl.addLayout(bar)
        tl.addWidget(self.view, 1)
        tl.addWidget(self.summary)
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.setObjectName("dataset_splitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([520, 240])      # the table first; the row editor and problems below it
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)

    def _table(self) -> QTableView:
        view = QTableView()
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(-1, Qt.AscendingOrder)
        view.setSelectionBehavior(QAbstractItemView.SelectRows)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.ElideRight)
        view.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed |
                             QAbstractItemView.AnyKeyPressed)
        rows = view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.Fixed)   # uniform heights: no per-row size queries at 13k rows
        rows.setDefaultSectionSize(22)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        view.clicked.connect(lambda idx: self.rowActivated.emit(self.proxy.mapToSource(idx).row()))
        return view

    def _reset(self) -> None:
        """A new dataset: delegates and widths for its columns, categories, summary."""
        widths = {"question": 260, "answer": 360, "category": 110, "Q len": 55, "A len": 55, "Q→A cos": 70,
                  "split": 55}
        for col, name in enumerate(self.model.columns):
            if name in ("question", "answer"):
                self.view.setItemDelegateForColumn(col, self._delegate)
            self.view.setColumnWidth(col, widths.get(name, 110))
        self.view.selectionModel().currentRowChanged.connect(self._current_changed, Qt.UniqueConnection)
        self.row_editor.set_row(None)
        self.refresh_categories()

    def _current_changed(self, current, _previous) -> None:
        self.row_editor.set_row(self.proxy.mapToSource(current).row() if current.isValid() else None)

    def selected_rows(self) -> list[int]:
        return sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()})

    def show_problems(self) -> None:
        self.lower.setCurrentWidget(self.problem_panel)

    def clear_filters(self) -> None:
        self.search.clear()
        self._search_timer.stop()
        self.category.setCurrentIndex(0)
        self.proxy.set_filters(text="", category="")

    def go_to_row(self, row: int) -> None:
        """Select a source row, showing it even if the current filters hide it."""
        if row >= self.model.rowCount():
            return
        idx = self.index_of(row)
        if not idx.isValid():
            self.clear_filters()
            idx = self.index_of(row)
        self.view.scrollTo(idx, QAbstractItemView.PositionAtCenter)
        self.view.setCurrentIndex(idx)
        self.view.selectRow(idx.row())

    def add_row(self) -> None:
        row = self.model.add_row()
        self.clear_filters()
        idx = self.index_of(row)
        self.view.scrollTo(idx)
        self.view.setCurrentIndex(idx)

    def refresh_categories(self) -> None:
        cats = sorted({p.category for p in self.model.dataset.pairs if p.category})
        current = self.category.currentText()
        if [self.category.itemText(i) for i in range(1, self.category.count())] != cats:
            self.category.blockSignals(True)
            self.category.clear()
            self.category.addItems(["all categories", *cats])
            self.category.setCurrentText(current if current in cats else "all categories")
            self.category.blockSignals(False)
        self._summary_soon.start()

    def _update_summary(self) -> None:
        n_cats = max(0, self.category.count() - 1)
        counts = self.model.checks.counts()
        n = {lv: sum(c.values()) for lv, c in counts.items()}
        bad = len(self.model.checks.rows_at("error", "warning"))
        text = f"{self.model.rowCount():,} pairs · {n_cats} categories"
        if bad:
            text += (f" · <span style='color:{ERROR_TEXT}'>{n.get('error', 0):,} errors, {n.get('warning', 0):,} warnings "
                     f"in {bad:,} rows</span>: see Problems")
        else:
            text += " · all rows valid"
        if n.get("note"):
            text += f" · {n['note']:,} notes"
        self.summary.setText(text)
        self.lower.setTabText(1, f"Problems ({n.get('error', 0) + n.get('warning', 0):,}"
                              + (f", {n['note']:,} notes)" if n.get("note") else ")"))

    def index_of(self, row: int, col: int = 0) -> QModelIndex:
        return self.proxy.mapFromSource(self.model.index(row, col))
