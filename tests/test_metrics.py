import numpy as np
import torch

from workbench.train import metrics as M
from workbench.train.config import LossConfig


def retrieval(pred, answers, chunk_rows=0) -> dict:
    f = M.score(pred, answers, chunk_rows=chunk_rows)
    return {"top1": f.top1, "top5": f.top5, "mrr": f.mrr}


def test_retrieval_counts_ties_against_the_model():
    answers = torch.eye(4)
    assert retrieval(answers.clone(), answers) == {"top1": 1.0, "top5": 1.0, "mrr": 1.0}
    constant = torch.ones(4, 4)        # a flat predictor ranks every answer equal
    r = retrieval(constant, answers)
    assert r["top1"] == 0.0 and r["mrr"] == 0.25


def test_retrieval_ranks_against_all_answers():
    answers = torch.eye(3)
    pred = torch.tensor([[0.0, 1.0, 0.1], [0.0, 1.0, 0.0], [0.0, 0.2, 1.0]])  # row 0 prefers answer 1
    r = retrieval(pred, answers)
    assert abs(r["top1"] - 2 / 3) < 1e-6 and abs(r["mrr"] - (1 / 3 + 1 + 1) / 3) < 1e-6


def test_ridge_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((200, 8)).astype(np.float32)
    w = rng.standard_normal((8, 8)).astype(np.float32)
    a = q @ w
    pred = M.ridge_predict(M.ridge_fit(q, a, lam=1e-6), q)
    assert np.allclose(pred, a, atol=1e-3)


def test_baselines_identity_is_the_raw_pair_cosine():
    rng = np.random.default_rng(1)
    q, a = rng.standard_normal((10, 6)).astype(np.float32), rng.standard_normal((10, 6)).astype(np.float32)
    b = M.baselines(q[:6], a[:6], q[6:], a[6:])
    raw = float(np.mean([x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(q[6:], a[6:])]))
    assert abs(b["identity"].cosine - raw) < 1e-5 and b["identity"]["val_cosine"] == b["identity"].cosine
    assert set(b) == {"identity", "mean_answer", "ridge"}


def test_loss_components_and_weights():
    pred, target = torch.randn(5, 16), torch.randn(5, 16)
    t = M.loss_terms(pred, target, LossConfig(mse=0.7, cosine=0.3, l1=0.1, infonce=0.5, temperature=0.1))
    expect = 0.7 * t["mse"] + 0.3 * t["cosine"] + 0.1 * t["l1"] + 0.5 * t["infonce"]
    assert torch.isclose(t["total"], expect)
    assert "infonce" not in M.loss_terms(pred, target, LossConfig(infonce=0.0))
    perfect = M.loss_terms(target, target, LossConfig())
    assert float(perfect["total"]) < 1e-6


def test_chunked_retrieval_equals_the_full_matrix_and_a_numpy_ranking():
    g = torch.Generator().manual_seed(0)
    answers = torch.randn(37, 8, generator=g)
    pred = answers + 0.8 * torch.randn(37, 8, generator=g)
    pred[5] = answers[9]                      # row 5 predicts another row's answer exactly
    answers[12] = answers[13]                 # two identical answers: a tie that counts against rows 12 and 13
    pred[12] = answers[12]
    full = retrieval(pred, answers, chunk_rows=37)
    for rows in (1, 4, 36):
        assert retrieval(pred, answers, chunk_rows=rows) == full
    p = (pred / pred.norm(dim=1, keepdim=True)).numpy().astype(np.float64)
    a = (answers / answers.norm(dim=1, keepdim=True)).numpy().astype(np.float64)
    s = p @ a.T
    rank = np.array([np.sum(s[i] >= s[i, i] - 1e-9) for i in range(37)])
    assert rank[12] == 2
    assert abs(full["top1"] - np.mean(rank == 1)) < 1e-9 and abs(full["mrr"] - np.mean(1 / rank)) < 1e-9


def test_nan_predictions_rank_last():
    answers = torch.eye(4)
    pred = answers.clone()
    pred[1] = float("nan")
    r = retrieval(pred, answers)
    assert r["top1"] == 0.75 and abs(r["mrr"] - (3 + 0.25) / 4) < 1e-9
