"""The legend text under each chart and beside the run list (rich text for QLabels), built from the run drawn.

Legends sit under the charts, never over the curves; baselines are named there with their value, so no label is
clipped at a plot's edge. Entries wrap only between entries, never mid-phrase.
"""

from __future__ import annotations

import numpy as np

from workbench.gui.common.theme import view_colour

PANELS = [  # title, [(metric key, colour, legend name)], log-y, baseline metric
    ("loss", [("loss", "#08306b", "train (epoch mean)"), ("val_loss", "#d62728", "validation"),
              ("loss_mse", "#ff7f0e", "mse"), ("loss_cosine", "#2ca02c", "cosine"), ("loss_l1", "#9467bd", "l1"),
              ("loss_infonce", "#8c564b", "InfoNCE")], False, None),
    ("Q→A cosine", [("train_cosine", "#1f77b4", "train"), ("val_cosine", "#d62728", "validation")], False,
     "val_cosine"),
    ("validation retrieval", [("val_top1", "#2ca02c", "top-1"), ("val_mrr", "#9467bd", "MRR")], False, "val_top1"),
    ("learning rate", [("lr", "#444444", "lr")], True, None),
    ("gradient norm · update ratio", [("grad_norm", "#ff7f0e", "grad norm"), ("update_ratio", "#17becf",
                                                                               "‖Δθ‖/‖θ‖")], True, None),
]
BATCH_COLOUR = "#1f77b4"
BASELINES = (("identity", "#888888"), ("ridge", "#bcbd22"), ("mean_answer", "#e377c2"))
TARGET_COLOUR = "#000000"
RUN_COLOURS = ("#e6550d", "#31a354", "#756bb1", "#636363", "#3182bd", "#d6616b", "#8c6d31")
ALWAYS_NAMED = ("loss", "val_loss", "train_cosine", "val_cosine", "val_top1", "val_mrr", "lr")


def nb(text: str) -> str:
    """A legend entry that wraps only between entries, never mid-phrase (no-break spaces inside it)."""
    return text.replace(" ", "\u00a0")


def swatch(colour: str, dash: bool = False, dot: bool = False) -> str:
    mark = "• " if dot else ("╌╌ " if dash else "━━ ")
    return f"<span style='color:{colour}; font-weight:bold'>{mark}</span>"


def has_values(run, key: str) -> bool:
    return run is not None and any(np.isfinite(v) and v != 0 for v in run.epoch_series(key)[1])


def legend_state(run, keys, target: float) -> tuple:
    """What the legends are built from: a change means new text (text changes are rare during a run)."""
    if run is None:
        return ()
    return (run.name, tuple(sorted(run.baselines)), target, tuple(k for k in keys if has_values(run, k)))


def chart_legend(title: str, keys, metric, run, scheme: str, target: float) -> str:
    """One chart's legend: its title, the curves drawn there, the baselines with their values, the target."""
    parts = [f"<b>{nb(title)}</b>"]
    if title == "loss":
        parts.append(swatch(BATCH_COLOUR) + nb("train, per batch (EMA; raw faint)"))
    for key, colour, name in keys:
        if has_values(run, key) or key in ALWAYS_NAMED:
            parts.append(swatch(view_colour(colour, scheme), dot=True) + nb(name))
    if metric and run is not None:
        for name, colour in BASELINES:
            v = run.baselines.get(name, {}).get(metric)
            if v is not None:
                parts.append(swatch(colour, dash=True) + nb(f"{name.replace('_', ' ')} {v:.3f}"))
    if title == "Q→A cosine":
        parts.append(swatch(view_colour(TARGET_COLOUR, scheme), dash=True) + nb(f"target {target:.2f}"))
    return " &nbsp; ".join(parts)


def runs_legend(current, checked: list, scheme: str) -> str:
    """The run list's legend: the current run, then each overlaid run in its colour."""
    parts = ["<b>runs</b> (tick to overlay)"]
    if current is not None:
        parts.append(f"━━ {current.name} (current)")
    parts += [swatch(view_colour(c, scheme), dash=True) + r.name for r, c in checked]
    return " &nbsp; ".join(parts)
