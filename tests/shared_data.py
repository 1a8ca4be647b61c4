"""The shared real corpora (read-only, next to the repo in CI as ../shared/data); tests read small slices."""

from __future__ import annotations

import csv
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_data(name: str) -> Path:
    """../shared/data/NAME beside the repo; a git worktree one level deeper looks one folder further up."""
    for base in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data"):
        if (base / name).exists():
            return base / name
    raise FileNotFoundError(f"{name} not found in ../shared/data (CI provides it beside the repo)")


def medquad_rows(n: int, start: int = 0) -> list[dict[str, str]]:
    with shared_data("medquad_dev.csv").open(newline="", encoding="utf-8") as fh:
        return list(islice(csv.DictReader(fh), start, start + n))


def write_rows_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """rows (e.g. from medquad_rows) as a CSV with their own header, for a test's data file."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return Path(path)
