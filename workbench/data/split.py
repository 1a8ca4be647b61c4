"""Held-out splits that do not leak: whole groups (e.g. source documents) stay on one side.

Templated questions repeat within a document ("What are the symptoms of X ?"), so a random row
split puts near-copies on both sides and overstates every model. When the data has a group
column, validation takes whole groups, in a seeded random order, until it holds about
`val_fraction` of the rows.
"""

from __future__ import annotations

import numpy as np

from workbench.data.pairs import DataError, Dataset, Problem

AUTO_GROUP_COLUMNS = ("group", "document")   # looked for, in this order, when split.group_column is "auto"


def group_column(ds: Dataset, setting: str) -> str | None:
    """The column to group by: "auto" finds one of AUTO_GROUP_COLUMNS, "" turns grouping off, else a
    column name (an extra column, or "category")."""
    setting = (setting or "").strip()
    if not setting:
        return None
    if setting.lower() == "auto":
        return next((c for c in AUTO_GROUP_COLUMNS if c in ds.columns), None)
    if setting not in ds.columns and setting != "category":
        raise DataError([Problem(ds.path, None, setting, f"split.group_column names '{setting}', which is not a "
                                 f"column of this file (columns: {', '.join(['question', 'answer', 'category', *ds.columns])}); "
                                 "use \"auto\", \"\" (off) or one of them")])
    return setting


def _min_rows_check(n: int) -> None:
    if n < 4:
        raise DataError([Problem("<dataset>", None, None,
                                 f"need at least 4 valid pairs to hold out a validation set, found {n}")])


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded, disjoint train/validation positions of single rows; at least 2 train and 2 validation rows."""
    _min_rows_check(n)
    perm = np.random.default_rng(seed).permutation(n)
    n_val = min(n - 2, max(2, int(round(val_fraction * n))))
    return sorted(perm[n_val:].tolist()), sorted(perm[:n_val].tolist())


def split_groups(groups: list[str], val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Positions for train and validation with every group wholly on one side.

    Groups are taken in a seeded random order until validation holds at least its share of rows
    (so it overshoots by less than one group); a group that would leave fewer than 2 training
    rows is skipped. A row with an empty group value is a group of its own."""
    n = len(groups)
    _min_rows_check(n)
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g if g != "" else f"\0row{i}", []).append(i)
    names = sorted(members)                      # sorted first: the order must not depend on row order
    order = np.random.default_rng(seed).permutation(len(names))
    target = min(n - 2, max(2, int(round(val_fraction * n))))
    val: list[int] = []
    for j in order:
        if len(val) >= target:
            break
        rows = members[names[j]]
        if n - len(val) - len(rows) >= 2:
            val += rows
    val_set = set(val)
    return [i for i in range(n) if i not in val_set], sorted(val)


def split_dataset(ds: Dataset, val_fraction: float, seed: int, group_setting: str = "auto"
                  ) -> tuple[list[int], list[int], dict]:
    """Train/validation positions of ds, and a record of how they were made (for the report)."""
    column = group_column(ds, group_setting)
    info: dict = {"val_fraction": val_fraction, "seed": seed, "group_column": column or ""}
    labels = (ds.categories() if column == "category" else ds.column(column)) if column else None
    n_groups = len({g for g in labels if g}) if labels else 0
    if labels and n_groups >= 2:
        tr, va = split_groups(labels, val_fraction, seed)
        if len(va) >= 2:
            val_groups = {labels[i] for i in va if labels[i]}
            ungrouped = sum(1 for g in labels if not g)
            info.update(method="groups", groups=n_groups, val_groups=len(val_groups), n_train=len(tr), n_val=len(va),
                        text=f"split: validation holds {len(va):,} rows ({len(va) / len(ds):.1%}) from {len(val_groups):,} "
                             f"of {n_groups:,} whole groups of column '{column}' (seed {seed}); no group is on both sides"
                             + (f"; {ungrouped:,} row{'s' if ungrouped > 1 else ''} without a group value "
                                f"{'were' if ungrouped > 1 else 'was'} split as single rows" if ungrouped else ""))
            return tr, va, info
    tr, va = split_indices(len(ds), val_fraction, seed)
    why = ("no group column (add a 'document' or 'group' column, or set split.group_column)" if not column and
           group_setting.strip().lower() == "auto" else "grouping turned off (split.group_column is empty)" if not column
           else f"column '{column}' has fewer than 2 groups with room for validation")
    info.update(method="rows", n_train=len(tr), n_val=len(va),
                text=f"split: validation holds {len(va):,} random rows ({len(va) / len(ds):.1%}, seed {seed}); {why}")
    return tr, va, info
