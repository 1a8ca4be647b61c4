"""Data for tests: realistic generated rows for tests that only need their shape, and the real corpora for the
few tests that are about them.

- `realistic_rows(n)`: rows shaped like MedQuAD (question, answer, category, document), generated here from a
  seed, so a fresh clone without ../shared runs every test that only needs realistic rows. What is realistic
  about them: answers from one sentence to several thousand characters (median near 900, one in ~30 over the
  4,000-character long_text note, many over the teacher's 256 tokens), 1–6 questions per document, questions
  asked again with another answer (the repeated_question note), commas, quotes, line breaks and non-ASCII
  letters, and no exact repeat of a whole pair (the corpus's 48 of those are not something a slice needs).
- `corpus_file(name)`: the real corpus ../shared/data/NAME (read-only, beside the repo in CI). Tests that need
  it are marked `@pytest.mark.corpus("NAME")`; conftest skips them with a reason `pytest -rs` shows when the
  file is missing, and fails them in CI (LATTICE_WORKBENCH_CI=1), where they must run.
"""

from __future__ import annotations

import csv
import math
import os
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CATEGORIES = {   # category → question template
    "information": "What is (are) {c} ?", "symptoms": "What are the symptoms of {c} ?",
    "treatment": "What are the treatments for {c} ?", "inheritance": "Is {c} inherited ?",
    "frequency": "How many people are affected by {c} ?", "causes": "What causes {c} ?",
    "exams and tests": "How to diagnose {c} ?", "outlook": "What is the outlook for {c} ?",
}
_SYLLABLES = ("ka", "lo", "mer", "ti", "sa", "ven", "dro", "ph", "gal", "os", "rin", "ta", "ne", "ul", "bre", "xi")
_KINDS = ("syndrome", "disease", "deficiency", "dystrophy", "anemia", "ataxia", "type 2", "of the kidney")
_WORDS = ("the condition", "affected individuals", "cells", "a protein", "the gene", "muscle weakness", "the body",
          "symptoms", "treatment", "doctors", "children", "adults", "the disorder", "mutations", "blood vessels",
          "the nervous system", "early diagnosis", "a specialist", "medication", "physical therapy", "the liver",
          "inflammation", "enzyme activity", "the immune system", "signs", "family members", "Sjögren's",
          "café-au-lait spots", "β-thalassemia", "a 'carrier'", "about 1 in 40,000 people")
_VERBS = ("causes", "affects", "is characterized by", "may lead to", "reduces", "is associated with", "involves",
          "can be managed with", "is diagnosed by", "varies among")


def _condition(rng: random.Random) -> str:
    name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
    return f"{name} {rng.choice(_KINDS)}"


def _answer(rng: random.Random, chars: int) -> str:
    out, n = [], 0
    while n < chars:
        s = f"{rng.choice(_WORDS).capitalize()} {rng.choice(_VERBS)} {rng.choice(_WORDS)}"
        if rng.random() < 0.4:
            s += f", {rng.choice(_WORDS)} and {rng.choice(_WORDS)}"
        s += "." if rng.random() < 0.9 else ':\n- ' + rng.choice(_WORDS)
        out.append(s)
        n += len(s) + 1
    return " ".join(out)


def realistic_rows(n: int, seed: int = 0) -> list[dict[str, str]]:
    """n MedQuAD-shaped rows (question, answer, category, document); the same n and seed give the same rows."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    asked: list[str] = []
    doc = 0
    while len(rows) < n:
        doc += 1
        condition = _condition(rng)
        for category in rng.sample(sorted(CATEGORIES), k=min(len(CATEGORIES), 1 + int(rng.expovariate(0.6)))):
            if len(rows) == n:
                break
            i = len(rows)
            question = CATEGORIES[category].format(c=condition)
            if asked and i % 12 == 7:                    # asked again in another document, with another answer
                question = rng.choice(asked)
            chars = rng.randint(4200, 9000) if i % 30 == 1 else int(math.exp(rng.gauss(math.log(900), 0.9)))
            rows.append({"question": question, "answer": _answer(rng, max(40, chars)), "category": category,
                         "document": f"{doc:04d}_{condition.split()[0]}"})
            asked.append(question)
    return rows


def write_rows_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """rows (e.g. from realistic_rows) as a CSV with their own header, for a test's data file."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return Path(path)


def find_corpus(name: str) -> Path | None:
    """../shared/data/NAME beside the repo; a git worktree one level deeper looks one folder further up."""
    for base in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data"):
        if (base / name).is_file():
            return base / name
    return None


def in_ci() -> bool:
    return bool(os.environ.get("LATTICE_WORKBENCH_CI"))


def corpus_file(name: str) -> Path:
    """The real corpus file; the test is marked `corpus`, so conftest has already skipped (or failed, in CI) it
    when the file is missing."""
    path = find_corpus(name)
    if path is None:
        raise FileNotFoundError(f"{name} not found in ../shared/data: mark the test @pytest.mark.corpus({name!r})")
    return path
