"""Small panels: the run report viewer and the Ask panel (trained lattice vs identity, top-k answers)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget)


class ReportPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.run_dir: str | None = None
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setMarkdown("*The report of a finished run appears here.*")
        self.open_btn = QPushButton("Open run folder")
        self.open_btn.setEnabled(False)
        self.open_btn.clicked.connect(self.open_folder)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.open_btn)

    def show_run(self, run_dir: str) -> None:
        self.run_dir = run_dir
        report = Path(run_dir) / "report.md"
        self.text.setMarkdown(report.read_text(encoding="utf-8") if report.exists() else f"no report in {run_dir}")
        self.open_btn.setEnabled(True)

    def open_folder(self) -> None:
        if self.run_dir:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.run_dir))


class AskPanel(QWidget):
    """Type a question: teacher → trained lattice → nearest answers in the current dataset, beside identity's."""

    def __init__(self, answers_provider, parent=None):
        super().__init__(parent)
        self.answers_provider = answers_provider   # () -> list[str]: the dataset's current answers
        self.checkpoint: str | None = None
        self._loaded = None
        self._teacher = None
        self.question = QLineEdit()
        self.question.setPlaceholderText("Ask a question, e.g. What does dropout do?")
        self.question.returnPressed.connect(self.ask)
        self.k = QSpinBox()
        self.k.setRange(1, 20)
        self.k.setValue(5)
        self.button = QPushButton("Ask")
        self.button.clicked.connect(self.ask)
        self.status = QLabel("train a model first; the Ask panel uses the best checkpoint of the latest run")
        self.status.setWordWrap(True)
        self.model_table, self.identity_table = self._table(), self._table()
        top = QHBoxLayout()
        top.addWidget(self.question, 1)
        top.addWidget(QLabel("top-k"))
        top.addWidget(self.k)
        top.addWidget(self.button)
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

    @staticmethod
    def _table() -> QTableWidget:
        t = QTableWidget(0, 2)
        t.setHorizontalHeaderLabels(["cosine", "answer"])
        t.horizontalHeader().setStretchLastSection(True)
        t.verticalHeader().setVisible(False)
        return t

    def set_checkpoint(self, path: str) -> None:
        self.checkpoint, self._loaded = path, None
        self.status.setText(f"model: {path}")

    def model_and_teacher(self):
        """The latest run's best checkpoint (trained and untrained lattice) and its teacher, loaded once."""
        from ..train.probe import load_model
        from ..teacher.encoder import Teacher
        if self._loaded is None:
            self._loaded = load_model(self.checkpoint)
        if self._teacher is None or self._teacher.config != self._loaded.config.teacher:
            self._teacher = Teacher(self._loaded.config.teacher)
        return self._loaded, self._teacher

    def ask(self) -> dict | None:
        text = self.question.text().strip()
        answers = [a for a in self.answers_provider() if a.strip()]
        if not text or not answers:
            self.status.setText("type a question; the dataset needs at least one answer")
            return None
        if not self.checkpoint:
            self.status.setText("no trained model yet: start a training run first")
            return None
        from ..train.probe import predict, rank_answers
        loaded, teacher = self.model_and_teacher()
        a = teacher.encode(answers)
        q = teacher.encode([text])
        k = self.k.value()
        result = {"model": rank_answers(predict(loaded.trained, q)[0], a, k),
                  "identity": rank_answers(q[0], a, k)}
        for table, key in ((self.model_table, "model"), (self.identity_table, "identity")):
            table.setRowCount(len(result[key]))
            for r, (i, c) in enumerate(result[key]):
                table.setItem(r, 0, QTableWidgetItem(f"{c:.3f}"))
                item = QTableWidgetItem(answers[i])
                item.setToolTip(answers[i])
                table.setItem(r, 1, item)
        self.status.setText(f"top-{k} of {len(answers)} answers in the current dataset")
        return {key: [(answers[i], c) for i, c in v] for key, v in result.items()}
