"""The table's view of the data rules: per-row problems, cached, recomputed only where text changed.

The rules are the run's own (the core's per-row check and its across-rows repeat pass, with the
config's data section), so the table marks what a run would refuse, drop or merely note. At
13k rows a full check costs ~0.5 s; after an edit only rows whose text objects changed are
checked again (strings are immutable, so "same object" means "same text"), and the repeat pass
reuses each row's cached question key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from workbench.data.dataset import CLEANED_KINDS, LEVELS, Dataset, ValidationRules
from workbench.data.rules import question_key, repeat_problems, validate_pair
from workbench.train.config import validation_rules


@dataclass(frozen=True)
class Issue:
    field: str
    level: str        # "error": the run cannot use the row; "warning": the run drops it; "note": kept, counted
    kind: str         # the core's rule name, which the CLI's summary counts by too
    message: str


def rules_from_config(cfg) -> ValidationRules:
    """The run's rules for this config: the very function the trainer uses."""
    return validation_rules(cfg)


def _single(pair, rules) -> tuple[Issue, ...]:
    return tuple(Issue(p.field or "", p.level, p.kind, p.message) for p in validate_pair(pair, rules))


def _repeats(pairs, keys: list[str], positions: list[int] | None = None) -> dict[int, list[Issue]]:
    """Across-rows problems by row position (messages name table rows, 1-based).

    positions: only these rows (whole question groups); a group's repeats depend on its own rows only."""
    if positions is None:
        ds, sub_keys = Dataset(pairs), keys
    else:
        ds = Dataset([pairs[i] for i in positions], rows=[i + 1 for i in positions])
        sub_keys = [keys[i] for i in positions]
    out: dict[int, list[Issue]] = {}
    for p in repeat_problems(ds, sub_keys):
        out.setdefault(p.row - 1, []).append(Issue(p.field or "", p.level, p.kind, p.message))
    return out


class RowChecks:
    """issues[row] for every row of a pair list; `update(pairs, rows)` after an edit is cheap."""

    def __init__(self, rules=None):
        self.rules = rules or ValidationRules()
        self.issues: list[tuple[Issue, ...]] = []
        self._cache: dict[int, tuple] = {}      # id(pair) → (question, answer, category, single, key)
        self._ids: list[int] = []               # id of each row's pair at the last update
        self._keys: list[str] = []
        self._singles: list[tuple[Issue, ...]] = []
        self._repeats: dict[int, list[Issue]] = {}

    def set_rules(self, rules) -> None:
        self.rules = rules
        self._cache, self._ids = {}, []

    def _entry(self, pair) -> tuple:
        hit = self._cache.get(id(pair))
        if hit is None or hit[0] is not pair.question or hit[1] is not pair.answer or hit[2] is not pair.category:
            hit = (pair.question, pair.answer, pair.category, _single(pair, self.rules), question_key(pair))
            self._cache[id(pair)] = hit
        return hit

    def update(self, pairs, rows: list[int] | None = None) -> list[int]:
        """Recheck after a change; returns the rows whose issues changed (for repainting).

        rows: the rows whose text changed, when no row was added, removed or moved: then only those
        rows and the rows sharing their old or new question are checked again."""
        ids = [id(p) for p in pairs]
        if rows is None or ids != self._ids:
            return self._full(pairs, ids)
        affected = set()
        for r in rows:
            affected.add(self._keys[r])
            _, _, _, single, key = self._entry(pairs[r])
            self._singles[r], self._keys[r] = single, key
            affected.add(key)
        affected.discard("")
        touched = set(rows)
        if self.rules.check_duplicates and affected:
            group = [i for i, k in enumerate(self._keys) if k in affected]
            for i in group:
                self._repeats.pop(i, None)
            self._repeats.update(_repeats(pairs, self._keys, group))
            touched.update(group)
        return self._merge(sorted(touched))

    def _full(self, pairs, ids) -> list[int]:
        live = set(ids)
        self._cache = {k: v for k, v in self._cache.items() if k in live}
        entries = [self._entry(p) for p in pairs]
        self._ids = ids
        self._singles = [e[3] for e in entries]
        self._keys = [e[4] for e in entries]
        self._repeats = _repeats(pairs, self._keys) if self.rules.check_duplicates else {}
        old = self.issues
        self.issues = [None] * len(pairs)
        self._merge(range(len(pairs)))
        return [i for i, x in enumerate(self.issues) if i >= len(old) or old[i] != x]

    def _merge(self, rows) -> list[int]:
        changed = []
        for i in rows:
            new = self._singles[i] + tuple(self._repeats[i]) if i in self._repeats else self._singles[i]
            if self.issues[i] != new:
                self.issues[i] = new
                changed.append(i)
        return changed

    # ---------------------------------------------------------------- summaries
    def counts(self) -> dict[str, Counter]:
        """level → Counter(kind → number of problems)."""
        out = {level: Counter() for level in LEVELS}
        for row in self.issues:
            for it in row:
                out.setdefault(it.level, Counter())[it.kind] += 1
        return out

    def rows_dropped_by_run(self) -> list[int]:
        """Rows a run leaves out without asking: a warning that drops the row (not one it only cleans)."""
        return [i for i, row in enumerate(self.issues)
                if any(it.level == "warning" and it.kind not in CLEANED_KINDS for it in row)
                and not any(it.level == "error" for it in row)]

    def rows_at(self, *levels: str) -> list[int]:
        return [i for i, row in enumerate(self.issues) if any(it.level in levels for it in row)]

    def flat(self) -> list[tuple[int, Issue]]:
        return [(i, it) for i, row in enumerate(self.issues) for it in row]
