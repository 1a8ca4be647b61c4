"""Input that real files come in (issue 8 item 6): Parquet, a column mapping, extra columns kept."""

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.cli import train as cli
from workbench.data.dataset import (DataError, Dataset, DialoguePair, load_dataset, parse_columns, save_dataset,
                                    validate)
from helpers import SAMPLE_45

FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8"]


def with_documents(n_docs=9) -> Dataset:
    ds = load_dataset(SAMPLE_45)
    for i, p in enumerate(ds.pairs):
        p.extra = {"document": f"doc{i % n_docs}", "source": f"s{i}"}
    ds.columns = ["document", "source"]
    return ds


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json", ".parquet"])
def test_extra_columns_survive_save_and_load_in_every_format(tmp_path, suffix):
    ds = with_documents()
    ds.pairs[0] = DialoguePair('Quote "this", please;\nnew line?', "Ünïcode, commas,\tand a \u2028 separator.",
                               "ai_ml", {"document": "doc0", "source": ""})
    save_dataset(ds, tmp_path / f"d{suffix}")
    back = load_dataset(tmp_path / f"d{suffix}")
    assert back.columns == ["document", "source"] and back.pairs == ds.pairs
    assert validate(back) == validate(ds.subset(list(range(len(ds)))))


def test_parquet_with_other_column_names_is_mapped_and_extras_kept(tmp_path):
    path = tmp_path / "corpus.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "Q": ["What is a lattice?", "What is a cell?", None],
                             "A": ["A grid of cells.", "One site of the grid.", "No question here."],
                             "topic": ["ml", "bio", "x"], "Doc": ["d1", "d1", "d2"], "score": [0.5, None, 2.0]}), path)
    with pytest.raises(DataError) as e:
        load_dataset(path)
    assert "missing column 'question'" in str(e.value) and "--columns" in str(e.value)
    ds = load_dataset(path, columns="question=Q,answer=A,category=topic,group=Doc")
    assert ds.columns == ["id", "group", "score"]
    assert ds.pairs[0] == DialoguePair("What is a lattice?", "A grid of cells.", "ml",
                                       {"id": "1", "group": "d1", "score": "0.5"})
    assert ds.pairs[1].extra["score"] == ""                                   # a null is an empty cell
    problems = validate(ds)
    assert [(p.row, p.field, p.kind) for p in problems] == [(3, "question", "missing_value")]
    save_dataset(ds, tmp_path / "mapped.csv")                                  # saved with our names, extras after
    with open(tmp_path / "mapped.csv", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == ["question", "answer", "category", "id", "group", "score"]


def test_column_mapping_mistakes_are_clear(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("Q,A,question\nWhat?,This.,also\n")
    for spec, needle in [("question=Q,anser=A", "ROLE one of question, answer, category, group"),
                         ("question=Q,answer=Nope", "column 'Nope' (mapped to answer) is not in the header"),
                         ("question=Q,answer=A", "column 'question' clashes with 'Q'"),
                         ("question", "expected ROLE=COLUMN")]:
        with pytest.raises(DataError) as e:
            load_dataset(path, columns=spec)
        assert needle in str(e.value), spec
    assert parse_columns({"Question": "Q", "answer": "A"}) == {"question": "Q", "answer": "A"}


def test_cli_reads_parquet_with_columns_and_holds_out_whole_groups(tmp_path, cache_dir, capfd):
    ds = with_documents()
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"Q": ds.questions(), "A": ds.answers(), "Doc": ds.column("document")}), path)
    out = tmp_path / "run"
    assert cli.run([str(path), "--columns", "question=Q,answer=A,group=Doc", "--epochs", "1", "--out", str(out),
                    "--cache-dir", str(cache_dir), *FAST]) == 0
    err = capfd.readouterr().err
    assert "whole groups of column 'group'" in err and "no group is on both sides" in err
    assert "groups of column 'group'" in (out / "report.md").read_text()
    assert cli.run([str(path), "--columns", "question=Q,answer=Nope", "--out", str(tmp_path / "r2")]) == 2
    assert "column 'Nope' (mapped to answer) is not in the header" in capfd.readouterr().err


def test_csv_odd_files(tmp_path):
    # UTF-16 with a BOM (a spreadsheet export) reads as text, not as NUL-riddled fields
    p16 = tmp_path / "u16.csv"
    p16.write_bytes("question,answer\nWhat is UTF-16?,Two bytes per unit.\n".encode("utf-16"))
    assert load_dataset(p16).pairs == [DialoguePair("What is UTF-16?", "Two bytes per unit.")]
    # more cells than the header: empty ones are ignored, text in them is an error on that row
    pc = tmp_path / "cells.csv"
    pc.write_text("question,answer\nWhat is a?,An a.,\nWhat is b?,A b, with a comma.\n")
    problems = validate(load_dataset(pc))
    assert [(p.row, p.kind, p.level) for p in problems] == [(2, "extra_cells", "error")]
    # a field over the old csv module limit (131,072) reaches the paste guard instead of stopping the file
    pbig = tmp_path / "big.csv"
    pbig.write_text("question,answer\nWhat is big?," + "z" * 150_000 + "\n")
    assert [p.kind for p in validate(load_dataset(pbig))] == ["over_limit"]


def test_undecodable_bytes_are_written_back_unchanged(tmp_path):
    raw = b"question,answer,category\nCaf\xe9 au lait?,A drink.,food\nWhat is ok?,Fine.,x\n"
    src = tmp_path / "latin.csv"
    src.write_bytes(raw)
    save_dataset(load_dataset(src), tmp_path / "copy.csv")
    assert (tmp_path / "copy.csv").read_bytes() == raw                       # nothing lost by opening and saving
    with pytest.raises(DataError) as e:                                      # Parquet holds UTF-8 only: say which row
        save_dataset(load_dataset(src), tmp_path / "copy.parquet")
    assert e.value.problems[0].row == 1 and e.value.problems[0].field == "question"
    assert not (tmp_path / "copy.parquet").exists()


def test_json_values_of_other_types(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"pairs": [{"question": "What is six?", "answer": "Six.", "n": 6, "tags": ["a"]},
                                          {"question": "Where?", "answer": None}]}))
    ds = load_dataset(path)
    assert ds.pairs[0].extra == {"n": "6", "tags": '["a"]'}
    assert [(p.row, p.field, p.kind) for p in validate(ds)] == [(2, "answer", "missing_value")]


def test_csv_unclosed_quote_is_refused_naming_row_and_line(tmp_path, capfd):
    # the non-strict csv reader would read rows 3+ into row 2's answer and report nothing
    path = tmp_path / "unclosed.csv"
    path.write_text('question,answer\nWhat is a?,An a.\nWhat is b?,"A b, with a quote never closed\n'
                    'What is c?,A c.\nWhat is d?,"A ""quoted"" d."\nWhat is e?,A e.\n')
    with pytest.raises(DataError) as e:
        load_dataset(path)
    # the stray quote pairs with row 4's opening quote: rows 3 and 4 would be inside row 2's answer
    assert [str(p) for p in e.value.problems] == [
        f"{path}, row 2 (line 3), field 'answer': a quote opened here is never closed; it closes only on line 5, "
        "at a quote followed by text, so 2 lines would be read into this field. Close the quote (a quote inside "
        "quoted text is written twice: \"\")"]
    assert cli.run([str(path), "--out", str(tmp_path / "run")]) == 2                 # one line, exit 2, no traceback
    err = capfd.readouterr().err
    assert "row 2 (line 3), field 'answer': a quote opened here is never closed" in err and "Traceback" not in err
    # no quote after it: the rest of the file would be read into the field
    path.write_text('question,answer\nWhat is a?,An a.\nWhat is b?,"A b\r\nWhat is c?,A c.\r\nWhat is d?,A d.\n')
    with pytest.raises(DataError) as e:
        load_dataset(path)
    assert str(e.value.problems[0]).endswith("row 2 (line 3), field 'answer': a quote opened here is never closed; "
                                             "the rest of the file (2 lines) would be read into this field. Close "
                                             "the quote (a quote inside quoted text is written twice: \"\")")
    # the quote opens on a later line of a multi-line record; the file ends inside it
    path.write_text('question,answer\n"What\nis a?","An a.\n')
    with pytest.raises(DataError) as e:
        load_dataset(path)
    assert (e.value.problems[0].row, e.value.problems[0].line) == (1, 3) and "the file ends inside it" in str(e.value)
    # closed quotes spanning lines, a doubled quote at the very end, and csv's lenient `"a"b` still load
    path.write_text('question,answer\nWhat is a?,"An\na."\nWhat is b?,"B ""x"""\nWhat is c?,"c"d')
    assert [p.answer for p in load_dataset(path).pairs] == ["An\na.", 'B "x"', "cd"]
