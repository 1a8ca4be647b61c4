"""The Ask panel (trained lattice vs identity, top-k answers of a chosen bank); the report panel is in report.py."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.gui.common.background import TaskRunner
from workbench.gui.inspect.probe_session import FILE, RUN_VAL, TABLE, BankChoice, ProbeSession

BANKS = ((TABLE, "the open table"), (RUN_VAL, "this run's validation answers"), (FILE, "an answer file…"))
WARN_STYLE = "color: #b36b00;"


class AskPanel(QWidget):
    """Type a question: teacher → trained lattice → nearest answers of the chosen bank, beside identity's.

    The bank is chosen explicitly (the open table, the run's own validation answers, or a file's answer
    column, as workbench-ask reads it). Identical answers are listed once with how many rows hold them.
    The teacher and the lattice run in the background task thread (probes): the window stays
    responsive, a busy bar shows while they work, and `answered` brings the result back.
    """
    answered = Signal(object)     # the session's ask() dict, or None after an error
    checkpointChanged = Signal(str)   # the run whose best checkpoint Ask (and the inspect panel) use

    def __init__(self, pairs_provider, parent=None):
        super().__init__(parent)
        self.pairs_provider = pairs_provider       # () -> the open table's pairs (objects with .question, .answer)
        self.checkpoint: str | None = None
        self.bank_file = ""
        self.tasks = TaskRunner("lattice-probe", self)       # shared with row inspection and evaluation
        self.session = ProbeSession()                        # used only inside self.tasks' thread
        self.question = QLineEdit()
        self.question.setPlaceholderText("Ask a question, e.g. What does dropout do?")
        self.question.returnPressed.connect(self.ask)
        self.k = QSpinBox()
        self.k.setRange(1, 20)
        self.k.setValue(5)
        self.bank = QComboBox()
        for kind, text in BANKS:
            self.bank.addItem(text, kind)
        self.bank.setToolTip("Which answers to search: the open table, the validation answers the run held out, "
                             "or the answer column of a file (CSV, JSONL, JSON, Parquet, or .txt lines)")
        self.bank.activated.connect(self._bank_activated)
        self.button = QPushButton("Ask")
        self.button.clicked.connect(self.ask)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)            # indeterminate: the teacher gives no progress for one question
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.status = QLabel("train a model first; the Ask panel uses the best checkpoint of the latest run")
        self.status.setWordWrap(True)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARN_STYLE)
        self.warning.hide()
        self.model_table, self.identity_table = self._table(), self._table()
        self._layout()
        self.tasks.busyChanged.connect(self._set_busy)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.question, 1)
        top.addWidget(QLabel("top-k"))
        top.addWidget(self.k)
        top.addWidget(self.button)
        top.addWidget(self.busy)
        source = QHBoxLayout()
        source.addWidget(QLabel("search"))
        source.addWidget(self.bank, 1)
        cols = QHBoxLayout()
        for title, table in (("trained lattice", self.model_table), ("identity baseline (question embedding)",
                                                                     self.identity_table)):
            box = QVBoxLayout()
            box.addWidget(QLabel(f"<b>{title}</b>"))
            box.addWidget(table)
            cols.addLayout(box)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(source)
        lay.addWidget(self.status)
        lay.addWidget(self.warning)
        lay.addLayout(cols, 1)

    @staticmethod
    def _table() -> QTableWidget:
        t = QTableWidget(0, 4)
        t.setHorizontalHeaderLabels(["cosine", "row", "rows", "answer"])
        t.horizontalHeader().setStretchLastSection(True)
        t.verticalHeader().setVisible(False)
        return t

    def set_checkpoint(self, path: str) -> None:
        self.checkpoint = path
        self.checkpointChanged.emit(path)       # the inspect panel follows the same run
        self.status.setText(f"model: {path}")

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.button.setEnabled(not busy)

    def _bank_activated(self, index: int) -> None:
        if self.bank.itemData(index) == FILE:
            path = QFileDialog.getOpenFileName(self, "Answer bank", "", "Answers (*.csv *.jsonl *.json *.parquet "
                                               "*.txt);;All files (*)")[0]
            if path:
                self.set_bank_file(path)
            elif not self.bank_file:
                self.bank.setCurrentIndex(0)

    def set_bank(self, kind: str) -> None:
        self.bank.setCurrentIndex(self.bank.findData(kind))

    def set_bank_file(self, path: str) -> None:
        """Search the answer column of `path` (the file choice, without a dialog)."""
        self.bank_file = path
        self.bank.setItemText(self.bank.findData(FILE), f"file: {Path(path).name}")
        self.set_bank(FILE)

    def choice(self) -> BankChoice:
        kind = self.bank.currentData()
        if kind == TABLE:
            return BankChoice(TABLE, pairs=[(p.question, p.answer) for p in self.pairs_provider()])
        return BankChoice(kind, path=self.bank_file)

    def ask(self) -> bool:
        """Start answering the typed question in the background; False when there is nothing to ask."""
        text = self.question.text().strip()
        if not text:
            self.status.setText("type a question first")
            return False
        if not self.checkpoint:
            self.status.setText("no trained model yet: start a training run first")
            return False
        choice = self.choice()
        if choice.kind == TABLE and not any(a.strip() for _, a in choice.pairs):
            self.status.setText("the open table has no answers to search: choose another bank")
            return False
        k, ckpt, session = self.k.value(), self.checkpoint, self.session
        self.status.setText(f"asking: embedding the question and {self.bank.currentText()}, running the lattice…")
        self.tasks.submit(lambda: session.ask(ckpt, text, choice, k), lambda res: self._show(res, k))
        return True

    def _show(self, res, k: int) -> None:
        if not res.ok:
            self.status.setText(f"could not answer: {res.error}")
            self.warning.hide()
            self.answered.emit(None)
            return
        v = res.value
        for table, key in ((self.model_table, "model"), (self.identity_table, "identity")):
            hits = v[key]
            table.setRowCount(len(hits))
            for r, h in enumerate(hits):
                cells = [f"{h.score:.3f}", str(h.row + 1), f"×{len(h.rows)}" if len(h.rows) > 1 else "", h.answer]
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setToolTip(h.answer if c == 3 else
                                    f"rows {', '.join(str(x + 1) for x in h.rows)} hold this answer" if c == 2 else "")
                    table.setItem(r, c, item)
        same = v["rows"] - v["distinct"]
        self.status.setText(f"top-{k} of {v['distinct']:,} distinct answers in {v['source']}"
                            + (f" ({v['rows']:,} rows; {same:,} repeat another row's text)" if same else ""))
        self.warning.setText(f"⚠ {v['warning']}" if v["warning"] else "")
        self.warning.setVisible(bool(v["warning"]))
        self.answered.emit(v)
