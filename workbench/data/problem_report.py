"""A short console summary of data problems, and the full list as RUN/data_problems.csv.

Real corpora have thousands of notes and warnings: the console gets counts per level and kind
with a few examples each (never more than `max_lines`), the run folder gets every problem.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter

from workbench.data.atomic import atomic_open
from workbench.data.pairs import LEVELS, Problem

PROBLEMS_FILE = "data_problems.csv"
CSV_COLUMNS = ("file", "row", "line", "field", "level", "kind", "message")
KIND_LABELS = {
    "empty": "empty field", "undecodable": "bytes that are not UTF-8", "over_limit": "field over the paste guard",
    "bad_record": "record that does not parse", "not_text": "value that is not text",
    "missing_value": "missing value", "extra_cells": "more cells than the header",
    "val_overlap": "question also in the training file", "too_short": "field too short",
    "same_as_question": "answer same as question", "duplicate_pair": "exact repeat of a pair",
    "control_chars": "control characters (stripped)", "quality_filter": "below the quality filter",
    "repeated_question": "same question, another answer", "long_text": "long text (the teacher truncates it)",
    "": "file problem",
}
_EFFECT = {"error": "cannot be used", "warning": "dropped", "note": "kept"}


def effect(level: str, kind: str) -> str:
    return "cleaned, kept" if kind == "control_chars" else _EFFECT.get(level, "")


def count_problems(problems: list[Problem]) -> dict[str, dict[str, int]]:
    """{level: {kind: count}} with every level present, for reports and the app's counters."""
    counts: dict[str, Counter] = {lvl: Counter() for lvl in LEVELS}
    for p in problems:
        counts.setdefault(p.level, Counter())[p.kind] += 1
    return {lvl: dict(c.most_common()) for lvl, c in counts.items()}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def problem_headline(problems: list[Problem], rows_read: int | None = None, rows_used: int | None = None) -> str:
    """One line: '13,191 rows read, 13,143 used; 0 errors, 48 warnings, 1,942 notes'."""
    counts = count_problems(problems)
    head = ", ".join(_plural(sum(counts.get(lvl, {}).values()), lvl) for lvl in LEVELS)
    if rows_read is not None:
        used = "?" if rows_used is None else f"{rows_used:,}"
        head = f"{rows_read:,} rows read, {used} used; " + head
    return head


def summarise_problems(problems: list[Problem], max_lines: int = 30, examples: int = 2,
                       rows_read: int | None = None, rows_used: int | None = None) -> str:
    """Counts per level and kind, most severe first, with up to `examples` located examples each."""
    head = problem_headline(problems, rows_read, rows_used)
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.level, p.kind), []).append(p)
    order = sorted(groups, key=lambda k: (LEVELS.index(k[0]) if k[0] in LEVELS else 9, -len(groups[k])))
    budget = max(3, max_lines) - 1
    want = examples * len(order)
    room = want if len(order) + want <= budget else min(want, budget // 3)   # examples: at most a third when crowded
    shown = order if len(order) <= budget - room else order[:budget - room - 1]
    room = min(want, budget - len(shown) - (len(shown) < len(order)))
    lines = ["data: " + head]
    for key in shown:                       # examples go to the most severe, most frequent kinds first
        level, kind = key
        items = groups[key]
        lines.append(f"  {level:<7} {KIND_LABELS.get(kind, kind)}: {len(items):,} ({effect(level, kind)})")
        take = min(examples, room, len(items))
        room -= take
        lines += [f"      e.g. {_short(p)}" for p in items[:take]]
    if len(shown) < len(order):
        rest = sum(len(groups[k]) for k in order[len(shown):])
        lines.append(f"  ... and {_plural(len(order) - len(shown), 'more kind')} ({rest:,} problems)")
    return "\n".join(lines)


def _short(p: Problem, width: int = 160) -> str:
    text = str(p)
    return text if len(text) <= width else text[:width - 1] + "…"


def problems_csv_text(problems: list[Problem]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for p in problems:
        w.writerow([p.file, "" if p.row is None else p.row, "" if p.line is None else p.line,
                    p.field or "", p.level, p.kind, p.message])
    return buf.getvalue()


def write_problems_csv(path: str | os.PathLike, problems: list[Problem]) -> None:
    """The full list (file, row, line, field, level, kind, message), written atomically."""
    text = problems_csv_text(problems)
    with atomic_open(path, "w", newline="", errors="backslashreplace", expected_size=len(text)) as fh:
        fh.write(text)   # backslashreplace: a header name with undecodable bytes must not stop the record
