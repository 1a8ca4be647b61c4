"""Issue 11: the dark theme reaches what Qt's palette does not: the pyqtgraph charts and the VTK cube, also live."""

import pytest

pytestmark = pytest.mark.gui


def lightness(rgb) -> float:
    """0 (black) … 1 (white) for a QColor or an (r, g, b) of floats in 0…1."""
    if hasattr(rgb, "lightnessF"):
        return rgb.lightnessF()
    return (max(rgb[:3]) + min(rgb[:3])) / 2


def chart_colours(win):
    pw = win.charts.plot_widgets[0]
    axis = pw.getPlotItem().getAxis("left")
    return lightness(pw.backgroundBrush().color()), lightness(axis.textPen().color())


def cube_colours(win):
    p = win.lattice.plotter
    bar = next(iter(p.scalar_bars.values()))
    return lightness(p.renderer.GetBackground()), lightness(bar.GetTitleTextProperty().GetColor())


def test_charts_and_cube_follow_the_theme_live(window, qtbot):
    win = window
    win.lattice.ensure_plotter()
    win.lattice.prepare_shape((4, 4, 3))           # actors and colour bar built, as at Start
    win.theme.set_choice("light")
    bg, text = chart_colours(win)
    assert bg > 0.9 and text < 0.5                 # dark text on white
    bg, text = cube_colours(win)
    assert bg > 0.9 and text < 0.2

    win.theme.set_choice("dark")                   # switched while the window is open
    bg, text = chart_colours(win)
    assert bg < 0.25 and text > 0.75               # light text on the dark palette's base
    bg, text = cube_colours(win)
    assert bg < 0.25 and text > 0.75
    assert "#6baed6" in win.charts.legends["loss"].text()   # the epoch-mean loss is no longer near-black on dark
    assert win.theme.app.palette().window().color().lightnessF() < 0.3   # the widgets themselves, as before

    win.theme.set_choice("light")                  # and back
    assert chart_colours(win)[0] > 0.9 and cube_colours(win)[0] > 0.9


def test_a_new_window_opens_in_the_theme_in_force(window, qtbot):
    from workbench.gui.main_window import MainWindow
    window.theme.set_choice("dark")
    other = MainWindow()
    qtbot.addWidget(other)
    try:
        assert chart_colours(other)[0] < 0.25 and other.charts.scheme == other.lattice.scheme == "dark"
    finally:
        window.theme.set_choice("system")
        other.close()
