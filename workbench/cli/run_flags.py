"""The flags every command that trains shares (workbench-train, workbench-sweep), and the config they make.

    p = argparse.ArgumentParser(prog="workbench-…", parents=[run_flags()])
    cfg = make_config(args)                 # preset → --config file → --set → --teacher/--epochs/--seed/--cache-dir/--init-from

A flag that changes what is trained is declared here once, so every training command gets it and reads it the
same way. Only rank 0 of a torchrun job calls `choose_preset` and `make_config` (they read the data file and
the config file); the other ranks receive the resulting config (cli/ddp.py).
"""

from __future__ import annotations

import argparse
import os

from workbench.cli.progress import DEFAULT_INTERVAL_S
from workbench.train.config import (DEFAULT_PRESET, LARGE_DATA_MIN_PAIRS, LARGE_DATA_PRESET, PRESETS, ConfigError,
                                    RunConfig, apply_preset, load_config, set_value, suggested_preset)


def run_flags() -> argparse.ArgumentParser:
    """An argparse parent holding the shared flags (DATA and --out stay with each command: their help differs)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--val", help="explicit validation dataset (default: a seeded split of DATA)")
    p.add_argument("--preset", choices=list(PRESETS),
                   help=f"default: '{LARGE_DATA_PRESET}' for {LARGE_DATA_MIN_PAIRS:,} pairs or more, else '{DEFAULT_PRESET}'")
    p.add_argument("--config", help="JSON config file, applied after the preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set optim.lr=1e-3 (repeatable)")
    p.add_argument("--teacher", help="Hugging Face id or local path of the teacher (default: shipped all-MiniLM-L6-v2)")
    p.add_argument("--epochs", type=int, help="number of epochs (of each run)")
    p.add_argument("--seed", type=int, help="seed for split, init, batches and noise")
    p.add_argument("--drop-invalid", action="store_true",
                   help="leave rows with errors out (each is listed in RUN_DIR/data_problems.csv) instead of stopping")
    p.add_argument("--columns", metavar="ROLE=COL,...",
                   help="column names of a file that does not use question/answer, e.g. "
                        "question=Q,answer=A[,category=C,group=G]; other columns are kept")
    p.add_argument("--cache-dir", help="teacher embedding cache folder (default: user cache dir)")
    p.add_argument("--init-from", metavar="RUN_DIR",
                   help="fine-tune: start from that run's best weights with a fresh optimizer and schedule "
                        "(its lattice and teacher settings must match; config key init_from)")
    p.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard scalars and hparams to RUN_DIR/tensorboard (needs the tensorboard package)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")
    p.add_argument("--progress-interval", type=float, default=DEFAULT_INTERVAL_S, metavar="SECONDS",
                   help="seconds between progress lines when the output is not a terminal (default: %(default)s)")
    return p


def make_config(args) -> RunConfig:
    """The run's config from the shared flags: preset, then --config, then each --set, then the named flags."""
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
    if args.init_from:      # absolute: config.json must still name the parent when read from elsewhere
        set_value(cfg, "init_from", os.path.abspath(args.init_from))
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


def run_reader_flags(p: argparse.ArgumentParser, json_help: str) -> None:
    """The flags every command that reads a trained run shares (workbench-eval, -ask, -inspect): one wording."""
    p.add_argument("--json", dest="json_out", metavar="OUT", help=json_help)
    p.add_argument("--cache-dir", help="teacher embedding cache folder (default: the one the run used)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
