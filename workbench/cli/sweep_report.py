"""What a sweep leaves behind: the trials table (printed and trials.csv), best_config.json, plots, sweep.json.

Any worker may write these when it ends (each file atomically), so the last worker to finish leaves the
complete picture; re-running the command after the study is full only rewrites them.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

from workbench.data.atomic import atomic_write_bytes, atomic_write_text
from workbench.train.config import RunConfig, save_config
from workbench.sweep.study import counted, is_surplus, redact, trial_folder
from workbench.sweep.space import apply_params


def trial_rows(study) -> list[dict]:
    """One row per trial that holds a place (surplus trials, which trained nothing, are left out)."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if is_surplus(t):
            continue
        value = t.value if t.value is not None else (t.intermediate_values[max(t.intermediate_values)]
                                                     if t.intermediate_values else None)
        rows.append({"trial": t.number, "state": t.state.name.lower(), "val_cosine": value,
                     "epochs": t.user_attrs.get("epochs_run", len(t.intermediate_values)),
                     "best_epoch": t.user_attrs.get("best_epoch", ""),
                     "seconds": round(t.duration.total_seconds(), 1) if t.duration else None,
                     "folder": t.user_attrs.get("folder", trial_folder("", t.number).name),
                     **{f"param {k}": v for k, v in t.params.items()}})
    return rows


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e-2 or abs(v) >= 1e3 else f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


def format_table(rows: list[dict]) -> str:
    """A fixed-width table: trial, state, validation cosine (pruned: its last reported value), epochs, params."""
    if not rows:
        return "no trials yet"
    keys = ["trial", "state", "val_cosine", "epochs"] + sorted({k for r in rows for k in r if k.startswith("param ")})
    heads = [k.removeprefix("param ").split(".")[-1] if k.startswith("param ") else k.replace("_", " ") for k in keys]
    cells = [[_fmt(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    line = lambda parts: "  ".join(p.rjust(w) for p, w in zip(parts, widths))  # noqa: E731
    return "\n".join([line(heads), *(line(c) for c in cells)])


def write_trials_csv(path: Path, rows: list[dict]) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def save_plots(study, out: Path) -> list[str]:
    """importance.png and history.png through optuna.visualization.matplotlib; a note for each one not drawn."""
    try:
        import matplotlib
        matplotlib.use("Agg")            # files only: no display needed, and never a window from the CLI
        import matplotlib.pyplot as plt
        from optuna.visualization.matplotlib import plot_optimization_history, plot_param_importances
    except ImportError as exc:
        return [f"plots not drawn: matplotlib is missing ({exc}); pip install 'lattice-workbench[plots]'"]
    from optuna.trial import TrialState
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    notes = []
    for name, draw, need in (("history.png", plot_optimization_history, 1), ("importance.png", plot_param_importances, 2)):
        if len(complete) < need:
            notes.append(f"{name} not drawn: it needs {need} complete trial(s), the study has {len(complete)}")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")          # "experimental" notices from optuna's matplotlib backend
                ax = draw(study)
            if name == "history.png":
                ax.set_ylabel("validation cosine (trial's best epoch)")
            fig = ax.figure
            fig.set_size_inches(8, 5)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100)
            plt.close(fig)
            atomic_write_bytes(out / name, buf.getvalue())
        except (ValueError, RuntimeError, ZeroDivisionError, ImportError) as exc:   # same params everywhere; no sklearn
            notes.append(f"{name} not drawn: {exc}")
    return notes


def write_summary(study, out: Path, url: str, n_trials: int, ran: int, base: RunConfig | None = None) -> list[str]:
    """Write every summary file; return the lines to print (table, best trial, where things are)."""
    from optuna.trial import TrialState
    rows = trial_rows(study)
    write_trials_csv(out / "trials.csv", rows)
    lines = [format_table(rows), ""]
    n_done = counted(study)
    best = None
    if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        best = study.best_trial
        cfg = apply_params(base or RunConfig(), best.params)
        save_config(cfg, out / "best_config.json")
        lines.append(f"best: trial {best.number}, val cos {best.value:.4f} "
                     f"({', '.join(f'{k}={_fmt(v)}' for k, v in best.params.items())})")
        lines.append(f"best config: {out / 'best_config.json'} (workbench-train DATA --config {out / 'best_config.json'})")
    else:
        lines.append("no complete trial yet: no best config")
    notes = save_plots(study, out)
    lines += notes
    summary = {"study": study.study_name, "storage": redact(url),
               "trials_requested": n_trials, "trials_counted": n_done, "trials_run_by_this_worker": ran,
               "best_trial": best.number if best else None, "best_value": best.value if best else None,
               "best_params": best.params if best else None,
               "best_folder": best.user_attrs.get("folder") if best else None,
               "trial_folders": [r["folder"] for r in rows], "notes": notes}
    atomic_write_text(out / "sweep.json", json.dumps(summary, indent=2) + "\n")
    lines.append(f"{n_done} of {n_trials} trials done ({ran} by this worker); sweep folder: {out.resolve()}")
    return lines
