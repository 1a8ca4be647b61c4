"""Data rules with levels (issue 8 item 1), control characters (issue 7 item 1), the per-row API the table uses."""

import csv

import pytest

from workbench.data.dataset import (DataError, Dataset, DialoguePair, ValidationRules, apply_rules, load_dataset,
                                    repeat_problems, validate, validate_pair)
from workbench.data.problem_report import count_problems
from workbench.train.config import RunConfig
from workbench.train.config import validation_rules
from shared_data import corpus_file


def write_csv(path, rows, header=("question", "answer", "category")):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def kinds(problems):
    return [(p.row, p.field, p.level, p.kind) for p in problems]


def test_each_rule_has_its_level(tmp_path):
    long_answer = "word " * 1200                                          # 6,000 characters: a note, kept
    path = write_csv(tmp_path / "d.csv", [
        ["What is a cell?", "The smallest unit of life.", "bio"],       # 1 fine
        ["What is a cell?", "A room in a prison.", "law"],              # 2 same question, another answer: note
        ["What  is a CELL?", "the smallest unit of life.", "bio"],      # 3 exact repeat of row 1 (normalised): warning
        ["Echo me", "echo   ME", "x"],                                  # 4 answer same as question: warning
        ["", "An answer without a question.", "x"],                     # 5 empty: error
        ["What is long?", long_answer, "x"],                            # 6 long answer: note
        ["Q?", "A", "x"],                                               # 7 one-letter answer: warning (too short)
        ["Pasted?", "y" * 200_001, "x"],                                # 8 over the paste guard: error
    ])
    problems = validate(load_dataset(path))
    assert kinds(problems) == [
        (2, "question", "note", "repeated_question"),
        (3, "answer", "warning", "duplicate_pair"),
        (4, "answer", "warning", "same_as_question"),
        (5, "question", "error", "empty"),
        (6, "answer", "note", "long_text"),
        (7, "answer", "warning", "too_short"),
        (8, "answer", "error", "over_limit"),
    ]
    assert "same question and answer as row 1" in problems[1].message
    assert "200,001 characters, over the data.max_chars guard of 100,000" in problems[-1].message
    counts = count_problems(problems)
    assert counts == {"error": {"empty": 1, "over_limit": 1},
                      "warning": {"duplicate_pair": 1, "same_as_question": 1, "too_short": 1},
                      "note": {"repeated_question": 1, "long_text": 1}}
    ds = load_dataset(path)
    assert apply_rules(ds, problems).rows == [1, 2, 6]                 # errors dropped only when allowed
    assert apply_rules(ds, problems, drop_errors=False).rows == [1, 2, 5, 6, 8]


@pytest.mark.corpus("medquad_dev.csv")
def test_medquad_dev_has_no_error_rows_and_keeps_valid_repeats():
    ds = load_dataset(corpus_file("medquad_dev.csv"))
    problems = validate(ds, validation_rules(RunConfig()))
    counts = count_problems(problems)
    assert counts["error"] == {}                                       # trains with no flag
    assert counts["warning"] == {"duplicate_pair": 48}                 # only exact repeats of a whole pair
    assert counts["note"]["repeated_question"] > 1000                  # a normal, valid pair: kept
    assert counts["note"]["long_text"] > 400                           # long answers kept, the teacher truncates
    assert len(apply_rules(ds, problems)) == len(ds) - 48


def test_per_row_function_matches_the_whole_file_check(tmp_path):
    """The table calls validate_pair per row and repeat_problems across rows: together they are validate()."""
    path = write_csv(tmp_path / "d.csv", [["What is X?", "Xylophone."], ["", "Nothing"], ["What is X?", "Xylophone."],
                                          ["What is X?", "Another."], ["Same", "same"], ["N\x00ul?", "Bell\x07 ok."]],
                     header=("question", "answer"))
    ds, rules = load_dataset(path), ValidationRules()
    per_row = [p for i, pair in enumerate(ds.pairs)
               for p in validate_pair(pair, rules, file=ds.path, row=ds.rows[i], line=ds.lines[i])]
    together = sorted(per_row + repeat_problems(ds), key=lambda p: p.row)
    assert together == validate(ds, rules)
    # validate_pair is a pure function of the row: the same pair gives the same problems anywhere
    assert [p.kind for p in validate_pair(DialoguePair("", "Nothing"))] == ["empty"]


def test_control_characters_are_reported_per_field_and_stripped(tmp_path):
    path = tmp_path / "ctrl.csv"
    path.write_bytes(b"question,answer\nWhat is\x00 NUL?,It ends\x1b[0m strings.\nFine question?,Fine answer.\n"
                     b"\x00\x00,Only NULs in the question.\n")
    ds = load_dataset(path)
    assert ds.pairs[0].question == "What is\x00 NUL?"                  # loading keeps the file's text as it is
    problems = validate(ds)
    assert kinds(problems) == [(1, "question", "warning", "control_chars"), (1, "answer", "warning", "control_chars"),
                               (3, "question", "error", "empty")]
    assert "U+0000 NUL ×1" in problems[0].message and "stripped" in problems[0].message
    assert "U+001B" in problems[1].message
    used = apply_rules(ds, problems)
    assert used.rows == [1, 2] and used.pairs[0].question == "What is NUL?"
    assert used.pairs[0].answer == "It ends[0m strings."
    assert ds.pairs[0].question == "What is\x00 NUL?"                  # cleaned in a copy, never in place
    with pytest.raises(DataError):                                     # the all-NUL field is an error: stops a run
        from workbench.train.pipeline import prepare
        prepare(RunConfig(), str(path))


def test_undecodable_and_unparsable_rows_are_errors_not_a_refused_file(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"question": "What is good?", "answer": "This line."}\n'
                     b'{"question": "Caf\xe9?", "answer": "Latin-1 bytes."}\n'
                     b'not json at all\n'
                     b'["a", "list"]\n'
                     b'{"question": 5, "answer": "A number is not text."}\n')
    ds = load_dataset(path)
    problems = validate(ds)
    assert kinds(problems) == [(2, "question", "error", "undecodable"), (3, None, "error", "bad_record"),
                               (4, None, "error", "bad_record"), (5, "question", "error", "not_text")]
    assert ds.n_records == 5 and len(apply_rules(ds, problems)) == 1

