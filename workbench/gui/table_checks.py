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

from ..data.dataset import LEVELS, Dataset, ValidationRules
from ..data.rules import question_key, repeat_problems, validate_pair
from ..train.pipeline import validation_rules


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


def _repeats(pairs, keys: list[str]) -> dict[int, list[Issue]]:
    """Across-rows problems by row position; messages name table rows (1-based positions)."""
    out: dict[int, list[Issue]] = {}
    for p in repeat_problems(Dataset(pairs), keys):
        out.setdefault(p.row - 1, []).append(Issue(p.field or "", p.level, p.kind, p.message))
    return out


class RowChecks:
    """issues[row] for every row of a pair list; `update(pairs)` after any change is cheap."""

    def __init__(self, rules=None):
        self.rules = rules or ValidationRules()
        self.check_repeats = self.rules.check_duplicates
        self.issues: list[tuple[Issue, ...]] = []
        self._cache: dict[int, tuple] = {}     # id(pair) → (question, answer, category, single, key)

    def set_rules(self, rules) -> None:
        self.rules = rules
        self.check_repeats = rules.check_duplicates
        self._cache = {}

    def update(self, pairs) -> list[int]:
        """Recheck after a change; returns the rows whose issues changed (for repainting)."""
        cache, fresh = self._cache, {}
        singles, keys = [], []
        for pair in pairs:
            hit = cache.get(id(pair))
            if hit is None or hit[0] is not pair.question or hit[1] is not pair.answer or hit[2] is not pair.category:
                hit = (pair.question, pair.answer, pair.category, _single(pair, self.rules), question_key(pair))
            fresh[id(pair)] = hit
            singles.append(hit[3])
            keys.append(hit[4])
        self._cache = fresh
        repeats = _repeats(pairs, keys) if self.check_repeats else {}
        issues = [s + tuple(repeats[i]) if i in repeats else s for i, s in enumerate(singles)]
        old = self.issues
        changed = [i for i, x in enumerate(issues) if i >= len(old) or old[i] != x]
        self.issues = issues
        return changed

    # ---------------------------------------------------------------- summaries
    def counts(self) -> dict[str, Counter]:
        """level → Counter(kind → number of problems)."""
        out = {level: Counter() for level in LEVELS}
        for row in self.issues:
            for it in row:
                out.setdefault(it.level, Counter())[it.kind] += 1
        return out

    def rows_at(self, *levels: str) -> list[int]:
        return [i for i, row in enumerate(self.issues) if any(it.level in levels for it in row)]

    def flat(self) -> list[tuple[int, Issue]]:
        return [(i, it) for i, row in enumerate(self.issues) for it in row]
