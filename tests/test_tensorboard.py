"""TensorBoard sink and RUN/progress.jsonl: real training events written, then read back as a viewer would."""

from __future__ import annotations

import csv
import json

import pytest
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import SAMPLE_45
from workbench.train.events import BatchProgress, EpochMetrics
from workbench.train.pipeline import prepare
from workbench.train.record.progress_log import PROGRESS_FILE, ProgressLog, read_progress
from workbench.train.record.sinks import run_folder_sinks
from workbench.train.record.tensorboard import TensorBoardSink, hparam_values
from workbench.train.trainer import TrainingState, train


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, cache_dir):
    """One real 3-epoch run with the recorder, the TensorBoard sink and the progress log attached."""
    from helpers import small_config
    out = tmp_path_factory.mktemp("tb-run")
    cfg = small_config(cache_dir, **{"optim.epochs": 3, "optim.batch_size": 4})
    p = prepare(cfg, str(SAMPLE_45))
    state = TrainingState.create(cfg, p.data, out_dir=out)
    clock = iter(range(10**6))            # a fake clock for throttling only: every 2nd batch is 1 "second" later
    sinks = [run_folder_sinks(out, cfg, p),
             TensorBoardSink(out / "tensorboard", cfg, interval=1.0, clock=lambda: next(clock) / 2)]
    events = []
    for ev in train(state):
        events.append(ev)
        for s in sinks:
            s(ev)
    return out, cfg, events


def test_event_file_holds_epoch_batch_baseline_and_hparams(run_folder):
    out, cfg, events = run_folder
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    acc = EventAccumulator(str(out / "tensorboard"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"epoch/val_cosine", "epoch/train_cosine", "epoch/loss", "epoch/val_top1", "epoch/val_mrr", "epoch/lr",
            "best/val_cosine", "baseline/identity", "baseline/ridge", "baseline/mean_answer",
            "batch/loss", "batch/running_loss", "batch/samples_per_s"} <= tags
    history = list(csv.DictReader((out / "history.csv").open()))
    val = acc.Scalars("epoch/val_cosine")
    assert [e.step for e in val] == [0, 1, 2, 3]            # step 0 = before the first update
    assert [e.value for e in val[1:]] == pytest.approx([float(r["val_cosine"]) for r in history], abs=1e-6)
    best = [e.value for e in acc.Scalars("best/val_cosine")]
    assert best == sorted(best) and best[-1] == pytest.approx(max(float(r["val_cosine"]) for r in history))
    # batches are throttled: fewer points than batches, but each epoch's last batch is always there
    n_batches = [e for e in events if isinstance(e, BatchProgress)]
    steps = [e.step for e in acc.Scalars("batch/loss")]
    assert len(steps) < len(n_batches) and steps[-1] == 3 * n_batches[-1].n_batches
    # hparams: the config as dotted keys, in the same run as the scalars
    hp = plugin_event_accumulator.EventAccumulator(str(out / "tensorboard"))
    hp.Reload()
    content = hp.PluginTagToContent("hparams")
    assert {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"} <= set(content)
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
    start = HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["optim.lr"].number_value == pytest.approx(cfg.optim.lr)
    assert start.hparams["lattice.neighbourhood"].string_value == cfg.lattice.neighbourhood
    assert set(hparam_values(cfg)) == set(start.hparams)


def test_progress_log_lines_follow_the_run(run_folder):
    out, _, events = run_folder
    lines = read_progress(out / PROGRESS_FILE)
    kinds = [x["kind"] for x in lines]
    assert kinds[0] == "started" and kinds[-1] == "finished" and kinds.count("epoch") == 3
    epochs = [x for x in lines if x["kind"] == "epoch"]
    assert [x["metrics"]["val_cosine"] for x in epochs] == [e.metrics["val_cosine"] for e in events
                                                            if isinstance(e, EpochMetrics)]
    batches = [x for x in lines if x["kind"] == "batch"]
    n = batches[0]["n_batches"]
    assert [b["step"] for b in batches] == list(range(1, 3 * n + 1))   # every batch: a dense per-batch curve
    assert [b["loss"] for b in batches] == [e.loss for e in events if isinstance(e, BatchProgress)]
    # in order: each epoch's line comes after its last batch
    assert [x["kind"] for x in lines].index("epoch") == 1 + n
    assert lines[0]["baselines"]["identity"]["val_cosine"] > 0 and lines[0]["world_size"] == 1
    assert not (out / "batches.csv").exists()                        # the one live log is progress.jsonl


def test_progress_log_appends_batches_in_groups_of_whole_lines(run_folder, tmp_path):
    """Batch lines reach the file at most once per interval and at each epoch's end; a reader never waits
    longer than that, and each write holds whole lines."""
    _, _, events = run_folder
    now = [0.0]
    log = ProgressLog(tmp_path, n_epochs=3, interval=1.0, clock=lambda: now[0])
    seen = []
    for ev in events:
        log(ev)
        if isinstance(ev, BatchProgress):
            now[0] += 0.4                          # a batch every 0.4 "seconds": a write every 3rd batch
            text = log.path.read_text()
            assert text.endswith("\n")
            seen.append(sum(1 for x in read_progress(log.path) if x["kind"] == "batch"))
    batches = [e for e in events if isinstance(e, BatchProgress)]
    n = batches[0].n_batches
    assert all(len(batches[:i + 1]) - s <= 3 for i, s in enumerate(seen))    # never more than ~1 s behind
    assert [s for s, e in zip(seen, batches) if e.batch == n] == [n, 2 * n, 3 * n]   # epoch ends: all there
    assert len(set(seen)) < len(seen)                                      # grouped, not one write per batch


def test_progress_reader_skips_an_unfinished_last_line(tmp_path):
    path = tmp_path / PROGRESS_FILE
    path.write_text('{"kind":"batch","t":1,"step":1}\n{"kind":"batch","t":2,"st')
    assert read_progress(path) == [{"kind": "batch", "t": 1, "step": 1}]


def test_progress_log_writes_a_nan_loss_as_null_that_every_json_reader_parses(tmp_path):
    log = ProgressLog(tmp_path)
    log.on_batch_progress(BatchProgress(epoch=1, batch=1, n_batches=1, loss=float("nan"), elapsed_s=0.1,
                                        running_loss=float("inf")))
    text = log.path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    line = json.loads(text, parse_constant=refuse)            # strict JSON, as a browser or jq reads it
    assert line["loss"] is None and line["running_loss"] is None
    assert [x["loss"] for x in read_progress(log.path)] == [None]


def test_workbench_train_tensorboard_flag_writes_the_event_file(tmp_path, cache_dir):
    from workbench.cli import train as cli
    out = tmp_path / "run"
    assert cli.run([str(SAMPLE_45), "--out", str(out), "--epochs", "2", "--cache-dir", str(cache_dir), "--tensorboard",
                    "--quiet", "--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
                    "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=16"]) == 0
    acc = EventAccumulator(str(out / "tensorboard"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("epoch/val_cosine")] == [0, 1, 2]
    assert [x["kind"] for x in read_progress(out / PROGRESS_FILE)].count("epoch") == 2
