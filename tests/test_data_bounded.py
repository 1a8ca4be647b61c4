"""Bounded input (issue 21): no data file can take the machine's memory.

The big cases run in a child process that reports its own peak resident memory (VmHWM, see
stream.peak_resident_memory: resource.getrusage's ru_maxrss of a child starts at the size of the
pytest process that forked it) and how long the read took; the parent only waits, with a
timeout, so a reader whose cap failed cannot hang CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data import stream
from workbench.data.dataset import DataError, load_dataset, validate

ROOT = Path(__file__).resolve().parents[1]
GB = 1 << 30
CHILD = """
import json, sys, time
from workbench.data.dataset import DataError, load_dataset
from workbench.data.stream import peak_resident_memory
t = time.perf_counter()
try:
    ds = load_dataset(sys.argv[1])
    out = {"rows": ds.rows, "n_records": ds.n_records, "problems": [str(p) for p in ds.load_problems],
           "kinds": [(p.row, p.line, p.field, p.kind) for p in ds.load_problems]}
except DataError as exc:
    out = {"error": str(exc), "lines": str(exc).splitlines()}
out["seconds"] = time.perf_counter() - t
out["peak"] = peak_resident_memory()
print(json.dumps(out))
"""


def child_load(path, timeout: float = 120) -> dict:
    """load_dataset(path) in a fresh interpreter: its result, seconds and peak RSS (bytes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=timeout,
                         env=env)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def write_with_huge_record(path: Path, fmt: str, mb: int) -> None:
    """Rows 1 and 3 ordinary, row 2 holding an answer of `mb` MiB: the writer of benchmarks/data_memory.py, so the
    test and the benchmark read the same file."""
    spec = importlib.util.spec_from_file_location("data_memory", ROOT / "benchmarks" / "data_memory.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.write_huge(path, fmt, mb)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_an_endless_file_is_refused_within_seconds_with_one_line(tmp_path, suffix):
    zero = tmp_path / f"zero{suffix}"
    os.symlink("/dev/zero", zero)
    out = child_load(zero, timeout=120)       # the cap failing would end here, not hang CI
    assert len(out["lines"]) == 1 and out["error"].startswith(str(zero))
    assert out["seconds"] < 10 and out["peak"] < GB, out
    if suffix == ".csv":
        assert "no header line in the first 16,000,000 characters" in out["error"]
    else:
        assert "a file without a size (a pipe, a device or a link to one)" in out["error"]


def test_the_cli_refuses_an_endless_file_with_exit_2_and_no_traceback(tmp_path):
    zero = tmp_path / "zero.jsonl"
    os.symlink("/dev/zero", zero)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "workbench.cli.train", str(zero), "--out", str(tmp_path / "run")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{zero}: read 256 MB of a file without a size" in res.stderr


def test_an_endless_pipe_of_valid_records_is_refused_before_it_fills_memory(tmp_path):
    fifo = tmp_path / "endless.jsonl"
    os.mkfifo(fifo)
    record = json.dumps({"question": "What is it?", "answer": "A thing."})
    writer = subprocess.Popen(["sh", "-c", f"yes '{record}' > '{fifo}'"])
    try:
        out = child_load(fifo, timeout=120)
    finally:
        writer.kill()
        writer.wait()
    assert len(out["lines"]) == 1 and out["peak"] < GB and out["seconds"] < 30, out
    assert "over the 512 MB this read may use" in out["error"] or "a file without a size" in out["error"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_one_200_mb_field_is_reported_and_skipped_and_the_other_rows_load(tmp_path, fmt):
    path = tmp_path / f"huge.{fmt}"
    write_with_huge_record(path, fmt, 200)
    size = path.stat().st_size
    out = child_load(path)
    path.unlink()
    assert out["rows"] == [1, 3] and out["n_records"] == 3
    assert out["peak"] < GB and out["peak"] < 5 * size, out
    (row, line, field, kind), = out["kinds"]
    assert (row, field, kind) == (2, "answer", "over_limit") and line == (3 if fmt == "csv" else 2 if fmt == "jsonl"
                                                                           else None)
    assert "over the 16,000,000 characters a record may hold" in out["problems"][0]


def test_a_file_bigger_than_memory_is_refused_before_reading_with_the_figures(tmp_path):
    path = tmp_path / "sparse.csv"
    with open(path, "wb") as fh:
        fh.truncate(1 << 40)           # a sparse 1 TiB file: its size is real, its blocks are not
    with pytest.raises(DataError) as e:
        load_dataset(path)
    msg = str(e.value)
    assert "the file is 1,048,576 MB; reading it as CSV takes about" in msg and "is free" in msg
    assert "Use a smaller file" in msg


# ----------------------------------------------------------------------------- the scanners, small and fast

def test_csv_records_over_the_limit_are_skipped_across_quotes_and_lines(tmp_path):
    path = tmp_path / "q.csv"
    big = "y" * 300
    path.write_text('question,answer,category\n'
                    f'What is a?,"An ""a"",\nover lines {big}",x\r\n'     # row 1: quoted, multi-line, too long
                    'What is b?,B.,y\n'
                    f'"What is {big}?",C.,z\n'                           # row 3: too long in its first field
                    'What is d?,"D,\nd.",w\n', encoding="utf-8")
    ds = load_dataset(path, limit=200)
    assert [(p.row, p.line, p.field, p.kind) for p in ds.load_problems] == [(1, 2, "answer", "over_limit"),
                                                                           (3, 5, "question", "over_limit")]
    assert ds.rows == [2, 4] and ds.lines == [4, 6] and ds.pairs[1].answer == "D,\nd."
    assert ds.load_problems[0] in validate(ds)           # a skipped record is listed with the rest (data_problems.csv)


def test_a_quote_never_closed_inside_a_record_over_the_limit_still_refuses_the_file(tmp_path):
    path = tmp_path / "open.csv"
    path.write_text('question,answer\nWhat is a?,"A quote never closed\n' + "more text\n" * 50, encoding="utf-8")
    with pytest.raises(DataError) as e:
        load_dataset(path, limit=100)
    assert e.value.problems[0].kind == "unclosed_quote" and e.value.problems[0].line == 2


def test_json_elements_over_the_limit_are_skipped_with_escapes_and_nesting(tmp_path):
    path = tmp_path / "d.json"
    odd = 'quote \\" brace } bracket ] backslash \\\\' * 20
    path.write_text('[{"question": "What is a?", "answer": "A."},\n'
                    f' {{"question": "What is b?", "answer": "{odd}", "tags": [1, {{"x": "]"}}]}},\n'
                    ' {"question": "What is c?", "answer": "C."}]', encoding="utf-8")
    ds = load_dataset(path, limit=200)
    assert ds.rows == [1, 3] and [(p.row, p.field, p.kind) for p in ds.load_problems] == [(2, "answer", "over_limit")]
    assert load_dataset(path).pairs[1].answer == json.loads(path.read_text())[1]["answer"]   # the limit decides
    path.write_text('{"pairs": [{"question": "What is a?", "answer": "A."}, {"question": "Q?", "answer": "'
                    + "z" * 500 + '"}]}', encoding="utf-8")
    assert load_dataset(path, limit=200).rows == [1]


def test_jsonl_record_over_the_limit_names_its_key_and_the_lines_after_it_count(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"question": "What is a?", "answer": "A."}\n'
                    '{"question": "What is b?", "category": "c", "answer": "' + "b" * 500 + '"}\n'
                    '\n{"question": "What is c?", "answer": "C."}\n', encoding="utf-8")
    ds = load_dataset(path, limit=200)
    assert ds.rows == [1, 3] and ds.lines == [1, 4]
    assert [(p.row, p.line, p.field) for p in ds.load_problems] == [(2, 2, "answer")]


def test_parquet_values_over_the_limit_are_skipped_and_row_groups_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "d.parquet"
    table = pa.table({"question": ["What is a?", "What is b?", "What is c?"], "answer": ["A.", "b" * 500, "C."]})
    pq.write_table(table, path, row_group_size=2)
    ds = load_dataset(path, limit=200)
    assert ds.rows == [1, 3] and [(p.row, p.field, p.kind) for p in ds.load_problems] == [(2, "answer", "over_limit")]
    monkeypatch.setattr(stream, "available_memory", lambda: 4000)    # a machine with 4 kB free: nothing fits
    with pytest.raises(DataError) as e:
        load_dataset(path)
    assert "reading it as PARQUET takes about" in str(e.value)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a shell for the pipe")
def test_a_pipe_of_a_small_file_still_loads(tmp_path):
    fifo = tmp_path / "small.csv"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"printf 'question,answer\\nWhat is a?,A.\\n' > '{fifo}'"])
    try:
        ds = load_dataset(fifo)
    finally:
        writer.wait(timeout=30)
    assert [p.question for p in ds.pairs] == ["What is a?"]
