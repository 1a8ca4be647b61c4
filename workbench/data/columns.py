"""A file's column names without reading the whole file, and a best guess at which column is which.

`peek_columns(path)` reads only the head of a file: the CSV header (and the rows after it that fit),
the keys of the first JSON Lines / JSON records, the Parquet schema (the file's footer). A 100 MB
corpus is peeked in milliseconds. The app's File ▸ Import and File ▸ Open use it to decide whether a
file needs a column mapping and to offer its columns; `guess_columns(names)` proposes the mapping
that `load_dataset(path, columns=...)` takes.

Names come back as the mapping needs them: stripped, a blank header cell named "columnN" (as
load_dataset names it). For JSON the keys are those of the first SAMPLE_RECORDS records; a key first
seen later is still loaded, as an extra column. A file that cannot be read raises DataError naming it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.formats import format_of
from workbench.data.names import guess_columns, header_names, needs_mapping
from workbench.data.pairs import DataError, Problem

HEAD_BYTES = 64 * 1024     # first read; doubled while the header (or a JSON record) is cut off
MAX_HEAD_BYTES = 64 << 20  # a "header" longer than this is not a header: stop growing and say so
SAMPLE_RECORDS = 50        # JSON records whose keys are gathered (keys vary little between records)
SAMPLE_BYTES = 4 << 20     # ...unless they are this long: enough to show what the columns hold
EXAMPLES = 3               # records kept as examples of each column's values

@dataclass
class ColumnPeek:
    path: str
    format: str                                   # "csv" | "jsonl" | "json" | "parquet"
    names: list[str]                              # column names in file order
    examples: list[dict[str, str]] = field(default_factory=list)   # the first records, name → text

    def example(self, name: str) -> str:
        """The first non-empty value of a column among the examples ("" if none)."""
        return next((r[name] for r in self.examples if r.get(name, "").strip()), "")


def _problem(path: str, message: str, line: int | None = None, row: int | None = None) -> DataError:
    return DataError([Problem(path, row, None, message, line)])


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, dict)) else str(value)


def _decode_head(raw: bytes, final: bool) -> str:
    """Like formats._decode, for the first bytes of a file: a character cut at the end is left out."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return codecs.getincrementaldecoder("utf-16")().decode(raw, final).lstrip("\ufeff")
        except UnicodeDecodeError:
            pass
    return codecs.getincrementaldecoder("utf-8-sig")(errors="surrogateescape").decode(raw, final)


def _heads(path: str, whole_lines: bool = True):
    """(text of the head, at end of file?) for ever larger heads of the file; cut after its last
    newline when whole_lines (a CSV or JSONL record is never cut in two)."""
    size = HEAD_BYTES
    try:
        with open(path, "rb") as fh:
            while True:
                fh.seek(0)
                raw = fh.read(size + 1)
                eof = len(raw) <= size
                text = _decode_head(raw[:size], eof)
                yield (text if eof or not whole_lines else text[: text.rfind("\n") + 1]), eof
                if eof:
                    return
                if size >= MAX_HEAD_BYTES:
                    raise _problem(path, f"no complete header or record in the first {MAX_HEAD_BYTES >> 20} MB")
                size *= 2
    except OSError as exc:
        raise _problem(path, f"cannot read file: {exc.strerror or exc}") from None


def _peek_csv(path: str) -> ColumnPeek:
    for text, eof in _heads(path):
        reader = csv.reader(io.StringIO(text, newline=""))
        rows, header = [], None
        try:
            for rec in reader:
                if header is None:
                    if rec and any(h.strip() for h in rec):
                        header = rec
                    continue
                if rec and any(c.strip() for c in rec):
                    rows.append(rec)
                if len(rows) > EXAMPLES:
                    break
        except csv.Error as exc:
            if eof:
                raise _problem(path, f"malformed CSV header: {exc}", reader.line_num) from None
            continue
        if header is None:
            if eof:
                raise _problem(path, "file is empty; expected a header 'question,answer,category'")
            continue
        if not eof and not rows:
            continue              # the header may run on past this head (a quoted newline): read more
        names = header_names(header)
        if not eof:
            rows = rows[:-1]      # the last row read may be cut off by the head's end
        return ColumnPeek(path, "csv", names, [dict(zip(names, r)) for r in rows[:EXAMPLES]])
    raise AssertionError("unreachable")   # _heads ends with eof=True or raises


def _keys_and_examples(path: str, fmt: str, objs: list, first_bad: Problem | None) -> ColumnPeek:
    dicts = [o for o in objs if isinstance(o, dict)]
    if objs and not dicts:
        why = first_bad.message if first_bad else f"expected objects with 'question' and 'answer', got " \
                                                  f"{type(objs[0]).__name__}"
        raise DataError([Problem(path, first_bad.row if first_bad else 1, None, f"no JSON object in the first "
                                 f"{len(objs)} record(s): {why}", first_bad.line if first_bad else None)])
    raw_keys = list(dict.fromkeys(k for o in dicts for k in o))
    keys = header_names(raw_keys)
    examples = [{n: _as_text(o.get(k)) for n, k in zip(keys, raw_keys)} for o in dicts[:EXAMPLES]]
    return ColumnPeek(path, fmt, keys, examples)


def _peek_jsonl(path: str) -> ColumnPeek:
    for text, eof in _heads(path):
        lines = text.split("\n")
        objs, bad = [], None
        for n, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                objs.append(json.loads(raw))
            except (json.JSONDecodeError, RecursionError) as exc:
                objs.append(None)
                if bad is None:
                    why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                    bad = Problem(path, len(objs), None, f"invalid JSON: {why}", n)
            if len(objs) >= SAMPLE_RECORDS:
                break
        if eof or len(objs) >= SAMPLE_RECORDS or (objs and len(text) >= SAMPLE_BYTES):
            return _keys_and_examples(path, "jsonl", objs, bad)
    raise AssertionError("unreachable")


_PAIRS_OBJECT = re.compile(r'\s*\{\s*"pairs"\s*:\s*\[')   # {"pairs": [...]}, which load_dataset also reads


def _json_records(path: str, text: str, pos: int, eof: bool) -> list | None:
    """Up to SAMPLE_RECORDS values of the list starting at text[pos]; None when the head cuts the first ones off."""
    decoder, objs = json.JSONDecoder(), []
    while len(objs) < SAMPLE_RECORDS:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos < len(text) and text[pos] == "]":
            return objs
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if not eof:     # cut off by the head: enough if the records so far are long, else read more
                return objs if objs and len(text) >= SAMPLE_BYTES else None
            where = text.count("\n", 0, exc.pos) + 1
            raise _problem(path, f"invalid JSON: {exc.msg}" if pos < len(text) else
                           "invalid JSON: the list is not closed", where) from None
        except RecursionError:
            raise _problem(path, "invalid JSON: nested too deeply") from None
        objs.append(obj)
    return objs


def _peek_json(path: str) -> ColumnPeek:
    for text, eof in _heads(path, whole_lines=False):
        body = text.lstrip()
        if body.startswith("["):
            pos = len(text) - len(body) + 1
        elif (m := _PAIRS_OBJECT.match(text)) is not None:
            pos = m.end()
        elif body.startswith("{") or not body:
            if not eof:
                continue          # {"pairs": ...} after other keys, or leading blanks: only more text tells
            if not body:
                raise _problem(path, "file is empty; expected a JSON list of {\"question\": ..., \"answer\": ...} "
                                     "objects")
            return _peek_json_whole(path, text)
        else:
            raise _problem(path, "expected a JSON list of {\"question\": ..., \"answer\": ...} objects")
        objs = _json_records(path, text, pos, eof)
        if objs is not None:
            return _keys_and_examples(path, "json", objs, None)
    raise AssertionError("unreachable")


def _peek_json_whole(path: str, text: str) -> ColumnPeek:
    """A JSON object whose "pairs" list is not its first key: parse it all, as load_dataset does."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _problem(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise _problem(path, "invalid JSON: nested too deeply") from None
    if not isinstance(data.get("pairs") if isinstance(data, dict) else None, list):
        raise _problem(path, "expected a JSON list of {\"question\": ..., \"answer\": ...} objects")
    return _keys_and_examples(path, "json", data["pairs"][:SAMPLE_RECORDS], None)


def _peek_parquet(path: str) -> ColumnPeek:
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        pf = pq.ParquetFile(path)                # reads the footer (schema, row groups), not the data
        names = header_names(list(pf.schema_arrow.names))
        rows = []
        if pf.metadata.num_rows:
            batch = next(pf.iter_batches(batch_size=EXAMPLES), None)
            rows = batch.to_pylist() if batch is not None else []
    except FileNotFoundError as exc:
        raise _problem(path, f"cannot read file: {exc.strerror or exc}") from None
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise _problem(path, f"not a readable Parquet file: {exc}") from None
    raw = list(pf.schema_arrow.names)
    return ColumnPeek(path, "parquet", names, [{n: _as_text(r.get(k)) for n, k in zip(names, raw)} for r in rows])


def peek_columns(path) -> ColumnPeek:
    """Column names (and a few example records) of a dataset file, read from its head only."""
    name = str(path)
    fmt = format_of(path)
    if not Path(path).is_file():
        raise _problem(name, "cannot read file: " + ("no such file" if not Path(path).exists() else "not a file"))
    return {"csv": _peek_csv, "jsonl": _peek_jsonl, "json": _peek_json, "parquet": _peek_parquet}[fmt](name)


__all__ = ["ColumnPeek", "peek_columns", "guess_columns", "needs_mapping"]
