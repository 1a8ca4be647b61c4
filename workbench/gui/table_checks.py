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

from ..data import dataset as core

LEVELS = ("error", "warning", "note")


@dataclass(frozen=True)
class Issue:
    field: str
    level: str        # "error": the run cannot use the row; "warning": the run drops it; "note": kept, counted
    kind: str         # short rule name the summary counts by
    message: str


def rules_from_config(cfg) -> "core.ValidationRules":
    """The run's rules for this config (the same function the trainer uses, where the core has it)."""
    try:
        from ..train.pipeline import validation_rules
    except ImportError:
        return core.ValidationRules(cfg.data.min_chars, cfg.data.max_chars)
    return validation_rules(cfg)


def _kind(message: str) -> str:
    return message.split(":")[0].split(" (")[0].strip() or "invalid"


def _single(pair, rules) -> tuple[Issue, ...]:
    """Problems of one row on its own, as Issues (the core returns Problems with levels, or a {field: why})."""
    found = core.validate_pair(pair, rules)
    if isinstance(found, dict):
        return tuple(Issue(f, "error", _kind(why), why) for f, why in found.items())
    return tuple(Issue(p.field or "", p.level, p.kind or _kind(p.message), p.message) for p in found)


def _question_key(pair) -> str:
    fn = getattr(core, "question_key", None)
    if fn is not None:
        return fn(pair)
    return core._norm(pair.question) if pair.question.strip() else ""


def _repeats(pairs, keys: list[str]) -> dict[int, list[Issue]]:
    """Across-rows problems by row position; messages name table rows (1-based positions)."""
    out: dict[int, list[Issue]] = {}
    repeat_problems = getattr(core, "repeat_problems", None)
    if repeat_problems is not None:
        for p in repeat_problems(core.Dataset(pairs), keys):
            out.setdefault(p.row - 1, []).append(Issue(p.field or "", p.level, p.kind, p.message))
        return out
    counts = Counter(k for k in keys if k)
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k and counts[k] > 1:
            if k in first:
                out.setdefault(i, []).append(Issue("question", "error", "duplicate",
                                                   f"duplicate of the question in row {first[k] + 1}"))
            else:
                first[k] = i
    return out


class RowChecks:
    """issues[row] for every row of a pair list; `update(pairs)` after any change is cheap."""

    def __init__(self, rules=None):
        self.rules = rules or core.ValidationRules()
        self.check_repeats = getattr(self.rules, "check_duplicates", True)
        self.issues: list[tuple[Issue, ...]] = []
        self._cache: dict[int, tuple] = {}     # id(pair) → (question, answer, category, extra, single, key)

    def set_rules(self, rules) -> None:
        self.rules = rules
        self.check_repeats = getattr(rules, "check_duplicates", True)
        self._cache = {}

    def update(self, pairs) -> list[int]:
        """Recheck after a change; returns the rows whose issues changed (for repainting)."""
        cache, fresh = self._cache, {}
        singles, keys = [], []
        for pair in pairs:
            extra = getattr(pair, "extra", None)
            hit = cache.get(id(pair))
            if hit is None or hit[0] is not pair.question or hit[1] is not pair.answer \
                    or hit[2] is not pair.category or hit[3] != extra:
                hit = (pair.question, pair.answer, pair.category, dict(extra) if extra else extra,
                       _single(pair, self.rules), _question_key(pair))
            fresh[id(pair)] = hit
            singles.append(hit[4])
            keys.append(hit[5])
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
