"""One column of texts from a file, numbered by row: the answer bank and the questions of workbench-ask.

    texts, rows, notes = read_column("bank.csv", "answer")     # rows: 0-based data rows of the file

A bank is one column, not pairs, so a file holding only answers is fine: CSV, JSONL, JSON (a list of
objects) or Parquet with that column (read through pyarrow, every value as text), or a .txt file with one
text per line. Empty cells are left out and counted in a note, never dropped silently. A file that cannot
be read, or lacks the column, raises DataError with one line naming the file and the columns it has.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from workbench.data.pairs import DataError, Problem

SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".parquet", ".txt")


def _fail(path, message: str) -> DataError:
    return DataError([Problem(str(path), None, None, message)])


def _table_column(path: Path, raw: bytes, column: str) -> list:
    """The column's values (None for a missing cell), via pyarrow for CSV/JSONL/Parquet and json for a JSON list."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json.loads(raw.decode("utf-8-sig"))
        if not isinstance(data, list) or not all(isinstance(o, dict) for o in data):
            raise _fail(path, "expected a JSON list of objects")
        names = list(dict.fromkeys(k for o in data for k in o))
        return [o.get(column) for o in data] if column in names else _missing(path, column, names)
    if suffix == ".csv":
        table = pcsv.read_csv(io.BytesIO(raw), parse_options=pcsv.ParseOptions(newlines_in_values=True),
                              convert_options=pcsv.ConvertOptions(
            column_types={column: pa.string()}, strings_can_be_null=False, quoted_strings_can_be_null=False))
    elif suffix == ".parquet":
        table = pq.read_table(io.BytesIO(raw))
    else:
        table = pjson.read_json(io.BytesIO(raw))
    names = [str(n) for n in table.column_names]
    return table.column(column).to_pylist() if column in names else _missing(path, column, names)


def _missing(path, column: str, names: list[str]):
    raise _fail(path, f"no column '{column}' (the file's columns: {', '.join(names) or 'none'})")


def read_column(path: str | Path, column: str) -> tuple[list[str], list[int], list[str]]:
    """(texts, 0-based rows, notes) of the non-empty cells of `column` (ignored for .txt: every line)."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise _fail(path, f"unknown file type '{path.suffix}'; use {', '.join(SUFFIXES)}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot read file: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".txt":
        values: list = raw.decode("utf-8-sig", errors="surrogateescape").splitlines()
    else:
        import pyarrow as pa
        try:
            values = _table_column(path, raw, column)
        except (pa.ArrowException, UnicodeDecodeError, ValueError) as exc:
            raise _fail(path, f"cannot read as a {path.suffix.lstrip('.')} table: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    texts, rows = [], []
    for i, v in enumerate(values):
        text = v if isinstance(v, str) else "" if v is None else json.dumps(v) if isinstance(v, (list, dict)) else str(v)
        if text.strip():
            texts.append(text)
            rows.append(i)
    empty = len(values) - len(texts)
    notes = [f"{path}: {empty:,} of {len(values):,} rows have no text in '{column}' and are left out"] if empty else []
    return texts, rows, notes
