import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from workbench.data.dataset import load_dataset
from workbench.gui.dataset.model import INVALID

pytestmark = pytest.mark.gui


def test_edit_cell_changes_dataset_and_undo_restores(window):
    panel, model = window.dataset_panel, window.model
    idx = panel.index_of(2, 1)
    old = model.dataset.pairs[2].answer
    assert panel.proxy.setData(idx, "A brand new answer written in the table.")
    assert model.dataset.pairs[2].answer == "A brand new answer written in the table."
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    model.undo.undo()
    assert model.dataset.pairs[2].answer == old and not window.isWindowModified()
    model.undo.redo()
    assert model.dataset.pairs[2].answer.startswith("A brand new")


def test_invalid_edit_is_flagged_and_blocks_training(window):
    panel, model = window.dataset_panel, window.model
    panel.proxy.setData(panel.index_of(4, 1), "   ")
    # read through the model (as the view does): QModelIndex.data() from Python mishandles None in PySide6 6.12
    assert model.data(model.index(4, 1), Qt.BackgroundRole).color() == INVALID
    assert "empty" in model.data(model.index(4, 1), Qt.ToolTipRole)
    panel.proxy.setData(panel.index_of(6, 0), model.dataset.pairs[0].question)   # a repeated question is valid...
    assert model.row_problems(6) == {}
    panel.proxy.setData(panel.index_of(6, 1), model.dataset.pairs[0].answer)     # ...a repeated whole pair is not
    assert "same question and answer as row 1" in model.data(model.index(6, 1), Qt.ToolTipRole)
    asked = []
    window.ask = lambda title, text, *a: (asked.append(text), QMessageBox.No)[1]
    assert not window.start_training()                 # declined: nothing starts, the problems are shown
    assert "row 5, field 'answer'" in asked[-1] and window.run is None
    for _ in range(3):
        model.undo.undo()
    assert model.problems() == []


def test_add_duplicate_delete_with_undo(window):
    model = window.model
    n = model.rowCount()
    window.dataset_panel.add_row()
    assert model.rowCount() == n + 1 and model.problems()   # an empty new row is flagged, not hidden
    model.duplicate_rows([0, 1])
    assert model.rowCount() == n + 3
    model.delete_rows([0, 1, 2])
    assert model.rowCount() == n
    for _ in range(3):
        model.undo.undo()
    assert model.rowCount() == n


def test_search_category_filter_and_sort(window, qtbot):
    panel = window.dataset_panel
    n = panel.proxy.rowCount()
    panel.search.setText("gradient")
    qtbot.waitUntil(lambda: panel.proxy.rowCount() < n, timeout=2000)   # typing is debounced
    shown = [panel.proxy.data(panel.proxy.index(r, 0), Qt.EditRole) for r in range(panel.proxy.rowCount())]
    assert shown and all("gradient" in (q + a).lower() for q, a in
                         ((p.question, p.answer) for p in window.model.dataset.pairs if p.question in shown))
    panel.search.clear()
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == n, timeout=2000)
    panel.category.setCurrentText("programming")
    assert panel.proxy.rowCount() == 9
    panel.category.setCurrentText("all categories")
    panel.view.sortByColumn(3, Qt.DescendingOrder)   # question length, numerically
    lengths = [panel.proxy.data(panel.proxy.index(r, 3)) for r in range(panel.proxy.rowCount())]
    assert lengths == sorted(lengths, reverse=True)


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv"])
def test_import_then_export_round_trips(window, tmp_path, suffix):
    original = load_dataset(window.path).pairs
    out = tmp_path / f"exported{suffix}"
    assert window.save(str(out)) and window.path == str(out)
    assert window.open_file(str(out))
    assert window.model.dataset.pairs == original
    assert out.name in window.windowTitle()


def test_autosave_recovers_edits_after_a_crash(window, qtbot, data_copy, cache_dir):
    from workbench.gui.main_window import MainWindow
    window.dataset_panel.proxy.setData(window.dataset_panel.index_of(0, 0), "What is an edited question?")
    recovery = window.autosave()
    assert recovery and recovery.exists()
    # a second window opening the same file (the first one "crashed") offers the edits back
    other = MainWindow()
    qtbot.addWidget(other)
    other.ask = lambda *a: QMessageBox.Yes
    assert other.open_file(str(data_copy))
    assert other.model.dataset.pairs[0].question == "What is an edited question?"
    assert other.isWindowModified()
    other.model.undo.setClean()


def test_close_with_unsaved_changes_asks(window):
    window.dataset_panel.proxy.setData(window.dataset_panel.index_of(0, 2), "new_category")
    window.ask = lambda *a: QMessageBox.Cancel
    assert not window.close() and window.isVisible()
    window.ask = lambda *a: QMessageBox.Save
    assert window.close()
    assert load_dataset(window.path).pairs[0].category == "new_category"


def test_ten_thousand_rows_load_fast_and_scroll(window, tmp_path, qtbot):
    path = tmp_path / "big.csv"
    lines = ["question,answer,category"] + [f"Question number {i} about topic {i % 97}?,"
                                            f"Answer number {i} explains topic {i % 97} in a sentence.,cat{i % 5}"
                                            for i in range(10_000)]
    path.write_text("\n".join(lines) + "\n")
    t = time.perf_counter()
    assert window.open_file(str(path))
    qtbot.wait(1)
    elapsed = time.perf_counter() - t
    # a hang guard, not a speed claim (benchmarks/table_speed.py measures that): ~0.4 s on a quiet machine, so
    # 20 s is 50× what it needs, and a per-row widget or a per-row Python call at 10k rows would still blow it
    assert window.model.rowCount() == 10_000 and elapsed < 20.0, elapsed
    assert window.dataset_panel.view.verticalHeader().sectionResizeMode(0).name == "Fixed"   # no per-row sizing
    view = window.dataset_panel.view
    t = time.perf_counter()
    for frac in (0.25, 0.5, 0.75, 1.0):
        view.verticalScrollBar().setValue(int(view.verticalScrollBar().maximum() * frac))
        view.viewport().repaint()
    assert time.perf_counter() - t < 10.0      # four repaints of visible rows only: ~40 ms quiet, 250× margin
