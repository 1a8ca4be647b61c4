"""The trained run of one checkpoint (workbench.use.LoadedRun), loaded once, for Ask and row tracing.

Plain Python, no Qt: every method runs in the background task thread (background.TaskRunner),
and only there, so the loaded torch modules are never touched by two threads. Results are plain
data (lists, numpy arrays) handed back to the GUI thread.

Ask searches a bank chosen explicitly (`BankChoice`): the open table, the run's own validation answers
(RUN/pairs.json), or the answer column of a file, with workbench-ask's search (identical answers merged).
Labels say "train pair" / "validation pair" only when the row's content is one of the run's pairs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TABLE, RUN_VAL, FILE = "table", "val", "file"
NOT_IN_RUN = "not in this run's data"
MISMATCH_SHARE = 0.5      # below this share of its rows being the run's pairs, the open table is "not its data"


@dataclass
class BankChoice:
    kind: str                                            # TABLE, RUN_VAL or FILE
    pairs: list[tuple[str, str]] = field(default_factory=list)   # TABLE: the open table's (question, answer) rows
    path: str = ""                                       # FILE: the answers file
    column: str = "answer"                               # FILE: its answer column


@dataclass
class Trace:
    trained: np.ndarray        # (T+1, C, X, Y, Z) the question through the trained lattice
    untrained: np.ndarray      # the same through the run's untrained lattice (same seed)
    face: str                  # "z=0" (face io) or "volume"
    best_epoch: int | None     # the checkpoint's epoch, when its run folder says
    label: str = ""            # the row as one of the run's pairs, by content; "" when not asked or not known


class ProbeSession:
    def __init__(self):
        self.path: str | None = None
        self._stamp = None       # (mtime, size) of the loaded checkpoint: a run still writing it replaces it
        self.run = None          # workbench.use.run.LoadedRun
        self._bank_key = ""
        self._bank = None        # workbench.use.ask.Bank

    def load(self, checkpoint: str):
        """The LoadedRun of `checkpoint` (its folder is the run); reloaded when the path or the file changes."""
        from workbench.use.run import load_run
        st = Path(checkpoint).stat()
        stamp = (st.st_mtime_ns, st.st_size)
        if checkpoint != self.path or self.run is None or stamp != self._stamp:
            old = self.run.teacher if self.run is not None else None
            self.run, self.path, self._stamp = load_run(Path(checkpoint).parent, checkpoint=checkpoint), checkpoint, stamp
            self._bank_key = ""
            if old is not None and old.config == self.run.teacher.config:
                self.run.teacher = old         # keep the loaded teacher model: the same settings embed the same
        return self.run

    def bank(self, choice: BankChoice):
        """The chosen answer bank, embedded once and kept while the choice, its content and the run stay."""
        from workbench.use.ask import bank_from_texts, load_bank
        run = self.run
        key = hashlib.sha1(json.dumps([choice.kind, choice.path, choice.column, choice.pairs]).encode(
            "utf-8", "surrogatepass")).hexdigest()
        if key == self._bank_key and self._bank is not None:
            return self._bank
        if choice.kind == FILE:
            bank = load_bank(run, choice.path, choice.column)
        elif choice.kind == RUN_VAL:
            rp = run.pairs()
            if rp is None:
                from workbench.use.run import RunError
                raise RunError(f"{run.run_dir}: this run folder does not record its validation pairs "
                               "(made before pairs.json); choose the open table or a file")
            bank = bank_from_texts(run, [a for _, a in rp.val_pairs], range(len(rp.val_pairs)),
                                   "this run's validation answers")
        else:
            bank = bank_from_texts(run, [a for _, a in choice.pairs], range(len(choice.pairs)), "the open table")
            bank.notes.insert(0, table_warning(run.pairs(), choice.pairs))
        self._bank, self._bank_key = bank, key
        return bank

    def ask(self, checkpoint: str, question: str, choice: BankChoice, k: int) -> dict:
        """{"model": [Hit], "identity": [Hit], "source", "rows", "distinct", "warning"} for one question."""
        from workbench.use.search import AnswerBank
        run = self.load(checkpoint)
        bank = self.bank(choice)
        answers: AnswerBank = bank.answers
        q = run.embed([question])
        return {"model": answers.search(run.map(q), k)[0], "identity": answers.search(q, k)[0],
                "source": bank.source, "rows": answers.n_rows, "distinct": len(answers),
                "warning": bank.notes[0] if choice.kind == TABLE else ""}

    def trace(self, checkpoint: str, question: str, answer: str | None = None) -> Trace:
        """The question through both lattices; with `answer`, the pair's place in the run (by content)."""
        from workbench.train.predict import trace
        run = self.load(checkpoint)
        q = run.embed([question])[0]
        face = "z=0" if run.config.lattice.io == "face" else "volume"
        label = ""
        if answer is not None:
            rp = run.pairs()
            label = "the run does not record its pairs" if rp is None else rp.label(question, answer) or NOT_IN_RUN
        return Trace(trace(run.model.cpu(), q), trace(run.untrained, q), face, _best_epoch(checkpoint), label)


def table_warning(rp, pairs: list[tuple[str, str]]) -> str:
    """"" when the open table is (mostly) the data the run trained on; else a warning saying how little it shares."""
    if rp is None:
        return ("this run folder does not record its pairs (made before pairs.json): cannot check that the open "
                "table is the data it was trained on")
    shared = sum(bool(rp.split_of(q, a)) for q, a in pairs)
    if pairs and shared >= MISMATCH_SHARE * len(pairs):
        return ""
    return (f"the open table is not the data this run was trained on: {shared:,} of its {len(pairs):,} rows are the "
            f"run's pairs ({len(rp.train):,} training, {len(rp.val):,} validation)")


def _best_epoch(checkpoint: str) -> int | None:
    try:
        m = json.loads((Path(checkpoint).parent / "metrics.json").read_text(encoding="utf-8"))
        return int(m["best_epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
