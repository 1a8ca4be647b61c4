"""The run report: the figures table (lattice beside every baseline and ablation), report.md, and
"Evaluate on file…", which scores the run's best checkpoint on any dataset file (workbench-eval's
core function) in a background thread, beside identity and the run's ridge map."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QMessageBox, QProgressBar, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget)

from workbench.gui.common.background import TaskRunner
from workbench.train.record.compare import EVAL_COLUMNS, HEADERS, METRICS, fmt, rows_from_metrics

DATA_FILTERS = "Datasets (*.csv *.jsonl *.json *.parquet);;All files (*)"


def _table(columns: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(columns)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
    t.setEditTriggers(QTableWidget.NoEditTriggers)
    t.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
    return t


def _fill(table: QTableWidget, rows, columns) -> None:
    """rows: compare.ComparisonRow, the model's bold, an ablation's named as one. Missing values show as –."""
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        name, bold = f"ablation: {row.title}" if row.kind == "ablation" else row.title, row.kind == "model"
        for c, text in enumerate([name] + [fmt(row.figures[k]) for k in columns]):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if bold:
                f = QFont()
                f.setBold(True)
                item.setFont(f)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
    table.setFixedHeight(table.horizontalHeader().height() + sum(table.rowHeight(i) for i in range(len(rows))) + 4)


class ReportPanel(QWidget):
    evaluated = Signal(object)     # an EvalResult, or None when the evaluation failed or was declined

    def __init__(self, parent=None):
        super().__init__(parent)
        self.run_dir: str | None = None
        self.metrics: dict = {}
        self.last_eval = None
        self.tasks = TaskRunner("lattice-eval", self)   # its own thread: a long evaluation never holds up Ask
        self.figures = _table(["predictor"] + [HEADERS[m] for m in METRICS])
        self.figures.setToolTip("the run's best epoch beside the baselines (and ablations) fitted on the same "
                                "split, on the held-out validation pairs")
        self.figures.hide()
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setMarkdown("*The report of a finished run appears here.*")
        self.open_btn = QPushButton("Open run folder")
        self.open_btn.setEnabled(False)
        self.open_btn.setToolTip("open the run's folder (checkpoints, history.csv, metrics.json, report.md)")
        self.open_btn.clicked.connect(self.open_folder)
        self.eval_btn = QPushButton("Evaluate on file…")
        self.eval_btn.setEnabled(False)
        self.eval_btn.setToolTip("score this run's best checkpoint on any dataset file: cosine, top-1 and MRR "
                                 "beside identity and the run's ridge map (as workbench-eval does)")
        self.eval_btn.clicked.connect(self.pick_and_evaluate)
        self.eval_busy = QProgressBar()
        self.eval_busy.setRange(0, 0)
        self.eval_busy.setMaximumWidth(160)
        self.eval_busy.hide()
        self.eval_label = QLabel()
        self.eval_label.setWordWrap(True)
        self.eval_table = _table(["predictor"] + [HEADERS[m] for m in EVAL_COLUMNS])
        self.eval_table.setToolTip("the run's best checkpoint on the chosen file, beside identity and the ridge map "
                                   "the run fitted on its training pairs; retrieval ranks all answers of the file")
        self.eval_table.hide()
        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.addWidget(self.figures)
        tv.addWidget(self.eval_label)
        tv.addWidget(self.eval_table)
        tv.addStretch(1)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(self.text)
        split.setStretchFactor(1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_btn)
        buttons.addWidget(self.eval_btn)
        buttons.addWidget(self.eval_busy)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addLayout(buttons)
        self.tasks.busyChanged.connect(self._set_busy)
        self.tasks.progressed.connect(self._progress)

    # ---------------------------------------------------------------- a run
    def show_run(self, run_dir: str) -> None:
        self.run_dir = run_dir
        report = Path(run_dir) / "report.md"
        self.text.setMarkdown(report.read_text(encoding="utf-8") if report.exists() else f"no report in {run_dir}")
        try:
            self.metrics = json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.metrics = {}
        self.show_figures(self.metrics)
        self.open_btn.setEnabled(True)
        self.eval_btn.setEnabled(not self.tasks.busy)

    def show_figures(self, metrics: dict) -> None:
        rows = rows_from_metrics(metrics if isinstance(metrics, dict) else {})
        _fill(self.figures, rows, METRICS)
        self.figures.setVisible(bool(rows))

    def open_folder(self) -> None:
        if self.run_dir:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.run_dir))

    # ---------------------------------------------------------------- evaluate on a file
    def pick_and_evaluate(self) -> None:
        win = self.window()
        path = win.choose_path("Evaluate on file", "", DATA_FILTERS) if hasattr(win, "choose_path") else ""
        if path:
            self.evaluate(path)

    def evaluate(self, data: str, drop_invalid_rows: bool = False) -> bool:
        """Start scoring the shown run on `data` in the background; False when no run is shown."""
        if not self.run_dir or self.tasks.busy:
            return False
        run, runner = self.run_dir, self.tasks

        def job():
            from workbench.data.dataset import DataError
            from workbench.train.evaluate import evaluate_run
            try:
                return evaluate_run(run, data, drop_invalid_rows=drop_invalid_rows, progress=runner.report)
            except DataError as exc:
                if drop_invalid_rows:
                    raise
                return exc          # returned, not raised: the panel offers to leave those rows out
        self.eval_label.setText(f"evaluating {Path(run).name} on {Path(data).name}…")
        self.tasks.submit(job, lambda res: self._evaluated(res, data))
        return True

    def _set_busy(self, busy: bool) -> None:
        self.eval_busy.setVisible(busy)
        self.eval_btn.setEnabled(not busy and self.run_dir is not None)

    def _progress(self, ev) -> None:
        if hasattr(ev, "done") and hasattr(ev, "total"):
            eta = getattr(ev, "eta_s", None)
            self.eval_label.setText(f"embedding {ev.done}/{ev.total} texts ({ev.cache_hits} from cache)"
                                    + (f", about {eta:.0f} s left" if eta else "") + "…")

    def _evaluated(self, res, data: str) -> None:
        from workbench.data.dataset import DataError
        win = self.window()
        if not res.ok:
            self.eval_label.setText(f"evaluation failed: {res.error}")
            if hasattr(win, "show_error"):
                win.show_error("Cannot evaluate", res.error, res.details)
            self.evaluated.emit(None)
            return
        if isinstance(res.value, DataError):
            errors = [p for p in res.value.problems if getattr(p, "level", "error") == "error"] or res.value.problems
            text = (f"{Path(data).name}: {len(errors):,} row(s) have errors (first: {errors[0]}).\n\n"
                    "Evaluate without them?")
            ask = getattr(win, "ask", None)
            if ask is not None and ask("Evaluate without those rows?", text, QMessageBox.Yes | QMessageBox.No,
                                       QMessageBox.Yes) == QMessageBox.Yes:
                self.evaluate(data, drop_invalid_rows=True)
                return
            self.eval_label.setText(f"not evaluated: {errors[0]}")
            self.evaluated.emit(None)
            return
        self.show_evaluation(res.value)

    def show_evaluation(self, r) -> None:
        self.last_eval = r
        _fill(self.eval_table, r.rows, EVAL_COLUMNS)
        self.eval_table.show()
        notes = f" · {len(r.notes)} note(s): " + "; ".join(r.notes[:3]) if r.notes else ""
        self.eval_label.setText(f"<b>{Path(r.data).name}</b>: {r.n:,} pairs; retrieval among all {r.n:,} answers, "
                                f"ties count against the model{notes}")
        self.eval_label.setToolTip("\n".join(r.notes))
        self.evaluated.emit(r)
