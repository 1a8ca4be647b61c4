"""One run function (train/pipeline.run_training): every driver trains through it, and it honours a stop request."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import SAMPLE_45
from workbench.train.events import BatchProgress, Finished
from workbench.train.pipeline import StopRequest, prepare, run_training

ROOT = Path(__file__).resolve().parents[1]
# what only the run function may do: build the state, drive the trainer's generator, build the run folder's writers
ONE_PLACE = {"train", "create", "run_folder_sinks"}


@pytest.fixture(scope="module")
def prepared(cache_dir):
    from helpers import small_config
    return prepare(small_config(cache_dir), str(SAMPLE_45))


def calls_in(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == "create" and getattr(f.value, "id", "") == "TrainingState":
                names.add("create")
            elif isinstance(f, ast.Attribute) and f.attr == "train" and getattr(f.value, "id", "") == "trainer":
                names.add("train")
            elif isinstance(f, ast.Name) and f.id in ("train", "run_folder_sinks"):
                names.add(f.id)
    return names


def test_only_the_run_function_sets_up_and_drives_a_training():
    """The CLI, torchrun ranks, the app's worker and the sweep trials call run_training; none of them builds a
    TrainingState, iterates train() or builds the run folder's writers on its own."""
    allowed = {ROOT / "workbench" / "train" / "pipeline.py", ROOT / "workbench" / "train" / "trainer.py",
               ROOT / "workbench" / "train" / "record" / "sinks.py"}
    drivers = {"cli/train.py", "cli/ddp.py", "gui/training/worker.py", "sweep/study.py"}
    for path in (ROOT / "workbench").rglob("*.py"):
        if path in allowed:
            continue
        found = calls_in(path) & ONE_PLACE
        assert not found, f"{path.relative_to(ROOT)} calls {found}: use train.pipeline.run_training"
    for rel in drivers:
        assert "run_training(" in (ROOT / "workbench" / rel).read_text(), rel


def test_a_stop_requested_before_the_run_ends_it_before_any_batch(make_config, prepared, tmp_path):
    stop = StopRequest()
    stop()                                           # e.g. Stop pressed while the teacher embedded
    seen = []
    outcome = run_training(make_config(**{"optim.epochs": 3}), prepared, tmp_path / "run", views=[seen.append],
                           stop=stop)
    assert not any(isinstance(ev, BatchProgress) for ev in seen)
    assert outcome.finished.reason == "stopped" and outcome.state.epoch == 0
    assert (tmp_path / "run" / "progress.jsonl").exists()       # the run folder's writers saw the run


def test_a_stop_with_a_reason_names_the_finish_and_the_folder_sees_events_first(make_config, prepared, tmp_path):
    stop, order = StopRequest(), []

    def view(ev) -> None:
        if isinstance(ev, BatchProgress) and not stop.requested:
            order.append((tmp_path / "run" / "progress.jsonl").exists())
            stop("pruned")                            # a sweep trial's pruner, from inside a view
        if isinstance(ev, Finished):
            order.append(ev.reason)

    outcome = run_training(make_config(**{"optim.epochs": 3}), prepared, tmp_path / "run", views=[view], stop=stop)
    assert order == [True, "pruned"] and outcome.finished.reason == "pruned"
    assert outcome.state.epoch == 0 and not outcome.failed
