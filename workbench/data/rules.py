"""Data rules: which rows a run can use, with a level per problem (see `pairs.py` for the levels).

One set of rules serves the trainer and the app's table, so both show the same problems:

- `validate_pair(pair, rules, file=, row=, line=) -> list[Problem]`: the rules that look at one
  row alone. A pure function of the row's text, cheap enough to call per edited row.
- `question_key(pair)` and `repeat_problems(ds, question_keys=None)`: the rules across rows (an
  exact repeat of a whole pair is a warning, the same question with another answer is a note).
  A table can cache `question_key` per row and rerun only this pass after an edit.
- `validate(ds, rules) -> list[Problem]`: everything, in row order: the loader's own problems
  (records that did not parse, values of the wrong type) + `validate_pair` per row + repeats.
- `apply_rules(ds, problems, drop_errors)`: the rows a run trains on: rows whose problems drop
  them are left out, control characters are stripped from a copy of the row (never in place).

A run builds its rules from its config (`workbench.train.config.validation_rules(cfg)`), and
the table must use that same function, so what the table flags is what the run does.

| rule                                   | level   | kind             |
|----------------------------------------|---------|------------------|
| field empty (after removing control chars) | error | empty          |
| bytes that are not UTF-8               | error   | undecodable      |
| field over `max_chars` (a pasted file) | error   | over_limit       |
| record that does not parse, wrong type | error   | bad_record, not_text, missing_value |
| field shorter than `min_chars`         | warning | too_short        |
| answer identical to its question       | warning | same_as_question |
| exact repeat of a whole pair           | warning | duplicate_pair   |
| control characters (NUL, ESC, ...)     | warning | control_chars (row kept, characters stripped) |
| same question, another answer          | note    | repeated_question |
| field over `long_chars`                | note    | long_text (kept; the teacher truncates it) |
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from workbench.data.pairs import Dataset, DialoguePair, Problem

TEXT_FIELDS = ("question", "answer")
# C0 and C1 control characters except tab, newline and carriage return, which are ordinary text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_AS_SPACE = dict.fromkeys(map(ord, "\x0b\x0c\x1c\x1d\x1e\x1f\x85"), " ")   # separators → a space
_UNDECODABLE = re.compile("[\udc80-\udcff]")    # bytes kept by the loader's surrogateescape
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\udc80-\udcff]")   # one pass over clean text


@dataclass
class ValidationRules:
    min_chars: int = 2          # a one-letter question or answer is almost surely a typo (warning: dropped)
    max_chars: int = 100_000    # a guard against a pasted file in a cell, not a rule about answers (error)
    check_duplicates: bool = True
    long_chars: int = 4000      # far beyond a 256-token teacher window: counted as a note, the row is kept


DEFAULT_RULES = ValidationRules()


def norm(text: str) -> str:
    """Whitespace collapsed and case folded: the form repeats are compared in."""
    return " ".join(text.split()).casefold()


def same_text(a: str, b: str) -> bool:
    """norm(a) == norm(b), without normalising a long text: split b only as far as a has words."""
    wa = a.split()
    wb = b.split(None, len(wa))
    return len(wa) == len(wb) and all(x.casefold() == y.casefold() for x, y in zip(wa, wb))


def clean_text(text: str) -> str:
    """Control characters removed (separator-like ones become a space)."""
    return _CONTROL.sub("", text.translate(_AS_SPACE)) if _CONTROL.search(text) else text


def _control_message(text: str) -> str:
    found = _CONTROL.findall(text)
    kinds = sorted(set(found))
    listed = ", ".join(f"U+{ord(c):04X}" + (" NUL" if c == "\0" else "") + f" ×{found.count(c)}" for c in kinds[:4])
    return (f"contains {len(found)} control character(s) ({listed}{', ...' if len(kinds) > 4 else ''}); "
            "stripped before embedding, the row is kept (the file is not changed)")


def validate_pair(pair: DialoguePair, rules: ValidationRules = DEFAULT_RULES, *, file: str = "<memory>",
                  row: int | None = None, line: int | None = None) -> list[Problem]:
    """Problems of this row on its own, every level. [] when it is fine."""
    out: list[Problem] = []

    def add(name, level, kind, message):
        out.append(Problem(file, row, name, message, line, level, kind))

    usable = True
    for name in TEXT_FIELDS:
        text = getattr(pair, name)
        if not isinstance(text, str):
            add(name, "error", "not_text", f"expected text, got {type(text).__name__}")
            usable = False
            continue
        # isprintable() is False for every control character and lone surrogate, and fast: the regex runs only then
        suspect = not text.isprintable() and _SUSPECT.search(text) is not None
        if suspect and _UNDECODABLE.search(text):
            add(name, "error", "undecodable", "contains bytes that are not valid UTF-8 (save the file as UTF-8)")
            usable = False
            continue
        has_control = suspect and _CONTROL.search(text) is not None
        stripped = (clean_text(text) if has_control else text).strip()
        if not stripped:
            add(name, "error", "empty", "empty after stripping whitespace" + (" and control characters" if has_control else ""))
            usable = False
            continue
        if len(text) > rules.max_chars:
            add(name, "error", "over_limit", f"{len(text):,} characters, over the data.max_chars guard of "
                f"{rules.max_chars:,} (a pasted file?)")
            usable = False
            continue
        if has_control:
            add(name, "warning", "control_chars", _control_message(text))
        if len(stripped) < rules.min_chars:
            add(name, "warning", "too_short", f"too short: {len(stripped)} character(s), minimum is "
                f"{rules.min_chars} (data.min_chars); row dropped")
        elif len(text) > rules.long_chars:
            add(name, "note", "long_text", f"long: {len(text):,} characters; kept, the teacher embeds only its "
                "first tokens (the run reports how many texts were truncated)")
    if isinstance(pair.category, str) and not pair.category.isascii() and _UNDECODABLE.search(pair.category):
        add("category", "error", "undecodable", "contains bytes that are not valid UTF-8 (save the file as UTF-8)")
    if usable and same_text(pair.question, pair.answer):
        add("answer", "warning", "same_as_question", "answer is the same as the question; row dropped")
    return out


def question_key(pair: DialoguePair) -> str:
    """The question in the form repeats are compared in ("" for a non-text value)."""
    return norm(pair.question) if isinstance(pair.question, str) else ""


def repeat_problems(ds: Dataset, question_keys: list[str] | None = None) -> list[Problem]:
    """Exact repeats of a whole pair (warning, dropped) and repeated questions (note, kept), in row order.

    Each points back at the first row with the same question (and answer). Answers are normalised
    only where a question repeats, so this pass costs little beyond the questions; a table can
    pass its cached `question_key` per row."""
    qkeys = question_keys if question_keys is not None else [question_key(p) for p in ds.pairs]
    count: dict[str, int] = {}
    for q in qkeys:
        count[q] = count.get(q, 0) + 1
    first_pair: dict[tuple[str, str], int] = {}
    first_question: dict[str, int] = {}
    out: list[Problem] = []
    for i, q in enumerate(qkeys):
        if not q or count[q] < 2:
            continue
        pair = ds.pairs[i]
        key = (q, norm(pair.answer) if isinstance(pair.answer, str) else "")
        row = ds.rows[i] if i < len(ds.rows) else i + 1
        seen = first_pair.get(key)
        if seen is not None:
            out.append(Problem(ds.path, row, "answer", f"same question and answer as row {seen}; row dropped",
                               ds.line_of(i), "warning", "duplicate_pair"))
        elif q in first_question:
            out.append(Problem(ds.path, row, "question", f"same question as row {first_question[q]} with another "
                               "answer; kept (a valid pair)", ds.line_of(i), "note", "repeated_question"))
        first_pair.setdefault(key, row)
        first_question.setdefault(q, row)
    return out


def validate(ds: Dataset, rules: ValidationRules = DEFAULT_RULES) -> list[Problem]:
    """Every problem in the dataset, all levels, in row order (file-level ones first)."""
    problems = list(ds.load_problems)
    loaded = {(p.row, p.field) for p in problems}
    for i, pair in enumerate(ds.pairs):
        row = ds.rows[i] if i < len(ds.rows) else i + 1
        for p in validate_pair(pair, rules, file=ds.path, row=row, line=ds.line_of(i)):
            if not (p.kind == "empty" and (row, p.field) in loaded):   # "missing value" already says it
                problems.append(p)
    if rules.check_duplicates:
        problems += repeat_problems(ds)
    problems.sort(key=lambda p: -1 if p.row is None else p.row)    # stable: per-row order is kept
    return problems


def dropped_rows(problems: list[Problem], drop_errors: bool = True) -> set[int]:
    return {p.row for p in problems if p.drops_row and (drop_errors or p.level != "error")}


def drop_invalid(ds: Dataset, problems: list[Problem], drop_errors: bool = True) -> Dataset:
    """The rows no problem drops (errors count only when drop_errors)."""
    bad = dropped_rows(problems, drop_errors)
    return ds.subset([i for i, r in enumerate(ds.rows) if r not in bad]) if bad else ds


def apply_rules(ds: Dataset, problems: list[Problem], drop_errors: bool = True) -> Dataset:
    """The rows a run trains on: dropped rows left out, control characters stripped (in copies)."""
    kept = drop_invalid(ds, problems, drop_errors)
    dirty = {(p.row, p.field) for p in problems if p.kind == "control_chars"}
    if not dirty:
        return kept
    pairs = list(kept.pairs)
    for i, (pair, row) in enumerate(zip(kept.pairs, kept.rows)):
        fields = {f: clean_text(getattr(pair, f)) for f in TEXT_FIELDS if (row, f) in dirty}
        if fields:
            pairs[i] = replace(pair, **fields)
    out = kept.subset(list(range(len(kept))))
    out.pairs = pairs
    return out
