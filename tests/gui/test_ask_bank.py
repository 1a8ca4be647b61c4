"""Ask knows its bank (under Xvfb): the bank is chosen explicitly, identical answers are shown once with their
count, a table that is not the run's data gets a warning, and row labels come from the run's pairs by content.
Also the app's Run ▸ Export… and "start from a trained run"."""

from __future__ import annotations

import os

import pytest

from helpers import SAMPLE_45, cli_run
from workbench.gui.inspect.probe_session import FILE, NOT_IN_RUN, RUN_VAL, TABLE
from workbench.train.record.pairs_record import read_run_pairs

pytestmark = pytest.mark.gui
FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8", "--seed", "3"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, cache_dir):
    return cli_run(tmp_path_factory.mktemp("ask-bank") / "run", SAMPLE_45, cache_dir, 1, FAST)


def _ask(qtbot, panel, question: str):
    panel.question.setText(question)
    with qtbot.waitSignal(panel.answered, timeout=120_000) as got:
        assert panel.ask()
    assert got.args[0] is not None, panel.status.text()
    return got.args[0]


def _other_table(tmp_path) -> str:
    """A table that is not the run's data: the sample's pairs with every question and answer reworded."""
    lines = SAMPLE_45.read_text(encoding="utf-8").splitlines()
    out = [lines[0]] + [line.replace(",", ", (reworded)", 1) for line in lines[1:]]
    path = tmp_path / "other.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return str(path)


def test_the_bank_is_chosen_and_identical_answers_are_shown_once(window, run_dir, qtbot, tmp_path):
    panel = window.ask_panel
    panel.set_checkpoint(str(run_dir / "best.safetensors"))
    assert panel.bank.currentData() == TABLE
    res = _ask(qtbot, panel, "What does dropout do?")
    assert res["source"] == "the open table" and res["rows"] == len(window.model.dataset.pairs)
    assert not res["warning"] and panel.warning.isHidden()            # the open table is the run's own data

    panel.set_bank(RUN_VAL)
    res = _ask(qtbot, panel, "What does dropout do?")
    n_val = len(read_run_pairs(run_dir).val_pairs)
    assert res["source"] == "this run's validation answers" and res["rows"] == n_val

    bank = tmp_path / "bank.csv"
    same = "Dropout turns off random units while training."
    bank.write_text(f"answer\n{same}\nRice is cooked in water.\n{same}\nA learning rate sets the step size.\n"
                    f"{same}\n", encoding="utf-8")
    panel.set_bank_file(str(bank))
    assert panel.bank.currentData() == FILE and "bank.csv" in panel.bank.currentText()
    res = _ask(qtbot, panel, "What does dropout do?")
    assert (res["rows"], res["distinct"]) == (5, 3)
    for table in (panel.model_table, panel.identity_table):
        assert table.rowCount() == 3                                      # 3 distinct answers, not 5 rows
        rows = {table.item(r, 3).text(): table.item(r, 2).text() for r in range(3)}
        assert rows[same] == "×3" and rows["Rice is cooked in water."] == ""
    assert "3 distinct answers" in panel.status.text() and "2 repeat" in panel.status.text()


def test_a_table_that_is_not_the_runs_data_is_warned_about(window, run_dir, qtbot, tmp_path):
    panel = window.ask_panel
    panel.set_checkpoint(str(run_dir / "best.safetensors"))
    assert window.document.open(_other_table(tmp_path))
    res = _ask(qtbot, panel, "What does dropout do?")
    assert "not the data this run was trained on" in res["warning"] and "0 of its 45 rows" in res["warning"]
    assert panel.warning.isVisibleTo(panel) and "not the data this run was trained on" in panel.warning.text()


def test_row_labels_come_from_the_runs_pairs_by_content(window, run_dir, qtbot, tmp_path):
    window.ask_panel.set_checkpoint(str(run_dir / "best.safetensors"))
    rp = read_run_pairs(run_dir)
    pairs = window.model.dataset.pairs
    splits = [rp.split_of(p.question, p.answer) for p in pairs]
    assert not window.model.splits                                       # no run in this app: nothing by identity
    for split, label in (("train", "train pair"), ("val", "validation pair")):
        row = splits.index(split)
        with qtbot.waitSignal(window.inspector.traced, timeout=120_000):
            assert window.inspect_row(row)
        assert window.lattice.latest.what.startswith(f"row {row + 1} ({label})")
    assert window.document.open(_other_table(tmp_path))
    with qtbot.waitSignal(window.inspector.traced, timeout=120_000):
        assert window.inspect_row(0)
    assert window.lattice.latest.what.startswith(f"row 1 ({NOT_IN_RUN})")


def test_start_from_a_trained_run_sets_init_from(window, run_dir):
    row = window.training.init_from
    assert row.label.text() == "from scratch" and not row.clear_btn.isEnabled()
    assert row.set_run(str(run_dir))
    assert window.training.form.config.init_from == str(run_dir.resolve())
    assert "fine-tunes" in row.label.text() and row.clear_btn.isEnabled()
    row.clear_btn.click()
    assert window.training.form.config.init_from == ""


def test_run_export_writes_the_onnx_model(window, run_dir, qtbot, tmp_path):
    if not os.environ.get("LATTICE_WORKBENCH_CI"):
        pytest.importorskip("onnxscript", reason="the 'onnx' extra is not installed (CI installs it with 'test')")
    from workbench.gui.inspect.export import export_to
    assert window.actions_["export"].text() == "E&xport…"                 # Run ▸ Export…
    window.ask_panel.set_checkpoint(str(run_dir / "best.safetensors"))
    done = []
    assert export_to(window, str(tmp_path / "m.onnx"), done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=180_000)
    assert done[0].ok, done[0].details
    assert (tmp_path / "m.onnx").stat().st_size > 1000 and "exported the run's map" in window.statusBar().currentMessage()
