"""How every command ends: the one guard between a command's body and the process's exit code.

    def run(argv=None) -> int:
        args = build_parser().parse_args(argv)
        return guarded(lambda: _body(args), interrupted="interrupted: …")

- a UserError (config_meta.UserError: the base of every expected failure: bad data, config, checkpoint,
  run folder, teacher, sweep, resume check, …) → `error: <one line>` on stderr and in run.log when one is
  open, exit code 2; bad data adds the list of problems (`data_problems`: a summary, or the full list in
  the run folder) after that line;
- an OSError (a file or folder of the user's that cannot be read or written, a full disk) → the same line,
  naming the path;
- Ctrl+C → the command's "interrupted" line, exit code 130;
- anything else is a bug and keeps its traceback.

Every command (workbench-train, -eval, -sweep, and any new one) ends through `guarded`, so a new kind of
expected failure only needs to derive from UserError.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Callable

from workbench.config_meta import UserError
from workbench.data.dataset import DataError

log = logging.getLogger("workbench.cli")

EXIT_OK, EXIT_TRAINING_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def say(text: str) -> None:
    print(text, file=sys.stderr)


def error_line(exc: BaseException) -> str:
    """The one line a user error is reported with."""
    if isinstance(exc, DataError):
        errors = sum(p.level == "error" for p in exc.problems)
        return f"invalid data ({errors:,} error(s)): {exc}"
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fail(text: str) -> int:
    """One user error: `error: text` on stderr (and in run.log when one is open), exit code 2."""
    log.error(text)
    say(f"error: {text}")
    return EXIT_BAD_INPUT


def report_data_problems(write: Callable[[str], None], problems, out_dir: str | None, rows_read: int | None = None,
                         rows_used: int | None = None) -> None:
    """A short summary on the console; the full list in OUT/data_problems.csv when rows are involved and OUT is
    a folder already."""
    from workbench.data.problem_report import PROBLEMS_FILE, summarise_problems, write_problems_csv
    if not problems:
        return
    if all(p.row is None for p in problems):      # the file as a whole (missing column, bad --columns): say each
        for p in problems[:30]:
            write(str(p))
        return
    write(summarise_problems(problems, rows_read=rows_read, rows_used=rows_used))
    if out_dir is None or not os.path.isdir(out_dir):
        return
    path = os.path.join(out_dir, PROBLEMS_FILE)
    try:
        write_problems_csv(path, problems)
        write(f"full list of data problems: {path}")
    except OSError as exc:
        write(f"could not write the full list to {path}: {exc.strerror or exc}")


def guarded(body: Callable[[], int], *, interrupted: str = "interrupted", problems_dir: Callable[[], str | None]
            = lambda: None) -> int:
    """Run a command's body and turn its expected failures into exit codes (see the module docstring).
    problems_dir: the folder that gets data_problems.csv when the data is bad (a run folder already opened)."""
    try:
        return body()
    except UserError as exc:
        line = error_line(exc)
        code = fail(line)
        if isinstance(exc, DataError):
            problems = exc.problems
            if all(p.row is None for p in problems):     # the file as a whole: the line already names the first
                problems = [p for p in problems if str(p) not in line]
            report_data_problems(say, problems, problems_dir())
            if any(p.row is not None and p.level == "error" for p in exc.problems):
                say("fix those rows, or pass --drop-invalid to go on without them")
        return code
    except OSError as exc:
        return fail(error_line(exc))
    except KeyboardInterrupt:
        say(interrupted)
        return EXIT_INTERRUPTED
