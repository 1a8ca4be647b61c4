"""workbench-ask: the top-k answers of an answer bank for each question, by a trained run, beside identity's.

    workbench-ask RUN_DIR --answers FILE [QUESTION ... | --questions FILE] [-k 5] [--json OUT] [--csv OUT]
                  [--cache-dir DIR] [--answer-column NAME] [--question-column NAME]

The search is exact (every answer compared) and chunked (workbench.use.search). Bad input exits 2 with
one line and no traceback (cli/guard.py).
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.cli.guard import guarded
from workbench.cli.progress import Printer
from workbench.cli.run_flags import run_reader_flags
from workbench.data.atomic import atomic_write_text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench-ask", description="Find the best answers in an answer bank for "
                                "questions, with a trained run (exact search), beside identity's top answer.")
    p.add_argument("run_dir", help="run folder written by workbench-train (its best.safetensors)")
    p.add_argument("questions", nargs="*", metavar="QUESTION", help="questions to answer (or --questions FILE)")
    p.add_argument("--answers", required=True, metavar="FILE",
                   help="answer bank: .csv/.jsonl/.json/.parquet with an 'answer' column, or .txt (one per line)")
    p.add_argument("--questions", dest="questions_file", metavar="FILE",
                   help="questions from a file: its 'question' column, or the lines of a .txt")
    p.add_argument("-k", type=int, default=5, help="answers per question (default: %(default)s)")
    run_reader_flags(p, "write the answers as JSON")
    p.add_argument("--csv", dest="csv_out", metavar="OUT", help="write the answers as CSV (one line per answer)")
    p.add_argument("--answer-column", default="answer", help="the bank's text column (default: %(default)s)")
    p.add_argument("--question-column", default="question", help="the questions file's column (default: %(default)s)")
    return p


def _ask(args, printer: Printer) -> int:
    from workbench.use.ask import as_csv, as_json, as_text, ask, load_bank, load_questions
    from workbench.use.run import load_run
    run = load_run(args.run_dir, cache_dir=args.cache_dir)
    questions = list(args.questions)
    if args.questions_file:
        questions += load_questions(args.questions_file, args.question_column)
    bank = load_bank(run, args.answers, args.answer_column, progress=printer)
    for note in bank.notes:
        printer.line(note)
    answered = ask(run, bank, questions, args.k)
    print(as_text(answered))
    if args.json_out:
        atomic_write_text(args.json_out, json.dumps(as_json(answered), indent=1, ensure_ascii=False) + "\n")
    if args.csv_out:
        atomic_write_text(args.csv_out, as_csv(answered))
    return 0


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_intermixed_args(argv)       # questions may come before or after the options
    if not args.questions and not args.questions_file:
        parser.error("give QUESTION arguments or --questions FILE")      # exits 2 with the usage line
    return guarded(lambda: _ask(args, Printer(args.quiet)))


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()

