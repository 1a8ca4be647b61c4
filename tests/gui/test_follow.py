"""The app follows a run folder that another process is writing, and lists past runs across launches."""

import math
import os
import subprocess
import sys

import pytest

from helpers import ROOT, SAMPLE_45

pytestmark = [pytest.mark.gui, pytest.mark.slow]

# Another process trains with the real trainer and the run folder's sinks (what workbench-train runs), pausing after
# each epoch until the test says "go": the app must show each epoch while that process is still writing.
PACED_WRITER = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from helpers import small_config
from workbench.train.events import EpochMetrics
from workbench.train.pipeline import prepare
from workbench.train.record.sinks import run_folder_sinks
from workbench.train.trainer import TrainingState, train
data, out, cache = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
cfg = small_config(cache, **{"optim.epochs": 3, "optim.batch_size": 4})
prep = prepare(cfg, data)
rec = run_folder_sinks(out, cfg, prep)
for ev in train(TrainingState.create(cfg, prep.data, out_dir=out)):
    rec(ev)
    if isinstance(ev, EpochMetrics):
        while not (out / f"go-{ev.epoch}").exists():
            time.sleep(0.05)
"""


def test_the_app_follows_a_run_folder_another_process_writes(window, qtbot, tmp_path, cache_dir):
    from workbench.gui.main_window import MainWindow
    out = tmp_path / "other-run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", PACED_WRITER, str(SAMPLE_45), str(out), str(cache_dir),
                             str(ROOT / "tests")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        qtbot.waitUntil(lambda: (out / "config.json").exists() or proc.poll() is not None, timeout=120_000)
        assert proc.poll() is None, proc.stdout.read()
        follower = window.library.follow(out)
        assert follower is not None and window.charts.current is follower.run
        for epoch in (1, 2, 3):       # each epoch appears in the app while the writer waits, still running
            qtbot.waitUntil(lambda: len(follower.run.history) == epoch, timeout=120_000)
            assert proc.poll() is None and not follower.finished
            assert follower.run.batch_loss.n == epoch * math.ceil(follower.run.last_samples / epoch / 4)
            if epoch == 1:            # baselines and size from progress.jsonl's "started" line, before metrics.json
                assert follower.run.baselines.get("identity", {}).get("val_cosine") and follower.run.n_train
            if epoch == 1:            # the cube traces the newest checkpoint while the run goes on
                qtbot.waitUntil(lambda: window.lattice.latest is not None and
                                "latest checkpoint" in window.lattice.latest.what, timeout=60_000)
            (out / f"go-{epoch}").touch()
        with qtbot.waitSignal(follower.ended, timeout=60_000):
            pass
        assert proc.wait(60) == 0, proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    run = follower.run
    assert [int(r["epoch"]) for r in run.history] == [1, 2, 3]
    # per-batch loss from the folder's progress.jsonl (every batch), on the same samples-seen axis as the epochs
    n_train = run.n_train
    assert n_train and run.batch_loss.n == 3 * math.ceil(n_train / 4)
    assert run.history[-1]["samples_seen"] == run.batch_loss.x[-1] == 3 * n_train
    assert window.report.run_dir == str(out) and window.report.figures.rowCount() >= 4
    # the cube shows the table's first question through the folder's best checkpoint
    qtbot.waitUntil(lambda: window.lattice.latest is not None and "best checkpoint" in window.lattice.latest.what,
                    timeout=60_000)
    assert window.lattice.latest.what.startswith(out.name)
    # the next launch lists the followed run (unticked) for overlaying
    window.model.undo.setClean()
    again = MainWindow()
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: any(r.folder == str(out) for r in again.charts.runs), timeout=5000)
    past = next(r for r in again.charts.runs if r.folder == str(out))
    assert len(past.history) == 3 and past.baselines.get("identity")


def test_a_folder_of_runs_opens_as_a_set_of_overlaid_runs(window, qtbot, tmp_path, cache_dir):
    from helpers import small_config
    from workbench.train.pipeline import prepare
    from workbench.train.record.sinks import run_folder_sinks
    from workbench.train.trainer import TrainingState, train
    sweep = tmp_path / "sweep"
    for i, lr in enumerate((3e-3, 1e-3)):       # two real trials, as a sweep writes them: one run folder each
        cfg = small_config(cache_dir, **{"optim.epochs": 2, "optim.lr": lr})
        prep = prepare(cfg, str(SAMPLE_45))
        out = sweep / f"trial-{i}"
        rec = run_folder_sinks(out, cfg, prep)
        for ev in train(TrainingState.create(cfg, prep.data, out_dir=out)):
            rec(ev)
    followers = window.library.open(sweep)
    assert [f.folder.name for f in followers] == ["trial-0", "trial-1"] and all(f.finished for f in followers)
    charts = window.charts
    charts.redraw()
    assert charts.overlays                                   # both drawn, each in its own colour
    legend = charts.run_legend.text()
    assert "trial-0" in legend and "trial-1" in legend
    assert all(len(f.run.history) == 2 for f in followers)
    # every trial's per-batch loss, every batch of both epochs (batch size 8), from its progress.jsonl
    assert all(f.run.n_train and f.run.batch_loss.n == 2 * math.ceil(f.run.n_train / 8) for f in followers)
    assert not window.library.open(tmp_path / "empty-folder-that-is-not-there")
    assert window.errors and "Not a run folder" in window.errors[-1][0]
