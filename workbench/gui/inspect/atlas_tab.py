"""The inspect panel's atlas tab: mean lattice states per category (or any column), and differences.

The cube's "atlas" source shows a category's mean states, that mean minus another category's, or one table
row's states minus another's (workbench.inspect.atlas), computed in the panel's task thread.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QPushButton, QSpinBox, QWidget

from workbench.gui.inspect.cube import CubeFrame

ATLAS = "atlas"
MEAN_ONLY = "— (its mean)"


def button(text: str, tip: str) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    return b


class AtlasTab(QWidget):
    def __init__(self, panel):
        super().__init__()
        self.panel = panel
        self.atlas = None
        self.atlas_column = "category"
        form = QFormLayout(self)
        self.by = QComboBox()
        self.by.setToolTip("the column whose values group the pairs")
        self.atlas_button = button("Compute atlas", "mean lattice states of the pairs of each value")
        self.atlas_button.clicked.connect(self.compute_atlas)
        self.first, self.second = QComboBox(), QComboBox()
        self.first.setToolTip("the category (or group value) whose mean states the cube shows")
        self.second.setToolTip("subtract this category's mean states: which cells does one use that the other does not?")
        for combo in (self.first, self.second):
            combo.currentIndexChanged.connect(self.show_atlas)
        self.row_a, self.row_b = QSpinBox(), QSpinBox()
        self.row_a.setToolTip("table row A (its question through the trained lattice)")
        self.row_b.setToolTip("table row B, subtracted from row A")
        for s in (self.row_a, self.row_b):
            s.setRange(1, 1)
        self.rows_button = button("Row A − row B", "the difference of two table rows' states")
        self.rows_button.clicked.connect(self.compute_row_difference)
        rows = QHBoxLayout()
        for x in (self.row_a, self.row_b, self.rows_button):
            rows.addWidget(x)
        form.addRow("group by", self.by)
        form.addRow(self.atlas_button)
        form.addRow("show", self.first)
        form.addRow("minus", self.second)
        form.addRow("rows", rows)
        self.buttons = [self.atlas_button, self.rows_button]

    def compute_atlas(self) -> bool:
        if not self.panel.ready():
            return False
        qs, ans, rows, what = self.panel.pairs()
        column = self.by.currentText() or "category"
        pairs = self.panel.win.model.dataset.pairs
        labels = [pairs[i].category if column == "category" else pairs[i].extra.get(column, "") for i in rows]
        ck, session = self.panel.checkpoint, self.panel.session
        self.panel.status.setText(f"atlas of {what} by {column}…")
        self.panel.tasks.submit(lambda: session.atlas(ck, qs, ans, labels), lambda res: self._atlas_done(res, column))
        return True

    def _atlas_done(self, res, column: str) -> None:
        if not res.ok:
            self.panel.status.setText(f"atlas failed: {res.error}")
            return
        self.atlas, self.atlas_column = res.value, column
        for combo, extra in ((self.first, []), (self.second, [MEAN_ONLY])):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(extra + [f"{n} ({c})" for n, c in zip(self.atlas.names, self.atlas.counts)])
            combo.blockSignals(False)
        if len(self.atlas.names) > 1:
            self.second.setCurrentIndex(2)
        self.panel.status.setText(f"atlas: {len(self.atlas.names)} values of {column}")
        self.show_atlas()

    def show_atlas(self, *_) -> None:
        if self.atlas is None or self.first.currentIndex() < 0:
            return
        a = self.atlas.names[self.first.currentIndex()]
        j = self.second.currentIndex() - 1
        states = self.atlas.states[self.first.currentIndex()]
        what = f"atlas · mean of {self.atlas_column} '{a}'"
        if j >= 0:
            states = states - self.atlas.states[j]
            what = f"atlas · {self.atlas_column} '{a}' − '{self.atlas.names[j]}'"
        self.panel.view.set_extra(ATLAS, CubeFrame(states, what, "mean final states per category"), show=True)

    def compute_row_difference(self) -> bool:
        pairs = self.panel.win.model.dataset.pairs
        i, j = self.row_a.value() - 1, self.row_b.value() - 1
        if not self.panel.checkpoint or not (0 <= i < len(pairs) and 0 <= j < len(pairs)):
            self.panel.status.setText("needs a trained model and two table rows")
            return False
        ck, session, qi, qj = self.panel.checkpoint, self.panel.session, pairs[i].question, pairs[j].question
        what = f"atlas · row {i + 1} − row {j + 1}"
        self.panel.tasks.submit(lambda: session.row_difference(ck, qi, qj), lambda res: self._rows_done(res, what, qi))
        return True

    def _rows_done(self, res, what: str, question: str) -> None:
        if not res.ok:
            self.panel.status.setText(f"row difference failed: {res.error}")
            return
        self.panel.view.set_extra(ATLAS, CubeFrame(res.value, what, question), show=True)

    def refresh_table(self) -> None:
        """The table changed (opened a file): the group-by columns and the row range follow it."""
        ds = self.panel.win.model.dataset
        self.by.clear()
        self.by.addItems(["category", *ds.columns])
        for s in (self.row_a, self.row_b):
            s.setRange(1, max(1, len(ds.pairs)))
        self.row_b.setValue(min(2, len(ds.pairs)))

