"""The figures of a run's metrics.json as table rows: the lattice beside every baseline and ablation present.

Generic on purpose: metrics.json names its comparison rows `baseline_<name>_<metric>` and
`ablation_<name>_<metric>`; any such key becomes a row, so a new baseline or ablation written by
the core shows up in the app without a change here. Plain Python, no Qt.
"""

from __future__ import annotations

METRICS = ("val_cosine", "val_top1", "val_top5", "val_mrr", "train_cosine")   # the table's columns, in order
HEADERS = {"val_cosine": "val cosine", "val_top1": "top-1", "val_top5": "top-5", "val_mrr": "MRR",
           "train_cosine": "train cosine"}
# suffixes a key may end with, longest first so "val_top1" wins over "top1"; short forms map to the columns
_SUFFIXES = sorted([(m, m) for m in METRICS] + [("cosine", "val_cosine"), ("top1", "val_top1"), ("top5", "val_top5"),
                                                ("mrr", "val_mrr")], key=lambda t: -len(t[0]))
KINDS = (("baseline_", "baseline"), ("ablation_", "ablation"))
NICE = {"identity": "identity (answer := question)", "mean_answer": "mean training answer", "ridge": "ridge linear map"}


def _split(rest: str) -> tuple[str, str] | None:
    for suffix, column in _SUFFIXES:
        if rest.endswith("_" + suffix) and len(rest) > len(suffix) + 1:
            return rest[:-len(suffix) - 1], column
    return None


def figure_rows(metrics: dict) -> list[tuple[str, str, dict[str, float]]]:
    """[(kind, name, {column: value})]: baselines, then ablations, then the lattice itself (kind "model")."""
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for key, value in metrics.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        for prefix, kind in KINDS:
            if key.startswith(prefix):
                parsed = _split(key[len(prefix):])
                if parsed:
                    name, column = parsed
                    rows.setdefault((kind, name), {})[column] = float(value)
    out = [(kind, NICE.get(name, name.replace("_", " ")), vals) for (kind, name), vals in rows.items()]
    out.sort(key=lambda r: [k for _, k in KINDS].index(r[0]))
    model = {m: float(metrics[m]) for m in METRICS if isinstance(metrics.get(m), (int, float))}
    if model:
        best = metrics.get("best_epoch")
        out.append(("model", f"lattice (best epoch {best})" if best else "lattice", model))
    return out
