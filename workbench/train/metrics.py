"""The one scorer (cosine, top-k, MRR), the baselines it scores beside the model, and the training loss.

    figs = score(pred, answers)                                   # Figures(cosine, top1, top5, mrr, n=N)
    figs = score(pred, answers, train_pred=p_tr, train_answers=a_tr)   # …with train_cosine too
    base = baselines(q_tr, a_tr, q_va, a_va)                      # {"identity"|"mean_answer"|"ridge": Figures}
    scores, rows = top_k(questions, bank, k=5)                    # the exact chunked answer search (workbench-ask)

Every figure a run, a baseline, the ablation, workbench-eval or the app shows is computed by `score`.
Retrieval ranks, for each question i, all given answers by cosine to its prediction; answer i is the hit.
Ties count against the model: a question's rank counts every answer whose similarity is not below the true
one's (the true answer included), so a constant prediction ranks every answer equal and gets rank N, not 1,
and a NaN prediction ranks last. The prototype-style trap of a flat predictor scoring well cannot happen here.
The figures travel as record.compare's Figures and ComparisonRow.
"""

from __future__ import annotations

import io
import tokenize

import numpy as np
import torch
import torch.nn.functional as F

from workbench.data.atomic import atomic_write_bytes
from workbench.train.config import LossConfig
from workbench.train.record.compare import Figures


def unit(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=-1, eps=1e-12)


def pair_cosine(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) cosine between row i of pred and row i of target."""
    return (unit(pred) * unit(target)).sum(-1)


def similarities(pred: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """(M, N) cosine of every prediction (M, D) to every answer (N, D)."""
    return unit(pred) @ unit(answers).T


def ranks(pred: torch.Tensor, answers: torch.Tensor, chunk_rows: int = 0) -> torch.Tensor:
    """(N,) float64 rank of the true answer (row i) for each prediction; pessimistic on ties (module docstring).

    Similarities are computed chunk_rows questions at a time (default: ≤ 16M floats, 64 MB), never a full
    N×N matrix when N is large: 13k MedQuAD rows would otherwise need 0.7 GB."""
    p, a = unit(pred), unit(answers)
    n = p.shape[0]
    rows = chunk_rows if chunk_rows > 0 else max(1, (1 << 24) // max(1, n))
    out = []
    for i in range(0, n, rows):
        sims = p[i:i + rows] @ a.T                             # (r, N)
        r = torch.arange(sims.shape[0], device=sims.device)
        true = sims[r, i + r].unsqueeze(1)                     # (r, 1): taken from the same product, bit-equal
        out.append((~(sims < true)).sum(1))                    # 1 = the true answer is strictly the nearest
    return torch.cat(out).double() if out else torch.zeros(0, dtype=torch.float64)


def score(pred, answers, *, train_pred=None, train_answers=None, chunk_rows: int = 0) -> Figures:
    """Figures of predictions (N, D) against their answers (N, D), numpy or torch, any N (memory-safe).

    train_pred, train_answers: predictions and answers of the scored training pairs, for train_cosine.
    An empty set scores NaN cosine and 0 retrieval."""
    p, a = _tensor(pred), _tensor(answers, like=pred)
    if not len(p):
        out = Figures(float("nan"), 0.0, 0.0, 0.0)
    else:
        with torch.no_grad():
            rank = ranks(p, a, chunk_rows)
            out = Figures(float(pair_cosine(p, a).mean()), float((rank <= 1).double().mean()),
                          float((rank <= 5).double().mean()), float((1.0 / rank).mean()), n=len(p))
    if train_pred is not None:
        tp, ta = _tensor(train_pred), _tensor(train_answers, like=train_pred)
        with torch.no_grad():
            tc = float(pair_cosine(tp, ta).mean()) if len(tp) else float("nan")
        out = Figures(out.cosine, out.top1, out.top5, out.mrr, tc, out.n)
    return out


def _tensor(x, like=None) -> torch.Tensor:
    """x as a float32 tensor, on like's device when like is a tensor (numpy answers beside torch predictions)."""
    t = x.float() if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return t.to(like.device) if isinstance(like, torch.Tensor) else t


def nearest(pred, answers, k: int = 5) -> list[tuple[int, float]]:
    """Top-k (answer index, cosine) for one prediction (D,) among answers (N, D)."""
    scores, index = top_k(_tensor(pred).reshape(1, -1), _tensor(answers), k)
    return [(int(i), float(s)) for s, i in zip(scores[0], index[0])]


# The answer search (workbench-ask, the app's Ask): exact top-k by the same cosine as `similarities`, in chunks.
SIM_FLOATS = 1 << 24       # similarities held at once: 64 MB, whatever the number of questions and answers
QUERY_ROWS = 1024          # queries per block
BANK_ROWS = SIM_FLOATS // QUERY_ROWS   # bank vectors per chunk for a full block (16,384); fewer queries, larger
                                       # chunks: one question scans 100k answers in one product, not seven calls


def top_k(queries: np.ndarray, bank: np.ndarray | torch.Tensor, k: int, bank_rows: int | None = None,
          query_rows: int = QUERY_ROWS, bank_is_unit: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(scores (n, k'), indices (n, k')) of the k' = min(k, N) nearest bank rows by cosine, best first.
    queries (n, D), bank (N, D); bank_is_unit: the bank is already metrics.unit(bank) (AnswerBank keeps it so,
    which saves normalising N rows per question). Exact; equal scores are listed lower index first."""
    q_all = unit(torch.as_tensor(np.asarray(queries, np.float32)))
    b = torch.as_tensor(bank, dtype=torch.float32)
    n, kk = len(q_all), min(k, len(b))
    if bank_rows is None:      # each call has a fixed cost (threads wake up): as few chunks as the budget allows
        bank_rows = max(BANK_ROWS, SIM_FLOATS // max(1, min(n, query_rows)))
    scores, index = np.zeros((n, kk), np.float32), np.zeros((n, kk), np.int64)
    for i in range(0, n, query_rows):
        q = q_all[i:i + query_rows]
        best_s = torch.full((len(q), 0), -torch.inf)
        best_i = torch.zeros((len(q), 0), dtype=torch.int64)
        for j in range(0, len(b), bank_rows):
            chunk = b[j:j + bank_rows]
            sims = q @ (chunk if bank_is_unit else unit(chunk)).T          # (r, chunk)
            s, ix = torch.topk(sims, min(kk, sims.shape[1]), dim=1)
            best_s, best_i = _merge(torch.cat([best_s, s], 1), torch.cat([best_i, ix + j], 1), kk)
        scores[i:i + len(q)], index[i:i + len(q)] = best_s.numpy(), best_i.numpy()
    return scores, index


def _merge(s: torch.Tensor, ix: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k best of candidate columns: by score, descending, then by index, ascending (a stable tie-break).
    NaN scores (a NaN prediction) sort last."""
    s = torch.nan_to_num(s, nan=-torch.inf)
    order = np.lexsort((ix.numpy(), -s.numpy()), axis=1)[:, :k]          # last key first: score, then index
    order_t = torch.from_numpy(order)
    return torch.gather(s, 1, order_t), torch.gather(ix, 1, order_t)


def loss_terms(pred: torch.Tensor, target: torch.Tensor, cfg: LossConfig) -> dict[str, torch.Tensor]:
    """Each weighted component and their sum under "total"; components are reported per epoch."""
    terms = {
        "mse": F.mse_loss(pred, target),
        "cosine": (1 - pair_cosine(pred, target)).mean(),
        "l1": F.l1_loss(pred, target),
    }
    weights = {"mse": cfg.mse, "cosine": cfg.cosine, "l1": cfg.l1}
    if cfg.infonce > 0 and pred.shape[0] > 1:
        terms["infonce"] = info_nce(pred, target, cfg.temperature)
        weights["infonce"] = cfg.infonce
    terms["total"] = sum(weights[k] * terms[k] for k in weights)
    return terms


def info_nce(pred: torch.Tensor, target: torch.Tensor, temperature: float, chunk_rows: int = 0) -> torch.Tensor:
    """Mean cross-entropy of each row's cosine logits against every target, the diagonal being the true answer.

    Computed chunk_rows rows at a time (default: <= 4M logits, 16 MB each copy), never a full N x N matrix: the
    end-of-epoch loss over 10k training pairs would otherwise build ~0.9 GB of logits and softmax.
    The value and its gradient are those of the one-matrix form.
    """
    p, t = unit(pred), unit(target)
    n = p.shape[0]
    rows = chunk_rows if chunk_rows > 0 else max(1, (1 << 22) // max(1, n))
    labels = torch.arange(n, device=p.device)
    if rows >= n:
        return F.cross_entropy(p @ t.T / temperature, labels)        # (B, B): one batch, as in training
    total = sum(F.cross_entropy(p[i:i + rows] @ t.T / temperature, labels[i:i + rows], reduction="sum")
                for i in range(0, n, rows))
    return total / n


def ridge_fit(q: np.ndarray, a: np.ndarray, lam: float = 1.0) -> np.ndarray:
    """W (D+1, D) minimising ‖[q 1]W − a‖² + λ‖W‖²; dual form keeps it cheap when n < D."""
    x = np.hstack([q, np.ones((q.shape[0], 1), q.dtype)]).astype(np.float64)
    n, d = x.shape
    if n < d:
        k = x @ x.T + lam * np.eye(n)
        return x.T @ np.linalg.solve(k, a.astype(np.float64))
    return np.linalg.solve(x.T @ x + lam * np.eye(d), x.T @ a.astype(np.float64))


RIDGE_FILE = "ridge_weights.npy"   # in the run folder: the ridge baseline's W, so workbench-eval can score it later


def save_ridge_weights(path, w: np.ndarray) -> None:
    """W (D+1, D) as a plain .npy (no pickle), written atomically."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(w, np.float64), allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def load_ridge_weights(path, dim: int) -> np.ndarray:
    """W (dim+1, dim) from save_ridge_weights; ValueError naming the file when it is not one."""
    try:
        w = np.load(path, allow_pickle=False)
    # a damaged header reaches numpy's literal parser (SyntaxError, tokenize.TokenError, RecursionError);
    # a header claiming a huge shape asks for the memory (MemoryError)
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError, RecursionError, MemoryError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{path}: not a readable ridge weight file ({why})") from None
    if w.shape != (dim + 1, dim) or w.dtype.kind != "f" or not np.isfinite(w).all():
        raise ValueError(f"{path}: expected finite float weights of shape ({dim + 1}, {dim}), "
                         f"found {w.dtype} {tuple(w.shape)}")
    return w


def ridge_predict(w: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (np.hstack([q, np.ones((q.shape[0], 1), q.dtype)]) @ w).astype(np.float32)


def baselines(q_tr: np.ndarray, a_tr: np.ndarray, q_va: np.ndarray, a_va: np.ndarray,
              ridge_lambda: float = 1.0, ridge_w: np.ndarray | None = None,
              train_rows: np.ndarray | None = None) -> dict[str, Figures]:
    """identity (answer := question), mean training answer, and a ridge linear map, on the same split:
    name → Figures on validation, with the train cosine.

    ridge_w: the map already fitted on (q_tr, a_tr) by ridge_fit, when the caller keeps it (the run saves it).
    train_rows: the training rows whose cosine is reported (the trainer's scored subset, so the baselines'
    train cosine is measured on the same pairs as the lattice's); fitting always uses every training pair.
    """
    w = ridge_fit(q_tr, a_tr, ridge_lambda) if ridge_w is None else ridge_w
    mean_answer = a_tr.mean(0, keepdims=True)
    if train_rows is not None:
        q_tr, a_tr = q_tr[train_rows], a_tr[train_rows]
    preds = {
        "identity": (q_tr, q_va),
        "mean_answer": (np.repeat(mean_answer, len(q_tr), 0), np.repeat(mean_answer, len(q_va), 0)),
        "ridge": (ridge_predict(w, q_tr), ridge_predict(w, q_va)),
    }
    return {name: score(p_va, a_va, train_pred=p_tr, train_answers=a_tr) for name, (p_tr, p_va) in preds.items()}
