"""Column names: which file column is the question, the answer, the category and the group.

- `header_names(header)`: the names a column mapping refers to (stripped, a blank cell "columnN").
- `resolve(header, columns, path)`: our name for each file column, given a mapping (role → column);
  raises DataError naming a mapped column that is not there or a required one that is missing
  (with the mapping `guess_columns` proposes as a hint).
- `guess_columns(names)` / `needs_mapping(names)`: the best guess at a mapping, and whether one is needed.

Both the loaders (formats.py, read_csv.py, read_json.py) and the head-only peek (columns.py) use
this module, so neither imports the other for names.
"""

from __future__ import annotations

import re

from workbench.data.pairs import FIELDS, DataError, Problem

ROLES = ("question", "answer", "category", "group")    # what --columns may map
REQUIRED = ("question", "answer")

# Names a role is known by, most telling first. Compared after normalising (case, spaces, dashes).
SYNONYMS = {
    "question": ("question", "q", "query", "prompt", "input", "instruction", "questions", "question_text",
                 "user", "ask"),
    "answer": ("answer", "a", "response", "reply", "text", "output", "completion", "target", "answers",
               "answer_text", "assistant", "ans"),
    "category": ("category", "label", "type", "topic", "class", "tag", "categories", "qtype", "question_type",
                 "focus_area", "subject"),
    "group": ("group", "document", "doc", "source", "doc_id", "document_id", "source_id", "docid", "article",
              "file", "url"),
}
# A word inside a longer name ("user_question", "AnswerText") that still says the role.
WORDS = {"question": ("question", "query", "prompt"), "answer": ("answer", "response", "reply")}


def header_names(header: list) -> list[str]:
    """The names a column mapping refers to: stripped, a blank header cell called "columnN"."""
    return [str(h).strip() or f"column{j + 1}" for j, h in enumerate(header)]


def _mapped(names: list[str], columns: dict[str, str], path: str, line: int | None) -> tuple[list[str], dict]:
    out, taken = list(names), {}
    for role, col in columns.items():
        j = next((j for j, n in enumerate(names) if n == col), None)
        if j is None:
            j = next((j for j, n in enumerate(names) if n.casefold() == col.casefold()), None)
        if j is None:
            raise DataError([Problem(path, None, role, f"column '{col}' (mapped to {role}) is not in the header "
                                     f"{names}", line)])
        out[j], taken[role] = role, j
    return out, taken


def resolve(header: list, columns: dict[str, str], path: str, line: int | None = None) -> list[str]:
    """Our name for each file column: mapped or recognised roles, else the column's own name (an extra)."""
    names = header_names(header)
    out, taken = _mapped(names, columns, path, line)
    for j, n in enumerate(names):
        low = n.lower()
        if j in taken.values():
            continue
        if low in ROLES and low in taken:
            raise DataError([Problem(path, None, low, f"column '{n}' clashes with '{names[taken[low]]}', which the "
                                     f"column mapping names {low}; rename one of them")])
        if low in FIELDS:
            out[j] = low
    seen: set[str] = set()
    for j, n in enumerate(out):
        if n in seen:
            if n in FIELDS:
                raise DataError([Problem(path, None, n, f"more than one column is called '{n}' in {names}")])
            k = 2
            while f"{n}.{k}" in seen or f"{n}.{k}" in out:
                k += 1
            out[j] = f"{n}.{k}"
        seen.add(out[j])
    missing = [c for c in REQUIRED if c not in out]
    if missing:
        guess = guess_columns([n for j, n in enumerate(names) if j not in taken.values() and out[j] not in FIELDS])
        spec = ",".join(f"{r}={guess.get(r, 'COL')}" for r in missing)
        hint = f" (name them with a column mapping: --columns {spec}, or the app's File ▸ Import)"
        raise DataError([Problem(path, None, c, f"missing column '{c}' in header {names}{hint}", line)
                         for c in missing])
    return out


def _norm(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())    # QuestionText → Question_Text
    return re.sub(r"[\s\-.]+", "_", name).casefold().strip("_")


def needs_mapping(names: list[str]) -> bool:
    """True when load_dataset cannot find question and answer by name alone (a mapping must name them)."""
    found = {n.strip().lower() for n in names}
    return bool(names) and not all(r in found for r in REQUIRED)


def guess_columns(names: list[str]) -> dict[str, str]:
    """A best guess of role → column for a header: the role's own name in any case, then its common synonyms
    (q, prompt, response, topic, doc, …), then a name holding a telling word ("user_question"). Each column
    serves one role at most; a role with no likely column is left out."""
    norm = [_norm(n) for n in names]
    out: dict[str, str] = {}
    for role in ROLES:
        for syn in SYNONYMS[role]:
            j = next((j for j, n in enumerate(norm) if n == syn and names[j] not in out.values()), None)
            if j is not None:
                out[role] = names[j]
                break
    for role, words in WORDS.items():
        if role in out:
            continue
        j = next((j for j, n in enumerate(norm) if names[j] not in out.values()
                  and any(w in n.split("_") for w in words)), None)
        if j is not None:
            out[role] = names[j]
    return {r: out[r] for r in ROLES if r in out}
