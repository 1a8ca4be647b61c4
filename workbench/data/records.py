"""Records → Dataset: the one place a parsed record becomes a DialoguePair (or a located problem).

`RowSink(names, path, problems)` takes records one at a time (`add(row, line, cells)`, cells in
`names` order, None where absent), so a streaming reader keeps only the pairs, never a second copy
of the file. `from_objects` does the same for JSON records (dicts) and `skipped(...)` is the problem
for a record over the record-size limit that the reader skipped without holding it.
"""

from __future__ import annotations

import json
import math

from workbench.data.names import REQUIRED, resolve
from workbench.data.pairs import FIELDS, Dataset, DialoguePair, Problem


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


class RowSink:
    """Pairs built record by record; `done(n_records)` returns the Dataset."""

    def __init__(self, names: list[str], path: str, problems: list[Problem]):
        pos = {n: j for j, n in enumerate(names)}
        self.names, self.path, self.problems = names, path, problems
        self.qi, self.ai, self.ci = pos["question"], pos["answer"], pos.get("category")
        self.ext = [(n, pos[n]) for n in names if n not in FIELDS]
        self.ds = Dataset(path=path, columns=[n for n, _ in self.ext])

    def add(self, row: int, line: int | None, cells: list) -> None:
        self.extend(((row, line, cells),))

    def extend(self, records) -> None:
        """records: (row, line, cells); one loop for many, the per-row cost of a large file."""
        path, problems, names, ext = self.path, self.problems, self.names, self.ext
        qi, ai, ci = self.qi, self.ai, self.ci
        pairs, lines, rows = self.ds.pairs, self.ds.lines, self.ds.rows
        for row, line, cells in records:
            if len(cells) < len(names) or None in cells:
                for c, j in (("question", qi), ("answer", ai)):
                    if j >= len(cells) or cells[j] is None:
                        problems.append(Problem(path, row, c, f"missing value: the row has no '{c}'", line,
                                                "error", "missing_value"))
                cells = list(cells) + [None] * (len(names) - len(cells))
            q, a = cells[qi], cells[ai]             # text already in CSV; other formats may hold other types
            if q.__class__ is not str:
                q = _text(q, "question", path, row, line, problems)
            if a.__class__ is not str:
                a = _text(a, "answer", path, row, line, problems)
            cat = _text(cells[ci], "category", path, row, line, problems).strip() if ci is not None else ""
            extra = {n: _text(cells[j], n, path, row, line, problems) for n, j in ext} if ext else {}
            pairs.append(DialoguePair(q, a, cat, extra))
            lines.append(line)
            rows.append(row)

    def done(self, n_records: int) -> Dataset:
        self.ds.load_problems, self.ds.n_records = self.problems, n_records
        return self.ds


def from_objects(objs: list[tuple[int, int | None, object]], path: str, columns: dict[str, str],
                 problems: list[Problem], n_records: int) -> Dataset:
    """objs: (row, line, parsed value) for JSONL / JSON; a value that is not an object is reported, not kept.
    The list is emptied as it is read, so the parsed records and the pairs are not all held at once."""
    keys = list(dict.fromkeys(k for _, _, o in objs if isinstance(o, dict) for k in o))
    # No object at all: nothing to name; every record is reported below as not an object.
    names = resolve(keys, columns, path) if keys else list(REQUIRED)
    sink, pad = RowSink(names, path, problems), [None] * (len(names) - len(keys))

    def records():
        objs.reverse()
        while objs:
            row, line, obj = objs.pop()
            if isinstance(obj, dict):
                yield row, line, [obj.get(k) for k in keys] + pad
            else:
                problems.append(Problem(path, row, None, f"expected an object with 'question' and 'answer', got "
                                        f"{type(obj).__name__}; not loaded", line, "error", "bad_record"))
    sink.extend(records())
    ds = sink.done(n_records)
    ds.load_problems.sort(key=lambda p: p.row or 0)
    return ds


def skipped(path: str, row: int, line: int | None, field: str | None, chars: int, field_chars: int | None,
            limit: int) -> Problem:
    """A record over the record-size limit, read past without being held: an error on its row."""
    size = f"{field_chars:,} characters in this field, " if field_chars else ""
    return Problem(path, row, field, f"{size}{chars:,} in the record, over the {limit:,} characters a record may "
                   "hold (a pasted file?); not loaded, and never read into memory whole", line, "error", "over_limit")
