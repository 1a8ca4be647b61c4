"""Dialogue pairs: load, validate and save CSV, JSONL and JSON, naming file, row and field of every problem.

Rows are numbered from 1 over the data records (the CSV header is not a row); for CSV and
JSONL the problem also says the line, so a user can jump to it in an editor.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import atomic_open

FIELDS = ("question", "answer", "category")
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


@dataclass
class DialoguePair:
    question: str
    answer: str
    category: str = ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough to fix it."""
    file: str
    row: int | None      # 1-based data record; None when the whole file is at fault
    field: str | None    # "question", "answer", "category" or None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        return ", ".join(where) + ": " + self.message


class DataError(Exception):
    """Input that cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        head = str(self.problems[0]) if self.problems else "invalid data"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(head + more)

    def report(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass
class ValidationRules:
    min_chars: int = 2        # a one-letter question or answer is almost surely a typo
    max_chars: int = 4000     # far beyond what a 256-token teacher window sees; catches pasted files
    check_duplicates: bool = True


@dataclass
class Dataset:
    pairs: list[DialoguePair] = field(default_factory=list)
    path: str = "<memory>"
    lines: list[int | None] = field(default_factory=list)  # source line of each row, if known
    rows: list[int] = field(default_factory=list)          # 1-based record number in the source file

    def __post_init__(self):
        if not self.rows:
            self.rows = list(range(1, len(self.pairs) + 1))

    def __len__(self) -> int:
        return len(self.pairs)

    def questions(self) -> list[str]:
        return [p.question for p in self.pairs]

    def answers(self) -> list[str]:
        return [p.answer for p in self.pairs]

    def categories(self) -> list[str]:
        return [p.category for p in self.pairs]

    def subset(self, idx: list[int]) -> "Dataset":
        """Rows at 0-based positions idx; each keeps its source row and line number for messages."""
        lines = [self.lines[i] for i in idx] if self.lines else []
        return Dataset([self.pairs[i] for i in idx], self.path, lines, [self.rows[i] for i in idx])


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def validate_pair(pair: DialoguePair, rules: ValidationRules = ValidationRules()) -> dict[str, str]:
    """Per-field reasons this pair is invalid on its own ({} when fine). Shared with the GUI's inline check."""
    bad: dict[str, str] = {}
    for name in ("question", "answer"):
        text = getattr(pair, name).strip()
        if not text:
            bad[name] = "empty after stripping whitespace"
        elif len(text) < rules.min_chars:
            bad[name] = f"too short: {len(text)} characters, minimum is {rules.min_chars}"
        elif len(text) > rules.max_chars:
            bad[name] = f"too long: {len(text)} characters, maximum is {rules.max_chars}"
    if "question" not in bad and "answer" not in bad and _norm(pair.question) == _norm(pair.answer):
        bad["answer"] = "answer is the same as the question"
    return bad


def validate(ds: Dataset, rules: ValidationRules = ValidationRules()) -> list[Problem]:
    """Every problem in the dataset, in row order. Duplicates point back at the first occurrence."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, pair in enumerate(ds.pairs):
        line = ds.lines[i] if i < len(ds.lines) else None
        row = ds.rows[i] if i < len(ds.rows) else i + 1
        for name, why in validate_pair(pair, rules).items():
            problems.append(Problem(ds.path, row, name, why, line))
        if rules.check_duplicates and pair.question.strip():
            key = _norm(pair.question)
            if key in seen:
                problems.append(Problem(ds.path, row, "question",
                                        f"duplicate of the question in row {seen[key]}", line))
            else:
                seen[key] = row
    return problems


def drop_invalid(ds: Dataset, problems: list[Problem]) -> Dataset:
    bad_rows = {p.row for p in problems if p.row is not None}
    return ds.subset([i for i, r in enumerate(ds.rows) if r not in bad_rows])


# ----------------------------------------------------------------------------- loading

def _decode(raw: bytes, path: str) -> str:
    # surrogateescape keeps undecodable bytes as lone surrogates so each bad row/field is named
    return raw.decode("utf-8-sig", errors="surrogateescape")


def _undecodable_problem(path: str, row: int, line: int | None, name: str) -> Problem:
    return Problem(path, row, name, "contains bytes that are not valid UTF-8 (save the file as UTF-8)", line)


def _check_text(value, path, row, line, name, problems) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(Problem(path, row, name, f"expected text, got {type(value).__name__}", line))
        return str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        problems.append(_undecodable_problem(path, row, line, name))
    return value


def _load_csv(text: str, path: str) -> Dataset:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError([Problem(path, None, None, "file is empty; expected a header 'question,answer,category'")])
    cols = [h.strip().lower() for h in header]
    missing = [c for c in ("question", "answer") if c not in cols]
    if missing:
        raise DataError([Problem(path, None, c, f"missing column '{c}' in header {header!r}", 1) for c in missing])
    idx = {c: cols.index(c) for c in FIELDS if c in cols}
    ds, problems = Dataset(path=path), []
    row = 0
    while True:
        line = reader.line_num + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError([Problem(path, row + 1, None, f"malformed CSV: {exc}", line)])
        if not any(cell.strip() for cell in rec):
            continue  # blank line between records: not data
        row += 1
        if len(rec) < len(header):
            short = [c for c, j in idx.items() if j >= len(rec) and c != "category"]
            for c in short:
                problems.append(Problem(path, row, c, f"missing value: row has {len(rec)} of {len(header)} columns", line))
        values = {c: _check_text(rec[j] if j < len(rec) else "", path, row, line, c, problems) for c, j in idx.items()}
        ds.pairs.append(DialoguePair(values["question"], values["answer"], values.get("category", "").strip()))
        ds.lines.append(line)
    return _finish(ds, problems)


def _record_to_pair(obj, path, row, line, problems) -> DialoguePair | None:
    if not isinstance(obj, dict):
        problems.append(Problem(path, row, None, f"expected an object with 'question' and 'answer', got {type(obj).__name__}", line))
        return None
    for c in ("question", "answer"):
        if c not in obj:
            problems.append(Problem(path, row, c, f"missing field '{c}'", line))
    vals = {c: _check_text(obj.get(c, ""), path, row, line, c, problems) for c in FIELDS}
    return DialoguePair(vals["question"], vals["answer"], vals["category"].strip())


def _finish(ds: Dataset, problems: list[Problem]) -> Dataset:
    if problems:
        raise DataError(problems)
    ds.rows = list(range(1, len(ds.pairs) + 1))
    return ds


def _from_records(records, path: str, problems: list[Problem]) -> Dataset:
    """records: (row, line, parsed object) triples from JSONL or JSON."""
    ds = Dataset(path=path)
    for row, line, obj in records:
        pair = _record_to_pair(obj, path, row, line, problems)
        if pair is not None:
            ds.pairs.append(pair)
            ds.lines.append(line)
    return _finish(ds, problems)


def _load_jsonl(text: str, path: str) -> Dataset:
    problems: list[Problem] = []

    def records():
        row = 0
        for n, raw_line in enumerate(text.splitlines(), start=1):
            if not raw_line.strip():
                continue
            row += 1
            try:
                yield row, n, json.loads(raw_line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(path, row, None, f"invalid JSON: {exc.msg} at column {exc.colno}", n))
    return _from_records(records(), path, problems)


def _load_json(text: str, path: str) -> Dataset:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError([Problem(path, None, None, f"invalid JSON: {exc.msg}", exc.lineno)])
    if isinstance(data, dict) and isinstance(data.get("pairs"), list):
        data = data["pairs"]
    if not isinstance(data, list):
        raise DataError([Problem(path, None, None, "expected a JSON list of {\"question\": ..., \"answer\": ...} objects")])
    return _from_records(((i, None, obj) for i, obj in enumerate(data, start=1)), path, [])


def format_of(path: str | os.PathLike) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise DataError([Problem(str(path), None, None,
                                 f"unknown file type '{Path(path).suffix}'; use .csv, .jsonl or .json")])
    return fmt


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Parse a dataset file. Raises DataError (never a bare traceback) listing every structural problem."""
    name = str(path)
    fmt = format_of(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError([Problem(name, None, None, f"cannot read file: {exc.strerror or exc}")])
    text = _decode(raw, name)
    return {"csv": _load_csv, "jsonl": _load_jsonl, "json": _load_json}[fmt](text, name)


def save_dataset(ds: Dataset, path: str | os.PathLike) -> None:
    """Write atomically in the format given by the suffix; the old file survives a failed write."""
    fmt = format_of(path)
    records = [{"question": p.question, "answer": p.answer, "category": p.category} for p in ds.pairs]
    with atomic_open(path, "w", newline="") as fh:
        if fmt == "csv":
            writer = csv.DictWriter(fh, fieldnames=list(FIELDS), lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
        elif fmt == "jsonl":
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            json.dump(records, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
