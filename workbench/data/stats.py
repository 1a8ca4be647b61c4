"""Dataset statistics and the teacher-similarity quality filter."""

from __future__ import annotations

from collections import Counter

import numpy as np

from workbench.data.pairs import Dataset, Problem


def _mean_std(values) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {"mean": float("nan"), "std": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"mean": float(arr.mean()), "std": float(arr.std()), "min": float(arr.min()), "max": float(arr.max())}


def pair_cosines(q: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(n,) raw Q→A cosine per pair, the number the prototype reported as its 'similarity'."""
    qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    return (qn * an).sum(1)


def dataset_stats(ds: Dataset, q: np.ndarray | None = None, a: np.ndarray | None = None) -> dict:
    """Counts per category, question/answer length in characters and words, and raw Q→A cosine."""
    cats = Counter(p.category or "(none)" for p in ds.pairs)
    out = {
        "pairs": len(ds),
        "categories": dict(sorted(cats.items())),
        "question_chars": _mean_std([len(p.question) for p in ds.pairs]),
        "answer_chars": _mean_std([len(p.answer) for p in ds.pairs]),
        "question_words": _mean_std([len(p.question.split()) for p in ds.pairs]),
        "answer_words": _mean_std([len(p.answer.split()) for p in ds.pairs]),
    }
    if q is not None and a is not None and len(q):
        out["qa_cosine"] = _mean_std(pair_cosines(q, a))
    return out


def format_stats(stats: dict) -> str:
    lines = [f"pairs: {stats['pairs']}",
             "categories: " + ", ".join(f"{k} {v}" for k, v in stats["categories"].items())]
    for key, label in (("question_chars", "question length (chars)"), ("answer_chars", "answer length (chars)")):
        s = stats[key]
        lines.append(f"{label}: {s['mean']:.1f} ± {s['std']:.1f}")
    if "qa_cosine" in stats:
        s = stats["qa_cosine"]
        lines.append(f"raw Q→A cosine: {s['mean']:.3f} ± {s['std']:.3f} [{s['min']:.3f}, {s['max']:.3f}]")
    return "\n".join(lines)


def quality_filter(ds: Dataset, q: np.ndarray, a: np.ndarray, min_cos: float):
    """Keep pairs whose raw Q→A cosine ≥ min_cos. Returns (kept positions, one Problem per dropped row)."""
    cos = pair_cosines(q, a)
    keep, dropped = [], []
    for i, c in enumerate(cos):
        if c >= min_cos:
            keep.append(i)
        else:
            dropped.append(Problem(ds.path, ds.rows[i], "answer", f"dropped by quality filter: Q→A cosine {c:.3f} "
                                   f"< {min_cos:.3f} (data.min_pair_cosine)", ds.line_of(i), "warning", "quality_filter"))
    return keep, dropped
