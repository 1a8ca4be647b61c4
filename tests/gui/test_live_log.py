"""The app's own runs write the one live log (progress.jsonl) and, when the toggle says so, TensorBoard logs."""

import sys

import pytest

from gui_helpers import wait_for_run

pytestmark = pytest.mark.gui


def test_tensorboard_toggle_on_writes_an_event_file_and_off_writes_none(window, qtbot):
    from pathlib import Path

    from workbench.gui.charts.data import RunSeries
    from workbench.gui.training.panel import TENSORBOARD_KEY, TrainingPanel
    from workbench.gui.common.settings import app_settings
    from workbench.train.record.progress_log import PROGRESS_FILE, read_progress
    win = window
    toggle = win.training.tensorboard
    assert toggle.isEnabled() and not toggle.isChecked() and "tensorboard" in toggle.toolTip()
    win.training.form.set_value("optim.epochs", 1)
    folders = []
    for on in (True, False):
        toggle.setChecked(on)
        assert win.start_training()
        assert not toggle.isEnabled()                        # fixed while the run goes on, like the form
        wait_for_run(qtbot, win)
        assert win.last_finished.reason == "completed" and not win.errors
        folders.append(Path(win.runs.out_dir))
        assert toggle.isEnabled()
    with_tb, without = folders
    assert list((with_tb / "tensorboard").glob("events.out.tfevents.*"))
    assert not (without / "tensorboard").exists() and not list(without.rglob("events.out.tfevents.*"))
    # both wrote the live log, with every batch: a follower draws what the app drew during its own run
    own = win.charts.current
    lines = read_progress(without / PROGRESS_FILE)
    assert [x["kind"] for x in lines][0] == "started" and lines[-1]["kind"] == "finished"
    followed = RunSeries.from_folder(without)
    assert followed.batch_loss.n == own.batch_loss.n > 0
    assert list(followed.batch_loss.y) == pytest.approx(list(own.batch_loss.y), rel=1e-9)
    assert not (without / "batches.csv").exists()
    # the choice is remembered for the next launch
    assert app_settings().value(TENSORBOARD_KEY, type=bool) is False
    toggle.setChecked(True)
    again = TrainingPanel(win.training.form.config)
    qtbot.addWidget(again)
    assert again.tensorboard.isChecked() and again.writes_tensorboard()


def test_tensorboard_toggle_is_disabled_with_the_install_line_when_the_package_is_missing(qtbot, env_dirs,
                                                                                         monkeypatch):
    from workbench.gui.common.settings import app_settings
    from workbench.gui.training.panel import TENSORBOARD_KEY, TrainingPanel
    from workbench.train.config import RunConfig
    app_settings().setValue(TENSORBOARD_KEY, True)              # on from an earlier launch, then uninstalled
    monkeypatch.setitem(sys.modules, "tensorboard", None)      # what Python does for a package that is not there
    panel = TrainingPanel(RunConfig())
    qtbot.addWidget(panel)
    box = panel.tensorboard
    assert not box.isEnabled() and "pip install 'lattice-workbench[tensorboard]'" in box.toolTip()
    panel.set_running(False)
    assert not box.isEnabled() and not panel.writes_tensorboard()


def test_a_folder_from_before_the_live_log_still_draws_its_batches(tmp_path):
    """Run folders written before progress.jsonl kept per-batch loss in batches.csv: past runs keep their curve."""
    from workbench.gui.charts.data import RunSeries
    old = tmp_path / "old-run"
    old.mkdir()
    (old / "history.csv").write_text("epoch,loss,val_cosine\n1,0.5,0.61\n2,0.4,0.63\n")
    (old / "batches.csv").write_text("epoch,batch,samples_seen,loss\n1,1,8,0.9\n1,2,12,0.7\n2,1,20,0.5\n2,2,24,0.4\n")
    run = RunSeries.from_folder(old)
    assert list(run.batch_loss.x) == [8, 12, 20, 24] and list(run.batch_loss.y) == [0.9, 0.7, 0.5, 0.4]
    assert [r["samples_seen"] for r in run.history] == [12, 24]     # epochs sit where their last batch ended
