"""Issue 19's small things: the colour bar before data and in volume mode, the shape field's auto grid."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.gui.inspect.cube import CubeFrame, LatticeView

pytestmark = pytest.mark.gui


def bar_range(view: LatticeView) -> tuple[float, float]:
    bar = next(iter(view.plotter.scalar_bars.values()))
    return tuple(bar.GetLookupTable().GetRange())


def test_the_colour_bar_is_symmetric_before_data_and_whole_below_zero_in_volume_mode(qtbot):
    view = LatticeView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    view.ensure_plotter()
    view.prepare_shape((4, 4, 3))                     # a grid, no data yet: not every tick "0"
    assert bar_range(view) == (-1.0, 1.0)
    states = np.zeros((2, 1, 4, 4, 3), np.float32)
    states[1, 0] = np.linspace(-2.0, 1.0, 48, dtype=np.float32).reshape(4, 4, 3)   # the last step: shown
    view.show_frame(CubeFrame(states, "a pair"))
    view.mode.setCurrentText("volume")
    view.refresh()
    lo, hi = bar_range(view)
    assert lo == pytest.approx(-2.0) and hi == pytest.approx(2.0)
    for bar in view.plotter.scalar_bars.values():
        assert not bar.GetUseOpacity()                # the volume's opacity no longer blanks half the bar
    opacity = view._actors["main"].prop.GetScalarOpacity()
    assert opacity.GetValue(-1.9) > 0.5 and opacity.GetValue(1.9) > 0.5 and opacity.GetValue(0.0) < 0.1
    view.close_plotter()


def test_the_shape_field_names_the_grid_an_empty_shape_gets(window):
    form = window.training.form
    shape = form.editors["lattice.shape"]
    assert shape.text() == "" and "8x8x8" in shape.placeholderText()   # the preset deepens 8×8×6 by 2
    assert form.set_value("lattice.extra_depth", 0)
    assert "8x8x6" in shape.placeholderText()
    assert form.set_value("lattice.extra_depth", 2)
    assert "8x8x8" in shape.placeholderText()          # what the run will use, not a blank field
    form.set_embedding_dim(768)
    assert "8x8x14" in shape.placeholderText()


def test_a_window_grab_with_a_cube_that_never_rendered_still_gives_the_picture(qtbot):
    """--screenshot grabs the window even when training was refused, before the cube ever rendered: the grab must
    not raise (it ran in a timer slot, so the app hung instead of exiting 2)."""
    from workbench.gui.inspect.save_view import grab_window
    view = LatticeView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    view.ensure_plotter()
    qtbot.waitUntil(lambda: view.plotter.isVisible() and view.plotter.height() > 100)
    view.plotter._rendered = False                       # as pyvista has it before its first render() call
    pix = grab_window(view, view)
    assert pix.width() >= 400 and pix.height() >= 300
    view.close_plotter()
