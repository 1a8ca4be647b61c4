"""Peeking a file's columns without loading it, guessing the mapping, saving under the file's own names
(issue 8 item 6)."""

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data import columns as columns_mod
from workbench.data.columns import guess_columns, needs_mapping, peek_columns
from workbench.data.dataset import DataError, load_dataset, save_dataset
from shared_data import realistic_rows

HEADER = ["Q", "A", "topic", "doc", "url"]


def write_corpus(path, rows):
    """rows: MedQuAD-shaped dicts (realistic_rows); written under other names, in the format of path's suffix."""
    recs = [{"Q": r["question"], "A": r["answer"], "topic": r["category"], "doc": r["document"], "url": f"u{i}"}
            for i, r in enumerate(rows)]
    if path.suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=HEADER)
            w.writeheader()
            w.writerows(recs)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(recs, indent=1), encoding="utf-8")
    else:
        pq.write_table(pa.table({k: [r[k] for r in recs] for k in HEADER}), path)
    return recs


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json", ".parquet"])
def test_peek_names_columns_and_examples_in_every_format(tmp_path, suffix):
    rows = realistic_rows(60)
    recs = write_corpus(tmp_path / f"mq{suffix}", rows)
    peek = peek_columns(tmp_path / f"mq{suffix}")
    assert peek.names == HEADER and peek.format == suffix.lstrip(".")
    assert peek.examples[0] == recs[0] and peek.example("A") == recs[0]["A"]
    assert needs_mapping(peek.names)
    mapping = guess_columns(peek.names)
    assert mapping == {"question": "Q", "answer": "A", "category": "topic", "group": "doc"}
    ds = load_dataset(tmp_path / f"mq{suffix}", columns=mapping)       # the guess loads the file as meant
    assert ds.columns == ["group", "url"] and len(ds) == 60
    assert ds.pairs[5].question == rows[5]["question"] and ds.pairs[5].extra["group"] == rows[5]["document"]


def test_peek_reads_only_the_head_and_grows_it_for_a_long_header(tmp_path, monkeypatch):
    monkeypatch.setattr(columns_mod, "HEAD_BYTES", 64)      # tiny heads: every cut-off case is exercised
    path = tmp_path / "long.csv"
    long_name = "note with a\nnewline " + "x" * 200      # a quoted header cell spanning lines, longer than a head
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Q", long_name, "A"])
        w.writerows([[f"q{i}", "n", "a" * 50] for i in range(50)])
    peek = peek_columns(path)
    assert peek.names == ["Q", long_name, "A"] and peek.examples[0]["Q"] == "q0"
    jl = tmp_path / "d.jsonl"
    jl.write_text("".join(json.dumps({"prompt": "p" * 100, "response": i}) + "\n" for i in range(80)))
    assert peek_columns(jl).names == ["prompt", "response"]
    js = tmp_path / "d.json"
    js.write_text(json.dumps({"pairs": [{"prompt": "p" * 100, "reply": "r", "n": i} for i in range(80)]}))
    assert peek_columns(js).names == ["prompt", "reply", "n"]
    assert guess_columns(["prompt", "reply", "n"]) == {"question": "prompt", "answer": "reply"}


def test_peek_of_a_large_file_stays_cheap(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    with open(path, "w", newline="") as fh:          # ~30 MB: peeking reads 64 KiB of it
        w = csv.writer(fh)
        w.writerow(["prompt", "response"])
        w.writerows([[f"q{i}", "answer " * 50] for i in range(80_000)])
    reads = []

    class Counting:
        def __init__(self, p, mode):
            self.fh = open(p, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def seek(self, n):
            self.fh.seek(n)

        def read(self, n=-1):
            data = self.fh.read(n)
            reads.append(len(data))
            return data
    monkeypatch.setattr(columns_mod, "open", Counting, raising=False)
    assert peek_columns(path).names == ["prompt", "response"]
    assert reads and sum(reads) <= 2 * columns_mod.HEAD_BYTES


def test_odd_headers_are_named_as_the_mapping_needs_them(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes("\n\n Question ,,Answer\nq,x,a\n".encode("utf-16"))   # UTF-16 with BOM, blank lines, blank cell
    peek = peek_columns(path)
    assert peek.names == ["Question", "column2", "Answer"] and peek.examples == [
        {"Question": "q", "column2": "x", "Answer": "a"}]
    assert not needs_mapping(peek.names)              # load_dataset finds question/answer by name, any case
    assert needs_mapping(["Q", "answer"]) and not needs_mapping([])


def test_guesses_for_common_headers():
    assert guess_columns(["id", "input", "output", "type", "document_id"]) == {
        "question": "input", "answer": "output", "category": "type", "group": "document_id"}
    assert guess_columns(["UserQuestion", "AnswerText", "Label"]) == {
        "question": "UserQuestion", "answer": "AnswerText", "category": "Label"}
    assert guess_columns(["QUESTION", "q", "text"]) == {"question": "QUESTION", "answer": "text"}  # own name first
    assert guess_columns(["x", "y"]) == {}
    assert guess_columns(["text", "text_2"]) == {"answer": "text"}    # a column serves one role only


@pytest.mark.parametrize("name,content,message", [
    ("empty.csv", "", "file is empty"),
    ("blank.json", "  \n", "file is empty"),
    ("broken.json", '[{"Q": "a"}, {"Q" ', "invalid JSON"),
    ("open.json", '[{"Q": "a"}', "the list is not closed"),
    ("scalar.json", "42", "expected a JSON list"),
    ("junk.jsonl", "not json\nnor this\n", "no JSON object in the first 2 record(s)"),
    ("lists.jsonl", "[1]\n[2]\n", "no JSON object"),
    ("bad.parquet", "PAR1 not really", "not a readable Parquet file"),
    ("notes.txt", "Q,A\n", "unknown file type '.txt'"),
])
def test_bad_input_is_a_clear_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError) as e:
        peek_columns(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value)


def test_missing_file_and_folder(tmp_path):
    for path, why in ((tmp_path / "gone.csv", "no such file"), (tmp_path, "not a file")):
        target = path if path.suffix else tmp_path / "dir.csv"
        if why == "not a file":
            target.mkdir()
        with pytest.raises(DataError, match=why) as e:
            peek_columns(target)
        assert str(target) in str(e.value)


def test_the_load_error_suggests_the_guessed_mapping(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("prompt,response\nWhat is it?,A thing.\n")
    with pytest.raises(DataError) as e:
        load_dataset(path)
    assert "--columns question=prompt,answer=response" in str(e.value)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json", ".parquet"])
def test_save_under_the_files_own_names_round_trips(tmp_path, suffix):
    src = tmp_path / f"src{suffix}"
    recs = write_corpus(src, realistic_rows(20))
    mapping = {"question": "Q", "answer": "A", "category": "topic", "group": "doc"}
    ds = load_dataset(src, columns=mapping)
    ds.pairs[0].answer = "edited"
    save_dataset(ds, tmp_path / f"out{suffix}", names=mapping)
    peek = peek_columns(tmp_path / f"out{suffix}")
    assert peek.names == ["Q", "A", "topic", "doc", "url"]            # the file's header, extras kept
    back = load_dataset(tmp_path / f"out{suffix}", columns=mapping)
    assert back.pairs[0].answer == "edited" and back.pairs[1:] == ds.pairs[1:]
    assert back.pairs[3].extra == {"group": recs[3]["doc"], "url": recs[3]["url"]}


def test_save_refuses_names_that_would_repeat(tmp_path):
    ds = load_dataset(write_corpus(tmp_path / "d.csv", realistic_rows(3)) and tmp_path / "d.csv",
                      columns={"question": "Q", "answer": "A"})
    with pytest.raises(DataError, match="repeat"):
        save_dataset(ds, tmp_path / "out.csv", names={"question": "url"})
    assert not (tmp_path / "out.csv").exists()
