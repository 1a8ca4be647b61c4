"""The mean-answer baseline, checked against an independent numpy computation (values and retrieval)."""

import numpy as np

from workbench.train import metrics as M


def _numpy_figures(pred: np.ndarray, answers: np.ndarray) -> dict[str, float]:
    """Cosine and retrieval by hand: rank = how many answers score at least the true one (ties count against)."""
    p = pred / np.linalg.norm(pred, axis=1, keepdims=True)
    a = answers / np.linalg.norm(answers, axis=1, keepdims=True)
    scores = p @ a.T                                          # (n, n): question i against every answer j
    true = np.diag(scores)[:, None]
    rank = (scores >= true - 1e-6).sum(1)
    return {"cosine": float(np.mean(np.sum(p * a, 1))), "top1": float(np.mean(rank <= 1)),
            "top5": float(np.mean(rank <= 5)), "mrr": float(np.mean(1.0 / rank))}


def test_mean_answer_baseline_matches_numpy_values_and_top5():
    rng = np.random.default_rng(7)
    q = rng.standard_normal((60, 12)).astype(np.float32)
    a = (0.5 * q + rng.standard_normal((60, 12))).astype(np.float32) + 0.8   # a shared offset: the mean says something
    a[55] = a[54]                                            # two identical validation answers: a tie
    q_tr, a_tr, q_va, a_va = q[:40], a[:40], q[40:], a[40:]
    got = M.baselines(q_tr, a_tr, q_va, a_va)["mean_answer"]
    mean = a_tr.mean(0, keepdims=True)
    want = _numpy_figures(np.repeat(mean, len(a_va), 0), a_va)
    train = _numpy_figures(np.repeat(mean, len(a_tr), 0), a_tr)
    assert abs(got["val_cosine"] - want["cosine"]) < 1e-5
    assert abs(got["train_cosine"] - train["cosine"]) < 1e-5
    assert got["val_top1"] == want["top1"] and got["val_top5"] == want["top5"]
    assert abs(got["val_mrr"] - want["mrr"]) < 1e-6
    # one prediction for every question: exactly the rows whose answer is among the 5 closest to the mean
    # (the tie at rows 14/15 of the validation set counts against both) reach the top 5
    assert 0 < want["top5"] <= 5 / len(a_va)
