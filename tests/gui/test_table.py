"""The dataset table with MedQuAD-shaped rows (issue 8 items 2 and 8, issue 11 item 3)."""

import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPlainTextEdit

from shared_data import realistic_rows, write_rows_csv
from workbench.data.dataset import Dataset, load_dataset, validate
from workbench.gui.dataset.model import ELIDE, WARNED
from workbench.gui.dataset.checks import rules_from_config

pytestmark = pytest.mark.gui


@pytest.fixture
def medquad_slice(tmp_path):
    """300 MedQuAD-shaped pairs (answers up to thousands of characters, repeated questions, a 'document' column)."""
    return write_rows_csv(tmp_path / "medquad_300.csv", realistic_rows(300))


def table_problems(model):
    return sorted((r + 1, it.field, it.level, it.kind, it.message) for r, it in model.checks.flat())


def run_problems(model, cfg):
    ds = Dataset(list(model.dataset.pairs))
    return sorted((p.row, p.field or "", p.level, p.kind, p.message) for p in validate(ds, rules_from_config(cfg)))


def test_table_shows_the_same_problems_as_the_run(window, medquad_slice, qtbot):
    assert window.open_file(str(medquad_slice))
    model, form = window.model, window.training.form
    assert table_problems(model) == run_problems(model, form.config)
    assert any(level == "note" for _, _, level, _, _ in table_problems(model))    # repeated questions, long answers
    first = model.dataset.pairs[0]
    model.set_text(5, "question", first.question)          # a repeat of a question: a note
    model.set_text(5, "answer", first.answer)              # now a repeat of the whole pair: a warning
    model.set_text(7, "answer", "")                        # an error
    model.set_text(9, "question", "Q")                     # too short: a warning
    model.duplicate_rows([10, 11])
    model.delete_rows([2])
    assert table_problems(model) == run_problems(model, form.config)
    assert model.data(model.index(4, 1), Qt.BackgroundRole).color() == WARNED      # row 6 moved up by one
    form.set_value("data.min_chars", 40)                   # the config's rules reach the table at once
    assert table_problems(model) == run_problems(model, form.config)
    assert any(kind == "too_short" and row > 20 for row, _, _, kind, _ in table_problems(model))
    form.set_value("data.min_chars", 2)
    while model.undo.canUndo():
        model.undo.undo()
    assert table_problems(model) == run_problems(model, form.config)


def test_extra_columns_are_shown_edited_and_saved(window, medquad_slice, tmp_path):
    assert window.open_file(str(medquad_slice))
    model = window.model
    assert model.columns[:4] == ["question", "answer", "category", "document"]
    col = model.column_of("document")
    doc = model.dataset.pairs[0].extra["document"]
    assert model.data(model.index(0, col)) == doc
    assert window.dataset_panel.proxy.setData(window.dataset_panel.index_of(0, col), "doc-renamed")
    assert "document" in window.dataset_panel.row_editor.extra
    out = tmp_path / "saved.csv"
    assert window.save(str(out))
    again = load_dataset(out)
    assert again.columns == ["document"] and again.pairs[0].extra["document"] == "doc-renamed"
    assert [p.answer for p in again.pairs] == [p.answer for p in load_dataset(medquad_slice).pairs]
    window.model.undo.undo()
    assert model.dataset.pairs[0].extra["document"] == doc


def test_long_answers_are_elided_in_the_cell_and_whole_in_the_row_editor(window, medquad_slice, qtbot):
    assert window.open_file(str(medquad_slice))
    model, panel = window.model, window.dataset_panel
    row = max(range(model.rowCount()), key=lambda r: len(model.dataset.pairs[r].answer))
    full = model.dataset.pairs[row].answer
    assert len(full) > 3000
    assert len(model.data(model.index(row, 1))) <= ELIDE + 1
    panel.go_to_row(row)
    ed = panel.row_editor
    assert ed.row == row and ed.answer.toPlainText() == full
    ed.answer.setPlainText(full + " Reviewed.")
    ed.category.setText("reviewed")
    assert ed.apply()
    assert model.dataset.pairs[row].answer.endswith("Reviewed.") and model.dataset.pairs[row].category == "reviewed"
    model.undo.undo()                                      # both fields come back in one step
    assert model.dataset.pairs[row].answer == full and model.dataset.pairs[row].category != "reviewed"
    assert ed.answer.toPlainText() == full
    ed.question.setPlainText("What is typed here and left by clicking another row?")
    panel.go_to_row(0)                                     # moving on applies, never loses the typing
    assert model.dataset.pairs[row].question == "What is typed here and left by clicking another row?"


def test_enter_commits_a_cell_edit_and_shift_enter_adds_a_line(window, qtbot):
    panel = window.dataset_panel
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    idx = panel.index_of(3, 1)
    panel.view.setCurrentIndex(idx)
    panel.view.edit(idx)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QPlainTextEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "First line")
    qtbot.keyClick(editor, Qt.Key_Return, Qt.ShiftModifier)
    qtbot.keyClicks(editor, "second line")
    qtbot.keyClick(editor, Qt.Key_Return)
    assert window.model.dataset.pairs[3].answer == "First line\nsecond line"
    assert not isinstance(QApplication.focusWidget(), QPlainTextEdit)     # the editor closed
    window.model.undo.undo()
    assert window.model.dataset.pairs[3].answer != "First line\nsecond line"


def test_problem_list_counts_filters_and_jumps_to_a_hidden_row(window, qtbot):
    model, panel = window.model, window.dataset_panel
    problems = panel.problem_panel
    model.set_text(10, "answer", "")
    model.set_text(20, "question", "x")
    qtbot.waitUntil(lambda: problems.items.rowCount() == 2, timeout=2000)
    assert "2 would" not in problems.summary.text() and "1 error" in problems.summary.text()
    assert "Problems (2)" == panel.lower.tabText(1)
    problems.search.setText("too short")
    assert problems.proxy.rowCount() == 1
    panel.search.setText("no row contains this text")
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 0, timeout=2000)
    problems.view.clicked.emit(problems.proxy.index(0, 3))
    assert panel.selected_rows() == [20] and panel.row_editor.row == 20     # filters cleared to show it
    assert panel.search.text() == ""
    problems.level.setCurrentText("error")
    problems.search.clear()
    assert problems.proxy.rowCount() == 1


def test_start_offers_to_train_without_rows_with_errors(window, qtbot):
    from gui_helpers import wait_for_run
    model = window.model
    n = model.rowCount()
    model.set_text(4, "answer", "")
    model.set_text(8, "question", " ")
    asked = []
    window.ask = lambda title, text, *a: (asked.append((title, text)), QMessageBox.Yes)[1]
    assert window.start_training()
    title, text = asked[-1]
    assert title == "Train without 2 rows?" and f"{n - 2:,} rows would train" in text
    ds = window.run.worker.dataset
    assert len(ds) == n - 2 and 5 not in ds.rows and 9 not in ds.rows and ds.rows[4] == 6
    assert model.rowCount() == n                           # the table itself is not changed
    window.stop_training()
    wait_for_run(qtbot, window)


def test_thirteen_thousand_rows_search_edit_undo_and_save(window, tmp_path, qtbot):
    """Functional checks at MedQuAD's size; speed figures are in benchmarks/table_speed.py."""
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["question", "answer", "category", "document"])
        for i in range(13_000):
            w.writerow([f"What is topic {i} about condition {i % 311}?",
                        f"Condition {i % 311} " + "is described at length. " * (5 + i % 200),
                        f"cat{i % 7}", f"doc{i // 3}"])
    assert window.open_file(str(path))
    model, panel = window.model, window.dataset_panel
    assert model.rowCount() == 13_000 and model.columns[3] == "document"
    panel.search.setText("CONDITION 17 ")
    expected = sum("condition 17 " in (p.question + " " + p.answer).casefold() for p in model.dataset.pairs)
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == expected, timeout=5000)
    assert 0 < expected < 13_000
    panel.search.setText("doc4001")                        # extra columns are searched too
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 3, timeout=5000)
    panel.search.clear()
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 13_000, timeout=5000)
    model.set_text(12_345, "answer", "A short edited answer.")
    panel.search.setText("short edited")                   # the index follows edits
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 1, timeout=5000)
    model.undo.undo()
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 0, timeout=5000)
    model.set_text(0, "category", "edited")
    out = tmp_path / "out.csv"
    assert window.save(str(out))
    assert not list(tmp_path.glob(".out.csv.*"))           # no temp file left: written atomically
    again = load_dataset(out)
    assert len(again) == 13_000 and again.pairs[0].category == "edited" and again.pairs[5].extra["document"] == "doc1"


def test_saving_over_a_file_with_unreadable_records_asks(window, tmp_path, qtbot):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"question": "What is kept?", "answer": "This row."}\n{"question": "What is cut\n', encoding="utf-8")
    assert window.open_file(str(path))
    assert window.model.rowCount() == 1 and len(window.model.file_problems) == 1
    problems = window.dataset_panel.problem_panel
    qtbot.waitUntil(lambda: problems.items.rowCount() >= 1, timeout=2000)
    assert problems.items.items[0][0] == -1 and "not in the table" in problems.items.items[0][3]
    window.model.set_text(0, "category", "new")
    asked = []
    window.ask = lambda title, *a: (asked.append(title), QMessageBox.Cancel)[1]
    assert not window.save()
    assert asked == ["Overwrite records the table could not read?"]
    assert "What is cut" in path.read_text(encoding="utf-8")
    window.ask = lambda *a: QMessageBox.Yes
    assert window.save() and window.model.file_problems == []


def test_sorting_is_by_value_keeps_row_numbers_and_follows_edits(window, medquad_slice, qtbot):
    assert window.open_file(str(medquad_slice))
    model, panel = window.model, window.dataset_panel
    proxy, view = panel.proxy, panel.view
    a_len = model.column_of("A len")
    view.sortByColumn(a_len, Qt.DescendingOrder)
    lengths = [proxy.data(proxy.index(r, a_len)) for r in range(proxy.rowCount())]
    assert lengths == sorted(lengths, reverse=True) and len(lengths) == model.rowCount()
    top = proxy.mapToSource(proxy.index(0, 0)).row()
    assert proxy.headerData(0, Qt.Vertical) == str(top + 1)            # the dataset's row number, not the position
    panel.go_to_row(5)
    model.set_text(5, "answer", "x" * 40_000)                          # now the longest: it moves to the top
    assert proxy.mapToSource(proxy.index(0, 0)).row() == 5
    assert panel.selected_rows() == [5] and panel.row_editor.row == 5  # the selection moved with it
    panel.search.setText("x" * 30)
    qtbot.waitUntil(lambda: proxy.rowCount() == 1, timeout=3000)
    assert panel.selected_rows() == [5]
    model.undo.undo()                                                  # no longer matches the search
    qtbot.waitUntil(lambda: proxy.rowCount() == 0, timeout=3000)
    panel.search.clear()
    qtbot.waitUntil(lambda: proxy.rowCount() == model.rowCount(), timeout=3000)
    view.sortByColumn(0, Qt.AscendingOrder)                            # text: case-insensitive
    questions = [model.dataset.pairs[proxy.mapToSource(proxy.index(r, 0)).row()].question.casefold()
                 for r in range(proxy.rowCount())]
    assert questions == sorted(questions)


def test_counts_of_rows_to_train_match_what_the_run_keeps(window, medquad_slice):
    from workbench.data.dataset import apply_rules
    assert window.open_file(str(medquad_slice))
    model = window.model
    model.set_text(3, "answer", "")                                   # error
    model.set_text(4, "answer", model.dataset.pairs[4].answer + "\x00")  # control character: cleaned, kept
    model.set_text(6, "question", model.dataset.pairs[0].question)
    model.set_text(6, "answer", model.dataset.pairs[0].answer)        # exact repeat: dropped
    checks = model.checks
    keep = [i for i in range(model.rowCount()) if i not in set(checks.rows_at("error"))]
    ds = Dataset(list(model.dataset.pairs)).subset(keep)
    rules = rules_from_config(window.training.form.config)
    kept = apply_rules(ds, validate(ds, rules))
    assert len(kept) == len(keep) - len(checks.rows_dropped_by_run())
    assert 4 not in checks.rows_dropped_by_run() and 6 in checks.rows_dropped_by_run()
