"""Row inspection: a clicked pair's journey through the latest trained lattice, beside the untrained one.

The teacher and both lattices run in the Ask panel's background task thread (its ProbeSession
keeps them loaded); the cube shows a busy bar meanwhile and the result when it comes back.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from workbench.gui.inspect.cube import CubeFrame

class RowInspector(QObject):
    traced = Signal(int)          # the row now shown in the cube

    def __init__(self, win):
        """Uses win.model (the pairs), win.ask_panel (checkpoint, tasks, session), win.lattice. A row is labelled
        "train pair" or "validation pair" only when its content is one of the checkpoint's run's pairs."""
        super().__init__(win)
        self.win = win
        win.dataset_panel.rowActivated.connect(self.inspect)

    def inspect(self, row: int) -> bool:
        """Start tracing table row `row` (0-based); False when there is no trained model or no such row."""
        win = self.win
        pairs = win.model.dataset.pairs
        ask = win.ask_panel
        if not ask.checkpoint or not 0 <= row < len(pairs):
            return False
        pair = pairs[row]
        text, answer, ckpt, session = pair.question, pair.answer, ask.checkpoint, ask.session
        win.lattice.set_busy(f"tracing row {row + 1} through the trained lattice…")
        ask.tasks.submit(lambda: session.trace(ckpt, text, answer), lambda res: self._show(res, row, text))
        return True

    def _show(self, res, row: int, text: str) -> None:
        win = self.win
        win.lattice.set_busy("")
        if not res.ok:   # a broken checkpoint or teacher must not take the app down
            win.show_error("Cannot inspect this row", res.error, res.details)
            return
        tr = res.value
        split = tr.label
        out_face = f"z={tr.trained.shape[-1] - 1}" if tr.face != "volume" else "volume"
        which = f"best epoch {tr.best_epoch}" if tr.best_epoch else "best checkpoint"
        trained = CubeFrame(tr.trained, f"row {row + 1} ({split}) · trained lattice, {which}", text, tr.face, out_face)
        untrained = CubeFrame(tr.untrained, f"row {row + 1} ({split}) · untrained lattice", text, tr.face, out_face)
        win.lattice.show_frame(trained, untrained)
        self.traced.emit(row)
