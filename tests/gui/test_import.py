"""File ▸ Import and Open with a column mapping (issue 8 item 6): guess, load, keep extras, errors beside
the field."""

import csv

from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication, QDialog

from workbench.data.columns import peek_columns
from workbench.gui.dataset.column_dialog import ColumnMappingDialog
from workbench.gui.common.tips import controls
from workbench.gui.dataset.loading import reading
from shared_data import realistic_rows

MAPPING = {"question": "Q", "answer": "A", "category": "topic", "group": "doc"}


def other_names_csv(path, n=30):
    rows = realistic_rows(n)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Q", "A", "topic", "doc", "url"])
        w.writerows([[r["question"], r["answer"], r["category"], r["document"], f"https://x/{i}"]
                     for i, r in enumerate(rows)])
    return rows


def header_of(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def dialog_for(qtbot, path):
    dlg = ColumnMappingDialog(str(path), peek_columns(path))
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def answer_dialog(win, action, seen):
    """Run `action(dialog)` on the mapping dialog once it is open (it runs modally inside Open/Import)."""
    def act():
        dlg = win.document.mapping_dialog
        if dlg is None and reading():          # Open reads the file in the background first: wait for that
            QTimer.singleShot(10, act)
            return
        seen.append(dlg)
        if dlg is not None:
            try:
                action(dlg)
            finally:
                if dlg.isVisible():
                    dlg.reject()
    QTimer.singleShot(0, act)


def test_dialog_guesses_the_mapping_and_loads_rows_with_their_extra_columns(qtbot, tmp_path):
    path = tmp_path / "mq.csv"
    rows = other_names_csv(path)
    dlg = dialog_for(qtbot, path)
    assert {r: c.currentText() for r, c in dlg.combos.items()} == MAPPING
    assert dlg.mapping() == MAPPING and not dlg.problems() and dlg.ok_btn.isEnabled()
    assert "url" in dlg.extras_label.text()
    assert dlg.save_label.text() == "Save and Save as write the header: Q, A, topic, doc, url."
    assert dlg.examples["question"].text().startswith("e.g. “" + rows[0]["question"][:20])
    dlg.keep_names.setChecked(False)
    assert dlg.save_label.text() == "Save and Save as write the header: question, answer, category, group, url."
    dlg.keep_names.setChecked(True)
    dlg.accept()
    assert dlg.result() == QDialog.Accepted
    ds = dlg.dataset
    assert len(ds) == 30 and ds.columns == ["group", "url"]
    assert ds.pairs[7].question == rows[7]["question"] and ds.pairs[7].answer == rows[7]["answer"]
    assert ds.pairs[7].category == rows[7]["category"]
    assert ds.pairs[7].extra == {"group": rows[7]["document"], "url": "https://x/7"}
    assert dlg.save_names == MAPPING


def test_a_mapping_naming_a_missing_column_shows_an_error_beside_the_field(qtbot, tmp_path):
    path = tmp_path / "mq.csv"
    other_names_csv(path, 5)
    dlg = dialog_for(qtbot, path)
    dlg.combos["answer"].setCurrentText("Answr")                       # typed, not in the file
    assert dlg.errors["answer"].isVisible() and "No column 'Answr'" in dlg.errors["answer"].text()
    assert not dlg.errors["question"].isVisible() and not dlg.ok_btn.isEnabled()
    dlg.combos["category"].setCurrentText("q")                         # Q, ignoring case: already the question
    assert "already the question column" in dlg.errors["category"].text()
    dlg.accept()                                                       # refused, not loaded, still open
    assert dlg.isVisible() and dlg.dataset is None and dlg.result() != QDialog.Accepted
    dlg.combos["answer"].setCurrentText("a")                           # any case, as load_dataset matches
    dlg.combos["category"].setCurrentText("")
    assert not dlg.errors["answer"].isVisible() and dlg.ok_btn.isEnabled()
    dlg.combos["question"].setCurrentText("")
    assert "Choose the column that holds the questions" in dlg.errors["question"].text()


def test_a_mapping_the_loader_rejects_is_shown_beside_its_field(qtbot, tmp_path):
    path = tmp_path / "clash.csv"
    path.write_text("Q,A,category,topic\nWhat is a cell?,One site of the grid.,bio,ml\n", encoding="utf-8")
    dlg = dialog_for(qtbot, path)
    assert dlg.combos["category"].currentText() == "category"
    dlg.combos["category"].setCurrentText("topic")       # while a column is called 'category': the loader refuses
    dlg.accept()
    assert dlg.isVisible() and dlg.dataset is None
    assert dlg.errors["category"].isVisible() and "clashes" in dlg.errors["category"].text()


def test_every_dialog_control_has_a_tooltip_and_a_status_tip_shown_when_hovered(qtbot, tmp_path):
    path = tmp_path / "mq.csv"
    other_names_csv(path, 3)
    dlg = dialog_for(qtbot, path)
    found = controls(dlg)
    assert len(found) >= 7            # four combo boxes, the checkbox, Import and Cancel
    missing = [f"{type(w).__name__} {w.objectName() or w.text() if hasattr(w, 'text') else ''}"
               for w in found if not w.toolTip() or not w.statusTip()]
    assert not missing, missing
    combo = dlg.combos["group"]
    QApplication.sendEvent(combo, QEnterEvent(QPointF(2, 2), QPointF(2, 2), QPointF(2, 2)))
    assert dlg.hint.text() == combo.statusTip() != ""


def test_open_on_a_file_without_our_names_asks_and_save_keeps_its_header(window, qtbot, tmp_path):
    path = tmp_path / "mq.csv"
    rows = other_names_csv(path, 20)
    seen = []
    answer_dialog(window, lambda dlg: dlg.accept(), seen)
    assert window.open_file(str(path))
    assert seen and seen[0] is not None                 # the dialog came up
    assert window.path == str(path) and window.model.rowCount() == 20
    assert "url" in window.model.columns and "group" in window.model.columns
    assert window.model.dataset.pairs[3].answer == rows[3]["answer"]
    window.model.set_text(0, "answer", "An edited answer.")
    assert window.save()
    assert header_of(path) == ["Q", "A", "topic", "doc", "url"]          # the user's header, as it was
    back = peek_columns(path)
    assert back.examples[0]["A"] == "An edited answer." and back.examples[1]["doc"] == rows[1]["document"]


def test_import_with_our_names_chosen_saves_question_answer_header(window, qtbot, tmp_path):
    path = tmp_path / "mq.csv"
    other_names_csv(path, 10)
    window.choose_path = lambda *a, **k: str(path)
    seen = []
    answer_dialog(window, lambda dlg: (dlg.keep_names.setChecked(False), dlg.accept()), seen)
    window.actions_["import"].trigger()
    assert seen and window.path == str(path) and window.model.rowCount() == 10
    assert window.save(str(tmp_path / "ours.csv"))
    assert header_of(tmp_path / "ours.csv") == ["question", "answer", "category", "group", "url"]


def test_import_asks_even_for_a_file_with_our_names_and_open_does_not(window, qtbot, tmp_path):
    path = tmp_path / "ours.csv"
    path.write_text("question,answer,category,source\nWhat is a cell?,One site of the grid.,bio,s1\n", encoding="utf-8")
    seen = []
    answer_dialog(window, lambda dlg: dlg.accept(), seen)
    assert window.document.import_file(str(path)) and seen[0] is not None
    assert window.model.columns[:4] == ["question", "answer", "category", "group"]     # 'source' guessed as the group
    assert window.document.save_names["group"] == "source"
    seen.clear()
    answer_dialog(window, lambda dlg: dlg.accept(), seen)
    assert window.open_file(str(path))
    qtbot.wait(10)                                       # let the timer fire: no dialog was open to answer
    assert seen == [None] and window.document.save_names == {}


def test_cancelling_leaves_the_current_dataset_untouched(window, qtbot, tmp_path):
    before_ds, before_path, before_rows = window.model.dataset, window.path, window.model.rowCount()
    window.model.set_text(0, "answer", "An unsaved edit.")
    path = tmp_path / "mq.csv"
    other_names_csv(path, 5)
    seen = []
    answer_dialog(window, lambda dlg: dlg.reject(), seen)
    assert not window.open_file(str(path))
    assert seen[0] is not None
    assert window.model.dataset is before_ds and window.path == before_path
    assert window.model.rowCount() == before_rows and window.model.dataset.pairs[0].answer == "An unsaved edit."
    assert not window.model.undo.isClean() and window.errors == []


def test_without_a_user_to_ask_open_says_which_mapping_would_do(window, tmp_path):
    path = tmp_path / "mq.csv"
    other_names_csv(path, 5)
    window.document.ask_columns = False                  # as under --screenshot
    assert not window.open_file(str(path))
    title, msg = window.errors[-1]
    assert title == "Cannot open dataset" and "--columns question=Q,answer=A" in msg


def test_a_file_opened_again_is_read_with_the_mapping_chosen_before(window, qtbot, tmp_path):
    path = tmp_path / "mq.csv"
    rows = other_names_csv(path, 12)
    seen = []
    answer_dialog(window, lambda dlg: (dlg.combos["category"].setCurrentText(""), dlg.accept()), seen)
    assert window.open_file(str(path)) and seen[0] is not None
    assert window.save(str(tmp_path / "copy.csv"))                 # Save as: the file's names, the same mapping
    for again in (path, tmp_path / "copy.csv"):                    # e.g. the next start reopening the last file
        seen.clear()
        answer_dialog(window, lambda dlg: dlg.accept(), seen)
        assert window.open_file(str(again))
        qtbot.wait(10)
        assert seen == [None] and window.model.rowCount() == 12    # no dialog: read as before
        assert window.model.dataset.pairs[2].extra["topic"] == rows[2]["category"]   # category stayed unmapped
        assert "column mapping chosen before" in window.statusBar().currentMessage()
    path.write_text("prompt,response\nWhat is a cell?,One site of the grid.\n", encoding="utf-8")
    seen.clear()
    answer_dialog(window, lambda dlg: dlg.accept(), seen)          # the file changed: the mapping no longer fits
    assert window.open_file(str(path)) and seen[0] is not None
    assert window.model.dataset.pairs[0].question == "What is a cell?"
