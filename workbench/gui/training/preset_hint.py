"""A non-blocking suggestion above the Start button: a dataset of thousands of pairs trains better and far faster
with the 'large-data' preset (README "Results"). One click applies it; the user may ignore or dismiss it."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from workbench.train.config import LARGE_DATA_MIN_PAIRS, LARGE_DATA_PRESET, suggested_preset


class PresetHint(QWidget):
    def __init__(self, form, parent=None):
        """form: the ConfigForm whose preset the button sets (form.load_preset, form.preset)."""
        super().__init__(parent)
        self.form = form
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.use_btn = QPushButton(f"Use {LARGE_DATA_PRESET}")
        self.use_btn.setToolTip(f"Reset the form to the '{LARGE_DATA_PRESET}' preset")
        self.use_btn.clicked.connect(self.apply)
        self.dismiss_btn = QPushButton("Not now")
        self.dismiss_btn.setToolTip("Hide this suggestion and keep the form as it is")
        self.dismiss_btn.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.use_btn)
        lay.addWidget(self.dismiss_btn)
        self.hide()

    def update_for(self, n_pairs: int) -> None:
        """Show the suggestion when n_pairs calls for another preset than the form's; hide it otherwise."""
        wanted = suggested_preset(n_pairs)
        if wanted == LARGE_DATA_PRESET and self.form.preset.currentText() != wanted:
            self.text.setText(f"{n_pairs:,} pairs: the '{wanted}' preset is made for data this size (from "
                              f"{LARGE_DATA_MIN_PAIRS:,} pairs): a small lattice, whole documents per batch, warm-up "
                              "+ cosine decay; minutes per epoch where the current preset may take hours.")
            self.show()
        else:
            self.hide()

    def apply(self) -> None:
        self.form.load_preset(LARGE_DATA_PRESET)
        self.hide()
