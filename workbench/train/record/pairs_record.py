"""Which pairs a run trained and validated on, kept in its folder so a later user can ask by content.

    write_run_pairs(out, prepared.train, prepared.val)      # once per run, by run_folder_sinks
    rp = read_run_pairs(run_dir)                             # None for a folder made before this file existed
    rp.label(question, answer)                               # "train pair", "validation pair" or None

`RUN/pairs.json` holds a short key of every training pair (not its text: the run folder need not become
a second copy of the corpus) and the validation pairs' texts (the app's Ask can search "this run's own
validation answers", as workbench-eval scores them). A key is sha256 over the pair's normalised question
and answer (rules.norm: whitespace collapsed, case folded), so a row of an open table matches the run's pair
whatever its row number, file or column order; 16 bytes of it make a collision negligible.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from workbench.data.atomic import atomic_write_text
from workbench.data.rules import norm

PAIRS_FILE = "pairs.json"
FORMAT = "lattice-workbench-run-pairs"
SPLIT_WORDS = {"train": "train pair", "val": "validation pair"}


def pair_key(question: str, answer: str) -> str:
    text = norm(question) + "\x1f" + norm(answer)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass
class RunPairs:
    train: frozenset[str]                 # pair_key of every training pair
    val: frozenset[str]                   # pair_key of every validation pair
    val_pairs: list[tuple[str, str]]      # the validation (question, answer) texts, in split order

    def split_of(self, question: str, answer: str) -> str:
        """"train", "val" or "" (not one of this run's pairs)."""
        key = pair_key(question, answer)
        return "val" if key in self.val else "train" if key in self.train else ""

    def label(self, question: str, answer: str) -> str | None:
        return SPLIT_WORDS.get(self.split_of(question, answer))

    def shared_with(self, pairs) -> int:
        """How many of `pairs` (objects with .question and .answer) are this run's training or validation pairs."""
        return sum(bool(self.split_of(p.question, p.answer)) for p in pairs)


def write_run_pairs(out: str | Path, train, val) -> None:
    """train, val: the run's Datasets after its data rules (what it really trained and validated on)."""
    doc = {"format": FORMAT, "version": 1,
           "train": [pair_key(p.question, p.answer) for p in train.pairs],
           "val": [pair_key(p.question, p.answer) for p in val.pairs],
           "val_pairs": [[p.question, p.answer] for p in val.pairs]}
    atomic_write_text(Path(out) / PAIRS_FILE, json.dumps(doc, ensure_ascii=False) + "\n")


class PairsRecordError(ValueError):
    """A pairs.json that is not ours or is damaged; the message names it."""


def read_run_pairs(run_dir: str | Path) -> RunPairs | None:
    """The run's pairs, or None when its folder predates pairs.json. Raises PairsRecordError for a damaged file."""
    path = Path(run_dir) / PAIRS_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8", errors="surrogateescape"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise PairsRecordError(f"{path}: cannot read the run's pairs ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PairsRecordError(f"{path}: not a Lattice Workbench pairs record")
    try:
        val_pairs = [(str(q), str(a)) for q, a in doc["val_pairs"]]
        return RunPairs(frozenset(map(str, doc["train"])), frozenset(map(str, doc["val"])), val_pairs)
    except (KeyError, TypeError, ValueError) as exc:
        raise PairsRecordError(f"{path}: damaged pairs record ({type(exc).__name__}: {exc})") from None
