"""The Help menu's pages: About, keyboard shortcuts (read from the live actions) and the README."""

from __future__ import annotations

import html
from importlib import metadata
from pathlib import Path

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

REPO_README = Path(__file__).resolve().parents[2] / "README.md"


def version() -> str:
    try:
        return metadata.version("lattice-workbench")
    except metadata.PackageNotFoundError:
        return "development copy"


def readme_markdown() -> str:
    """The README from the source tree, else the one in the installed package's metadata."""
    if REPO_README.exists():
        return REPO_README.read_text(encoding="utf-8")
    try:
        return metadata.metadata("lattice-workbench").get_payload() or ""
    except metadata.PackageNotFoundError:
        return ""


def about_html() -> str:
    return (f"<h3>Lattice Workbench {html.escape(version())}</h3>"
            "<p>Trains a 3D cellular lattice that turns a question's sentence embedding into its answer's. "
            "A frozen teacher (all-MiniLM-L6-v2, offline) embeds the texts; validation is always held out, and "
            "the identity, mean-answer and ridge baselines are shown beside the model.</p>"
            "<p>MIT licence. The desktop app and <code>workbench-train</code> share one core.</p>")


def shortcut_rows(actions) -> list[tuple[str, str]]:
    """(action text, shortcut) for every action that has a shortcut, in menu order."""
    rows = []
    for a in actions:
        keys = [k.toString(QKeySequence.NativeText) for k in a.shortcuts() if not k.isEmpty()]
        if keys:
            rows.append((a.text().replace("&", "").rstrip("…."), " or ".join(keys)))
    return rows


def shortcuts_html(actions) -> str:
    rows = "".join(f"<tr><td>{html.escape(t)}</td><td><b>{html.escape(k)}</b></td></tr>"
                   for t, k in shortcut_rows(actions))
    table_keys = ("<tr><td>Commit a cell edit</td><td><b>Enter</b></td></tr>"
                  "<tr><td>New line inside a cell</td><td><b>Shift+Enter</b></td></tr>"
                  "<tr><td>Cancel a cell edit</td><td><b>Esc</b></td></tr>")
    return f"<h3>Keyboard shortcuts</h3><table cellpadding='4'>{rows}{table_keys}</table>"


class TextPage(QDialog):
    """A non-modal page of rich text or Markdown with a Close button."""

    def __init__(self, parent, title: str, text: str, markdown: bool = False):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        (self.browser.setMarkdown if markdown else self.browser.setHtml)(text)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser)
        lay.addWidget(buttons)
        self.resize(760 if markdown else 520, 560 if markdown else 420)


def show_page(win, title: str, text: str, markdown: bool = False) -> TextPage:
    page = TextPage(win, title, text, markdown)
    page.show()
    win.help_page = page   # tests read it; also keeps the dialog alive
    return page
