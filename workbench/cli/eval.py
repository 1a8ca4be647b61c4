"""workbench-eval: score a run's best checkpoint on any dataset file, beside identity and the run's ridge map.

    workbench-eval RUN_DIR DATA [--json OUT] [--cache-dir DIR] [--columns question=Q,answer=A] [--drop-invalid]

Prints a table (cosine, top-1, MRR; retrieval among all answers of DATA). Bad input exits 2 with one
line per problem and no traceback (cli/guard.py).
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.cli.guard import EXIT_OK, guarded
from workbench.cli.progress import Printer
from workbench.cli.run_flags import run_reader_flags
from workbench.data.atomic import atomic_write_text
from workbench.train.evaluate import evaluate_run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench-eval",
                                description="Score a trained run on a dataset file: cosine, top-1 and MRR beside "
                                            "identity and the run's ridge baseline.")
    p.add_argument("run_dir", help="run folder written by workbench-train (holds best.safetensors and ridge_weights.npy)")
    p.add_argument("data", help="dataset to score: .csv (question,answer[,…]), .jsonl, .json or .parquet")
    run_reader_flags(p, "also write the figures to this JSON file")
    p.add_argument("--columns", metavar="ROLE=COL,...",
                   help="column names when DATA's differ: question=Q,answer=A (as for workbench-train)")
    p.add_argument("--drop-invalid", action="store_true", help="leave invalid rows out (each is reported) instead of stopping")
    return p


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(lambda: _eval(args))


def _eval(args) -> int:
    printer = Printer(args.quiet)
    result = evaluate_run(args.run_dir, args.data, cache_dir=args.cache_dir, drop_invalid_rows=args.drop_invalid,
                          columns=args.columns, progress=printer)
    for note in result.notes:
        printer.line(note)
    print(result.table())
    if args.json_out:
        atomic_write_text(args.json_out, json.dumps(result.as_json(), indent=2) + "\n")
    return EXIT_OK


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
