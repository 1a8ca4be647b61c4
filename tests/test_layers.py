"""The package's stages import one way (gui|cli → train → model|teacher → data) and the core never imports Qt.

The contracts live in pyproject.toml ([tool.importlinter]); this test runs import-linter on them, so a
wrong-way import fails CI with the offending import chain in the message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    proc = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                           "sys.exit(lint_imports_command())"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout, proc.stdout


def test_contract_catches_a_wrong_way_import(tmp_path):
    """The checker is live: a data module that imports the trainer breaks the layers contract."""
    import shutil
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "workbench", copy / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "workbench" / "data" / "leak.py").write_text("from ..train import trainer  # wrong way\n")
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, '.'); "
                           "from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"],
                          cwd=copy, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "workbench.data.leak" in proc.stdout
