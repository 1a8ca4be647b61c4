"""Bad-input fuzzing (issue 7 item 13): random bytes and random rows into every loader.

Never a traceback (only DataError for a file that is not a table), and every record is either
kept or reported: kept + reported = total.
"""

import csv
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings, strategies as st

from workbench.data.dataset import DataError, apply_rules, dropped_rows, load_dataset, validate

SUFFIXES = [".csv", ".jsonl", ".json", ".parquet"]
FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
WORK = Path(tempfile.mkdtemp(prefix="fuzz-"))

# Text a real file may hold: ordinary words, whitespace runs, quotes, separators, control characters.
text = st.one_of(st.text(max_size=40),
                 st.text(alphabet=st.sampled_from(list(' ,;"\'\n\r\t\x00\x1b\x0b\u2028\x85éZq?')), max_size=12),
                 st.sampled_from(["", "   ", "What is it?", "It is a thing.", "q", "\x00"]))
json_value = st.one_of(text, st.none(), st.integers(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2))


def check_accounting(ds, total=None):
    problems = validate(ds)
    reported = dropped_rows(problems)                        # rows left out, each with a located problem
    kept = apply_rules(ds, problems)
    assert len(kept) + len(reported) == ds.n_records
    assert not set(kept.rows) & reported and all(1 <= r <= ds.n_records for r in reported)
    if total is not None:
        assert ds.n_records == total
    for p in problems:
        str(p)                                               # every problem renders as a message


def load_or_data_error(path):
    try:
        return load_dataset(path)
    except DataError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
        return None


@FAST
@given(suffix=st.sampled_from(SUFFIXES), prefix=st.sampled_from([b"", b"question,answer\n", b'{"question": "a", ',
                                                                  b"PAR1", b"\xff\xfe", b"\xef\xbb\xbf"]),
       body=st.binary(max_size=600))
def test_random_bytes_never_raise_anything_but_data_error(suffix, prefix, body):
    path = WORK / f"bytes{suffix}"
    path.write_bytes(prefix + body)
    ds = load_or_data_error(path)
    if ds is not None:
        check_accounting(ds)


rows_strategy = st.lists(st.fixed_dictionaries({"question": text, "answer": text},
                                               optional={"category": text, "document": text}), max_size=25)


@FAST
@given(rows=rows_strategy)
def test_random_rows_csv(rows):
    path = WORK / "rows.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["question", "answer", "category", "document"])
        for r in rows:
            w.writerow([r["question"], r["answer"], r.get("category", ""), r.get("document", "")])
    ds = load_or_data_error(path)
    assert ds is not None
    # a record of nothing but whitespace in one cell is a blank line, not data; csv writes `,,,` for empty rows
    check_accounting(ds, total=len(rows))


@FAST
@given(rows=st.lists(st.dictionaries(st.sampled_from(["question", "answer", "category", "extra"]), json_value,
                                     max_size=4), max_size=25),
       fmt=st.sampled_from([".jsonl", ".json"]), junk=st.lists(st.integers(0, 30), max_size=3))
def test_random_rows_json(rows, fmt, junk):
    records = [json.dumps(r, ensure_ascii=False) for r in rows]
    if fmt == ".jsonl":
        for j in junk:                                       # some lines that are not JSON objects at all
            records.insert(min(j, len(records)), ["not json {", "[1, 2]", '"text"'][j % 3])
        body = "\n".join(records) + "\n"
    else:
        body = "[" + ",".join(records) + "]"
    path = WORK / f"rows{fmt}"
    path.write_text(body, encoding="utf-8")
    ds = load_or_data_error(path)
    if ds is None:                                           # only when no record names question or answer
        assert not all(any(k in r for r in rows) for k in ("question", "answer"))
        return
    check_accounting(ds, total=len(records))


@FAST
@given(rows=rows_strategy, nulls=st.lists(st.integers(0, 24), max_size=4))
def test_random_rows_parquet(rows, nulls):
    cols = {k: [r.get(k, "") for r in rows] for k in ("question", "answer", "category", "document")}
    for i in nulls:
        if i < len(rows):
            cols["answer"][i] = None
    path = WORK / "rows.parquet"
    pq.write_table(pa.table({k: pa.array(v, type=pa.string()) for k, v in cols.items()}), path)
    ds = load_or_data_error(path)
    assert ds is not None
    check_accounting(ds, total=len(rows))
