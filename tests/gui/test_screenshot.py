"""`workbench FILE --screenshot out.png` says what it did, or why it did not train (issue 8)."""

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.gui


def run_app(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())


@pytest.mark.slow
def test_screenshot_trains_without_rows_with_errors_and_says_so(env_dirs, data_copy, tmp_path):
    lines = data_copy.read_text(encoding="utf-8").splitlines()
    lines[3] = '"What is a question without an answer?",,demo'          # row 3: an error
    data_copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "shot.png"
    proc = run_app(data_copy, "--screenshot", out, "--epochs", 1)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "training 1 epoch(s) on 44 of 45 rows, without 1 with errors" in proc.stdout
    assert "run completed" in proc.stdout and f"screenshot of the window saved to {out}" in proc.stdout
    img = QImage(str(out))
    assert img.width() >= 960 and img.height() >= 600


def test_screenshot_without_rows_says_why_and_fails(env_dirs, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("question,answer,category\n", encoding="utf-8")
    out = tmp_path / "shot.png"
    proc = run_app(empty, "--screenshot", out)
    assert proc.returncode == 2
    assert "not training: no dataset is open" in proc.stderr or "not training" in proc.stderr, proc.stderr
    assert out.exists()          # the window is still captured, showing what the user would see
