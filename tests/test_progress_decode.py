"""A run folder read back as events: progress.jsonl decoded into the trainer's own dataclasses (one event path
for the app's own runs and followed ones), older folders replayed in order, and a folder still setting up."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from helpers import SAMPLE_45, small_config
from workbench.train.events import BatchProgress, EpochMetrics, Finished, RunStarted, TrainWarning
from workbench.train.pipeline import prepare
from workbench.train.record.follow import RunFolderReader, folder_state, is_run_folder, setup_note
from workbench.train.record.progress_log import PROGRESS_FILE, ProgressLog, ProgressTail
from workbench.train.record.sinks import run_folder_sinks
from workbench.train.trainer import TrainingState, train

DRAWN = (RunStarted, BatchProgress, EpochMetrics, TrainWarning, Finished)   # what progress.jsonl carries


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, cache_dir):
    """A real 2-epoch run written by the run folder's sinks (what workbench-train writes), with its events."""
    out = tmp_path_factory.mktemp("decoded") / "run"
    cfg = small_config(cache_dir, **{"optim.epochs": 2, "optim.batch_size": 8})
    prep = prepare(cfg, str(SAMPLE_45))
    sinks = run_folder_sinks(out, cfg, prep)
    events = []
    for ev in train(TrainingState.create(cfg, prep.data, out_dir=out)):
        sinks(ev)
        events.append(ev)
    return out, [ev for ev in events if isinstance(ev, DRAWN)]


def same_number(a, b) -> bool:
    return (math.isnan(a) and math.isnan(b)) if isinstance(a, float) and math.isnan(a) else a == pytest.approx(b)


def test_a_real_runs_live_log_decodes_into_the_events_the_trainer_yielded(real_run, tmp_path):
    out, emitted = real_run
    moved = tmp_path / "moved"            # read where another machine mounts it: the checkpoint follows the folder
    shutil.copytree(out, moved)
    decoded = RunFolderReader(moved).read_new()
    assert [type(e) for e in decoded] == [type(e) for e in emitted]
    for mine, theirs in zip(decoded, emitted):
        if isinstance(theirs, RunStarted):
            assert (mine.n_train, mine.n_val, mine.start_epoch, mine.device, mine.lattice_shape, mine.n_params) == \
                (theirs.n_train, theirs.n_val, 1, theirs.device, tuple(theirs.lattice_shape), theirs.n_params)
            assert mine.baselines.keys() == theirs.baselines.keys() and mine.start == pytest.approx(theirs.start)
            assert all(mine.baselines[k] == pytest.approx(v) for k, v in theirs.baselines.items())
        elif isinstance(theirs, BatchProgress):
            for k in ("epoch", "batch", "n_batches", "samples_seen", "loss", "running_loss", "samples_per_s", "eta_s"):
                assert same_number(getattr(mine, k), getattr(theirs, k)), k
            assert mine.n_epochs == 2 and mine.elapsed_s >= 0
        elif isinstance(theirs, EpochMetrics):
            assert mine.epoch == theirs.epoch and mine.is_best == theirs.is_best
            assert all(same_number(mine.metrics[k], v) for k, v in theirs.metrics.items())
        elif isinstance(theirs, Finished):
            assert (mine.reason, mine.best_epoch, mine.epochs_run, mine.error) == \
                (theirs.reason, theirs.best_epoch, theirs.epochs_run, theirs.error)
            assert mine.best == pytest.approx(theirs.best)
            assert mine.checkpoint == str(moved / "best.safetensors")
        else:
            assert mine == theirs


def test_lines_arrive_in_pieces_and_junk_is_counted_never_fatal(tmp_path):
    path = tmp_path / PROGRESS_FILE
    log = ProgressLog(tmp_path, n_epochs=3)
    log(RunStarted(10, 2, 384, (2, 2, 2), 5, "cpu", {"identity": {"val_cosine": 0.5}}, {}))
    tail = ProgressTail(path)
    assert [type(e) for e in tail.read_new()] == [RunStarted]
    whole = json.dumps({"kind": "batch", "t": 1, "epoch": 1, "batch": 1, "n_batches": 2, "samples_seen": 5,
                        "loss": None})
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('not json\n{"kind": "mystery"}\n{"kind": "epoch", "epoch": "one"}\n' + whole[:20])
    assert tail.read_new() == [] and tail.skipped == 3        # the half line waits for its newline
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(whole[20:] + "\n")
    (batch,) = tail.read_new()
    assert isinstance(batch, BatchProgress) and batch.n_epochs == 3 and math.isnan(batch.loss)   # null = NaN


def test_a_resumed_run_starts_again_in_the_same_log(tmp_path):
    log = ProgressLog(tmp_path, n_epochs=4)
    log(RunStarted(10, 2, 384, (2, 2, 2), 5, "cpu", {}, {}))
    log(EpochMetrics(1, {"val_cosine": 0.4}, True))
    log(Finished("stopped", 1, 1, {"val_cosine": 0.4}, 3.0))
    log(RunStarted(10, 2, 384, (2, 2, 2), 5, "cpu", {}, {}, start_epoch=2))
    events = RunFolderReader(tmp_path).read_new()
    assert [type(e).__name__ for e in events] == ["RunStarted", "EpochMetrics", "Finished", "RunStarted"]
    assert events[1].metrics == {"val_cosine": 0.4, "epoch": 1} and events[2].best == events[1].metrics and events[2].checkpoint == ""    # no checkpoint file there
    assert events[3].start_epoch == 2


def test_a_folder_from_before_the_live_log_replays_each_epoch_after_its_batches(tmp_path):
    old = tmp_path / "old-run"
    old.mkdir()
    (old / "history.csv").write_text("epoch,loss,val_cosine\n1,0.5,0.61\n2,0.4,0.63\n")
    (old / "batches.csv").write_text("epoch,batch,samples_seen,loss\n1,1,8,0.9\n1,2,12,0.7\n2,1,20,0.5\n2,2,24,0.4\n")
    (old / "metrics.json").write_text(json.dumps({"n_train": 12, "best_epoch": 2, "epochs_run": 2,
                                                  "finish_reason": "completed", "baseline_ridge_val_cosine": 0.55}))
    reader = RunFolderReader(old)
    events = reader.read_new()
    assert [type(e).__name__[0] for e in events] == list("RBBEBBEF")
    assert events[0].n_train == 12 and list(events[0].baselines) == ["ridge"]
    assert events[0].baselines["ridge"]["val_cosine"] == 0.55 and events[0].baselines["ridge"]["val_top1"] is None
    assert events[-1].best == {"epoch": 2, "loss": 0.4, "val_cosine": 0.63} and events[-1].reason == "completed"
    assert reader.read_new() == []                          # replayed once


def test_a_folder_that_a_run_is_still_setting_up_is_a_run_folder_with_a_note(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    assert folder_state(run) == "absent" and not is_run_folder(run) and folder_state(tmp_path / "none") == "absent"
    (run / "run.log").write_text("2026-12-07 18:33:49,942 INFO    workbench.cli: preset: large-data, chosen\n")
    assert folder_state(run) == "setting up" and is_run_folder(run)
    assert setup_note(run) == "preset: large-data, chosen" and RunFolderReader(run).read_new() == []
    (run / PROGRESS_FILE).write_text("")
    assert folder_state(run) == "running"
    (run / "metrics.json").write_text("{}")
    assert folder_state(run) == "finished"
