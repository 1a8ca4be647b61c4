"""Beside the cube: step dynamics, the knockout map, the category atlas, the epoch replay and saving them.

- the step-dynamics chart (dynamics_chart.py) follows the cube's step slider;
- knockout: silences each cell (or block) over the inspected pairs and shows the importance volume as the
  cube's "knockout" source, its colour bar in cosine units; double-clicking a cell gives its figures. A map
  made by `workbench-inspect --knockout` in RUN/inspect/ is loaded with the run;
- atlas: mean states per category (or another column), a category's mean or the difference of two
  ("atlas" source), or the difference of two table rows;
- replay: the run's replay.npz (any run folder, also one followed while another process writes it) or
  this app's live run, one epoch at a time on a slider ("replay" source);
- save: the current view as PNG, the step or epoch replay as GIF/MP4 (export.py).
The inspected pairs are the table's rows that were validation pairs of the latest run, else all rows.
All computation runs in the panel's own task thread (background.TaskRunner), never the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFormLayout, QLabel, QSpinBox, QTabWidget, QVBoxLayout, QWidget

from workbench.gui.common.background import TaskRunner
from workbench.gui.inspect import save_view as export
from workbench.gui.inspect.cube import CubeFrame
from workbench.gui.inspect.dynamics_chart import DynamicsChart
from workbench.gui.inspect.inspect_jobs import InspectSession, saved_inspection
from workbench.gui.inspect.atlas_tab import ATLAS, AtlasTab, button  # noqa: F401  (ATLAS: the source name)
from workbench.gui.inspect.replay_tab import ReplayTab

KNOCKOUT = "knockout"
KNOCKOUT_UNIT = "Δ cosine when silenced"


class InspectPanel(QWidget):
    def __init__(self, view, win, parent=None):
        """view: the cube (cube_sources.InspectableView); win: the main window (table, dialogs)."""
        super().__init__(parent)
        self.view, self.win = view, win
        self.session = InspectSession()          # touched only in the task thread
        self.tasks = TaskRunner("lattice-inspect", self)
        self.checkpoint: str | None = None
        self.knockout_result = None
        self.chart = DynamicsChart()
        self.status = QLabel("train or open a run: the inspections use its best checkpoint")
        self.status.setWordWrap(True)
        self.cell = QLabel("double-click a cell for its figures")
        self.cell.setWordWrap(True)
        self.replay = ReplayTab(view)
        tabs = QTabWidget()
        tabs.addTab(self._knockout_tab(), "knockout")
        self.atlas_tab = AtlasTab(self)
        tabs.addTab(self.atlas_tab, "atlas")
        tabs.addTab(self.replay, "replay")
        tabs.addTab(self._save_tab(), "save")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.addWidget(self.chart, 3)
        lay.addWidget(tabs, 2)
        lay.addWidget(self.cell)
        lay.addWidget(self.status)
        view.step.valueChanged.connect(self.chart.set_step)
        self.chart.stepClicked.connect(view.step.setValue)
        view.cellClicked.connect(self.show_cell)
        view.rendered.connect(self._frame_shown)
        self.tasks.progressed.connect(self._progress)
        self._compute_buttons += self.atlas_tab.buttons
        self.tasks.busyChanged.connect(lambda busy: [b.setEnabled(not busy) for b in self._compute_buttons])
        self._shown_states = None

    # ---------------------------------------------------------------- building
    def _knockout_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.block = QSpinBox()
        self.block.setRange(1, 8)
        self.block.setToolTip("silence single cells (1) or N×N×N blocks: N³ times fewer lattice runs")
        self.knockout_button = button("Compute knockout", "silence each region during all steps and measure the "
                                       "drop in Q→A cosine over the inspected pairs (minutes on a large set)")
        self.knockout_button.clicked.connect(self.compute_knockout)
        self.dynamics_button = button("Compute step dynamics", "per-step cosine and update size over the pairs")
        self.dynamics_button.clicked.connect(self.compute_dynamics)
        self.knockout_label = QLabel("")
        self.knockout_label.setWordWrap(True)
        form.addRow("block", self.block)
        form.addRow(self.knockout_button)
        form.addRow(self.dynamics_button)
        form.addRow(self.knockout_label)
        self._compute_buttons = [self.knockout_button, self.dynamics_button]
        return w

    def _save_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        for text, tip, fn in (("View as PNG…", "the cube as it is shown now", self.save_png),
                              ("Step replay as GIF/MP4…", "every step of the shown source", self.save_steps),
                              ("Epoch replay as GIF/MP4…", "every recorded epoch of the replay", self.save_epochs)):
            b = button(text, tip)
            b.clicked.connect(lambda _=False, f=fn: f())
            lay.addWidget(b)
        lay.addStretch(1)
        return w

    # ---------------------------------------------------------------- the run
    def set_checkpoint(self, path: str) -> None:
        """The run to inspect (its best checkpoint): loads its saved knockout map, report and replay."""
        self.checkpoint = path
        run = str(Path(path).parent)
        self.status.setText(f"inspecting {path}")
        self.replay.follow(run, self.tasks)
        self.tasks.submit(lambda: saved_inspection(run), self._saved_loaded)

    def follow_folder(self, folder) -> None:
        """A run folder followed from another process (Run ▸ Open run folder): its epoch replay, re-read as it
        grows; its checkpoint comes with the run's end, as for the app's own runs."""
        self.replay.follow(str(folder), self.tasks)

    def set_scheme(self, scheme: str) -> None:
        self.chart.set_scheme(scheme)

    def _saved_loaded(self, res) -> None:
        if not res.ok:
            self.status.setText(f"could not read the run's inspect folder: {res.error}")
            return
        saved = res.value
        if saved is None:
            return
        rep = saved.report
        if saved.volume is not None:
            self._show_knockout(saved.volume, rep.get("base_cosine"), rep.get("block", 1),
                                rep.get("top_decile_delta"), rep.get("random_decile_delta"),
                                f"workbench-inspect, {rep.get('pairs', '?')} pairs ({rep.get('split', '?')})")
        if "step_dynamics" in rep:
            from workbench.inspect.dynamics import StepDynamics
            d = rep["step_dynamics"]
            self.chart.set_dynamics(StepDynamics(np.asarray(d["step_cosine"]), np.asarray(d["update_norm"]),
                                                 d["pairs"]), f"{rep.get('split', '')} pairs")

    def add_snapshot(self, ev) -> None:
        """A live run's LatticeSnapshot: the replay grows an epoch."""
        self.replay.add_snapshot(ev)

    # ---------------------------------------------------------------- computing
    def pairs(self):
        """(questions, answers, rows, what): the validation rows of the latest run, else every usable row."""
        model = self.win.model
        pairs = model.dataset.pairs
        rows = [i for i, p in enumerate(pairs) if p.question.strip() and p.answer.strip()]
        val = [i for i in rows if model.splits.get(id(pairs[i])) == "val"]
        use = val or rows
        what = f"{len(use):,} validation pairs of the latest run" if val else f"all {len(use):,} rows"
        return [pairs[i].question for i in use], [pairs[i].answer for i in use], use, what

    def ready(self) -> bool:
        if not self.checkpoint:
            self.status.setText("no trained model yet: train a run or open a run folder first")
            return False
        if len(self.pairs()[2]) < 1:
            self.status.setText("the table has no pairs to inspect")
            return False
        return True

    def compute_knockout(self) -> bool:
        if not self.ready():
            return False
        qs, ans, _, what = self.pairs()
        ck, block, session, report = self.checkpoint, self.block.value(), self.session, self.tasks.report
        self.status.setText(f"knockout over {what}: embedding, then silencing each {block}³ region…")
        self.tasks.submit(lambda: session.knockout(ck, qs, ans, block, report), lambda res: self._knocked(res, what))
        return True

    def _knocked(self, res, what: str) -> None:
        if not res.ok:
            self.status.setText(f"knockout failed: {res.error}")
            return
        r = res.value
        self._show_knockout(r.volume, r.base_cosine, r.block, r.top_decile_delta, r.random_decile_delta, what)

    def _show_knockout(self, volume, base, block, top, rand, what: str) -> None:
        self.knockout_result = (np.asarray(volume, np.float32), base)
        frame = CubeFrame(self.knockout_result[0][None, None], f"knockout map ({block}³ regions, {what})",
                          f"base cosine {base:.4f}" if base is not None else "", unit=KNOCKOUT_UNIT)
        self.view.set_extra(KNOCKOUT, frame, show=True)
        text = f"base cosine {base:.4f}" if base is not None else ""
        if top is not None and rand is not None:
            text += f"; top-decile silenced {top:+.4f}, random decile {rand:+.4f}"
        self.knockout_label.setText(text)
        self.status.setText(f"knockout map of {what}")

    def compute_dynamics(self) -> bool:
        if not self.ready():
            return False
        qs, ans, _, what = self.pairs()
        ck, session = self.checkpoint, self.session
        self.status.setText(f"step dynamics over {what}…")
        self.tasks.submit(lambda: session.dynamics(ck, qs, ans), lambda res: self._dynamics_done(res, what))
        return True

    def _dynamics_done(self, res, what: str) -> None:
        if not res.ok:
            self.status.setText(f"step dynamics failed: {res.error}")
            return
        self.chart.set_dynamics(res.value, what)
        self.status.setText(f"step dynamics of {what}")

    def refresh_table(self) -> None:
        """The table changed (a file opened): the atlas's columns and rows follow it."""
        self.atlas_tab.refresh_table()

    # ---------------------------------------------------------------- feedback
    def _progress(self, ev) -> None:
        if getattr(ev, "phase", "") == "knockout":
            self.status.setText(f"knockout: {ev.done:,}/{ev.total:,} (region, pair) runs")

    def _frame_shown(self) -> None:
        frame = self.view.shown_frame()
        states = None if frame is None or frame.states.shape[0] < 2 else frame.states
        if states is not self._shown_states:
            self._shown_states = states
            self.chart.set_states(states)

    def show_cell(self, cell) -> str:
        """The figures of the clicked cell (x, y, z) for the source shown; also returned (tests)."""
        x, y, z = cell
        src = self.view.source.currentText()
        if src == KNOCKOUT and self.knockout_result is not None:
            vol, base = self.knockout_result
            d = float(vol[x, y, z])
            rank = int((vol < d).sum()) + 1
            text = (f"cell ({x}, {y}, {z}): Δ cosine {d:+.5f} when silenced; rank {rank} of {vol.size} "
                    f"(1 = most important)" + (f"; base {base:.4f}" if base is not None else ""))
        else:
            vals = self.view.current_values()
            text = (f"cell ({x}, {y}, {z}): {float(vals[x, y, z]):+.4f} (channel {self.view.channel.value()}, "
                    f"step {self.view.step.value()}, {src})" if vals is not None else "")
        self.cell.setText(text)
        return text

    # ---------------------------------------------------------------- saving
    def _save_to(self, title: str, filters: str) -> str:
        return self.win.choose_path(title, str(Path.home()), filters, save=True)

    def save_png(self, path: str | None = None) -> Path | None:
        return self._saving(lambda p: export.save_png(self.view, p), path, "Save view", "PNG image (*.png)")

    def save_steps(self, path: str | None = None) -> Path | None:
        n = self.view.step.maximum() + 1
        return self._saving(lambda p: export.write_animation(p, export.grab_frames(self.view, self.view.step.setValue, n)),
                            path, "Save step replay", "GIF (*.gif);;MP4 (*.mp4)")

    def save_epochs(self, path: str | None = None) -> Path | None:
        if not self.replay.count():
            self.status.setText("no epoch replay yet: this run recorded none")
            return None
        return self._saving(lambda p: export.write_animation(p, self.replay.frames()), path, "Save epoch replay",
                            "GIF (*.gif);;MP4 (*.mp4)")

    def _saving(self, write, path, title: str, filters: str) -> Path | None:
        path = path or self._save_to(title, filters)
        if not path:
            return None
        try:
            out = write(path)
        except export.ExportError as exc:
            self.win.show_error("Could not save", str(exc))
            return None
        self.status.setText(f"saved {out}")
        return out
