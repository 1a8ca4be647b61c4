""""Start from a trained run": the training panel's fine-tuning choice (the config key init_from).

The form shows init_from as a text field like every key; this row picks the run folder with a dialog, says
what the next run starts from, and clears it. The run itself checks the parent (trainer's state.init_weights):
another lattice or teacher is refused with each differing key named, in the run's error banner.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget


class InitFromRow(QWidget):
    def __init__(self, form, parent=None):
        super().__init__(parent)
        self.form = form
        self.pick_btn = QPushButton("Start from a trained run…")
        self.pick_btn.setToolTip("Fine-tune: the next run starts from that run's best weights, with a fresh "
                                 "optimizer and schedule (its lattice and teacher settings must match the form's)")
        self.pick_btn.clicked.connect(self.pick)
        self.clear_btn = QPushButton("From scratch")
        self.clear_btn.setToolTip("Start the next run from the seed's untrained lattice")
        self.clear_btn.clicked.connect(lambda: self.set_run(""))
        self.label = QLabel()
        self.label.setWordWrap(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.pick_btn)
        lay.addWidget(self.clear_btn)
        lay.addWidget(self.label, 1)
        form.changed.connect(self.refresh)
        self.refresh()

    def pick(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Start from a trained run (its run folder)")
        if folder:
            self.set_run(folder)

    def set_run(self, folder: str) -> bool:
        """Set init_from through the form's own checks; False when the form refused the value."""
        return self.form.set_value("init_from", str(Path(folder).resolve()) if folder else "")

    def refresh(self) -> None:
        parent = self.form.config.init_from
        self.label.setText(f"fine-tunes <b>{Path(parent).name}</b>" if parent else "from scratch")
        self.label.setToolTip(parent or "the seed's untrained lattice")
        self.clear_btn.setEnabled(bool(parent))
