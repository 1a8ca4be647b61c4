import json
import os

import pytest

from workbench.data.dataset import (DataError, Dataset, DialoguePair, ValidationRules, drop_invalid, load_dataset,
                            save_dataset, validate)
from helpers import SAMPLE_45, SAMPLE_160


def test_sample_sets_are_ours_and_sized():
    small, large = load_dataset(SAMPLE_45), load_dataset(SAMPLE_160)
    assert len(small) == 45 and len(large) >= 150
    cats = {p.category for p in large.pairs}
    assert cats == {"ai_ml", "cs_fundamentals", "programming", "data_science", "neural_architectures"}
    assert validate(small) == [] and validate(large) == []


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_round_trip_every_format(tmp_path, suffix):
    ds = load_dataset(SAMPLE_45)
    ds.pairs[0] = DialoguePair('Quote "this", please;\nnew line?', "Ünïcode, commas, and\ttabs.", "ai_ml")
    out = tmp_path / f"copy{suffix}"
    save_dataset(ds, out)
    back = load_dataset(out)
    assert back.pairs == ds.pairs
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_json_list_without_category(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"question": "What is a cat?", "answer": "A small feline."}]))
    ds = load_dataset(path)
    assert ds.pairs == [DialoguePair("What is a cat?", "A small feline.", "")]


def test_validation_names_file_row_and_field(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("question,answer,category\n"
                    "What is AI?,The study of intelligent machines.,ai\n"
                    "   ,An answer without question.,ai\n"
                    "Same text here,same   TEXT here,ai\n"
                    "What is AI?,A duplicate question.,ai\n"
                    "Long one?," + "x" * 50 + ",ai\n")
    problems = validate(load_dataset(path), ValidationRules(min_chars=2, max_chars=40))
    text = [str(p) for p in problems]
    assert any("bad.csv, row 2 (line 3), field 'question': empty" in t for t in text)
    assert any("row 3" in t and "'answer'" in t and "same as the question" in t for t in text)
    assert any("row 4" in t and "same question as row 1 with another answer" in t for t in text)  # a note: kept
    assert any("row 5" in t and "over the data.max_chars guard of 40" in t for t in text)
    assert [(p.row, p.level) for p in problems] == [(2, "error"), (3, "warning"), (4, "note"), (5, "error")]
    kept = drop_invalid(load_dataset(path), problems)
    assert [r for r in kept.rows] == [1, 4]


def test_missing_column_and_bad_bytes_are_reported(tmp_path):
    p1 = tmp_path / "nocol.csv"
    p1.write_text("question,category\nWhat?,x\n")
    with pytest.raises(DataError) as e:
        load_dataset(p1)
    assert "missing column 'answer'" in str(e.value) and "nocol.csv" in str(e.value)
    p2 = tmp_path / "latin1.csv"
    p2.write_bytes(b"question,answer,category\nWhat is ok?,Fine answer.,a\nCaf\xe9 question?,Answer here.,b\n")
    problems = validate(load_dataset(p2))      # the file loads; the row with bad bytes is an error
    assert [(p.row, p.field, p.level) for p in problems] == [(2, "question", "error")]
    assert "UTF-8" in problems[0].message


def test_jsonl_bad_line_is_located(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"question": "What is a dog?", "answer": "A loyal animal."}\n\n{"question": "Broken"\n')
    ds = load_dataset(path)
    prob = validate(ds)[0]
    assert (prob.row, prob.line, prob.level) == (2, 3, "error") and "invalid JSON" in prob.message
    assert len(ds) == 1 and ds.n_records == 2


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "keep.json"
    save_dataset(load_dataset(SAMPLE_45), path)
    before = path.read_bytes()
    bad = Dataset([DialoguePair("What is this?", object(), "c")])  # not JSON-serialisable: fails mid-write
    with pytest.raises(TypeError):
        save_dataset(bad, path)
    assert path.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
