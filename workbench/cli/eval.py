"""workbench-eval: score a run's best checkpoint on any dataset file, beside identity and the run's ridge map.

    workbench-eval RUN_DIR DATA [--json OUT] [--cache-dir DIR] [--columns question=Q,answer=A] [--drop-invalid]

Prints a table (cosine, top-1, MRR; retrieval among all answers of DATA). Bad input exits 2 with one
line per problem and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.data.atomic import atomic_write_text
from workbench.data.dataset import DataError
from workbench.teacher.encoder import TeacherError
from workbench.train.record.checkpoint import CheckpointError
from workbench.train.config import ConfigError
from workbench.train.evaluate import EvalError, evaluate_run
from workbench.cli.progress import Printer
from workbench.cli.train import EXIT_BAD_INPUT, fail, os_error_text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench-eval",
                                description="Score a trained run on a dataset file: cosine, top-1 and MRR beside "
                                            "identity and the run's ridge baseline.")
    p.add_argument("run_dir", help="run folder written by workbench-train (holds best.safetensors and ridge_weights.npy)")
    p.add_argument("data", help="dataset to score: .csv (question,answer[,…]), .jsonl, .json or .parquet")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="also write the figures to this JSON file")
    p.add_argument("--cache-dir", help="teacher embedding cache folder (default: the one the run used)")
    p.add_argument("--columns", metavar="ROLE=COL,...",
                   help="column names when DATA's differ: question=Q,answer=A (as for workbench-train)")
    p.add_argument("--drop-invalid", action="store_true", help="leave invalid rows out (each is reported) instead of stopping")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    printer = Printer(args.quiet)

    def score() -> None:
        result = evaluate_run(args.run_dir, args.data, cache_dir=args.cache_dir, drop_invalid_rows=args.drop_invalid,
                              columns=args.columns, progress=printer)
        for note in result.notes:
            printer.line(note)
        print(result.table())
        if args.json_out:
            atomic_write_text(args.json_out, json.dumps(result.as_json(), indent=2) + "\n")
    return run_on_a_run(score, "score")


def run_on_a_run(job, verb: str) -> int:
    """job() on a run and a data file (workbench-eval, workbench-inspect); bad input → one line, exit code 2."""
    try:
        job()
    except DataError as exc:
        from workbench.data.problem_report import summarise_problems
        print(f"error: invalid data ({sum(p.level == 'error' for p in exc.problems):,} error(s)); "
              f"pass --drop-invalid to {verb} without those rows", file=sys.stderr)
        print(summarise_problems(exc.problems), file=sys.stderr)
        return EXIT_BAD_INPUT
    # only the errors our loaders raise for bad user input; a ValueError elsewhere is a bug and keeps its traceback
    except (EvalError, CheckpointError, ConfigError, TeacherError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(os_error_text(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
