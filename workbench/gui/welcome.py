"""The first-run welcome: three steps (edit, train, inspect) and a button that opens the sample data."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout

from workbench.gui.common.paths import SAMPLE
from workbench.gui.common.settings import app_settings

STEPS = """<h2>Welcome to Lattice Workbench</h2>
<p>Train a 3D cellular lattice to turn a question's embedding into its answer's, in three steps:</p>
<ol>
<li><b>Edit</b> — the Dataset panel holds your question/answer pairs. Double-click a cell to edit it
(Enter commits, Ctrl+Z undoes); problems the trainer would reject are marked in red and listed below the table.</li>
<li><b>Train</b> — pick a preset in the Training panel and press <b>F5</b> (or Ctrl+Return). The charts compare
the lattice with the identity, mean-answer and ridge baselines on held-out pairs.</li>
<li><b>Inspect</b> — click a row to watch its question travel through the trained cube, read the Report,
or ask the model a question in the Ask tab.</li>
</ol>
<p>The sample holds 160 short machine-learning questions and answers. Saving it stores a copy in your own folder.</p>"""


def should_welcome() -> bool:
    return not bool(app_settings().value("welcome/done", False, type=bool))


def startup_dataset(arg: str | None, screenshot: bool = False) -> tuple[str | None, bool]:
    """(dataset to open, show the welcome?) for a start with or without a file argument.

    A file given is opened, without the welcome (the user already knows what to open; the welcome waits
    for a start without a file). Otherwise the first start opens nothing and welcomes the user with
    the sample one click away; later starts reopen the last dataset (or the sample, if it is gone).
    A --screenshot run never welcomes and falls back to the sample."""
    if arg:
        return arg, False
    if screenshot:
        return (str(SAMPLE) if SAMPLE.exists() else None), False
    if should_welcome():
        return None, True
    last = str(app_settings().value("files/last", "") or "")
    if last and Path(last).exists():
        return last, False
    return (str(SAMPLE) if SAMPLE.exists() else None), False


def remember_last(path: str) -> None:
    app_settings().setValue("files/last", str(Path(path).resolve()))


class WelcomeDialog(QDialog):
    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.setWindowTitle("Welcome to Lattice Workbench")
        text = QLabel(STEPS)
        text.setWordWrap(True)
        self.again = QCheckBox("Show this welcome at the next start")
        self.again.setToolTip("Help ▸ Welcome shows it at any time")
        buttons = QDialogButtonBox()
        self.sample_btn = QPushButton("Open the sample data")
        self.sample_btn.setToolTip(f"open {SAMPLE.name}, shipped with the app")
        self.sample_btn.setDefault(True)
        self.own_btn = QPushButton("Open my own file…")
        self.own_btn.setToolTip("CSV, JSON Lines or JSON with question and answer columns")
        buttons.addButton(self.sample_btn, QDialogButtonBox.AcceptRole)
        buttons.addButton(self.own_btn, QDialogButtonBox.ActionRole)
        buttons.addButton(QDialogButtonBox.Close)
        self.sample_btn.clicked.connect(self.open_sample)
        self.own_btn.clicked.connect(self.open_own)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(text)
        lay.addWidget(self.again)
        lay.addWidget(buttons)
        self.setMinimumWidth(560)
        self.finished.connect(self._remember)

    def open_sample(self) -> None:
        self.accept()
        if self.win.path != str(SAMPLE) and self.win.document.confirm_discard():
            self.win.open_file(str(SAMPLE))

    def open_own(self) -> None:
        self.accept()
        self.win.document.pick_open()

    def _remember(self, *_):
        app_settings().setValue("welcome/done", not self.again.isChecked())
