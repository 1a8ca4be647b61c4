"""The one predictor, the one scorer and the one comparison row (issue 15, item 2).

Every figure here is checked against a plain numpy computation written in this file, not against our
metrics code; metrics.json's keys are checked against the names earlier runs wrote, so old run folders
still open in the app and in workbench-eval.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from workbench.model.lattice import build_lattice
from workbench.model.lattice_config import LatticeConfig
from workbench.train import metrics as M
from workbench.train.config import RunConfig
from workbench.train.events import EpochMetrics, Finished, RunStarted
from workbench.train.predict import predict, predict_chunks
from workbench.train.record.compare import (ComparisonRow, Figures, format_table, metric_keys, rows_from_metrics)
from workbench.train.record.progress_log import PROGRESS_FILE, ProgressLog
from workbench.train.record.recorder import RunRecorder

# the comparison keys of a metrics.json as runs before issue 15 wrote them (recorder.summary at 7e72403)
OLD_KEYS = {"val_cosine", "val_top1", "val_top5", "val_mrr", "train_cosine",
            *(f"baseline_{b}_{k}" for b in ("identity", "mean_answer", "ridge")
              for k in ("train_cosine", "val_cosine", "val_top1", "val_top5", "val_mrr")),
            *(f"ablation_lattice_off_{k}" for k in ("val_cosine", "val_top1", "val_top5", "val_mrr", "train_cosine")),
            "lattice_delta_ratio", "ablation_weights"}


def numpy_figures(pred: np.ndarray, ans: np.ndarray) -> dict:
    """cosine, top-1, top-5, MRR: rank = 1 + answers strictly nearer + other answers tied with the true one."""
    p = pred / np.linalg.norm(pred, axis=1, keepdims=True)
    a = ans / np.linalg.norm(ans, axis=1, keepdims=True)
    sims = p @ a.T
    rank = np.array([np.sum(sims[i] > sims[i, i] + 1e-9) + np.sum(np.abs(sims[i] - sims[i, i]) <= 1e-9)
                     for i in range(len(p))])
    return {"cosine": float(np.mean(np.sum(p * a, axis=1))), "top1": float(np.mean(rank == 1)),
            "top5": float(np.mean(rank <= 5)), "mrr": float(np.mean(1.0 / rank))}


def test_score_matches_numpy_with_ties_top5_and_train_cosine():
    rng = np.random.default_rng(5)
    ans = rng.standard_normal((40, 12)).astype(np.float32)
    pred = ans + 1.2 * rng.standard_normal((40, 12)).astype(np.float32)
    ans[7] = ans[8]                       # a duplicate answer: rows 7 and 8 tie, counted against the model
    pred[7] = ans[7]
    q_tr, a_tr = rng.standard_normal((9, 12)).astype(np.float32), rng.standard_normal((9, 12)).astype(np.float32)
    got = M.score(pred, ans, train_pred=q_tr, train_answers=a_tr)
    want = numpy_figures(pred, ans)
    for k in ("cosine", "top1", "top5", "mrr"):
        assert getattr(got, k) == pytest.approx(want[k], abs=1e-6), k
    assert 0 < want["top5"] < 1 and want["top1"] < want["top5"]      # the data exercises top-5 on both sides
    assert got.train_cosine == pytest.approx(numpy_figures(q_tr, a_tr)["cosine"], abs=1e-6)
    assert got.n == 40 and got == M.score(torch.from_numpy(pred), torch.from_numpy(ans), train_pred=q_tr,
                                          train_answers=a_tr)                 # numpy and torch inputs agree
    flat = M.score(np.zeros((6, 12), np.float32), ans[:6])       # a zero predictor ties every answer: rank N
    assert flat.top1 == 0.0 and flat.mrr == pytest.approx(1 / 6)


def test_nearest_lists_the_top_k_answers_as_numpy_ranks_them():
    rng = np.random.default_rng(2)
    ans = rng.standard_normal((30, 8)).astype(np.float32)
    pred = rng.standard_normal(8).astype(np.float32)
    sims = (ans / np.linalg.norm(ans, axis=1, keepdims=True)) @ (pred / np.linalg.norm(pred))
    got = M.nearest(pred, ans, k=4)
    assert [i for i, _ in got] == list(np.argsort(-sims)[:4])
    assert [c for _, c in got] == pytest.approx(sims[np.argsort(-sims)[:4]], abs=1e-6)
    assert len(M.nearest(pred, ans[:3], k=5)) == 3


def test_one_predictor_chunked_equals_one_call_and_keeps_the_input_kind():
    model = build_lattice(16, LatticeConfig(channels=4, hidden=8, steps=2, neighbourhood="von_neumann"), 0)
    q = torch.randn(23, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole = model.eval()(q)
    chunks = predict_chunks(model, q, chunk=5)
    done = []
    while True:
        try:
            done.append(next(chunks))
        except StopIteration as end:
            pred = end.value
            break
    assert done == [5, 10, 15, 20, 23] and torch.allclose(pred, whole, atol=1e-5)
    as_np = predict(model, q.numpy(), chunk=7)
    assert isinstance(as_np, np.ndarray) and as_np.dtype == np.float32 and np.allclose(as_np, whole.numpy(), atol=1e-5)
    assert predict(model, q[0].numpy()).shape == (1, 16)                       # one question: one row
    assert torch.allclose(predict(model, q, steps=0), q, atol=1e-6)             # knocked out: the bypass alone
    assert torch.is_grad_enabled()                                             # grad mode left as it was


def test_comparison_rows_round_trip_through_the_metrics_json_keys():
    rows = [ComparisonRow("identity", "baseline", Figures(0.5, 0.25, 0.5, 0.4, 0.45)),
            ComparisonRow("lattice_off", "ablation", Figures(0.5, 0.25, 0.5, 0.4, 0.45)),
            ComparisonRow("lattice", "model", Figures(0.7, 0.5, 0.75, 0.6, 0.8))]
    keys = metric_keys(rows)
    assert keys["baseline_identity_val_top5"] == 0.5 and keys["ablation_lattice_off_train_cosine"] == 0.45
    assert keys["val_cosine"] == 0.7 and keys["train_cosine"] == 0.8
    back = rows_from_metrics({**keys, "best_epoch": 4, "ablation_weights": "best epoch", "n_train": 12})
    assert [(r.name, r.kind, r.figures) for r in back] == [(r.name, r.kind, r.figures) for r in rows]
    assert back[-1].title == "lattice (best epoch 4)"
    # older and hand-written keys: short metric names, a baseline with one figure, no lattice figures
    short = rows_from_metrics({"baseline_new_thing_cosine": 0.3, "baseline_new_thing_top1": 0.1, "val_cosine": None})
    assert [(r.title, r.figures.cosine, r.figures.top1, r.figures.mrr) for r in short] == [("new thing", 0.3, 0.1, None)]
    text = format_table(back)
    assert "LATTICE (BEST EPOCH 4)" in text and "same model, lattice knocked out" in text
    assert "| **lattice (best epoch 4)** | **0.700** |" in format_table(back, markdown=True)
    assert "–" in format_table(short)


def test_a_run_folder_keeps_the_metrics_json_keys_older_runs_wrote(tmp_path):
    base = {n: Figures(0.5, 0.25, 0.5, 0.4, 0.45, n=10) for n in ("identity", "mean_answer", "ridge")}
    rec = RunRecorder(tmp_path, RunConfig(), teacher="t")
    rec(RunStarted(40, 10, 16, (2, 2, 2), 99, "cpu", base, {"train_cosine_start": 0.4, "val_cosine_start": 0.5}))
    epoch = {"epoch": 1, "loss": 1.0, "val_loss": 1.0, "train_cosine": 0.6, "val_cosine": 0.7, "val_top1": 0.5,
             "val_top5": 0.8, "val_mrr": 0.6, "lr": 1e-3, "grad_norm": 1.0, "update_ratio": 1e-3, "grad_coverage": 1.0}
    rec(EpochMetrics(1, epoch, True))
    extra = {**metric_keys([ComparisonRow("lattice_off", "ablation", base["identity"])]),
             "lattice_delta_ratio": 0.1, "ablation_weights": "best epoch"}
    rec(Finished("completed", 1, 1, epoch, 1.0, extra=extra))
    written = json.loads((tmp_path / "metrics.json").read_text())
    compared = {k for k in written if k.startswith(("baseline_", "ablation_", "val_", "train_cosine"))
                or k == "lattice_delta_ratio"}
    assert compared - {"val_cosine_start", "train_cosine_start", "train_cosine_max", "train_cosine_last"} == OLD_KEYS
    assert written["baseline_ridge_val_mrr"] == 0.4 and written["val_top5"] == 0.8
    report = (tmp_path / "report.md").read_text()
    assert "| ridge linear map | 0.500 | 0.250 | 0.500 | 0.400 | 0.450 |" in report
    assert "What the lattice adds (ablation)" in report and "cosine +0.200" in report


def test_the_live_log_writes_the_baselines_under_their_metrics_json_names(tmp_path):
    started = RunStarted(40, 10, 16, (2, 2, 2), 99, "cpu", {"ridge": Figures(0.5, 0.25, None, float("nan"))}, {})
    log = ProgressLog(tmp_path)
    log(started)
    line = json.loads((tmp_path / PROGRESS_FILE).read_text().splitlines()[0])
    assert line["baselines"] == {"ridge": {"val_cosine": 0.5, "val_top1": 0.25, "val_top5": None, "val_mrr": None,
                                           "train_cosine": None}}
    assert Figures.of(line["baselines"]["ridge"]).cosine == 0.5
