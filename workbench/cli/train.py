"""workbench-train: the headless trainer. Prints events, writes the run folder, exits non-zero on bad input.

    workbench-train DATA [--val VAL_DATA] [--preset NAME] [--config FILE] [--set key=value ...]
                    [--teacher MODEL] [--epochs N] [--seed N] [--columns question=Q,answer=A] --out RUN_DIR
                    [--resume CKPT | --overwrite] [-v]
    workbench-train --list-keys

Exit codes: 0 done, 1 training failed (diverged), 2 bad input (data, config, checkpoint, run folder,
a run too large for this machine): one clear line per problem, never a traceback. Anything else
is a bug and surfaces as a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from workbench.train.record.checkpoint import CheckpointError
from workbench.train.config import (DEFAULT_PRESET, LARGE_DATA_MIN_PAIRS, LARGE_DATA_PRESET, PRESETS, ConfigError,
                             apply_preset, load_config, set_value, suggested_preset)
from workbench.data.dataset import DataError
from workbench.train.events import Finished
from workbench.train.record.compare import format_table, rows_from_metrics
from workbench.train.record.folder import RunFolderError
from workbench.teacher.encoder import TeacherError
from workbench.cli.progress import DEFAULT_INTERVAL_S, Printer

log = logging.getLogger("workbench.cli")

EXIT_BAD_INPUT, EXIT_TRAINING_FAILED = 2, 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench-train",
                                description="Train a 3D cellular lattice to map question embeddings to answer embeddings.",
                                epilog="Every config key, its range, unit and reason: workbench-train --list-keys. "
                                       "Exit codes: 0 done, 1 training diverged, 2 bad input.")
    p.add_argument("data", nargs="?", help="dataset: .csv (question,answer[,category,...]), .jsonl, .json or .parquet")
    p.add_argument("--val", help="explicit validation dataset (default: a seeded split of DATA)")
    p.add_argument("--preset", choices=list(PRESETS),
                   help=f"default: '{LARGE_DATA_PRESET}' for {LARGE_DATA_MIN_PAIRS:,} pairs or more, else '{DEFAULT_PRESET}'")
    p.add_argument("--config", help="JSON config file, applied after the preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set optim.lr=1e-3 (repeatable)")
    p.add_argument("--teacher", help="Hugging Face id or local path of the teacher (default: shipped all-MiniLM-L6-v2)")
    p.add_argument("--epochs", type=int, help="number of epochs")
    p.add_argument("--seed", type=int, help="seed for split, init, batches and noise")
    p.add_argument("--out", help="run folder for config.json, history.csv, checkpoints, report.md, run.log "
                   "(required; an existing run there is refused unless --resume or --overwrite)")
    p.add_argument("--resume", help="checkpoint (e.g. RUN_DIR/last.safetensors) to continue from")
    p.add_argument("--overwrite", action="store_true",
                   help="--out holds an earlier run: move it aside to OUT.old-<date-time> and start afresh")
    p.add_argument("--drop-invalid", action="store_true",
                   help="leave rows with errors out (each is listed in RUN_DIR/data_problems.csv) instead of stopping")
    p.add_argument("--columns", metavar="ROLE=COL,...",
                   help="column names of a file that does not use question/answer, e.g. "
                        "question=Q,answer=A[,category=C,group=G]; other columns are kept")
    p.add_argument("--cache-dir", help="teacher embedding cache folder (default: user cache dir)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="log to stderr too (-v info, -vv debug); run.log gets debug lines with -v")
    p.add_argument("--list-keys", action="store_true", help="list every config key with its range, unit and reason")
    p.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard scalars and hparams to RUN_DIR/tensorboard (needs the tensorboard package)")
    p.add_argument("--progress-interval", type=float, default=DEFAULT_INTERVAL_S, metavar="SECONDS",
                   help="seconds between progress lines when the output is not a terminal (default: %(default)s)")
    return p


def make_config(args):
    from workbench.train.config import RunConfig
    cfg = apply_preset(RunConfig(), args.preset or DEFAULT_PRESET)
    if args.config:
        cfg = load_config(args.config, cfg)
    for item in args.overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects KEY=VALUE, got '{item}'")
        key, value = item.split("=", 1)
        set_value(cfg, key.strip(), value.strip())
    if args.teacher:
        cfg.teacher.model = args.teacher
    if args.epochs is not None:
        set_value(cfg, "optim.epochs", args.epochs)
    if args.seed is not None:
        set_value(cfg, "seed", args.seed)
    if args.cache_dir:
        cfg.teacher.cache_dir = args.cache_dir
    return cfg


def choose_preset(args) -> tuple:
    """Without --preset the data's size decides (config.suggested_preset): the file is read once here and the
    same Dataset goes on to prepare(). Returns (DATA path or Dataset, a line saying which preset and why)."""
    if args.preset:
        return args.data, f"preset: {args.preset}"
    from workbench.data.dataset import load_dataset
    ds = load_dataset(args.data, columns=args.columns)     # DataError (a file that cannot be read) ends the run
    args.preset = suggested_preset(len(ds))
    return ds, (f"preset: {args.preset}, chosen for {len(ds):,} pairs ('{LARGE_DATA_PRESET}' from "
                f"{LARGE_DATA_MIN_PAIRS:,} pairs, else '{DEFAULT_PRESET}'; --preset NAME to choose)")


def report_data_problems(say, problems, out_dir: str, rows_read: int | None = None,
                         rows_used: int | None = None) -> None:
    """A short summary on the console; the full list in OUT/data_problems.csv when rows are involved."""
    from workbench.data.problem_report import PROBLEMS_FILE, summarise_problems, write_problems_csv
    if not problems:
        return
    if all(p.row is None for p in problems):      # the file as a whole (missing column, bad --columns): say each
        for p in problems[:30]:
            say(str(p))
        return
    say(summarise_problems(problems, rows_read=rows_read, rows_used=rows_used))
    path = os.path.join(out_dir, PROBLEMS_FILE)
    try:
        write_problems_csv(path, problems)
        say(f"full list of data problems: {path}")
    except OSError as exc:
        say(f"could not write the full list to {path}: {exc.strerror or exc}")


def fail(text: str) -> int:
    """One user error: a clear message on stderr (and in run.log when one is open), exit code 2."""
    log.error(text)
    print(f"error: {text}", file=sys.stderr)
    return EXIT_BAD_INPUT


def os_error_text(exc: OSError) -> str:
    """A file or folder of the user's that cannot be read or written, named."""
    return f"{exc.filename or ''}: {exc.strerror or exc}"


def _console_logging(verbose: int) -> logging.Handler | None:
    """-v: the `workbench` loggers' INFO lines on stderr too; -vv: DEBUG. Returns the handler to remove after."""
    if not verbose:
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("workbench")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    return handler


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_keys:
        from workbench.train.config import describe_keys
        print(describe_keys())
        return 0
    if not args.data or not args.out:
        parser.error("DATA and --out are required (or --list-keys)")   # exits 2 with the usage line
    console = _console_logging(args.verbose)
    printer = Printer(args.quiet, sys.stderr, interval=args.progress_interval)
    try:
        return _train(args, printer, argv)
    except DataError as exc:
        say = lambda text: print(text, file=sys.stderr)  # noqa: E731
        errors = sum(p.level == "error" for p in exc.problems)
        say(f"error: invalid data ({errors:,} error(s)); nothing was trained")
        if Path(args.out).is_dir():      # opened as a run folder (never someone else's run): the full list goes there
            report_data_problems(say, exc.problems, args.out)
        else:
            say(exc.report())
        if any(p.row is not None and p.level == "error" for p in exc.problems):
            say("fix those rows, or pass --drop-invalid to train without them")
        return EXIT_BAD_INPUT
    except (ConfigError, TeacherError, CheckpointError, RunFolderError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(os_error_text(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if console is not None:
            logging.getLogger("workbench").removeHandler(console)


def _train(args, printer: "Printer", argv: list[str] | None) -> int:
    from workbench.train import distributed
    from workbench.cli.ddp import Rank0Share, follow, lost_peer_message
    # every rank reads the size and picks the same preset, so every rank builds the same config
    data, preset_note = choose_preset(args)
    cfg = make_config(args)
    if args.tensorboard:
        from workbench.train.record.tensorboard import require_tensorboard
        require_tensorboard()
    ddp = None
    try:
        ddp = distributed.start(cfg.device)   # None unless torchrun started several processes
        if ddp is not None and not ddp.is_main:
            return follow(ddp, cfg, args.resume)     # trains its slice of every batch; writes and prints nothing
        with Rank0Share(ddp) as share:
            return _train_main(args, printer, argv, cfg, ddp, share, data, preset_note)
    except distributed.DistributedError as exc:
        return fail(str(exc))
    except RuntimeError as exc:
        if ddp is None:
            raise
        print(f"error: {lost_peer_message(ddp, exc)}", file=sys.stderr)   # a peer died or hung: no traceback
        return EXIT_TRAINING_FAILED
    finally:
        distributed.stop(ddp)


def _train_main(args, printer: "Printer", argv: list[str] | None, cfg, ddp, share, data, preset_note: str) -> int:
    """The single-process path, which is also rank 0's: it alone touches the run folder and the console."""
    from workbench.teacher.encoder import Teacher
    from workbench.train.estimate import check_fits, estimate_run
    from workbench.train.pipeline import prepare
    from workbench.train.record.sinks import run_folder_sinks
    from workbench.train.resume_check import check_resume_config
    from workbench.train.record.folder import prepare_run_folder, run_log
    from workbench.train.trainer import TrainingState, train
    teacher = Teacher(cfg.teacher)
    # size check before embedding anything: a lattice that cannot fit is refused in seconds, not after minutes
    check_fits(estimate_run(cfg, 0, teacher.dim, timed=False), cfg)
    if args.resume:       # the checkpoint's keys from its header, before anything is embedded (minutes at 100k pairs)
        check_resume_config(args.resume, cfg, teacher.dim)
    folder_notes, args.resume = prepare_run_folder(args.out, args.resume, args.overwrite)
    with run_log(args.out, args.verbose):
        log.info("workbench-train %s", " ".join(sys.argv[1:] if argv is None else argv))
        for note in [*folder_notes, preset_note]:
            log.info(note)
            printer.line(note)
        try:
            prepared = prepare(cfg, data, args.val, drop_invalid_rows=args.drop_invalid, columns=args.columns,
                               teacher=teacher, progress=printer)
            share(prepared.data)            # under torchrun: the other ranks get the split embeddings, not the file
            teacher.unload()                # the training does not need the teacher model in memory
            report_data_problems(printer.line, prepared.problems, args.out, prepared.rows_read,
                                 len(prepared.train) + len(prepared.val))
            for note in prepared.notes:
                log.info(note)
                printer.line(note)
            printer.line(f"teacher {prepared.teacher}: {prepared.cache_hits} texts from cache, "
                         f"{prepared.model_calls} model batches")
            state = TrainingState.create(cfg, prepared.data, out_dir=args.out, ddp=ddp)
            if args.resume:
                for note in state.resume_from(args.resume):     # after prepare: the split's fingerprint
                    printer.line(f"warning: {note}")
            # the run folder's views (record, live log, TensorBoard) as every kind of run builds them;
            # a resumed run's history.csv keeps the earlier epochs
            folder = run_folder_sinks(args.out, cfg, prepared, world_size=ddp.world_size if ddp else 1,
                                      tensorboard=args.tensorboard, history=state.history)
            recorder, views = folder.recorder, [printer, folder]
            finished = None
            for ev in train(state):
                for view in views:
                    view(ev)
                if isinstance(ev, Finished):
                    finished = ev
        except (DataError, ConfigError, TeacherError, CheckpointError, OSError) as exc:
            log.error("%s: %s", type(exc).__name__, exc.report() if isinstance(exc, DataError) else exc)
            raise
    print(format_table(rows_from_metrics(recorder.metrics)))   # every baseline, the ablation, the lattice
    print(f"run folder: {os.path.abspath(args.out)} (report.md, metrics.json, history.csv, run.log, best.safetensors)")
    return EXIT_TRAINING_FAILED if finished is None or finished.reason == "error" else 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
