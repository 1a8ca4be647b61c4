"""Training controls: the hyperparameter form, Start / Pause / Stop, progress with ETA, and the warning banner."""

from __future__ import annotations

import time

from PySide6.QtCore import Slot

from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from ..train.config import RunConfig
from .config_form import ConfigForm


class TrainingPanel(QWidget):
    def __init__(self, config: RunConfig, parent=None):
        super().__init__(parent)
        self.form = ConfigForm(config)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        self.start_btn = QPushButton("Start training")
        self.pause_btn = QPushButton("Pause")
        self.pause_btn.setCheckable(True)
        self.stop_btn = QPushButton("Stop")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#b00020; color:white; font-weight:bold; padding:6px;")
        self.banner.hide()
        self.embed_bar = QProgressBar()
        self.embed_bar.setFormat("teacher: %v/%m texts")
        self.train_bar = QProgressBar()
        self.train_bar.setFormat("idle")
        self.eta = QLabel("")
        buttons = QHBoxLayout()
        for b in (self.start_btn, self.pause_btn, self.stop_btn):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("<b>Hyperparameters</b> (hover a field for the reason behind its default)"))
        lay.addWidget(scroll, 1)
        lay.addWidget(self.banner)
        lay.addLayout(buttons)
        lay.addWidget(self.embed_bar)
        lay.addWidget(self.train_bar)
        lay.addWidget(self.eta)
        self.set_running(False)
        self._t0 = 0.0
        self._total_batches = 1

    def set_running(self, running: bool) -> None:
        self.form.set_read_only(running)
        self.start_btn.setEnabled(not running)
        self.pause_btn.setEnabled(running)
        self.stop_btn.setEnabled(running)
        if not running:
            self.pause_btn.setChecked(False)
            self.pause_btn.setText("Pause")

    def run_started(self, epochs: int) -> None:
        self.banner.hide()
        self.banner.setText("")
        self.embed_bar.setValue(0)
        self.train_bar.setValue(0)
        self.train_bar.setFormat("embedding with the teacher…")
        self._epochs, self._t0 = epochs, time.perf_counter()

    @Slot(int, int, int)
    def show_embed(self, done: int, total: int, hits: int) -> None:
        self.embed_bar.setMaximum(max(1, total))
        self.embed_bar.setValue(done)
        self.embed_bar.setFormat(f"teacher: %v/%m texts ({hits} from cache)")

    @Slot(dict)
    def show_batch(self, b: dict) -> None:
        """Epoch, batch and an ETA from the mean time per batch so far."""
        self._total_batches = b["n_batches"] * self._epochs
        done = (b["epoch"] - 1) * b["n_batches"] + b["batch"]
        self.train_bar.setMaximum(self._total_batches)
        self.train_bar.setValue(done)
        self.train_bar.setFormat(f"epoch {b['epoch']}/{self._epochs} · batch {b['batch']}/{b['n_batches']}")
        per = b["elapsed_s"] / max(1, done)
        self.eta.setText(f"loss {b['loss']:.4f} · ETA {per * (self._total_batches - done):.0f} s")

    def show_warning(self, message: str) -> None:
        """Warnings accumulate in the banner until the next run starts: none may scroll away unseen."""
        lines = [t for t in self.banner.text().split("\n") if t] if self.banner.isVisible() else []
        if "⚠ " + message not in lines:
            lines.append("⚠ " + message)
        self.banner.setText("\n".join(lines))
        self.banner.show()
