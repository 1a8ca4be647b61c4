"""The Ask panel (trained lattice vs identity, top-k answers); the report panel is in report_panel.py."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.gui.common.background import TaskRunner
from workbench.gui.inspect.probe_session import ProbeSession
from workbench.gui.inspect.report import ReportPanel  # noqa: F401  (kept importable from here)


class AskPanel(QWidget):
    """Type a question: teacher → trained lattice → nearest answers in the current dataset, beside identity's.

    The teacher and the lattice run in the background task thread (probes): the window stays
    responsive, a busy bar shows while they work, and `answered` brings the result back.
    """
    answered = Signal(object)     # {"model": [(answer, cosine)], "identity": [...]}, or None after an error
    checkpointChanged = Signal(str)   # the run whose best checkpoint Ask (and the inspect panel) use

    def __init__(self, answers_provider, parent=None):
        super().__init__(parent)
        self.answers_provider = answers_provider   # () -> list[str]: the dataset's current answers
        self.checkpoint: str | None = None
        self.tasks = TaskRunner("lattice-probe", self)       # shared with row inspection and evaluation
        self.session = ProbeSession()                        # used only inside self.tasks' thread
        self.question = QLineEdit()
        self.question.setPlaceholderText("Ask a question, e.g. What does dropout do?")
        self.question.returnPressed.connect(self.ask)
        self.k = QSpinBox()
        self.k.setRange(1, 20)
        self.k.setValue(5)
        self.button = QPushButton("Ask")
        self.button.clicked.connect(self.ask)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)            # indeterminate: the teacher gives no progress for one question
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.status = QLabel("train a model first; the Ask panel uses the best checkpoint of the latest run")
        self.status.setWordWrap(True)
        self.model_table, self.identity_table = self._table(), self._table()
        top = QHBoxLayout()
        top.addWidget(self.question, 1)
        top.addWidget(QLabel("top-k"))
        top.addWidget(self.k)
        top.addWidget(self.button)
        top.addWidget(self.busy)
        cols = QHBoxLayout()
        for title, table in (("trained lattice", self.model_table), ("identity baseline (question embedding)",
                                                                     self.identity_table)):
            box = QVBoxLayout()
            box.addWidget(QLabel(f"<b>{title}</b>"))
            box.addWidget(table)
            cols.addLayout(box)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addLayout(cols, 1)
        self.tasks.busyChanged.connect(self._set_busy)

    @staticmethod
    def _table() -> QTableWidget:
        t = QTableWidget(0, 2)
        t.setHorizontalHeaderLabels(["cosine", "answer"])
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

    def ask(self) -> bool:
        """Start answering the typed question in the background; False when there is nothing to ask."""
        text = self.question.text().strip()
        answers = [a for a in self.answers_provider() if a.strip()]
        if not text or not answers:
            self.status.setText("type a question; the dataset needs at least one answer")
            return False
        if not self.checkpoint:
            self.status.setText("no trained model yet: start a training run first")
            return False
        k, ckpt, session = self.k.value(), self.checkpoint, self.session
        self.status.setText(f"asking: embedding the question and {len(answers)} answers, running the lattice…")
        self.tasks.submit(lambda: session.ask(ckpt, text, answers, k),
                          lambda res: self._show(res, k, len(answers)))
        return True

    def _show(self, res, k: int, n: int) -> None:
        if not res.ok:
            self.status.setText(f"could not answer: {res.error}")
            self.answered.emit(None)
            return
        for table, key in ((self.model_table, "model"), (self.identity_table, "identity")):
            rows = res.value[key]
            table.setRowCount(len(rows))
            for r, (answer, c) in enumerate(rows):
                table.setItem(r, 0, QTableWidgetItem(f"{c:.3f}"))
                item = QTableWidgetItem(answer)
                item.setToolTip(answer)
                table.setItem(r, 1, item)
        self.status.setText(f"top-{k} of {n} answers in the current dataset")
        self.answered.emit(res.value)
