"""workbench-eval on real small files: a short real training run, scored on 30 generated Q/A pairs.

Every figure is checked against a plain numpy computation written here (cosine of each row, rank of
the true answer among all answers with ties counted against the predictor), not against our metrics code.
"""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import SAMPLE_45, cli_run
from shared_data import realistic_rows, write_rows_csv
from workbench.cli import eval as cli_eval
from workbench.train import metrics as M
from workbench.train.evaluate import JSON_KEYS, evaluate_run
from workbench.train.pipeline import prepare
from workbench.train.predict import load_model

FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8", "--seed", "3"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, cache_dir):
    return cli_run(tmp_path_factory.mktemp("eval") / "run", SAMPLE_45, cache_dir, 2, FAST)


@pytest.fixture(scope="module")
def qa_slice(tmp_path_factory):
    """30 generated pairs with the header question,answer,category (qa_dev.csv's columns), distinct questions."""
    rows = [{k: r[k] for k in ("question", "answer", "category")} for r in realistic_rows(40, seed=7)]
    rows = list({r["question"]: r for r in rows}.values())[:30]
    return write_rows_csv(tmp_path_factory.mktemp("data") / "qa_slice.csv", rows)


def numpy_scores(pred: np.ndarray, ans: np.ndarray) -> dict:
    p = pred / np.linalg.norm(pred, axis=1, keepdims=True)
    a = ans / np.linalg.norm(ans, axis=1, keepdims=True)
    sims = p @ a.T
    cos = [float(p[i] @ a[i]) for i in range(len(p))]
    # rank = 1 + answers strictly better + other answers tied with the true one
    rank = np.array([1 + np.sum(sims[i] > sims[i, i]) + np.sum(sims[i] == sims[i, i]) - 1 for i in range(len(p))])
    return {"cosine": np.mean(cos), "top1": np.mean(rank == 1), "mrr": np.mean(1.0 / rank)}


def test_eval_cli_matches_an_independent_computation(run_dir, qa_slice, teacher, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert cli_eval.run([str(run_dir), str(qa_slice), "--json", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "identity" in printed and "ridge" in printed and "LATTICE" in printed
    got = json.loads(out.read_text())
    assert tuple(got) == JSON_KEYS and got["n"] == 30
    with qa_slice.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    q = teacher.encode([r["question"] for r in rows])
    a = teacher.encode([r["answer"] for r in rows])
    ident = numpy_scores(q, a)
    for k in ("cosine", "top1", "mrr"):
        assert got[f"identity_{k}"] == pytest.approx(ident[k], abs=1e-5), k
    # the ridge map is the one saved by the run, applied here by hand
    w = np.load(run_dir / "ridge_weights.npy", allow_pickle=False)
    ridge = numpy_scores(np.hstack([q, np.ones((len(q), 1), np.float32)]) @ w, a)
    for k in ("cosine", "top1", "mrr"):
        assert got[f"ridge_{k}"] == pytest.approx(ridge[k], abs=1e-5), k
    # the lattice's own predictions, ranked here in numpy
    model = load_model(str(run_dir / "best.safetensors")).trained
    with torch.no_grad():
        pred = model(torch.from_numpy(q)).numpy()
    lat = numpy_scores(pred, a)
    for k in ("cosine", "top1", "mrr"):
        assert got[k] == pytest.approx(lat[k], abs=1e-5), k
    assert got["cosine"] != pytest.approx(got["identity_cosine"], abs=1e-6)   # a trained lattice, not the identity


def test_run_saves_the_ridge_map_it_fitted_on_its_training_pairs(run_dir, cache_dir, make_config):
    w = np.load(run_dir / "ridge_weights.npy", allow_pickle=False)
    assert w.shape == (385, 384) and np.isfinite(w).all()
    cfg = json.loads((run_dir / "config.json").read_text())
    from workbench.train.config import from_dict
    prep = prepare(from_dict(cfg), str(SAMPLE_45))
    assert np.allclose(w, M.ridge_fit(prep.data.q_train, prep.data.a_train), atol=1e-6)
    recorded = json.loads((run_dir / "metrics.json").read_text())["baseline_ridge_val_cosine"]
    pred = M.ridge_predict(w, prep.data.q_val)
    assert recorded == pytest.approx(numpy_scores(pred, prep.data.a_val)["cosine"], abs=1e-5)


def test_run_without_ridge_weights_reports_no_ridge_figures(run_dir, qa_slice, tmp_path):
    import shutil
    old = tmp_path / "old-run"
    shutil.copytree(run_dir, old)
    (old / "ridge_weights.npy").unlink()
    res = evaluate_run(old, qa_slice)
    assert res.ridge is None and any("ridge_weights.npy not found" in n for n in res.notes)
    j = res.as_json()
    assert tuple(j) == JSON_KEYS and j["ridge_top1"] is None and j["top1"] is not None
    assert "–" in res.table()


def test_bad_inputs_exit_2_with_one_clear_line(run_dir, qa_slice, tmp_path, capsys):
    def err(*argv):
        assert cli_eval.run([*map(str, argv), "--quiet"]) == 2
        return capsys.readouterr().err

    assert "run folder not found" in err(tmp_path / "nope", qa_slice)
    (tmp_path / "empty").mkdir()
    assert "no checkpoint" in err(tmp_path / "empty", qa_slice)
    assert "nope.csv" in err(run_dir, tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nWhat is a GPU?,A processor for parallel work.\nWhat is a CPU?,   \n")
    assert "bad.csv, row 2 (line 3), field 'answer': empty" in err(run_dir, bad)
    one = tmp_path / "one.csv"
    one.write_text("question,answer\nWhat is a GPU?,A processor for parallel work.\n")
    assert "at least 2 valid pairs" in err(run_dir, one)
    # a ridge file that is not plain float weights (here: a pickled object array) is refused, never unpickled
    import shutil
    broken = tmp_path / "broken-run"
    shutil.copytree(run_dir, broken)
    np.save(broken / "ridge_weights.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    assert "not a readable ridge weight file" in err(broken, qa_slice)
    (broken / "best.safetensors").write_bytes(b"not a checkpoint")
    assert "best.safetensors" in err(broken, qa_slice)


def test_script_exits_2_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "workbench.cli.eval", str(tmp_path / "missing"), str(SAMPLE_45)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "run folder not found" in proc.stderr


def test_other_column_names_score_the_same(run_dir, qa_slice, tmp_path):
    renamed = tmp_path / "renamed.csv"
    lines = qa_slice.read_text(encoding="utf-8").split("\n", 1)
    assert lines[0].startswith("question,answer")
    renamed.write_text(lines[0].replace("question,answer", "Q,A", 1) + "\n" + lines[1], encoding="utf-8")
    same = evaluate_run(run_dir, renamed, columns="question=Q,answer=A").as_json()
    assert same == evaluate_run(run_dir, qa_slice).as_json()


@pytest.mark.parametrize("damage", ["truncated", "bad_header", "huge_shape", "not_numpy"])
def test_bad_ridge_weights_give_one_line_error(run_dir, qa_slice, tmp_path, capsys, damage):
    import shutil
    broken = tmp_path / "run"
    shutil.copytree(run_dir, broken)
    path = broken / "ridge_weights.npy"
    good = path.read_bytes()
    header = {"bad_header": b"{'descr': '<f8\n",                       # numpy's header parser: tokenize.TokenError
              "huge_shape": b"{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000000,), }\n"}
    if damage == "truncated":
        path.write_bytes(good[:len(good) // 2])
    elif damage == "not_numpy":
        path.write_bytes(b"ridge weights, honest")
    else:
        h = header[damage]
        path.write_bytes(b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h)
    assert cli_eval.run([str(broken), str(qa_slice), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert f"{path}: not a readable ridge weight file" in err or f"{path}: expected finite float weights" in err


def test_eval_help_names_every_format(capsys):
    with pytest.raises(SystemExit):
        cli_eval.run(["--help"])
    assert ".parquet" in capsys.readouterr().out
