"""A short console, a full record (issue 8 item 2): summary lines, data_problems.csv, the CLI's use of both."""

import csv
import json

from workbench.cli import train as cli
from workbench.data.dataset import Problem, load_dataset, save_dataset, validate
from workbench.data.problem_report import CSV_COLUMNS, PROBLEMS_FILE, summarise_problems, write_problems_csv
from helpers import SAMPLE_45

FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8"]


def many_problems(n=3000):
    out = []
    for i in range(n):
        level, kind = [("error", "empty"), ("warning", "duplicate_pair"), ("note", "repeated_question"),
                       ("note", f"kind{i % 160}")][i % 4]
        out.append(Problem("big.csv", i + 1, "answer", f"problem {i}", i + 2, level, kind))
    return out


def test_summary_is_short_counted_and_most_severe_first():
    problems = many_problems()
    text = summarise_problems(problems, rows_read=5000, rows_used=4000)
    lines = text.splitlines()
    assert len(lines) <= 30
    assert lines[0] == "data: 5,000 rows read, 4,000 used; 750 errors, 750 warnings, 1,500 notes"
    assert lines[1].split()[:2] == ["error", "empty"] and "750" in lines[1]
    assert "big.csv, row 1 (line 2), field 'answer': problem 0" in text     # examples are located
    assert "more kind" in lines[-1]                                         # 43 kinds do not fit: said so


def test_full_list_goes_to_a_csv_atomically(tmp_path):
    problems = many_problems(500)
    write_problems_csv(tmp_path / PROBLEMS_FILE, problems)
    rows = list(csv.DictReader((tmp_path / PROBLEMS_FILE).open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 500
    assert rows[3] == {"file": "big.csv", "row": "4", "line": "5", "field": "answer", "level": "note",
                       "kind": "kind3", "message": "problem 3"}
    assert [p.name for p in tmp_path.iterdir()] == [PROBLEMS_FILE]          # no temp file left


def test_cli_stops_on_errors_with_a_summary_and_the_full_list(tmp_path, capsys):
    data = tmp_path / "bad.csv"
    good = [f"What is item {i}?,Item {i} is a thing.,c" for i in range(40)]
    empty = [f"What is empty {i}?,   ,c" for i in range(600)]
    data.write_text("question,answer,category\n" + "\n".join(good + empty) + "\n")
    out = tmp_path / "run"
    assert cli.run([str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) <= 35 and "Traceback" not in err
    assert "600" in err and "bad.csv, row 41 (line 42), field 'answer': empty" in err
    assert str(out / PROBLEMS_FILE) in err and "--drop-invalid" in err
    listed = list(csv.DictReader((out / PROBLEMS_FILE).open(encoding="utf-8")))
    assert len(listed) == 600 and {r["level"] for r in listed} == {"error"}
    assert not (out / "config.json").exists()                              # nothing was trained


def test_cli_trains_past_warnings_and_notes_and_records_them(tmp_path, cache_dir, capfd):
    ds = load_dataset(SAMPLE_45)
    ds.pairs += [ds.pairs[0], ds.pairs[1]]                                 # two exact repeats: warnings, dropped
    ds.pairs.append(type(ds.pairs[0])(ds.pairs[2].question, "Another valid answer to that question.", "ai_ml"))
    data = tmp_path / "d.jsonl"
    save_dataset(ds, data)
    out = tmp_path / "run"
    assert cli.run([str(data), "--epochs", "1", "--out", str(out), "--cache-dir", str(cache_dir), *FAST]) == 0
    err = capfd.readouterr().err
    assert "48 rows read, 46 used; 0 errors, 2 warnings, 1 note" in err
    assert f"full list of data problems: {out / PROBLEMS_FILE}" in err
    listed = list(csv.DictReader((out / PROBLEMS_FILE).open(encoding="utf-8")))
    assert [(r["row"], r["level"], r["kind"]) for r in listed] == [
        ("46", "warning", "duplicate_pair"), ("47", "warning", "duplicate_pair"), ("48", "note", "repeated_question")]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_train"] + metrics["n_val"] == 46
    report = (out / "report.md").read_text()
    assert "Data problems" in report and "exact repeat of a pair: 2" in report and "split:" in report
    assert validate(load_dataset(data))                                     # the file itself was not changed


def test_prepare_stops_on_errors_or_drops_them_when_allowed(make_config, tmp_path):
    import pytest
    from workbench.data.dataset import DataError
    from workbench.train.pipeline import prepare
    ds = load_dataset(SAMPLE_45)
    ds.pairs += [type(ds.pairs[0])("What is missing?", "   "), ds.pairs[0]]   # an error and a warning
    path = tmp_path / "d.csv"
    save_dataset(ds, path)
    with pytest.raises(DataError) as e:
        prepare(make_config(), str(path))
    assert [(p.row, p.level, p.kind) for p in e.value.problems] == [(46, "error", "empty"),
                                                                   (47, "warning", "duplicate_pair")]
    p = prepare(make_config(), str(path), drop_invalid_rows=True)
    assert len(p.train) + len(p.val) == 45 and p.rows_read == 47
    assert p.problem_counts()["error"] == {"empty": 1} and p.problem_counts()["warning"] == {"duplicate_pair": 1}


def test_thousands_of_real_problems_keep_the_console_under_200_lines(tmp_path, cache_dir, capfd):
    """MedQuAD-shaped rows with every kind the corpus has (repeated questions, long answers) plus 3,000 exact
    repeats: the run trains with no data flag, the console stays short, and data_problems.csv has every row."""
    from shared_data import realistic_rows, write_rows_csv
    rows = realistic_rows(60)
    data = write_rows_csv(tmp_path / "realistic_slice.csv", rows + [rows[i % 60] for i in range(3000)])  # 3,000 repeats
    out = tmp_path / "run"
    assert cli.run([str(data), "--epochs", "1", "--out", str(out), "--cache-dir", str(cache_dir), *FAST]) == 0
    captured = capfd.readouterr()
    lines = (captured.out + captured.err).splitlines()
    assert len(lines) < 200, "\n".join(lines)
    assert "3,060 rows read" in captured.err and f"full list of data problems: {out / PROBLEMS_FILE}" in captured.err
    listed = list(csv.DictReader((out / PROBLEMS_FILE).open(encoding="utf-8")))
    repeats = [r for r in listed if r["kind"] == "duplicate_pair"]
    assert len(repeats) == 3000 and {r["level"] for r in repeats} == {"warning"}
    assert any(r["kind"] == "long_text" for r in listed)                    # long answers are kept as notes
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_train"] + metrics["n_val"] == 60
