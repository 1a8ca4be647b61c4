"""Writes a run folder's record from trainer events: config.json, history.csv, metrics.json, report.md.

Built with the live log (progress_log.py) by run_sinks.run_folder_sinks for every kind of run, so a run
started from the app, the CLI or a sweep leaves the same record. Every file is written atomically;
history.csv is rewritten after each epoch so a crash keeps it. Per-batch progress is not here: it is
progress.jsonl's, the one live log (older folders may still hold the batches.csv this class used to write).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from workbench.data.atomic import atomic_write_text
from workbench.train.config import RunConfig, save_config, to_dict
from workbench.train.metrics import RIDGE_FILE, save_ridge_weights
from workbench.train.record.compare import ComparisonRow, Figures, fmt, format_table, metric_keys, rows_from_metrics
from workbench.train.events import EPOCH_KEYS, EpochMetrics, EventSink, Finished, RunStarted, TrainWarning
from workbench.data.problem_report import PROBLEMS_FILE, summarise_problems, write_problems_csv
from workbench.data.stats import format_stats


class RunRecorder(EventSink):
    def __init__(self, out_dir: str | Path, config: RunConfig, stats: dict | None = None,
                 notes: list[str] | None = None, teacher: str = "", problems: list | None = None):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.config, self.stats, self.notes, self.teacher = config, stats or {}, notes or [], teacher
        self.started: RunStarted | None = None
        self.history: list[dict] = []
        self.warnings: list[str] = []
        save_config(config, self.out / "config.json")
        self.problems = problems or []   # data problems, all levels: the full list goes to data_problems.csv
        if self.problems:
            write_problems_csv(self.out / PROBLEMS_FILE, self.problems)

    def on_run_started(self, ev: RunStarted) -> None:
        self.started = ev
        if ev.ridge_weights is not None:
            save_ridge_weights(self.out / RIDGE_FILE, ev.ridge_weights)

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        self.history.append(ev.metrics)
        self._write_history()

    def on_train_warning(self, ev: TrainWarning) -> None:
        self.warnings.append(ev.message)

    def on_finished(self, ev: Finished) -> None:
        if ev.error:
            self.warnings.append("run ended with an error: " + ev.error)
        self.metrics = self.summary(ev)
        atomic_write_text(self.out / "metrics.json", json.dumps(self.metrics, indent=2) + "\n")
        atomic_write_text(self.out / "report.md", self.report(ev))

    def _write_history(self) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=["epoch", *EPOCH_KEYS], lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(self.history)
        atomic_write_text(self.out / "history.csv", buf.getvalue())

    def summary(self, fin: Finished) -> dict:
        """metrics.json: the lattice's best-epoch figures, each baseline's (record/compare.py names the keys),
        the ablation's (fin.extra, eval_pass.py), and the run's facts."""
        s, best = self.started, fin.best
        rows = [ComparisonRow("lattice", "model", Figures.of(best))]
        rows += [ComparisonRow(name, "baseline", figs) for name, figs in (s.baselines.items() if s else ())]
        out = {
            **metric_keys(rows[:1]),
            "train_cosine_max": max((r["train_cosine"] for r in self.history), default=None),
            "train_cosine_last": self.history[-1]["train_cosine"] if self.history else None,
            "train_cosine_start": s.start.get("train_cosine_start") if s else None,
            "val_cosine_start": s.start.get("val_cosine_start") if s else None,
            "grad_coverage": best.get("grad_coverage"),
            "epochs_run": fin.epochs_run, "best_epoch": fin.best_epoch, "finish_reason": fin.reason,
            "teacher": self.teacher, "embedding_dim": s.embedding_dim if s else None,
            "lattice_shape": list(s.lattice_shape) if s else None, "n_params": s.n_params if s else None,
            "n_train": s.n_train if s else None, "n_val": s.n_val if s else None, "device": s.device if s else None,
            "world_size": s.world_size if s else None, "backend": s.backend if s else None,
            "seconds": round(fin.seconds, 2), "warnings": self.warnings,
            "init_from": self.config.init_from or None,      # the parent run of a fine-tuned run
            **metric_keys(rows[1:]),
        }
        out.update(fin.extra)      # ablation_* figures and lattice_delta_ratio (eval_pass.ablation)
        return out

    def report(self, fin: Finished) -> str:
        m = self.metrics
        rows = rows_from_metrics(m)
        lines = ["# Lattice Workbench run report", "",
                 f"Finished: **{fin.reason}** after {fin.epochs_run} epoch(s) in {fin.seconds:.1f} s; "
                 f"best epoch {fin.best_epoch} (by validation cosine).", ""]
        if self.config.init_from:
            lines += [f"Fine-tuned: started from the best weights of the run `{self.config.init_from}` with a fresh "
                      "optimizer and schedule; \"before training\" figures are that run's weights on this split.", ""]
        if self.warnings:
            lines += ["## Warnings", ""] + [f"- **{w}**" for w in self.warnings] + [""]
        lines += ["## Model against baselines (held-out validation set)", "",
                  f"{m['n_train']} training pairs, {m['n_val']} validation pairs that were never trained on. "
                  "Retrieval ranks all validation answers for each validation question; ties count against the model.", "",
                  format_table([r for r in rows if r.kind != "ablation"], markdown=True)]
        lines += improvement_section(m, _row(rows, "identity"))
        lines += ablation_section(m, rows)
        tgt = self.config.target_similarity
        if m["val_cosine"] is not None:
            lines += ["", f"Progress toward the target similarity {tgt:.2f}: {m['val_cosine'] / tgt * 100:.1f}% "
                      f"(validation cosine {m['val_cosine']:.3f})."]
        lines += ["", "## Training dynamics", ""] + self._dynamics(fin) + ["", "## Dataset", ""]
        for part in ("all", "train", "val"):
            if part in self.stats:
                lines += [f"**{part}**", "", "```", format_stats(self.stats[part]), "```", ""]
        if self.problems:
            lines += ["### Data problems", "", f"Every row is listed in `{PROBLEMS_FILE}`.", "", "```",
                      summarise_problems(self.problems), "```", ""]
        if self.notes:
            lines += ["### Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        lines += ["## Setup", "", f"- teacher: `{self.teacher}`, {m['embedding_dim']}-d",
                  f"- lattice {m['lattice_shape']}, {m['n_params']} parameters, device {m['device']}"
                  + (f", {m['world_size']} processes ({m['backend']}), each on a slice of every batch"
                     if (m.get("world_size") or 1) > 1 else ""),
                  "", "```json", json.dumps(to_dict(self.config), indent=1), "```", ""]
        return "\n".join(lines)

    def _dynamics(self, fin: Finished) -> list[str]:
        m = self.metrics
        if not self.history:
            return ["- no epoch completed."]
        h0, hb, hl = self.history[0], fin.best or self.history[-1], self.history[-1]
        return [f"- train cosine before the first update: {fmt(m['train_cosine_start'])}; at the best epoch: "
                f"{fmt(m['train_cosine'])} ({_d(m['train_cosine'], m['train_cosine_start'])}); highest in the run: "
                f"{fmt(m['train_cosine_max'])} ({_d(m['train_cosine_max'], m['train_cosine_start'])})",
                f"- training loss: epoch 1 {h0['loss']:.4f} → last {hl['loss']:.4f}",
                f"- fraction of parameters with a non-zero gradient: {fmt(hb.get('grad_coverage'))} (best epoch)",
                f"- relative update ‖Δθ‖/‖θ‖: epoch 1 {h0['update_ratio']:.2e}, last {hl['update_ratio']:.2e}",
                f"- mean gradient norm: epoch 1 {h0['grad_norm']:.3g}, last {hl['grad_norm']:.3g}",
                f"- learning rate: {h0['lr']:.2e} → {hl['lr']:.2e}"]


def _row(rows: list[ComparisonRow], name: str) -> ComparisonRow | None:
    return next((r for r in rows if r.name == name and r.kind != "model"), None)


def improvement_section(m: dict, identity: ComparisonRow | None) -> list[str]:
    lines = ["", "### Improvement over the identity baseline", "",
             "| metric | identity | lattice | absolute | relative | factor |", "|---|---|---|---|---|---|"]
    for key in ("val_cosine", "val_top1", "val_mrr"):
        base, mine = identity.figures[key] if identity else None, m.get(key)
        if base is None or mine is None:
            continue
        rel = f"{(mine - base) / base * 100:+.1f}%" if base else "n/a"
        fac = f"{mine / base:.3f}×" if base else "n/a"
        lines.append(f"| {key} | {base:.3f} | {mine:.3f} | {mine - base:+.3f} | {rel} | {fac} |")
    return lines


def ablation_section(m: dict, rows: list[ComparisonRow]) -> list[str]:
    """What the lattice adds: the trained model, the same model with the lattice knocked out, identity and ridge."""
    off, model = _row(rows, "lattice_off"), next((r for r in rows if r.kind == "model"), None)
    if off is None or model is None or m.get("val_cosine") is None:
        return []
    keys = ("val_cosine", "val_top1", "val_mrr")
    shown = [model, off] + [r for r in (_row(rows, "identity"), _row(rows, "ridge")) if r is not None]
    lines = ["", "## What the lattice adds (ablation)", "",
             "The model predicts q + readout(s_T) − readout(s_0): the question embedding q is a path around the "
             f"lattice. Knocking the lattice out (0 steps at evaluation, same trained weights of the "
             f"{m.get('ablation_weights', 'best epoch')}) leaves that path alone; the difference is what the 3D cells "
             "contribute.", "", format_table(shown, keys, markdown=True)]
    lines += ["", "Lattice's own contribution (trained − knocked out): "
              + ", ".join(f"{k.removeprefix('val_')} {m[k] - off.figures[k]:+.3f}" for k in keys)
              + f". On average the lattice writes {m.get('lattice_delta_ratio', float('nan')):.1%} of the prediction's "
              "length (‖pred − q‖ / ‖pred‖)."]
    ridge = _row(rows, "ridge")
    if ridge is not None and ridge.figures.cosine is not None:
        lines.append("Against the ridge linear map: " + ", ".join(
            f"{k.removeprefix('val_')} {m[k] - ridge.figures[k]:+.3f}" for k in keys) + ".")
    return lines


def _d(a, b) -> str:
    return "–" if a is None or b is None else f"{a - b:+.3f}"
