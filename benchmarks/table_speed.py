"""Dataset table figures on a real corpus: open, scroll, search, filter, edit, save (issue 8, item 8).

Run under a display: `xvfb-run -a python benchmarks/table_speed.py [FILE]` (default
../shared/data/medquad_dev.csv, 13,191 pairs with answers up to 27k characters). Prints, for
this run: load + show time, scroll-and-paint time, the time from a keystroke's debounced search to
the filtered table, category filter time, sort time per column, one edit (with its re-check) and its undo, and an
atomic save. Figures vary with the machine; ratios between them are what to compare.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "medquad_dev.csv"
SEARCHES = ("cancer", "what causes", "genetic changes", "zzzz-no-match", "a")


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        sys.exit(f"table_speed: {path} not found; pass a dataset file")
    tmp = tempfile.mkdtemp()
    for kind in ("runs", "autosave", "documents"):
        os.environ[f"LATTICE_WORKBENCH_{kind.upper()}"] = str(Path(tmp) / kind)
    os.environ["LATTICE_WORKBENCH_SETTINGS"] = str(Path(tmp) / "settings.ini")
    from PySide6.QtWidgets import QApplication
    from workbench.gui.main_window import MainWindow
    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow()
    win.show()
    app.processEvents()

    t = time.perf_counter()
    assert win.open_file(str(path)), win.last_error
    app.processEvents()
    open_s = time.perf_counter() - t
    model, panel, view = win.model, win.dataset_panel, win.dataset_panel.view
    n = model.rowCount()
    print(f"{path.name}: {n:,} rows, columns {', '.join(model.columns)}")
    counts = {lv: sum(c.values()) for lv, c in model.checks.counts().items()}
    print(f"open (load, check every row, show): {open_s:.2f} s; problems: {counts}")

    bar = view.verticalScrollBar()

    def scroll():
        for frac in (0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 0.0):
            bar.setValue(int(bar.maximum() * frac))
            view.viewport().repaint()
    print(f"scroll: 7 jumps with a full repaint each: {best(scroll) * 1000:.0f} ms")

    proxy = panel.proxy
    for text in SEARCHES:
        def search():
            proxy.set_text(text)
            view.viewport().repaint()
        s = best(search)
        shown = proxy.rowCount()
        proxy.set_text("")
        print(f"search {text!r:>18}: {s * 1000:6.1f} ms after the {panel._search_timer.interval()} ms typing pause, "
              f"{shown:,} rows shown")
    cats = [panel.category.itemText(i) for i in range(1, panel.category.count())]
    if cats:
        def category():
            panel.category.setCurrentText(cats[len(cats) // 2])
            panel.category.setCurrentIndex(0)
        print(f"category filter on and off: {best(category) * 1000:.1f} ms ({len(cats)} categories)")
    panel.category.setCurrentIndex(0)
    from PySide6.QtCore import Qt
    for name in ("A len", "question"):
        col = model.column_of(name)
        s = best(lambda: (view.sortByColumn(col, Qt.DescendingOrder), view.viewport().repaint()))
        print(f"sort by {name!r} (header click): {s * 1000:.0f} ms")
    view.sortByColumn(-1, Qt.AscendingOrder)

    row = n // 2
    old = model.dataset.pairs[row].answer
    edit_s = best(lambda: (model.set_text(row, "answer", old + " (edited)"), model.undo.undo()), repeat=3)
    assert model.dataset.pairs[row].answer == old
    print(f"edit one cell and undo it (each re-checks the table): {edit_s * 1000:.1f} ms")
    model.set_text(row, "answer", old + " (edited)")
    out = Path(tmp) / "documents" / "saved.csv"
    save_s = best(lambda: win.save(str(out)), repeat=1)
    print(f"atomic save of {n:,} rows: {save_s:.2f} s ({out.stat().st_size / 1e6:.1f} MB)")
    win.model.undo.setClean()
    win.close()


if __name__ == "__main__":
    main()
