"""Read and write dialogue pairs as CSV, JSONL, JSON or Parquet, with an optional column mapping.

`load_dataset(path, columns={"question": "Q", "answer": "A", "category": "C", "group": "G"})`
reads a file whose columns have other names (the CLI's `--columns question=Q,answer=A`, the
app's import). Mapped columns take our names; every other column is kept as an extra column
(`DialoguePair.extra`, `Dataset.columns`), shown by the app and written back on save.

Only a file that cannot be read as a table raises DataError (unknown type, unreadable, no
header, a missing question/answer column, broken JSON or Parquet), or one that cannot fit in memory
(stream.py: checked before reading, bounded while reading). Reading is streamed (read_csv.py,
read_json.py; Parquet by row group here): a record over the record-size limit is skipped without
being held and reported (over_limit) like any other record that cannot be used. A record that does not parse
or holds a value of the wrong type is kept out of `pairs`, or kept with its value blanked, and
reported in `Dataset.load_problems` (level "error"), so `rules.validate` lists it with the rest.
Rows are numbered from 1 over the data records (the CSV header is not a row); for CSV and JSONL
the problem also gives the line. Undecodable bytes are kept (as surrogate escapes) so the rules
can name the row, and are written back unchanged on save.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from workbench.data.atomic import atomic_open
from workbench.data.names import REQUIRED, ROLES, header_names, resolve  # noqa: F401  (REQUIRED, header_names: re-exported)
from workbench.data.pairs import FIELDS, DataError, Dataset, Problem
from workbench.data.read_csv import load_csv
from workbench.data.read_json import load_json, load_jsonl
from workbench.data.records import RowSink, skipped
from workbench.data.stream import MAX_RECORD_CHARS, check_fits, check_parquet_sizes

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet"}


def parse_columns(spec: str | dict | None) -> dict[str, str]:
    """'question=Q,answer=A[,category=C,group=G]' → {"question": "Q", ...}; a dict is checked and returned."""
    if not spec:
        return {}
    items = spec.items() if isinstance(spec, dict) else [part.split("=", 1) if "=" in part else (part, None)
                                                          for part in str(spec).split(",") if part.strip()]
    out: dict[str, str] = {}
    for role, col in items:
        role = role.strip().lower()
        if role not in ROLES or not col or not str(col).strip():
            raise DataError([Problem("--columns", None, None, f"expected ROLE=COLUMN with ROLE one of "
                                     f"{', '.join(ROLES)}, got {role}={col or ''!s}")])
        out[role] = str(col).strip()
    return out


def format_of(path: str | os.PathLike) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise DataError([Problem(str(path), None, None,
                                 f"unknown file type '{Path(path).suffix}'; use .csv, .jsonl, .json or .parquet")])
    return fmt


# ----------------------------------------------------------------------------- loading

def _over_limit(table, limit: int) -> dict[int, tuple[int, int]]:
    """Rows of a row group with a text or bytes value over `limit` (computed in Arrow, not per cell in Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    out: dict[int, tuple[int, int]] = {}
    for j, col in enumerate(table.columns):
        text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
        if not (text or pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type)):
            continue
        lengths = pc.utf8_length(col) if text else pc.binary_length(col)
        if (pc.max(lengths).as_py() or 0) > limit:
            for i, n in enumerate(lengths.to_pylist()):
                if n is not None and n > limit and i not in out:
                    out[i] = (j, n)
    return out


def _load_parquet(path: str, columns: dict[str, str], progress=None, limit: int = MAX_RECORD_CHARS) -> Dataset:
    """Row group by row group; sizes are checked from the file's metadata before any data is read."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        pf = pq.ParquetFile(path)                # the footer only: schema, row groups, their sizes
        md = pf.metadata
        names = resolve(list(pf.schema_arrow.names), columns, path)
        check_parquet_sizes(path, md, limit)
        sink, row = RowSink(names, path, []), 0
        for g in range(md.num_row_groups):
            table = pf.read_row_group(g)
            rg = md.row_group(g)
            # {row in the group: (column, length)}; none can be over when every column chunk is smaller than that
            small = all(rg.column(j).total_uncompressed_size <= limit for j in range(rg.num_columns))
            over = {} if small else _over_limit(table, limit)
            cols = [table.column(j).to_pylist() for j in range(table.num_columns)]
            del table
            for i, (j, n) in sorted(over.items()):
                sink.problems.append(skipped(path, row + i + 1, None, names[j], n, n, limit))
            sink.extend((row + i + 1, None, cells) for i, cells in enumerate(zip(*cols)) if i not in over)
            row += md.row_group(g).num_rows
            if progress is not None:
                progress(g + 1, md.num_row_groups)
    except (pa.ArrowException, OSError, ValueError, TypeError, MemoryError) as exc:
        raise DataError([Problem(path, None, None, f"not a readable Parquet file: {exc}")]) from None
    return sink.done(row)


def load_dataset(path: str | os.PathLike, columns: dict[str, str] | str | None = None, *, progress=None,
                 limit: int = MAX_RECORD_CHARS) -> Dataset:
    """Parse a dataset file. Raises DataError only when the file as a whole cannot be read as a table
    (or cannot fit in memory, see stream.py). A record over `limit` characters is reported (over_limit)
    and skipped without being held whole. `progress(done, total)` is called as reading goes (bytes, or
    Parquet row groups; total None for a file without a size) and may raise stream.LoadCancelled."""
    name = str(path)
    fmt = format_of(path)
    mapping = parse_columns(columns)
    if fmt == "parquet":
        check_fits(name, fmt)
        return _load_parquet(name, mapping, progress, limit)
    load = {"csv": load_csv, "jsonl": load_jsonl, "json": load_json}[fmt]
    try:
        return load(name, mapping, progress, limit)
    except UnicodeDecodeError:             # a UTF-16 BOM on a file that is not UTF-16: read it as UTF-8
        return load(name, mapping, progress, limit, utf8=True)


# ----------------------------------------------------------------------------- saving

def _column_names(ds: Dataset) -> list[str]:
    extra = dict.fromkeys(ds.columns)
    for p in ds.pairs:
        if p.extra:
            extra.update(dict.fromkeys(p.extra))
    return list(FIELDS) + [n for n in extra if n not in FIELDS]


def _parquet_bytes(ds: Dataset, names: list[str], header: list[str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    data = {h: [getattr(p, n) if n in FIELDS else p.extra.get(n, "") for p in ds.pairs] for n, h in zip(names, header)}
    try:
        table = pa.table({n: pa.array(v, type=pa.string()) for n, v in data.items()})
    except (pa.ArrowException, UnicodeEncodeError):
        from workbench.data.rules import _UNDECODABLE
        bad = [Problem(ds.path, r, n, "contains bytes that are not valid UTF-8; Parquet holds UTF-8 only "
                       "(fix the text, or save as CSV or JSON, which keep the bytes)", None, "error", "undecodable")
               for n, vals in data.items() for r, v in zip(ds.rows, vals) if isinstance(v, str) and _UNDECODABLE.search(v)]
        if not bad:
            raise
        raise DataError(bad) from None
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def save_dataset(ds: Dataset, path: str | os.PathLike, names: dict[str, str] | None = None) -> None:
    """Write atomically in the format given by the suffix; the old file survives a failed write.

    Extra columns are written after question, answer, category; undecodable bytes go back as they came.
    `names` renames columns on the way out (our name → the file's, e.g. {"question": "Q", "group": "doc"}):
    a file loaded with a column mapping can be saved under its own header."""
    fmt = format_of(path)
    ours = _column_names(ds)
    header = [(names or {}).get(n, n) for n in ours]
    if len(set(header)) < len(header):
        twice = sorted({h for h in header if header.count(h) > 1})
        raise DataError([Problem(str(path), None, twice[0], f"the column names to write repeat {twice}; "
                                 "save with our names (question, answer, category) instead")])
    if fmt == "parquet":
        data = _parquet_bytes(ds, ours, header)
        with atomic_open(path, "wb", expected_size=len(data)) as fh:
            fh.write(data)
        return
    records = ({h: (getattr(p, n) if n in FIELDS else p.extra.get(n, "")) for n, h in zip(ours, header)}
               for p in ds.pairs)
    with atomic_open(path, "w", newline="", errors="surrogateescape") as fh:
        if fmt == "csv":
            writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
        elif fmt == "jsonl":
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            json.dump(list(records), fh, ensure_ascii=False, indent=1)
            fh.write("\n")
