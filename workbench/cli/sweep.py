"""workbench-sweep: a hyperparameter search shared by any number of workers, each trial a normal run folder.

    workbench-sweep DATA --trials N --out DIR [--space FILE] [--storage URL] [--study-name NAME]
                    [--no-prune] + the run flags workbench-train has too (cli/run_flags.py): --val --preset
                    --config --set --teacher --epochs --seed --columns --cache-dir --drop-invalid --tensorboard
                    --quiet --progress-interval

Start the same command in several terminals (or on several machines with one --storage
postgresql://user@host/db) and the workers share the study; re-run it to resume: only the trials
still missing to reach N run. The sweep folder ends up with:

    DIR/study.db            the Optuna study (default SQLite storage)
    DIR/trial-0007/         a normal run folder per trial (+ trial.json: number, params, state, value)
    DIR/trials.csv          one row per trial; the same table is printed
    DIR/best_config.json    the best trial's full config: workbench-train --config DIR/best_config.json
    DIR/importance.png      Optuna's parameter importances, DIR/history.png its optimisation history
    DIR/sweep.json          study name, storage, counts and the best trial (for the app and scripts)

Exit codes as workbench-train: 0 done, 2 bad input (data, config, space file, storage), 130 interrupted
(cli/guard.py).
"""

from __future__ import annotations

import argparse
import os
import sys

from workbench.cli.guard import EXIT_OK, guarded, report_data_problems
from workbench.cli.progress import Printer
from workbench.cli.run_flags import choose_preset, make_config, run_flags
from workbench.train.config import ConfigError
from workbench.train.events import EpochMetrics, Finished, TrainWarning


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench-sweep", parents=[run_flags()],
                                description="Search hyperparameters with Optuna (TPE, median pruning); every trial "
                                            "is a normal run folder under --out. Several workers may share one study. "
                                            "The run flags (--preset, --config, --set, …) apply to every trial before "
                                            "the searched keys.")
    p.add_argument("data", help="dataset, as for workbench-train")
    p.add_argument("--trials", type=int, required=True, help="trials in total over all workers and re-runs")
    p.add_argument("--out", required=True, help="sweep folder: study.db, trial-NNNN/ run folders, summary files")
    p.add_argument("--space", help="search space file (.json or .toml) laid over the default space; see README")
    p.add_argument("--storage", help="Optuna storage URL shared by workers (default: sqlite:///OUT/study.db)")
    p.add_argument("--study-name", help="study name in the storage (default: derived from the --out folder's name)")
    p.add_argument("--no-prune", action="store_true", help="run every trial to its last epoch (no median pruning)")
    return p


class TrialPrinter:
    """One line per trial epoch and one when a trial ends: a sweep's console stays readable."""

    def __init__(self, printer: Printer, out: str, quiet: bool):
        self.printer, self.out, self.quiet = printer, out, quiet

    def __call__(self, number: int, ev) -> None:
        if isinstance(ev, EpochMetrics) and not self.quiet:
            m = ev.metrics
            self.printer.line(f"trial {number} epoch {ev.epoch}: val cos {m['val_cosine']:.4f}, loss {m['loss']:.4f}"
                              f"{'  *best' if ev.is_best else ''}")
        elif isinstance(ev, TrainWarning) and ev.code == "trial-taken-over":
            print(ev.message, file=sys.stderr)
        elif isinstance(ev, Finished):
            best = f"best val cos {ev.best['val_cosine']:.4f} at epoch {ev.best_epoch}" if ev.best else "no epoch completed"
            self.printer.line(f"trial {number} {ev.reason}: {best} ({ev.epochs_run} epochs) → "
                              f"{os.path.join(self.out, f'trial-{number:04d}')}")


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(lambda: _sweep(args, Printer(args.quiet, interval=args.progress_interval)),
                   interrupted="interrupted: the study keeps every finished trial; run the same command to resume",
                   problems_dir=lambda: args.out)


def _sweep(args, printer: Printer) -> int:
    import json
    from pathlib import Path
    from workbench.teacher.encoder import Teacher
    from workbench.train.pipeline import prepare
    from workbench.sweep.study import SweepSetup, TrialRunner, counted, redact, run_worker
    from workbench.sweep.space import build_space
    from workbench.cli.sweep_report import write_summary
    if args.trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {args.trials}")
    data, preset_note = choose_preset(args)       # the same size-based default as workbench-train
    base = make_config(args)
    space = build_space(args.space)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    study, url, name = _open_study(args, base, space, out)
    done = counted(study)
    printer.line(preset_note)
    printer.line(f"study '{name}' ({redact(url)}): {done} of {args.trials} trials done"
                 + ("; running the rest" if done < args.trials else ""))

    teacher = Teacher(base.teacher)
    prepared: dict[str, object] = {}

    def prepare_for(cfg):
        """Trials only change the searched keys: the split and embeddings are prepared once per data setting."""
        key = json.dumps([cfg.seed, cfg.data.__dict__, cfg.split.__dict__, cfg.teacher.__dict__], sort_keys=True,
                         default=str)
        if key not in prepared:
            prepared[key] = prepare(cfg, data, args.val, drop_invalid_rows=args.drop_invalid,
                                    teacher=teacher, progress=printer, columns=args.columns)
        return prepared[key]

    first = prepare_for(base)          # data errors stop here, before any trial is created
    teacher.unload()                   # trials read the embeddings from the cache; the model is not needed
    report_data_problems(printer.line, first.problems, args.out, first.rows_read, len(first.train) + len(first.val))
    for note in first.notes:
        printer.line(note)

    if args.tensorboard:
        from workbench.train.record.tensorboard import require_tensorboard
        require_tensorboard()
    setup = SweepSetup(base, space, out, args.trials, prepare_for, tensorboard=args.tensorboard,
                       on_event=TrialPrinter(printer, args.out, args.quiet), study_name=name)
    ran = run_worker(study, TrialRunner(setup), args.trials)
    printer.close_bar()
    for line in write_summary(study, out, url, args.trials, ran, base):
        print(line)
    return EXIT_OK


def _open_study(args, base, space, out):
    """The study this worker joins (created by the first one), refused when it cannot be this sweep's."""
    from workbench.sweep.study import SweepError, open_study, storage_url, study_name, sweep_settings
    url, name = storage_url(out, args.storage), study_name(out, args.study_name)
    settings = sweep_settings(base, space, args.data, val=args.val, columns=args.columns, drop_invalid=args.drop_invalid)
    study = open_study(url, name, settings, pruning=not args.no_prune)
    if not study.trials and any(out.glob("trial-*")):
        raise SweepError(f"{out} holds trial folders of another sweep but its study '{name}' is empty; "
                         "use a new --out folder (nothing there is overwritten)")
    return study, url, name


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
