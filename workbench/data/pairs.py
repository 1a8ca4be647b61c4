"""The data model: a dialogue pair, a dataset of them, and a located Problem with a level.

Levels (what a problem does to the run; `rules.py` decides which rule gets which):
- "error":   the row cannot be used as it is (empty field, undecodable bytes, a field over the
             paste guard, a record that does not parse). The run stops, unless dropping is
             allowed (`--drop-invalid`, or "train without them" in the app); then the row is left out.
- "warning": the run changes the data without asking and lists every case: it drops the row
             (an exact repeat of a whole pair, an answer identical to its question, a field
             under the minimum length) or strips characters from it (control characters).
- "note":    the row is used as it is and counted (the same question with another answer,
             a long answer the teacher will truncate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.config_meta import UserError

FIELDS = ("question", "answer", "category")
LEVELS = ("error", "warning", "note")           # most severe first; summaries sort by this
# Warnings whose fix is a cleaned copy of the row's text, not leaving the row out.
CLEANED_KINDS = frozenset({"control_chars"})


@dataclass
class DialoguePair:
    question: str
    answer: str
    category: str = ""
    # Columns beyond question/answer/category (e.g. "document", "group"), kept through load and save.
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One thing about the input, located precisely enough to fix it."""
    file: str
    row: int | None      # 1-based data record; None when the whole file is at fault
    field: str | None    # "question", "answer", "category", another column, or None
    message: str
    line: int | None = None
    level: str = "error"  # "error" | "warning" | "note" (module docstring)
    kind: str = ""        # short rule name that summaries count by, e.g. "duplicate_pair"

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        return ", ".join(where) + ": " + self.message

    @property
    def drops_row(self) -> bool:
        """True when the row is left out of training (errors only once dropping is allowed)."""
        if self.row is None or self.level == "note":
            return False
        return self.level == "error" or self.kind not in CLEANED_KINDS


class DataError(UserError):
    """Input that cannot be used. Carries every problem found (all levels), not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.level == "error"] or self.problems
        head = str(errors[0]) if errors else "invalid data"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(head + more)

    def report(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass
class Dataset:
    pairs: list[DialoguePair] = field(default_factory=list)
    path: str = "<memory>"
    lines: list[int | None] = field(default_factory=list)  # source line of each row, if known
    rows: list[int] = field(default_factory=list)          # 1-based record number in the source file
    columns: list[str] = field(default_factory=list)       # extra column names, in file order
    # Problems found while parsing that no per-row rule can see again: records that did not
    # parse (not in `pairs`), values of the wrong type, missing values. validate() includes them.
    load_problems: list[Problem] = field(default_factory=list)
    n_records: int = -1                                    # data records in the file (parsed or not)

    def __post_init__(self):
        if not self.rows:
            self.rows = list(range(1, len(self.pairs) + 1))
        if self.n_records < 0:
            self.n_records = len(self.pairs)
        if not self.columns:   # built from pairs (the app's editor): their extra columns, in first-seen order
            self.columns = list(dict.fromkeys(k for p in self.pairs if p.extra for k in p.extra))

    def __len__(self) -> int:
        return len(self.pairs)

    def questions(self) -> list[str]:
        return [p.question for p in self.pairs]

    def answers(self) -> list[str]:
        return [p.answer for p in self.pairs]

    def categories(self) -> list[str]:
        return [p.category for p in self.pairs]

    def column(self, name: str) -> list[str]:
        """Values of an extra column ("" where a row has none)."""
        return [p.extra.get(name, "") for p in self.pairs]

    def line_of(self, i: int) -> int | None:
        return self.lines[i] if i < len(self.lines) else None

    def subset(self, idx: list[int]) -> "Dataset":
        """Rows at 0-based positions idx; each keeps its source row and line number for messages."""
        lines = [self.lines[i] for i in idx] if self.lines else []
        rows = [self.rows[i] for i in idx]
        keep = set(rows)
        return Dataset([self.pairs[i] for i in idx], self.path, lines, rows, list(self.columns),
                       [p for p in self.load_problems if p.row in keep], len(idx))
