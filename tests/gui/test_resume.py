"""Issue 19: Stop in the app keeps the work. A stop in mid-epoch is a notice (not the red banner) that says what
was kept; its Resume button (or Run ▸ Resume…) goes on with the next batch, and the run ends exactly where an
uninterrupted run ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui_helpers import wait_for_run
from workbench.train.events import BatchProgress
from workbench.train.record.checkpoint import load_checkpoint

pytestmark = pytest.mark.gui


def history_of(folder: str) -> list[dict]:
    rows = load_checkpoint(Path(folder) / "last.safetensors")["history"]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def batches_since_last_start(folder: str) -> list[tuple[int, int]]:
    """(epoch, batch) of every batch the folder's latest run (the resumed one) trained, from its progress.jsonl."""
    lines = [json.loads(x) for x in (Path(folder) / "progress.jsonl").read_text().splitlines()]
    last = max(i for i, x in enumerate(lines) if x["kind"] == "started")
    return [(x["epoch"], x["batch"]) for x in lines[last:] if x["kind"] == "batch"]


def test_app_stop_in_mid_epoch_then_resume_ends_where_an_uninterrupted_run_ends(window, qtbot):
    win = window
    assert win.training.form.set_value("optim.batch_size", 4)        # 36 training pairs: 9 batches an epoch
    assert win.start_training()
    wait_for_run(qtbot, win)
    straight = history_of(win.runs.out_dir)
    assert [r["epoch"] for r in straight] == [1, 2, 3]

    assert win.start_training()
    worker = win.run.worker

    def stop_at(ev):      # the Stop button's own call (RunController.stop → worker.stop), at a known batch
        if isinstance(ev, BatchProgress) and (ev.epoch, ev.batch) == (2, 3):
            worker.stop()
    worker.event.connect(stop_at, Qt.DirectConnection)
    wait_for_run(qtbot, win)
    fin = win.last_finished
    assert fin.reason == "stopped" and fin.epochs_run == 1 and fin.partial_batches == 3
    folder = win.runs.out_dir
    assert fin.kept == str(Path(folder) / "last.safetensors")
    assert not win.errors and not win.training.banner.isVisible()   # a notice, not an error
    notice = win.training.notice_text.text()
    assert win.training.notice.isVisible() and "kept in" in notice and "Resume" in notice
    assert win.training.resume_btn.isVisible()

    win.training.resume_btn.click()
    wait_for_run(qtbot, win)
    assert win.last_finished.reason == "completed" and not win.errors
    assert win.runs.out_dir == folder                                 # the run goes on in its own folder
    seen = batches_since_last_start(folder)
    assert seen[0] == (2, 4) and len(seen) == 6 + 9                   # the next batch: epoch 2 is not redone
    assert history_of(folder) == straight
    assert not win.training.notice.isVisible()


def test_another_run_shown_clears_the_last_runs_banner_and_notice(window, qtbot):
    """Issue 19: a stopped run's banner and notice went on showing after another run was opened."""
    from workbench.gui.charts.data import RunSeries
    win = window
    win.training.show_warning("LATTICE NOT IN GRADIENT PATH: …")
    win.training.show_notice("Stopped in epoch 2 after 3 batches; kept in …", "RUN/last.safetensors")
    win.training.show_status("stopped: best epoch 0 of 0")
    win.charts.set_current(RunSeries("another run"))
    assert not win.training.banner.isVisible() and not win.training.notice.isVisible()
    assert win.training.train_bar.format() == "idle"
