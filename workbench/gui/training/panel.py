"""Training controls: the hyperparameter form, Start / Pause / Stop, progress with ETA, and the warning banner.

Beside the form, how the run is recorded: "Write TensorBoard logs" (remembered across launches in the
app's QSettings; disabled, saying how to install it, when the optional tensorboard package is missing)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QVBoxLayout,
                               QWidget)

from workbench.train.config import RunConfig
from workbench.train.pace import fmt_duration
from workbench.train.record.tensorboard import INSTALL_HINT, TB_DIR, tensorboard_available
from workbench.gui.training.config_form import ConfigForm
from workbench.gui.training.init_from import InitFromRow
from workbench.gui.training.preset_hint import PresetHint
from workbench.gui.common.settings import app_settings

TENSORBOARD_KEY = "run/tensorboard"   # QSettings: the toggle's last state


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
        self.notice = self._notice_row()       # a stop's notice (what was kept) and its Resume button
        self.tensorboard = self._tensorboard_toggle()
        self.init_from = InitFromRow(self.form)       # "start from a trained run" (config key init_from)
        self.preset_hint = PresetHint(self.form)      # "use large-data" for thousands of pairs; hidden otherwise
        self.embed_bar = QProgressBar()
        self.embed_bar.setFormat("teacher: %v/%m texts")
        self.train_bar = QProgressBar()
        self.train_bar.setFormat("idle")
        self.eta = QLabel("")
        self.eta.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.start_btn, self.pause_btn, self.stop_btn):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("<b>Hyperparameters</b> (hover a field for the reason behind its default)"))
        lay.addWidget(scroll, 1)
        lay.addWidget(self.tensorboard)
        lay.addWidget(self.init_from)
        lay.addWidget(self.preset_hint)
        lay.addWidget(self.banner)
        lay.addWidget(self.notice)
        lay.addLayout(buttons)
        lay.addWidget(self.embed_bar)
        lay.addWidget(self.train_bar)
        lay.addWidget(self.eta)
        self._epochs = 1
        self._pending = None
        self._label_timer = QTimer(self)
        self._label_timer.setInterval(200)
        self._label_timer.timeout.connect(self._show_pending)
        self.set_running(False)

    def _notice_row(self) -> QWidget:
        """A neutral notice (not the red banner: a stop is not an error) with the offer to resume."""
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        self.notice_text = QLabel()
        self.notice_text.setWordWrap(True)
        self.notice_text.setStyleSheet("background: palette(alternate-base); padding: 6px;")
        self.resumable = ""                    # the checkpoint the Resume button goes on from
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.setToolTip("Continue the stopped run from its last checkpoint, with the next batch")
        h.addWidget(self.notice_text, 1)
        h.addWidget(self.resume_btn)
        row.hide()
        return row

    def show_notice(self, text: str, resumable: str = "") -> None:
        """resumable: the checkpoint the Resume button goes on from ("" hides the button)."""
        self.resumable = resumable
        self.notice_text.setText(text)
        self.resume_btn.setVisible(bool(resumable))
        self.notice.show()

    def clear_run_state(self) -> None:
        """Nothing of the previous run stays: banner, notice, progress and ETA (a new run, or another run shown)."""
        self.banner.hide()
        self.banner.setText("")
        self.notice.hide()
        self.notice_text.setText("")
        self.resumable = ""
        self._pending = None
        self.embed_bar.setValue(0)
        self.train_bar.setValue(0)
        self.train_bar.setFormat("idle")
        self.eta.setText("")

    def _tensorboard_toggle(self) -> QCheckBox:
        box = QCheckBox("Write TensorBoard logs")
        if not tensorboard_available():
            box.setEnabled(False)
            box.setToolTip(f"Needs the optional tensorboard package: {INSTALL_HINT}")
            return box
        box.setChecked(bool(app_settings().value(TENSORBOARD_KEY, False, type=bool)))
        box.setToolTip(f"Also write the run's scalars and hyperparameters to RUN/{TB_DIR}/ (as workbench-train "
                       f"--tensorboard does): `tensorboard --logdir` on the runs folder compares runs side by side")
        box.toggled.connect(lambda on: app_settings().setValue(TENSORBOARD_KEY, on))
        return box

    def writes_tensorboard(self) -> bool:
        """Whether the next run also writes RUN/tensorboard/ (never when the package is missing)."""
        return self.tensorboard.isChecked() and tensorboard_available()

    def set_running(self, running: bool) -> None:
        self.form.set_read_only(running)
        self.tensorboard.setEnabled(not running and tensorboard_available())
        self.init_from.setEnabled(not running)
        self.start_btn.setEnabled(not running)
        self.pause_btn.setEnabled(running)
        self.stop_btn.setEnabled(running)
        if not running:
            self.pause_btn.setChecked(False)
            self.pause_btn.setText("Pause")
            self._label_timer.stop()
            self._pending = None
            self.eta.setText("")          # an ETA means a run is going; none after it ends

    def run_started(self, epochs: int) -> None:
        self.clear_run_state()
        self.train_bar.setFormat("embedding with the teacher…")
        self._epochs = epochs

    def show_embed(self, ev) -> None:
        """A teacher EmbedProgress: texts done, cache hits, and speed and ETA when the teacher reports them."""
        self.embed_bar.setMaximum(max(1, ev.total))
        self.embed_bar.setValue(ev.done)
        extra = ""
        rate, eta = getattr(ev, "texts_per_s", 0.0), getattr(ev, "eta_s", None)
        if rate:
            extra += f" · {rate:.0f} texts/s"
        if eta:
            extra += f" · ETA {fmt_duration(eta, spaced=True, unknown='…')}"
        self.embed_bar.setFormat(f"teacher: %v/%m texts ({ev.cache_hits} from cache){extra}")

    def show_batch(self, ev) -> None:
        """A BatchProgress. Labels change at most 5 times a second: each change repaints them."""
        self._pending = ev
        if not self._label_timer.isActive():
            self._label_timer.start()

    def _show_pending(self) -> None:
        ev, self._pending = self._pending, None
        if ev is None:
            self._label_timer.stop()
            return
        epochs = ev.n_epochs or self._epochs
        total = max(1, ev.n_batches * epochs)
        done = (ev.epoch - 1) * ev.n_batches + ev.batch
        self.train_bar.setMaximum(total)
        self.train_bar.setValue(min(done, total))
        self.train_bar.setFormat(f"epoch {ev.epoch}/{epochs} · batch {ev.batch}/{ev.n_batches}")
        # eta_s runs on the trainer's active clock: time spent paused is not in it
        self.eta.setText(f"loss {ev.running_loss or ev.loss:.4f} (epoch mean) · {ev.samples_per_s:.0f} samples/s · "
                         f"ETA {fmt_duration(ev.eta_s, spaced=True, unknown='…')}")

    def show_eval(self, ev) -> None:
        """An EvalProgress: which evaluation runs and how far, in the progress label (one event per ~1,000 pairs)."""
        self._show_pending()             # a batch label still waiting for the timer must not overwrite this one
        self.train_bar.setFormat(f"{ev.phase}: evaluating {ev.label} {ev.done:,}/{ev.total:,} pairs")

    def show_status(self, text: str) -> None:
        """A run-level state in the progress bar ("stopping…", "paused", "completed: …")."""
        self._pending = None             # a batch label waiting for the timer must not replace it
        self.train_bar.setFormat(text)

    def show_warning(self, message: str) -> None:
        """Warnings accumulate in the banner until the next run starts: none may scroll away unseen."""
        lines = [t for t in self.banner.text().split("\n") if t] if self.banner.isVisible() else []
        if "⚠ " + message not in lines:
            lines.append("⚠ " + message)
        self.banner.setText("\n".join(lines))
        self.banner.show()

