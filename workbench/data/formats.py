"""Read and write dialogue pairs as CSV, JSONL, JSON or Parquet, with an optional column mapping.

`load_dataset(path, columns={"question": "Q", "answer": "A", "category": "C", "group": "G"})`
reads a file whose columns have other names (the CLI's `--columns question=Q,answer=A`, the
app's import). Mapped columns take our names; every other column is kept as an extra column
(`DialoguePair.extra`, `Dataset.columns`), shown by the app and written back on save.

Only a file that cannot be read as a table raises DataError (unknown type, unreadable, no
header, a missing question/answer column, broken JSON or Parquet). A record that does not parse
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
import math
import os
from pathlib import Path

from workbench.data.atomic import atomic_open
from workbench.data.pairs import FIELDS, DataError, Dataset, DialoguePair, Problem

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet"}
ROLES = ("question", "answer", "category", "group")    # what --columns may map
REQUIRED = ("question", "answer")
csv.field_size_limit(2**31 - 1)   # a huge cell must reach the paste guard (a named row), not a csv.Error


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


# ----------------------------------------------------------------------------- header → names

def header_names(header: list) -> list[str]:
    """The names a column mapping refers to: stripped, a blank header cell called "columnN"."""
    return [str(h).strip() or f"column{j + 1}" for j, h in enumerate(header)]


def _resolve(header: list[str], columns: dict[str, str], path: str, line: int | None = None) -> list[str]:
    """Our name for each file column: mapped or recognised roles, else the column's own name (an extra)."""
    names = header_names(header)
    out = list(names)
    taken: dict[str, int] = {}
    for role, col in columns.items():
        j = next((j for j, n in enumerate(names) if n == col), None)
        if j is None:
            j = next((j for j, n in enumerate(names) if n.casefold() == col.casefold()), None)
        if j is None:
            raise DataError([Problem(path, None, role, f"column '{col}' (mapped to {role}) is not in the header "
                                     f"{names}", line)])
        out[j], taken[role] = role, j
    for j, n in enumerate(names):
        low = n.lower()
        if j in taken.values():
            continue
        if low in ROLES and low in taken:
            raise DataError([Problem(path, None, low, f"column '{n}' clashes with '{names[taken[low]]}', which the "
                                     f"column mapping names {low}; rename one of them")])
        if low in FIELDS:
            out[j] = low
    seen: set[str] = set()
    for j, n in enumerate(out):
        if n in seen:
            if n in FIELDS:
                raise DataError([Problem(path, None, n, f"more than one column is called '{n}' in {names}")])
            k = 2
            while f"{n}.{k}" in seen or f"{n}.{k}" in out:
                k += 1
            out[j] = f"{n}.{k}"
        seen.add(out[j])
    missing = [c for c in REQUIRED if c not in out]
    if missing:
        from workbench.data.columns import guess_columns   # here: columns.py builds on this module
        guess = guess_columns([n for j, n in enumerate(names) if j not in taken.values() and out[j] not in FIELDS])
        spec = ",".join(f"{r}={guess.get(r, 'COL')}" for r in missing)
        hint = f" (name them with a column mapping: --columns {spec}, or the app's File ▸ Import)"
        raise DataError([Problem(path, None, c, f"missing column '{c}' in header {names}{hint}", line)
                         for c in missing])
    return out


def _text(value, name: str, path: str, row: int, line: int | None, problems: list[Problem]) -> str:
    """A cell as text. Wrong types in question/answer are errors; other columns are converted."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    if name in REQUIRED:
        problems.append(Problem(path, row, name, f"expected text, got {type(value).__name__}", line, "error", "not_text"))
        return ""
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, dict)) else str(value)


def _build(records, names: list[str], path: str, problems: list[Problem], n_records: int) -> Dataset:
    """records: (row, line, list of cell values in `names` order, or None when absent)."""
    extras = [n for n in names if n not in FIELDS]
    pos = {n: j for j, n in enumerate(names)}
    qi, ai, ci = pos["question"], pos["answer"], pos.get("category")
    ext = [(n, pos[n]) for n in extras]
    ds = Dataset(path=path, columns=extras)
    pairs, lines, rows = ds.pairs, ds.lines, ds.rows
    for row, line, cells in records:
        if len(cells) < len(names) or None in cells:
            for c, j in (("question", qi), ("answer", ai)):
                if j >= len(cells) or cells[j] is None:
                    problems.append(Problem(path, row, c, f"missing value: the row has no '{c}'", line,
                                            "error", "missing_value"))
            cells = list(cells) + [None] * (len(names) - len(cells))
        q, a = cells[qi], cells[ai]                 # text already in CSV; other formats may hold other types
        if q.__class__ is not str:
            q = _text(q, "question", path, row, line, problems)
        if a.__class__ is not str:
            a = _text(a, "answer", path, row, line, problems)
        cat = _text(cells[ci], "category", path, row, line, problems).strip() if ci is not None else ""
        extra = {n: _text(cells[j], n, path, row, line, problems) for n, j in ext} if ext else {}
        pairs.append(DialoguePair(q, a, cat, extra))
        lines.append(line)
        rows.append(row)
    ds.load_problems, ds.n_records = problems, n_records
    return ds


# ----------------------------------------------------------------------------- formats

def _decode(raw: bytes) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):      # UTF-16 with a BOM (spreadsheet exports); else NULs everywhere
        try:
            return raw.decode("utf-16").lstrip("\ufeff")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # surrogateescape keeps undecodable bytes as lone surrogates so each bad row/field is named
        return raw.decode("utf-8-sig", errors="surrogateescape")


def _load_csv(text: str, path: str, columns: dict[str, str]) -> Dataset:
    reader = csv.reader(io.StringIO(text, newline=""))
    header, problems = None, []
    try:
        for header in reader:
            if header and any(h.strip() for h in header):
                break
        else:
            header = None
    except csv.Error as exc:
        raise DataError([Problem(path, None, None, f"malformed CSV header: {exc}", reader.line_num)])
    if header is None:
        raise DataError([Problem(path, None, None, "file is empty; expected a header 'question,answer,category'")])
    names = _resolve(header, columns, path, reader.line_num)
    width = len(names)
    records, row, line = [], 0, reader.line_num + 1
    spans: list[tuple[int, int, int]] = []        # (row, first line, last line) of records over 1 line
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError([Problem(path, row + 1, None, f"malformed CSV: {exc}", line)])
        if not rec or (len(rec) == 1 and not rec[0].strip() and width > 1):
            line = reader.line_num + 1
            continue  # blank line between records: not data
        row += 1
        if len(rec) > width:
            if any(c.strip() for c in rec[width:]):
                problems.append(Problem(path, row, None, f"the row has {len(rec)} cells but the header has {width}; "
                                        "the cells past the header hold text (a comma outside quotes?)", line,
                                        "error", "extra_cells"))
            rec = rec[:width]
        records.append((row, line, rec))
        if reader.line_num > line:
            spans.append((row, line, reader.line_num))
        line = reader.line_num + 1
    if records and (not spans or spans[-1][0] != row):
        spans.append((row, records[-1][1], reader.line_num))     # the last record: a quote open to the end
    _refuse_stray_quotes(text, spans, names, path)
    return _build(records, names, path, problems, row)


def _line_breaks(s: str) -> int:
    return s.count("\n") + s.count("\r") - s.count("\r\n")


def _stray_quote(raw: str) -> tuple[int, int, int | None] | None:
    """(field index, offset of the opening quote, offset of its closing quote or None at the end of
    `raw`) for a quoted field that is not closed properly, else None. `raw` is one record's lines.

    "Not closed properly": the quote runs to the end of the file, or it spans a line break and its
    closing quote is followed by text instead of a comma or the line end. The second is what a
    missing quote looks like mid-file: the quote pairs with the opening quote of a later field, so
    the rows between fall inside it. The excel dialect the reader uses: a quote opens a field only at
    its start, and "" inside quotes is one quote."""
    i, field, n = 0, 0, len(raw)
    while i < n:
        if raw[i] == '"':
            start, j = i, i + 1
            while True:
                j = raw.find('"', j)
                if j < 0:
                    return field, start, None
                if raw.startswith('""', j):
                    j += 2
                    continue
                break
            after = raw[j + 1:j + 2]
            if after not in (",", "\r", "\n", "") and _line_breaks(raw[start:j]):
                return field, start, j
            i = j + 1
        ends = [k for k in (raw.find(",", i), raw.find("\n", i), raw.find("\r", i)) if k >= 0]
        if not ends or raw[min(ends)] != ",":
            return None                                  # the record's last field ends at a line end
        i, field = min(ends) + 1, field + 1
    return None


def _refuse_stray_quotes(text: str, spans: list[tuple[int, int, int]], names: list[str], path: str) -> None:
    """Raise DataError naming every record (row, first line, last line) whose quote is not closed.

    The non-strict csv reader reads such a field on to the end of the file or to the next quote, so
    the rows after it would sit silently inside one answer. We refuse the whole file rather than
    recover the rows after it: where the field was meant to end is unknown (the lines after the quote
    may be its own multi-line text, or rows), so any guess could load made-up pairs or lose text;
    one clear line naming the quote is safer and the fix is one character. Only records that span
    lines (and the last one) are looked at, so an ordinary file costs one pass over its lines."""
    lines = io.StringIO(text, newline="").readlines()
    problems = []
    for row, first, last in spans:
        raw = "".join(lines[first - 1:last])
        bad = _stray_quote(raw)
        if bad is None:
            continue
        field, opened, closed = bad
        line = first + _line_breaks(raw[:opened])
        if closed is None:
            rest = len(lines) - line
            lost = (f"the rest of the file ({rest} line{'s' if rest != 1 else ''}) would be read into this field"
                    if rest else "the file ends inside it")
        else:
            end = first + _line_breaks(raw[:closed])
            lost = (f"it closes only on line {end}, at a quote followed by text, so {end - line} line"
                    f"{'s' if end - line != 1 else ''} would be read into this field")
        problems.append(Problem(path, row, names[field] if field < len(names) else None,
                                f"a quote opened here is never closed; {lost}. Close the quote (a quote inside "
                                "quoted text is written twice: \"\")", line, "error", "unclosed_quote"))
    if problems:
        raise DataError(problems)


def _union_keys(objs) -> list[str]:
    keys: dict[str, None] = {}
    for obj in objs:
        if isinstance(obj, dict):
            keys.update(dict.fromkeys(obj))
    return list(keys)


def _from_objects(objs: list[tuple[int, int | None, object]], path: str, columns: dict[str, str],
                  problems: list[Problem]) -> Dataset:
    """objs: (row, line, parsed value) for JSONL / JSON; a value that is not an object is reported, not kept."""
    keys = _union_keys(o for _, _, o in objs)
    # No object at all: nothing to name; every record is reported below as not an object.
    names = _resolve(keys, columns, path) if keys else list(REQUIRED)
    records = []
    for row, line, obj in objs:
        if not isinstance(obj, dict):
            problems.append(Problem(path, row, None, f"expected an object with 'question' and 'answer', got "
                                    f"{type(obj).__name__}; not loaded", line, "error", "bad_record"))
            continue
        records.append((row, line, [obj.get(k) for k in keys] + [None] * (len(names) - len(keys))))
    return _build(records, names, path, problems, len(objs))


def _load_jsonl(text: str, path: str, columns: dict[str, str]) -> Dataset:
    problems: list[Problem] = []
    objs, row = [], 0
    # Split on "\n" only: str.splitlines() would also split inside a JSON string at U+2028, U+0085, ...
    for n, raw_line in enumerate(text.split("\n"), start=1):
        if not raw_line.strip():
            continue
        row += 1
        try:
            objs.append((row, n, json.loads(raw_line)))
        except (json.JSONDecodeError, RecursionError) as exc:
            why = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            problems.append(Problem(path, row, None, f"invalid JSON: {why}; not loaded", n, "error", "bad_record"))
    ds = _from_objects(objs, path, columns, problems)
    ds.n_records = row
    ds.load_problems.sort(key=lambda p: p.row or 0)
    return ds


def _load_json(text: str, path: str, columns: dict[str, str]) -> Dataset:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError([Problem(path, None, None, f"invalid JSON: {exc.msg}", exc.lineno)])
    except RecursionError:
        raise DataError([Problem(path, None, None, "invalid JSON: nested too deeply")])
    if isinstance(data, dict) and isinstance(data.get("pairs"), list):
        data = data["pairs"]
    if not isinstance(data, list):
        raise DataError([Problem(path, None, None, "expected a JSON list of {\"question\": ..., \"answer\": ...} objects")])
    return _from_objects([(i, None, obj) for i, obj in enumerate(data, start=1)], path, columns, [])


def _load_parquet(raw: bytes, path: str, columns: dict[str, str]) -> Dataset:
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(io.BytesIO(raw))
        cols = [table.column(j).to_pylist() for j in range(table.num_columns)]
    except (pa.ArrowException, OSError, ValueError, TypeError, MemoryError) as exc:
        raise DataError([Problem(path, None, None, f"not a readable Parquet file: {exc}")]) from None
    names = _resolve(list(table.column_names), columns, path)
    records = [(i + 1, None, [c[i] for c in cols]) for i in range(table.num_rows)]
    return _build(records, names, path, [], table.num_rows)


def load_dataset(path: str | os.PathLike, columns: dict[str, str] | str | None = None) -> Dataset:
    """Parse a dataset file. Raises DataError only when the file as a whole cannot be read as a table."""
    name = str(path)
    fmt = format_of(path)
    mapping = parse_columns(columns)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError([Problem(name, None, None, f"cannot read file: {exc.strerror or exc}")]) from None
    if fmt == "parquet":
        return _load_parquet(raw, name, mapping)
    return {"csv": _load_csv, "jsonl": _load_jsonl, "json": _load_json}[fmt](_decode(raw), name, mapping)


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
