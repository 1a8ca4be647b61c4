"""The one comparison row: a predictor's name and Figures, and how metrics.json names them. Plain Python.

    rows = [ComparisonRow("identity", "baseline", figs_id), ComparisonRow("lattice", "model", figs)]
    metrics.update(metric_keys(rows))          # metrics.json: baseline_identity_val_cosine, …, val_cosine, …
    rows = rows_from_metrics(json.load(fh))    # …and back: the app's Report tab and charts, any run folder
    print(format_table(rows))                  # the console, workbench-eval; markdown=True: report.md

metrics.json names a comparison row's figures `baseline_<name>_<metric>` and `ablation_<name>_<metric>`;
the lattice's own are the bare `<metric>`. `metric_keys` builds those keys and `rows_from_metrics` reads
them back (generic: any such key becomes a row, so a new baseline or ablation shows up everywhere), and
nothing else builds or parses them. The figures come from the one scorer, metrics.score. No torch or numpy
here: the app reads run folders with this before torch is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

METRICS = ("val_cosine", "val_top1", "val_top5", "val_mrr", "train_cosine")   # metrics.json suffixes, table order
EVAL_COLUMNS = ("val_cosine", "val_top1", "val_mrr")                          # what workbench-eval shows
HEADERS = {"val_cosine": "cosine", "val_top1": "top-1", "val_top5": "top-5", "val_mrr": "MRR",
           "train_cosine": "train cosine"}
_FIELD = {"val_cosine": "cosine", "val_top1": "top1", "val_top5": "top5", "val_mrr": "mrr",
          "train_cosine": "train_cosine"}
# suffixes a key may end with, longest first so "val_top1" wins over "top1"; short forms map to the columns
_SUFFIXES = sorted([(m, m) for m in METRICS] + [(f, m) for m, f in _FIELD.items() if f != m], key=lambda t: -len(t[0]))
KINDS = ("baseline", "ablation", "model")          # the order rows are shown in
LABELS = {"identity": "identity (answer := question)", "mean_answer": "mean training answer",
          "ridge": "ridge linear map", "lattice_off": "same model, lattice knocked out"}


@dataclass(frozen=True)
class Figures(Mapping):
    """A predictor's figures on one set of pairs. Also a read-only mapping under the metrics.json suffixes
    (figs["val_cosine"] is figs.cosine), the form progress.jsonl and the charts read. None: not measured."""
    cosine: float | None = None          # mean cosine of prediction i and answer i
    top1: float | None = None            # share of questions whose own answer ranks first among all answers
    top5: float | None = None
    mrr: float | None = None             # mean reciprocal rank of the own answer
    train_cosine: float | None = None    # mean cosine on the scored training pairs, when given
    n: int = 0                           # pairs scored

    def __getitem__(self, key: str):
        if key not in _FIELD:
            raise KeyError(key)
        return getattr(self, _FIELD[key])

    def __iter__(self):
        return iter(METRICS)

    def __len__(self) -> int:
        return len(METRICS)

    @property
    def measured(self) -> bool:
        return any(v is not None for v in self.values())

    @classmethod
    def of(cls, values: Mapping) -> "Figures":
        """From a mapping under the metrics.json suffixes (an epoch row, a parsed metrics.json)."""
        return cls(**{_FIELD[k]: _num(values.get(k)) for k in METRICS})


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


@dataclass(frozen=True)
class ComparisonRow:
    """One predictor beside the others: its name, its kind ("baseline", "ablation" or "model") and figures."""
    name: str                 # "identity", "mean_answer", "ridge", "lattice_off", "lattice", …
    kind: str
    figures: Figures
    label: str = ""           # shown in tables; default: LABELS, else the name

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        return LABELS.get(self.name, self.name.replace("_", " "))


def metric_keys(rows) -> dict[str, float | None]:
    """The metrics.json keys of rows: `<kind>_<name>_<metric>`, the model's as the bare metric."""
    out: dict[str, float | None] = {}
    for row in rows:
        prefix = "" if row.kind == "model" else f"{row.kind}_{row.name}_"
        for key in METRICS:
            value = row.figures[key]
            if value is not None or row.kind == "model":
                out[prefix + key] = value
    return out


def _split(rest: str) -> tuple[str, str] | None:
    for suffix, column in _SUFFIXES:
        if rest.endswith("_" + suffix) and len(rest) > len(suffix) + 1:
            return rest[:-len(suffix) - 1], column
    return None


def rows_from_metrics(metrics: Mapping) -> list[ComparisonRow]:
    """Every comparison row in a metrics.json (any run folder, old ones too): baselines, ablations, then the
    lattice itself (kind "model", named with its best epoch) when its figures are there."""
    found: dict[tuple[str, str], dict[str, float]] = {}
    for key, value in metrics.items():
        kind = key.partition("_")[0]
        if kind in ("baseline", "ablation") and _num(value) is not None:
            parsed = _split(key[len(kind) + 1:])
            if parsed:
                found.setdefault((kind, parsed[0]), {})[parsed[1]] = value
    rows = [ComparisonRow(name, kind, Figures.of(vals)) for (kind, name), vals in found.items()]
    rows.sort(key=lambda r: KINDS.index(r.kind))
    model = Figures.of(metrics)
    if model.measured:
        best = metrics.get("best_epoch")
        rows.append(ComparisonRow("lattice", "model", model, f"lattice (best epoch {best})" if best else "lattice"))
    return rows


def format_table(rows, columns=METRICS, markdown: bool = False) -> str:
    """rows as a plain-text table (the console, workbench-eval; the model's name in capitals, as plain text has
    no bold) or a Markdown one (report.md; the model's row bold)."""
    heads = [HEADERS[c] for c in columns]
    if markdown:
        out = ["| predictor | " + " | ".join(heads) + " |", "|---" * (len(columns) + 1) + "|"]
        for r in rows:
            cells = [r.title, *(fmt(r.figures[c]) for c in columns)]
            out.append("| " + " | ".join(f"**{c}**" if r.kind == "model" else c for c in cells) + " |")
        return "\n".join(out)
    names = [r.title.upper() if r.kind == "model" else r.title for r in rows]
    width = max([len("predictor"), *map(len, names)]) + 2
    out = [f"{'predictor':<{width}}" + "".join(f"{h:>13}" for h in heads)]
    out += [f"{name:<{width}}" + "".join(f"{fmt(r.figures[c]):>13}" for c in columns) for name, r in zip(names, rows)]
    return "\n".join(out)


def fmt(v) -> str:
    """A figure to 3 decimals; '–' when not measured (None or NaN)."""
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"
