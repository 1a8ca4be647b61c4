"""workbench-train: the headless trainer. Prints events, writes the run folder, exits non-zero on bad input.

    workbench-train DATA [--val VAL_DATA] [--preset NAME] [--config FILE] [--set key=value ...]
                    [--teacher MODEL] [--epochs N] [--seed N] [--columns question=Q,answer=A] --out RUN_DIR
                    [--resume CKPT | --overwrite] [--init-from RUN_DIR] [-v]
    workbench-train --list-keys

Exit codes: 0 done, 1 training failed (diverged, or another process of a torchrun job was lost), 2 bad input
(data, config, checkpoint, run folder, a run too large for this machine): one clear line per problem, never a
traceback (cli/guard.py). Anything else is a bug and surfaces as a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from workbench.cli.ddp import Rank0Share, follow, lost_peer_message
from workbench.cli.guard import EXIT_OK, EXIT_TRAINING_FAILED, guarded, report_data_problems
from workbench.cli.progress import Printer
from workbench.cli.run_flags import choose_preset, make_config, run_flags
from workbench.train import distributed
from workbench.cli.stop_signals import signal_exit_code, stop_on_signals
from workbench.train.pipeline import StopRequest, prepare, run_training
from workbench.train.record.compare import format_table, rows_from_metrics

log = logging.getLogger("workbench.cli")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench-train", parents=[run_flags()],
                                description="Train a 3D cellular lattice to map question embeddings to answer embeddings.",
                                epilog="Every config key, its range, unit and reason: workbench-train --list-keys. "
                                       "Exit codes: 0 done, 1 training failed, 2 bad input.")
    p.add_argument("data", nargs="?", help="dataset: .csv (question,answer[,category,...]), .jsonl, .json or .parquet")
    p.add_argument("--out", help="run folder for config.json, history.csv, checkpoints, report.md, run.log "
                   "(required; an existing run there is refused unless --resume or --overwrite)")
    p.add_argument("--resume", help="checkpoint (e.g. RUN_DIR/last.safetensors) to continue from")
    p.add_argument("--overwrite", action="store_true",
                   help="--out holds an earlier run: move it aside to OUT.old-<date-time> and start afresh")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="log to stderr too (-v info, -vv debug; rank 0 only under torchrun); run.log gets debug lines with -v")
    p.add_argument("--list-keys", action="store_true", help="list every config key with its range, unit and reason")
    return p


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
        return EXIT_OK
    if not args.data or not args.out:
        parser.error("DATA and --out are required (or --list-keys)")   # exits 2 with the usage line
    # data_problems.csv goes into --out only once it is a folder (opened as a run folder, never someone else's run)
    return guarded(lambda: _train(args, argv), problems_dir=lambda: args.out)


def _train(args, argv: list[str] | None) -> int:
    """Join the torchrun group first (None without torchrun): ranks > 0 read nothing and wait for rank 0's plan."""
    ddp = distributed.start()
    try:
        if ddp is not None and not ddp.is_main:
            return follow(ddp)        # trains its slice of every batch; writes and prints nothing
        console = _console_logging(args.verbose)       # rank 0 (or the only process) alone logs to stderr
        try:
            with Rank0Share(ddp) as share:
                return _train_main(args, argv, ddp, share)
        finally:
            if console is not None:
                logging.getLogger("workbench").removeHandler(console)
    except distributed.PeerLost as exc:        # a collective failed: a peer died or hung. Any other error is its own
        print(f"error: {lost_peer_message(ddp, exc)}", file=sys.stderr)
        return EXIT_TRAINING_FAILED
    finally:
        distributed.stop(ddp)


def _train_main(args, argv: list[str] | None, ddp, share: Rank0Share) -> int:
    """The single-process path, which is also rank 0's: it alone reads the data, config and teacher, and touches
    the run folder and the console."""
    from workbench.teacher.encoder import Teacher
    from workbench.train.estimate import check_fits, estimate_run
    from workbench.train.record.folder import prepare_run_folder, run_log
    from workbench.train.resume_check import check_init_from, check_resume_config
    printer = Printer(args.quiet, sys.stderr, interval=args.progress_interval)
    data, preset_note = choose_preset(args)       # the data's size picks the preset: read once, here only
    cfg = make_config(args)
    if ddp is not None:
        ddp.place(cfg.device)
    if args.tensorboard:
        from workbench.train.record.tensorboard import require_tensorboard
        require_tensorboard()
    teacher = Teacher(cfg.teacher)
    distributed.spread_embedding(ddp, teacher)     # under torchrun: every rank embeds its share of the misses
    # size check before embedding anything: a lattice that cannot fit is refused in seconds, not after minutes
    check_fits(estimate_run(cfg, 0, teacher.dim, timed=False), cfg)
    if args.resume:       # the checkpoint's keys from its header, before anything is embedded (minutes at 100k pairs)
        check_resume_config(args.resume, cfg, teacher.dim)
    if cfg.init_from:     # the same early check for the run it starts from (--init-from)
        check_init_from(cfg, teacher.dim)
    folder_notes, resume = prepare_run_folder(args.out, args.resume, args.overwrite)   # --overwrite moves the path
    with run_log(args.out, args.verbose):
        log.info("workbench-train %s", " ".join(sys.argv[1:] if argv is None else argv))
        for note in [*folder_notes, preset_note]:
            log.info(note)
            printer.line(note)
        try:
            prepared = _prepare(args, cfg, data, teacher, printer)
            share(prepared.data, cfg, resume)        # under torchrun: the plan and the split embeddings
            stop = StopRequest()
            with stop_on_signals(stop) as signals:     # Ctrl+C, SIGTERM: stop between batches, keep the epoch
                outcome = run_training(cfg, prepared, args.out, ddp=ddp, resume=resume,
                                       tensorboard=args.tensorboard, views=[printer], say=printer.line, stop=stop)
        except Exception as exc:
            log.error("%s: %s", type(exc).__name__, exc.report() if hasattr(exc, "report") else exc)
            raise
    print(format_table(rows_from_metrics(outcome.metrics)))   # every baseline, the ablation, the lattice
    print(f"run folder: {os.path.abspath(args.out)} (report.md, metrics.json, history.csv, run.log, best.safetensors)")
    if outcome.finished is not None and outcome.finished.reason == "stopped":
        printer.line(outcome.finished.stop_notice(resume_hint(args.out)))
    if signals:
        return signal_exit_code(signals)          # 130 / 143: the run did not complete, whatever it kept
    return EXIT_TRAINING_FAILED if outcome.failed else EXIT_OK


def resume_hint(out: str) -> str:
    return f"Resume: the same command with --resume {os.path.join(out, 'last.safetensors')}"


def _prepare(args, cfg, data, teacher, printer: Printer):
    """The data through the pipeline, with its problems and notes on the console and in the run folder."""
    prepared = prepare(cfg, data, args.val, drop_invalid_rows=args.drop_invalid, columns=args.columns,
                       teacher=teacher, progress=printer)
    teacher.unload()                # the training does not need the teacher model in memory
    report_data_problems(printer.line, prepared.problems, args.out, prepared.rows_read,
                         len(prepared.train) + len(prepared.val))
    for note in prepared.notes:
        log.info(note)
        printer.line(note)
    printer.line(f"teacher {prepared.teacher}: {prepared.cache_hits} texts from cache, "
                 f"{prepared.model_calls} model batches")
    return prepared


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
