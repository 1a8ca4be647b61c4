"""The fast teacher path: tokenize once, token-budget batches sorted by length, truncation counted and reported."""

from __future__ import annotations

import csv

import numpy as np
import torch

from shared_data import realistic_rows
from workbench.teacher.batching import plan_batches, tokenize, torch_threads, usable_cores
from workbench.teacher.encoder import Teacher, TeacherConfig


def slice_rows(n_long: int, n_short: int) -> list[dict[str, str]]:
    """MedQuAD-shaped rows with distinct questions: n_long answers of 1,500–3,500 characters (well over 256 tokens),
    then n_short answers under 600 characters."""
    long, short, seen = [], [], set()
    for r in realistic_rows(600):
        if r["question"] in seen:
            continue
        seen.add(r["question"])
        if 1500 < len(r["answer"]) < 3500 and len(long) < n_long:
            long.append(r)
        elif 20 < len(r["answer"]) < 600 and len(short) < n_short:
            short.append(r)
    assert len(long) == n_long and len(short) == n_short
    return long + short


def test_tokenize_once_matches_the_tokenizers_own_truncation(teacher):
    teacher._load()
    rows = realistic_rows(80)
    texts = [r["question"] for r in rows] + [r["answer"] for r in rows]
    ids, cut = tokenize(teacher._tok, texts, 256)
    expected = teacher._tok(texts, truncation=True, max_length=256)["input_ids"]
    assert [x.tolist() for x in ids] == expected
    full = teacher._tok(texts, truncation=False)["input_ids"]
    assert cut.tolist() == [len(x) > 256 for x in full] and 0 < cut.sum() < len(texts)


def test_token_budget_batches_cover_every_text_once_longest_first():
    lengths = np.random.default_rng(0).integers(3, 257, 5000)
    batches = plan_batches(lengths, max_tokens=8192, max_texts=256)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(5000))
    for b in batches:
        assert len(b) <= 256 and len(b) * lengths[b].max() <= 8192
        assert lengths[b[0]] == lengths[b].max()
    firsts = [lengths[b[0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)
    padded = sum(len(b) * lengths[b].max() for b in batches)
    fixed = sum(32 * lengths[s:s + 32].max() for s in range(0, 5000, 32))   # fixed batches of 32, unsorted
    assert padded < 1.05 * lengths.sum() < 0.6 * fixed


def test_dynamic_batches_give_the_plain_loops_embeddings(tmp_path, teacher):
    rows = slice_rows(3, 5)
    texts = [r["question"] for r in rows] + [r["answer"] for r in rows]
    t = Teacher(TeacherConfig(cache_dir=str(tmp_path), normalize=False, batch_tokens=600))
    got = t.encode(texts)
    assert t.model_calls > 2                                         # several batches of different widths
    t._load()
    plain = []
    for s in range(0, len(texts), 4):                                # the plain loop: fixed batch, unsorted
        enc = t._tok(texts[s:s + 4], padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.inference_mode():
            hidden = t._model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        plain.append(((hidden * m).sum(1) / m.sum(1)).numpy())
    assert np.allclose(got, np.concatenate(plain), atol=2e-5)


def test_truncated_texts_are_counted_and_noted_once_per_run(tmp_path, make_config):
    from workbench.train.pipeline import prepare
    rows = slice_rows(6, 6)
    path = tmp_path / "slice.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["question", "answer"])
        w.writerows([(r["question"], r["answer"]) for r in rows])
    cfg = make_config()
    cfg.teacher.cache_dir = str(tmp_path / "cache")
    cold = prepare(cfg, str(path))
    t = Teacher(cfg.teacher)
    t._load()
    texts = [r["question"] for r in rows] + [r["answer"] for r in rows]
    n_long = sum(len(x) > 256 for x in t._tok(texts, truncation=False)["input_ids"])
    assert n_long >= 6 and cold.truncated == n_long and cold.model_calls > 0
    note = f"{n_long} of {len(texts)} texts were longer than 256 tokens and were truncated"
    assert cold.notes.count(note) == 1
    warm = prepare(cfg, str(path))                                   # the count is kept in the cache rows
    assert warm.model_calls == 0 and warm.truncated == n_long and warm.notes.count(note) == 1


def test_torch_threads_are_capped_at_the_usable_cores_and_restored():
    before = torch.get_num_threads()
    torch.set_num_threads(usable_cores() + 3)                         # what torch picks on a big host in a small box
    try:
        with torch_threads(0) as n:
            assert n == torch.get_num_threads() == usable_cores()
        assert torch.get_num_threads() == usable_cores() + 3
        with torch_threads(1):
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
