"""Questions answered from an answer bank: the lattice's top-k beside identity's top answer. GUI-free.

    bank = load_bank(run, "answers.csv")                 # the column 'answer', embedded through the cache
    answered = ask(run, bank, ["What causes anemia?"], k=5)
    as_json(answered)       # [{"question", "answers": [{"row", "answer", "score", "rows"}], "identity": {"row", "score", "rows"}}]

workbench-ask prints and writes these; the app's Ask tab shows them. `row` is the answer's 0-based data row in
its file; `rows` lists every row holding exactly that answer text (identical answers are one entry,
search.AnswerBank).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from workbench.use.run import LoadedRun, RunError
from workbench.use.search import AnswerBank, Hit
from workbench.use.texts import read_column


@dataclass
class Answered:
    question: str
    answers: list[Hit]            # the lattice's top-k distinct answers, best first
    identity: Hit | None          # the question embedding's own nearest answer (the identity baseline)


@dataclass
class Bank:
    source: str                   # what was searched, for messages: a file, "the open table", …
    answers: AnswerBank
    notes: list[str] = field(default_factory=list)


def bank_from_texts(run: LoadedRun, texts: Sequence[str], rows: Sequence[int], source: str,
                    notes: list[str] | None = None, progress: Callable | None = None) -> Bank:
    """texts[i] at row rows[i]. Blank texts are left out and counted; an empty bank is a RunError."""
    keep = [(t, r) for t, r in zip(texts, rows) if t.strip()]
    notes = list(notes or [])
    if len(keep) < len(texts):
        notes.append(f"{source}: {len(texts) - len(keep):,} empty answers left out")
    if not keep:
        raise RunError(f"{source}: empty answer bank (no answer text to search)")
    embed = (lambda t: run.embed(t, progress)) if progress else run.embed
    return Bank(source, AnswerBank.build([t for t, _ in keep], [r for _, r in keep], embed),
                notes + list(run.teacher.last_notes))


def load_bank(run: LoadedRun, path: str | Path, column: str = "answer", progress: Callable | None = None) -> Bank:
    """The answers in `column` of a file (CSV, JSONL, JSON, Parquet) or the lines of a .txt file."""
    texts, rows, notes = read_column(path, column)
    return bank_from_texts(run, texts, rows, str(path), notes, progress)


def load_questions(path: str | Path, column: str = "question") -> list[str]:
    texts, _, _ = read_column(path, column)
    if not texts:
        raise RunError(f"{path}: no questions in column '{column}'")
    return texts


def ask(run: LoadedRun, bank: Bank, questions: Sequence[str], k: int = 5) -> list[Answered]:
    """Each question's k nearest distinct answers to the lattice's prediction, and identity's nearest."""
    if k < 1:
        raise RunError(f"k must be at least 1, got {k}")
    q = run.embed(list(questions))
    model = bank.answers.search(run.map(q), k)
    ident = bank.answers.search(q, 1)
    return [Answered(text, hits, top[0] if top else None) for text, hits, top in zip(questions, model, ident)]


def as_json(answered: list[Answered]) -> list[dict]:
    return [{"question": a.question,
             "answers": [{"row": h.row, "answer": h.answer, "score": h.score, "rows": h.rows} for h in a.answers],
             "identity": None if a.identity is None else {"row": a.identity.row, "score": a.identity.score,
                                                          "rows": a.identity.rows}}
            for a in answered]


def as_csv(answered: list[Answered]) -> str:
    """One line per (question, rank): question, rank, row, score, answer, rows_sharing, identity_row, identity_score."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["question", "rank", "row", "score", "answer", "rows_sharing", "identity_row", "identity_score"])
    for a in answered:
        ident = a.identity
        for rank, h in enumerate(a.answers, 1):
            w.writerow([a.question, rank, h.row, f"{h.score:.6f}", h.answer, len(h.rows),
                        "" if ident is None else ident.row, "" if ident is None else f"{ident.score:.6f}"])
    return buf.getvalue()


def as_text(answered: list[Answered], width: int = 100) -> str:
    """What workbench-ask prints: per question its ranked answers (row, score, text cut to `width`)."""
    out = []
    for a in answered:
        out.append(f"Q: {a.question}")
        for rank, h in enumerate(a.answers, 1):
            text = " ".join(h.answer.split())
            shared = f" (same text in {len(h.rows)} rows)" if len(h.rows) > 1 else ""
            out.append(f"  {rank:>2}. row {h.row:<6} {h.score:.3f}  {text[:width]}{'…' if len(text) > width else ''}{shared}")
        if a.identity is not None:
            out.append(f"  identity's top answer: row {a.identity.row} ({a.identity.score:.3f})")
    return "\n".join(out)
