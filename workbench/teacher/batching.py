"""Tokenize once, then batch by token budget: texts sorted by length, each batch padded only to its own longest.

On MedQuAD, questions are ~15 tokens and a third of the answers hit the 256-token limit. A fixed batch of
unsorted texts pads every question to 256 and runs ~10x the tokens it needs; a token budget lets short texts
run in big batches and keeps the memory of long batches bounded (attention is (B, heads, L, L)).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np

TOKENIZE_CHUNK = 1024   # texts per tokenizer call: the tokenizer's Python int lists live for one chunk only


def tokenize(tok, texts: list[str], max_length: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Token ids (int32, special tokens included, cut at max_length) and a mask of the texts that were cut.

    Tokenizing at max_length + 1 tells which texts are longer than max_length; only those are tokenized a
    second time at max_length, so the cut is exactly the tokenizer's own truncation, for any tokenizer.
    """
    ids: list[np.ndarray] = []
    cut = np.zeros(len(texts), bool)
    kw = dict(truncation=True, return_attention_mask=False, return_token_type_ids=False)
    for s in range(0, len(texts), TOKENIZE_CHUNK):
        chunk = texts[s:s + TOKENIZE_CHUNK]
        enc = tok(chunk, max_length=max_length + 1, **kw)["input_ids"]
        long = [j for j, x in enumerate(enc) if len(x) > max_length]
        if long:
            for j, x in zip(long, tok([chunk[j] for j in long], max_length=max_length, **kw)["input_ids"]):
                enc[j] = x
            cut[[s + j for j in long]] = True
        ids.extend(np.asarray(x, np.int32) for x in enc)
    return ids, cut


def plan_batches(lengths: np.ndarray, max_tokens: int, max_texts: int) -> list[np.ndarray]:
    """Positions grouped into batches of at most max_texts texts and max_tokens padded tokens.

    Longest first: the memory peak comes at the start (a too-large budget fails at once, not after an hour)
    and the ETA, computed from padded tokens, errs on the long side.
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches, s = [], 0
    while s < len(order):
        longest = max(1, int(lengths[order[s]]))
        k = max(1, min(max_texts, max_tokens // longest))
        batches.append(order[s:s + k])
        s += k
    return batches


def pad(ids: list[np.ndarray], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, L) int64 input ids padded on the right, and the (B, L) attention mask (1 = real token)."""
    width = max(len(x) for x in ids)
    input_ids = np.full((len(ids), width), pad_id, np.int64)
    mask = np.zeros((len(ids), width), np.int64)
    for r, x in enumerate(ids):
        input_ids[r, :len(x)] = x
        mask[r, :len(x)] = 1
    return input_ids, mask


def usable_cores() -> int:
    """Cores this process may run on (a container or `taskset` may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@contextmanager
def torch_threads(requested: int = 0):
    """Run with `requested` intra-op threads (0: torch's default, capped at the usable cores); restore after.

    torch's default is the machine's physical cores, which oversubscribes a process limited to fewer.
    """
    import torch
    before = torch.get_num_threads()
    want = requested if requested > 0 else min(before, usable_cores())
    if want != before:
        torch.set_num_threads(want)
    try:
        yield want
    finally:
        if want != before:
            torch.set_num_threads(before)
