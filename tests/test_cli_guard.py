"""One user-error type and one guard: every expected failure derives from UserError, and every command ends
through cli/guard.guarded (exit 2 and one `error:` line; a bug keeps its traceback; Ctrl+C exits 130)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import SAMPLE_45
from workbench.cli import eval as cli_eval
from workbench.cli import sweep as cli_sweep
from workbench.cli import train as cli_train
from workbench.cli.guard import EXIT_BAD_INPUT, EXIT_INTERRUPTED, guarded
from workbench.config_meta import UserError

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"workbench-train": cli_train, "workbench-eval": cli_eval, "workbench-sweep": cli_sweep}


def test_every_expected_failure_is_a_user_error():
    from workbench.data.dataset import DataError
    from workbench.sweep.study import SweepError
    from workbench.teacher.encoder import TeacherError
    from workbench.train.config import ConfigError
    from workbench.train.distributed import DistributedError, PeerLost
    from workbench.train.estimate import RunTooLarge
    from workbench.train.evaluate import EvalError
    from workbench.train.record.checkpoint import CheckpointError
    from workbench.train.record.folder import RunFolderError
    for cls in (DataError, ConfigError, RunTooLarge, CheckpointError, RunFolderError, TeacherError, EvalError,
                SweepError, DistributedError):
        assert issubclass(cls, UserError), cls
    assert not issubclass(PeerLost, UserError)        # a lost process is a failed run (exit 1), not bad input


def test_no_command_catches_an_expected_failure_class_by_name():
    """The eight-class except chains are gone: the commands catch nothing themselves but what guard.py maps."""
    names = {"DataError", "ConfigError", "CheckpointError", "RunFolderError", "TeacherError", "EvalError",
             "SweepError", "DistributedError", "UserError", "KeyboardInterrupt"}
    for path in (ROOT / "workbench" / "cli").glob("*.py"):
        if path.name == "guard.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = {n.id if isinstance(n, ast.Name) else getattr(n, "attr", "") for n in ast.walk(node.type)}
                assert not caught & names, f"{path.name}:{node.lineno} catches {caught & names}"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_ends_a_user_error_with_exit_2_and_one_line(name, tmp_path, capsys):
    missing = str(tmp_path / "no_such.csv")
    argv = {"workbench-train": [missing, "--out", str(tmp_path / "r")],
            "workbench-eval": [str(tmp_path), missing],
            "workbench-sweep": [missing, "--trials", "1", "--out", str(tmp_path / "s"), "--preset", "recommended",
                                "--space", str(tmp_path / "no_space.toml")]}[name]
    code = COMMANDS[name].run(argv)
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err


def test_the_guard_maps_user_errors_keeps_bugs_and_ctrl_c(capsys):
    class Refused(UserError):
        pass

    def refuse() -> int:
        raise Refused("the thing cannot be used\nsecond line never shown")

    assert guarded(refuse) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == "error: the thing cannot be used\n"

    def bug() -> int:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        guarded(bug)

    def ctrl_c() -> int:
        raise KeyboardInterrupt

    assert guarded(ctrl_c, interrupted="interrupted: resume with the same command") == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "interrupted: resume with the same command\n"


def test_bad_rows_give_one_error_line_then_the_problem_summary(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE_45.read_text().splitlines()[0] + "\nWhat is a CPU?,   \n" +
                   "\n".join(SAMPLE_45.read_text().splitlines()[1:]) + "\n")
    assert cli_train.run([str(bad), "--out", str(tmp_path / "r"), "--preset", "recommended"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: invalid data (1 error(s)): ") and "bad.csv" in errors[0]
    summary = err[err.index(errors[0]) + 1:]                  # then the problem summary and what to do
    assert any("row" in line and "answer" in line for line in summary), err
    assert "Traceback" not in "\n".join(err) and "--drop-invalid" in summary[-1]
