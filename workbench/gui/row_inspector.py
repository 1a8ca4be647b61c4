"""Row inspection: a clicked pair's journey through the latest trained lattice, beside the untrained one."""

from __future__ import annotations

from PySide6.QtCore import QObject


class RowInspector(QObject):
    def __init__(self, win):
        """Uses win.model (the pairs), win.ask_panel (its loaded checkpoint and teacher), win.lattice (the cube)."""
        super().__init__(win)
        self.win = win
        win.dataset_panel.rowActivated.connect(self.inspect)

    def inspect(self, row: int) -> bool:
        win = self.win
        pairs = win.model.dataset.pairs
        if not win.ask_panel.checkpoint or row >= len(pairs):
            return False
        try:
            from ..train.probe import trace
            loaded, teacher = win.ask_panel.model_and_teacher()
            text = pairs[row].question
            q = teacher.encode([text])[0]
            face = "z=0" if loaded.config.lattice.io == "face" else "volume"
            for epoch, m in ((0, loaded.untrained), (10 ** 6, loaded.trained)):
                win.lattice.set_snapshot({"epoch": epoch, "sample": row, "question": text, "states": trace(m, q),
                                          "input_face": face, "output_face": face})
        except Exception as exc:   # a broken checkpoint or teacher must not take the app down
            win.show_error("Cannot inspect this row", str(exc))
            return False
        return True
