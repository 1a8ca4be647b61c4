"""Where the app keeps its files: runs, autosave, settings, and the shipped sample data it must not overwrite."""

from __future__ import annotations

import os
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "sample_data"   # workbench/gui/common/ → the repo root
SAMPLE = SAMPLE_DIR / "pairs_160.csv"


def user_dir(kind: str) -> Path:
    """Per-user folder for one kind of file ("runs", "autosave", …); $LATTICE_WORKBENCH_<KIND> overrides it (tests)."""
    env = os.environ.get(f"LATTICE_WORKBENCH_{kind.upper()}")
    if env:
        return Path(env)
    from platformdirs import user_data_dir
    return Path(user_data_dir("lattice-workbench")) / kind


def is_shipped_sample(path: str | os.PathLike | None) -> bool:
    """True for files of the shipped sample_data/ folder: saving there would change the product, not the user's data."""
    if not path:
        return False
    try:
        return Path(path).resolve().is_relative_to(SAMPLE_DIR.resolve())
    except OSError:
        return False


def user_documents_dir() -> Path:
    """Where "Save As" proposes a copy of the sample: the user's documents folder ($LATTICE_WORKBENCH_DOCUMENTS in tests)."""
    env = os.environ.get("LATTICE_WORKBENCH_DOCUMENTS")
    if env:
        return Path(env)
    from platformdirs import user_documents_dir as docs
    return Path(docs())
