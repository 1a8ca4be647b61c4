"""The inspect panel beside the cube, in the real app under Xvfb, on a real tiny run (real teacher, lattice, VTK).

Each view is checked by what the cube then shows (its values against the headless core's arrays), not by
widget state alone: the knockout source, the epoch replay of a folder, the atlas difference, the step
dynamics chart following the step slider, a clicked cell's figures, and the PNG/GIF/MP4 written.
"""

import numpy as np
import pytest

from helpers import SAMPLE_45, cli_run
from workbench.cli import inspect as cli_inspect
from workbench.gui.inspect.inspect_panel import ATLAS, KNOCKOUT, KNOCKOUT_UNIT
from workbench.gui.inspect.replay_tab import SOURCE as REPLAY
from workbench.inspect import files
from workbench.train.record.replay import read_replay

pytestmark = pytest.mark.gui
FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=3", "--seed", "3",
        "--set", "lattice.shape=4x4x3", "--set", "optim.batch_size=8", "--set", "optim.lr=0.01"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, cache_dir):
    return cli_run(tmp_path_factory.mktemp("inspect-gui") / "run", SAMPLE_45, cache_dir, 2, FAST)


def open_run(qtbot, window, run_dir):
    panel = window.inspect
    window.ask_panel.set_checkpoint(str(run_dir / "best.safetensors"))
    qtbot.waitUntil(lambda: panel.replay.count() == 3, timeout=30_000)
    return panel


def test_epoch_replay_of_a_run_folder_on_its_slider(qtbot, window, run_dir):
    panel = open_run(qtbot, window, run_dir)
    rep = read_replay(run_dir)
    view = window.lattice
    panel.replay.slider.setValue(0)
    assert view.source.currentText() == REPLAY
    view.channel.setValue(0)
    view.step.setValue(view.step.maximum())
    assert np.allclose(view.current_values(), rep.states[0, -1, 0].astype(np.float32))
    panel.replay.slider.setValue(2)
    assert np.allclose(view.current_values(), rep.states[2, -1, 0].astype(np.float32))
    assert "epoch 2" in view.info.text()


def test_knockout_source_shows_the_volume_in_cosine_units_and_a_clicked_cell(qtbot, window, run_dir):
    panel = open_run(qtbot, window, run_dir)
    panel.block.setValue(2)
    assert panel.compute_knockout()
    qtbot.waitUntil(lambda: panel.knockout_result is not None, timeout=60_000)
    view = window.lattice
    vol, base = panel.knockout_result
    assert view.source.currentText() == KNOCKOUT and vol.shape == (4, 4, 3)
    assert np.array_equal(view.current_values(), vol)
    assert [b.GetTitle() for b in view.plotter.scalar_bars.values()] == [KNOCKOUT_UNIT]
    assert "top-decile silenced" in panel.knockout_label.text()
    assert view.click_at((1.5, 0.2, 2.9)) == (1, 0, 2)
    assert f"{vol[1, 0, 2]:+.5f}" in panel.cell.text() and "rank" in panel.cell.text()
    assert view.click_at((9.0, 0.5, 0.5)) is None            # outside the grid: nothing
    panel.cell.setText("")
    view._picked((1.5, 0.5, 3.0))                            # a picked point on the top face the camera sees
    assert panel.cell.text().startswith("cell (1, 0, 2)")    # is the cell behind it, not the one beyond the grid


def test_a_knockout_map_made_by_the_command_opens_with_the_run(qtbot, window, run_dir, cache_dir):
    assert cli_inspect.run([str(run_dir), str(SAMPLE_45), "--knockout", "--block", "3", "--cache-dir",
                            str(cache_dir), "--quiet"]) == 0
    panel = open_run(qtbot, window, run_dir)
    qtbot.waitUntil(lambda: panel.knockout_result is not None, timeout=30_000)
    assert np.array_equal(panel.knockout_result[0], files.load_knockout(run_dir / "inspect" / files.KNOCKOUT))
    assert panel.chart.dynamics is not None                   # the command's step dynamics fill the chart
    (run_dir / "inspect" / files.KNOCKOUT).unlink()


def test_step_dynamics_chart_follows_the_step_slider(qtbot, window, run_dir):
    panel = open_run(qtbot, window, run_dir)
    assert panel.compute_dynamics()
    qtbot.waitUntil(lambda: panel.chart.dynamics is not None, timeout=60_000)
    dyn = panel.chart.dynamics
    assert len(dyn.cosine) == 4 and dyn.pairs == 45
    xs, ys = panel.chart.set_curve.getData()
    assert np.allclose(ys, dyn.cosine)
    window.lattice.step.setValue(2)
    assert [line.value() for line in panel.chart.lines] == [2, 2]
    panel.replay.slider.setValue(1)                            # a pair shown: its own update sizes (red)
    qtbot.waitUntil(lambda: panel.chart.pair_norms is not None, timeout=10_000)
    assert len(panel.chart.pair_norms) == 4


def test_atlas_difference_of_two_categories_and_of_two_rows(qtbot, window, run_dir):
    panel = open_run(qtbot, window, run_dir)
    assert panel.atlas_tab.compute_atlas()
    qtbot.waitUntil(lambda: panel.atlas_tab.atlas is not None, timeout=60_000)
    atlas, view = panel.atlas_tab.atlas, window.lattice
    panel.atlas_tab.first.setCurrentIndex(0)
    panel.atlas_tab.second.setCurrentIndex(2)                            # index 0 is "its mean": 2 = the second category
    assert view.source.currentText() == ATLAS
    t, c = view.step.value(), view.channel.value()
    want = atlas.states[0] - atlas.states[1]
    assert np.allclose(view.current_values(), want[t, c])
    assert atlas.names[0] in view.info.text() or atlas.names[0][:10] in view.info.toolTip()
    panel.atlas_tab.row_a.setValue(1)
    panel.atlas_tab.row_b.setValue(2)
    assert panel.atlas_tab.compute_row_difference()
    qtbot.waitUntil(lambda: "row 1 − row 2" in view.shown_frame().what, timeout=60_000)


def test_saving_the_view_and_both_replays(qtbot, window, run_dir, tmp_path):
    imageio = pytest.importorskip("imageio.v2", reason="the 'anim' extra (imageio) is in the test extra CI installs")
    panel = open_run(qtbot, window, run_dir)
    panel.replay.slider.setValue(1)
    png = panel.save_png(str(tmp_path / "view.png"))
    assert png.stat().st_size > 1000 and imageio.imread(png).ndim == 3
    steps = panel.save_steps(str(tmp_path / "steps.gif"))
    assert len(imageio.mimread(steps)) == window.lattice.step.maximum() + 1
    epochs = panel.save_epochs(str(tmp_path / "epochs.gif"))
    frames = imageio.mimread(epochs)
    assert len(frames) == 3 and not np.array_equal(frames[0], frames[-1])   # the cube changed while it learned
    mp4 = panel.save_epochs(str(tmp_path / "epochs.mp4"))
    assert mp4.stat().st_size > 1000
    assert panel.save_epochs(str(tmp_path / "epochs.txt")) is None and "gif" in window.errors[-1][1]


def test_a_followed_run_folder_brings_its_epoch_replay(qtbot, window, run_dir):
    window.library.follow(run_dir)                           # Run ▸ Open run folder…: followed as another process's
    qtbot.waitUntil(lambda: window.inspect.replay.count() == 3, timeout=30_000)
    window.inspect.replay.slider.setValue(1)
    assert np.allclose(window.lattice.current_values(),
                       read_replay(run_dir).states[1, window.lattice.step.value(), window.lattice.channel.value()]
                       .astype(np.float32))
