"""Where the panels sit: a Dataset dock and a Training dock around the charts and the cube, sized to the screen.

The window opens inside the screen's available geometry (1366×768 laptops included) and comes
back as the user left it: geometry, docks and splitters are kept in QSettings. Dock contents sit
in scroll areas, so the minimum window size stays within 1280×720 whatever a panel asks for;
a panel narrower than its content scrolls instead of pushing the window off the screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QSplitter, QTabWidget

from workbench.gui.common.settings import app_settings

MIN_SIZE = QSize(960, 600)      # well within 1280×720: room for the window frame and a taskbar
WIDE = 1500                     # from this available width on, Dataset | charts+cube | Training side by side
TRAINING_MIN_WIDTH = 440       # the form's labels, fields and units side by side, without a horizontal scroll bar
LAYOUT_VERSION = 1              # bump when the docks change, so an old saved state is not applied to new docks


@dataclass(frozen=True)
class Arrangement:
    size: QSize                 # window size (frame excluded)
    side_by_side: bool          # False: Dataset and Training share the left column as tabs
    dataset_width: int
    training_width: int


def default_arrangement(available: QRect) -> Arrangement:
    """The first-run layout for a screen: use most of it, never more, never below MIN_SIZE."""
    w = max(MIN_SIZE.width(), min(available.width() - 16, 1720))
    h = max(MIN_SIZE.height(), min(available.height() - 40, 1000))   # 40: title bar and frame
    if available.width() >= WIDE:
        return Arrangement(QSize(w, h), True, int(w * 0.28), max(int(w * 0.22), TRAINING_MIN_WIDTH))
    return Arrangement(QSize(w, h), False, int(w * 0.42), int(w * 0.42))


def scrolled(widget) -> QScrollArea:
    """Wrap a panel so its own minimum size no longer sets the window's."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setWidget(widget)
    return area


class WindowLayout:
    def __init__(self, win):
        """Builds win's central splitter (tabs over the cube) and the Dataset and Training docks."""
        self.win = win
        self.persist = True      # False: save() keeps the user's stored layout (a --screenshot run)
        win.tabs = QTabWidget()
        for w, name, tip in ((win.charts, "Charts", "live training curves against the baselines"),
                             (win.report, "Report", "the report of the latest finished run"),
                             (win.ask_panel, "Ask", "ask the trained lattice a question")):
            win.tabs.setTabToolTip(win.tabs.addTab(w, name), tip)
        self.center = QSplitter(Qt.Vertical)   # curves and cube visible together while training
        self.center.setObjectName("center_splitter")
        self.center.addWidget(win.tabs)
        self.cube_row = QSplitter(Qt.Horizontal)   # the cube, and beside it the inspect panel (step dynamics, …)
        self.cube_row.setObjectName("cube_splitter")
        self.cube_row.addWidget(win.lattice)
        self.cube_row.addWidget(scrolled(win.inspect))
        self.cube_row.setStretchFactor(0, 3)
        self.cube_row.setStretchFactor(1, 1)
        self.center.addWidget(self.cube_row)
        self.center.setSizes([520, 440])
        win.setCentralWidget(self.center)
        win.setDockNestingEnabled(True)
        win.setTabPosition(Qt.AllDockWidgetAreas, QTabWidget.North)   # tabbed docks show their names on top
        self.dataset_dock = self._dock("Dataset", "dataset_dock", win.dataset_panel, Qt.LeftDockWidgetArea)
        self.training_dock = self._dock("Training", "training_dock", win.training, Qt.RightDockWidgetArea)
        win.setMinimumSize(MIN_SIZE)

    def _dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self.win)
        dock.setObjectName(name)   # saveState() identifies docks by object name
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable |
                         QDockWidget.DockWidgetClosable)
        dock.setWidget(scrolled(widget))
        self.win.addDockWidget(area, dock)
        return dock

    def show_tab(self, panel) -> None:
        """Bring a centre panel (charts, report, ask) to the front."""
        self.win.tabs.setCurrentWidget(panel)

    def docks(self) -> list[QDockWidget]:
        return [self.dataset_dock, self.training_dock]

    def available(self) -> QRect:
        return (self.win.screen() or QGuiApplication.primaryScreen()).availableGeometry()

    # ---------------------------------------------------------------- default, restore, save
    def apply_default(self) -> Arrangement:
        win, avail = self.win, self.available()
        arr = default_arrangement(avail)
        for dock in self.docks():
            dock.setFloating(False)
            dock.show()
        win.addDockWidget(Qt.LeftDockWidgetArea, self.dataset_dock)
        if arr.side_by_side:
            win.addDockWidget(Qt.RightDockWidgetArea, self.training_dock)
        else:
            win.addDockWidget(Qt.LeftDockWidgetArea, self.training_dock)
            win.tabifyDockWidget(self.dataset_dock, self.training_dock)
            self.dataset_dock.raise_()
        win.resize(arr.size)
        win.resizeDocks([self.dataset_dock], [arr.dataset_width], Qt.Horizontal)
        if arr.side_by_side:
            win.resizeDocks([self.training_dock], [arr.training_width], Qt.Horizontal)
        self.center.setSizes([int(arr.size.height() * 0.58), int(arr.size.height() * 0.42)])
        self.fit_to_screen()
        return arr

    def restore(self) -> bool:
        """The layout the user left, if any; otherwise the default for this screen. True when restored."""
        s = app_settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if int(s.value("window/layout_version", 0) or 0) != LAYOUT_VERSION or geometry is None:
            self.apply_default()
            return False
        self.apply_default()            # a sane base when the saved state names fewer docks
        self.win.restoreGeometry(geometry)
        if state is not None:
            self.win.restoreState(state, LAYOUT_VERSION)
        center = s.value("window/center")
        if center is not None:
            self.center.restoreState(center)
        self.fit_to_screen()
        return True

    def show_training(self) -> None:
        """Bring the Training panel to the front (it shares a column with Dataset on small screens)."""
        self.training_dock.show()
        self.training_dock.raise_()

    def save(self) -> None:
        if not self.persist:
            return
        s = app_settings()
        s.setValue("window/layout_version", LAYOUT_VERSION)
        s.setValue("window/geometry", self.win.saveGeometry())
        s.setValue("window/state", self.win.saveState(LAYOUT_VERSION))
        s.setValue("window/center", self.center.saveState())
        s.sync()

    def fit_to_screen(self) -> None:
        """Shrink and move the window so all of it lies inside the screen's available geometry."""
        win, avail = self.win, self.available()
        if win.isMaximized() or win.isFullScreen():
            return
        frame = win.frameGeometry()
        extra = QSize(frame.width() - win.width(), frame.height() - win.height())
        w = min(win.width(), avail.width() - extra.width())
        h = min(win.height(), avail.height() - extra.height())
        if (w, h) != (win.width(), win.height()):
            win.resize(max(w, win.minimumWidth()), max(h, win.minimumHeight()))
        frame = win.frameGeometry()
        x = min(max(frame.x(), avail.left()), avail.right() - frame.width() + 1)
        y = min(max(frame.y(), avail.top()), avail.bottom() - frame.height() + 1)
        if (x, y) != (frame.x(), frame.y()):
            win.move(max(x, avail.left()), max(y, avail.top()))
