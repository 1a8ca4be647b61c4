"""The app suggests the 'large-data' preset for thousands of pairs, without blocking anything."""


import pytest

from shared_data import realistic_rows, write_rows_csv
from workbench.train.config import LARGE_DATA_MIN_PAIRS

pytestmark = pytest.mark.gui


def test_large_dataset_gets_a_preset_suggestion(window, qtbot, tmp_path):
    window.window_layout.show_training()
    hint = window.training.preset_hint
    assert not hint.isVisible()                      # 45 pairs: no suggestion
    big = tmp_path / "big.csv"
    rows = realistic_rows(LARGE_DATA_MIN_PAIRS)
    write_rows_csv(big, rows)
    assert window.open_file(str(big))
    qtbot.waitUntil(hint.isVisible, timeout=3000)
    assert f"{LARGE_DATA_MIN_PAIRS:,} pairs" in hint.text.text()
    assert window.training.start_btn.isEnabled()     # a suggestion, not a gate
    hint.use_btn.click()
    form = window.training.form
    assert form.preset.currentText() == "large-data" and not hint.isVisible()
    assert (form.config.optim.batching, form.config.optim.scheduler, form.config.lattice.steps) == ("group", "cosine", 4)
    # the form already holds the preset: reopening the file does not suggest it again
    assert window.open_file(str(big)) and not hint.isVisible()
