"""The window on a laptop screen: fits, remembers its layout, menus, shortcuts, help, welcome, theme and tips."""

import pytest
from PySide6.QtCore import QEvent, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QEnterEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication

from workbench.gui.main_window import MainWindow
from workbench.gui.window_layout import default_arrangement

pytestmark = pytest.mark.gui


def available():
    return QGuiApplication.primaryScreen().availableGeometry()


def test_the_tests_run_on_a_laptop_sized_screen(qapp):
    assert (available().width(), available().height()) == (1366, 768)   # pytest-xvfb settings in pyproject.toml


def test_window_opens_inside_the_screen_and_shrinks_to_1280x720(window, qtbot):
    assert available().contains(window.frameGeometry()), (window.frameGeometry(), available())
    for hint in (window.minimumSizeHint(), window.minimumSize()):
        assert hint.width() <= 1280 and hint.height() <= 720, hint
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.size() == QSize(1280, 720), timeout=2000)
    window.resize(1000, 620)   # smaller still: panels scroll instead of pushing the window out
    qtbot.waitUntil(lambda: window.size() == QSize(1000, 620), timeout=2000)


@pytest.mark.parametrize("w,h,side_by_side", [(1366, 768, False), (1600, 1000, True), (1280, 720, False),
                                              (2560, 1440, True)])
def test_default_arrangement_fits_each_screen(w, h, side_by_side):
    arr = default_arrangement(QRect(0, 0, w, h))
    assert arr.size.width() <= w and arr.size.height() <= h - 30
    assert arr.side_by_side is side_by_side
    assert arr.dataset_width + (arr.training_width if side_by_side else 0) < arr.size.width() - 500   # room for charts


def test_on_a_laptop_dataset_and_training_share_a_column(window):
    lay = window.window_layout
    assert window.tabifiedDockWidgets(lay.dataset_dock) == [lay.training_dock]
    lay.training_dock.raise_()
    assert window.training.start_btn.isVisible() or window.training.start_btn.isVisibleTo(window)


def test_layout_and_geometry_come_back_next_time(window, qtbot, data_copy, cache_dir):
    window.resize(1100, 650)
    window.move(40, 30)
    window.window_layout.training_dock.hide()
    window.window_layout.center.setSizes([340, 240])       # above both panes' minimums (a chart keeps 120×70)
    qtbot.wait(50)
    size, pos, split = window.size(), window.pos(), window.window_layout.center.sizes()
    window.model.undo.setClean()
    assert window.close()
    again = MainWindow(str(data_copy))
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.size() == size and again.pos() == pos
    assert not again.window_layout.training_dock.isVisible()
    assert all(abs(a - b) <= 2 for a, b in zip(again.window_layout.center.sizes(), split)), (again.window_layout.center.sizes(), split)
    again.window_layout.apply_default()                          # View ▸ Reset layout
    assert again.window_layout.training_dock.isVisibleTo(again)
    again.close()


def test_a_saved_geometry_bigger_than_the_screen_is_fitted(window, qtbot, data_copy):
    window.setMinimumSize(0, 0)
    window.window_layout.save()
    from workbench.gui.common.settings import app_settings
    big = MainWindow()
    big.resize(2600, 1600)                                       # e.g. saved on a large monitor
    big.window_layout.save()
    again = MainWindow(str(data_copy))
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert available().contains(again.frameGeometry()), again.frameGeometry()
    assert app_settings().value("window/geometry") is not None
    for w in (big, again):
        w.close()


def test_run_shortcuts_and_toolbar(window, qtbot):
    acts = window.actions_
    assert {QKeySequence("F5"), QKeySequence("Ctrl+Return")} <= set(acts["start"].shortcuts())
    assert acts["stop"].shortcuts() == [QKeySequence("Shift+F5")]
    assert acts["pause"].shortcuts() == [QKeySequence("F6")]
    assert not acts["pause"].isEnabled() and not acts["stop"].isEnabled()   # nothing runs yet
    assert acts["start"] in window.toolbar.actions()
    window.dataset_panel.proxy.setData(window.dataset_panel.index_of(0, 1), " ")   # Start will ask about row 1
    asked = []
    window.ask = lambda title, *a: (asked.append(title), 0)[1]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    qtbot.keyClick(window.dataset_panel.view, Qt.Key_F5)
    assert asked == ["Train without 1 row?"] and window.run is None


def test_help_menu_about_shortcuts_and_readme(window):
    window.actions_["about"].trigger()
    assert "Lattice Workbench" in window.help_page.browser.toPlainText()
    window.actions_["shortcuts"].trigger()
    text = window.help_page.browser.toPlainText()
    assert "Start training" in text and "F5" in text and "Shift+F5" in text and "Enter" in text
    window.actions_["readme"].trigger()
    assert "Lattice Workbench" in window.help_page.browser.toPlainText()
    assert len(window.help_page.browser.toPlainText()) > 2000


def test_every_control_has_a_tooltip_and_a_status_tip(window):
    from workbench.gui.common.tips import controls
    found = controls(window)
    assert len(found) > 40
    missing = [f"{type(w).__name__} {w.objectName() or w.accessibleName()} in {type(w.parentWidget()).__name__}"
               for w in found if not w.toolTip() or not w.statusTip()]
    assert not missing, missing
    for name, a in window.actions_.items():
        assert a.statusTip(), name


def test_every_fallback_tip_is_the_one_shown(window):
    """tips.TIPS holds only tips a user sees: each names a control of the window whose panel set no tooltip
    of its own (an entry the panel overrides is never shown, and once 5 of 18 were)."""
    from workbench.gui.common.tips import TIPS, _resolve
    unseen = [path for path, tip in TIPS.items() if getattr(_resolve(window, path), "toolTip", lambda: None)() != tip]
    assert not unseen, unseen


def test_hovering_a_control_shows_its_tip_in_the_status_bar(window):
    btn = window.dataset_panel.add_btn
    QApplication.sendEvent(btn, QEnterEvent(QPointF(2, 2), QPointF(2, 2), QPointF(2, 2)))
    assert window.statusBar().currentMessage() == btn.statusTip() != ""


def test_welcome_opens_the_sample_and_ctrl_s_saves_a_copy_in_the_users_folder(window, qtbot, env_dirs):
    from workbench.gui.common.paths import SAMPLE
    from workbench.gui.welcome import should_welcome
    assert should_welcome()
    dlg = window.show_welcome()
    from PySide6.QtWidgets import QLabel
    steps = " ".join(lbl.text() for lbl in dlg.findChildren(QLabel))
    assert all(f"<b>{step}</b>" in steps for step in ("Edit", "Train", "Inspect"))
    dlg.sample_btn.click()
    assert window.path == str(SAMPLE) and not should_welcome()
    before = SAMPLE.read_bytes()
    window.dataset_panel.proxy.setData(window.dataset_panel.index_of(0, 2), "my_category")
    offered = []
    window.choose_path = lambda title, start, filters, save=False: (offered.append(start), "")[1]  # cancelled
    window.actions_["save"].trigger()                             # Ctrl+S
    assert offered == [str(env_dirs / "documents" / SAMPLE.name)]
    assert SAMPLE.read_bytes() == before and window.isWindowModified()
    target = env_dirs / "documents" / "my_pairs.csv"
    window.choose_path = lambda title, start, filters, save=False: str(target)
    window.actions_["save"].trigger()
    assert SAMPLE.read_bytes() == before
    assert target.exists() and window.path == str(target) and not window.isWindowModified()


def test_dark_and_light_themes(window):
    from workbench.gui.common.theme import Theme, effective
    theme = Theme.of(QApplication.instance())
    assert effective("system") in ("light", "dark")
    try:
        theme.set_choice("dark")
        assert QApplication.palette().window().color().lightness() < 100
        assert QApplication.palette().text().color().lightness() > 180
        theme.set_choice("light")
        assert QApplication.palette().window().color().lightness() > 180
    finally:
        theme.set_choice("system")
    assert window.actions_["theme_system"].isChecked()


def test_start_without_a_file_welcomes_first_then_reopens_the_last_dataset(window, data_copy):
    from workbench.gui.common.paths import SAMPLE
    from workbench.gui.welcome import startup_dataset
    assert startup_dataset(None) == (None, True)                      # first start: the welcome offers the sample
    assert startup_dataset(None, screenshot=True) == (str(SAMPLE), False)
    assert startup_dataset(str(data_copy)) == (str(data_copy), False)   # a file given: no welcome over it (issue 19)
    assert startup_dataset(None) == (None, True)                      # … it waits for a start without a file
    dlg = window.show_welcome()
    dlg.close()                                                       # closed without choosing: not shown again
    assert startup_dataset(None) == (str(data_copy.resolve()), False)   # the window had opened data_copy
    assert startup_dataset("other.csv") == ("other.csv", False)
    data_copy.unlink()
    assert startup_dataset(None) == (str(SAMPLE), False)              # the last file is gone: the sample
