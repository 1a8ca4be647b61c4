"""A disk cache of teacher embeddings: one small checksummed file per (model, pooling, max length, text) key.

File layout (little-endian): b"LWE1" | uint32 dim | float32[dim] | uint32 crc32(payload).
A truncated or corrupt entry fails the size or checksum test and is recomputed, never trusted.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..data.atomic import atomic_write_bytes

log = logging.getLogger(__name__)
MAGIC = b"LWE1"


def default_cache_dir() -> str:
    """$LATTICE_WORKBENCH_CACHE if set, else the platform's per-user cache folder."""
    env = os.environ.get("LATTICE_WORKBENCH_CACHE")
    if env:
        return env
    from platformdirs import user_cache_dir
    return os.path.join(user_cache_dir("lattice-workbench"), "embeddings")


class EmbeddingCache:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.corrupt_entries = 0  # entries found damaged and discarded since creation

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.emb"

    def get(self, key: str) -> np.ndarray | None:
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        vec = self._decode(blob)
        if vec is None:
            self.corrupt_entries += 1
            try:
                path.unlink()
            except OSError as exc:
                log.debug("cannot remove the damaged cache entry %s: %s", path, exc)
        return vec

    @staticmethod
    def _decode(blob: bytes) -> np.ndarray | None:
        if len(blob) < 12 or blob[:4] != MAGIC:
            return None
        (dim,) = struct.unpack_from("<I", blob, 4)
        if len(blob) != 8 + 4 * dim + 4:
            return None
        payload = blob[8:8 + 4 * dim]
        (crc,) = struct.unpack_from("<I", blob, 8 + 4 * dim)
        if zlib.crc32(payload) != crc:
            return None
        return np.frombuffer(payload, dtype="<f4").copy()

    def put(self, key: str, vec: np.ndarray) -> None:
        payload = np.ascontiguousarray(vec, dtype="<f4").tobytes()
        blob = MAGIC + struct.pack("<I", vec.shape[0]) + payload + struct.pack("<I", zlib.crc32(payload))
        try:
            atomic_write_bytes(self._path(key), blob)
        except OSError as exc:  # a read-only or full cache disk only costs speed, never the run
            log.debug("cannot write cache entry %s: %s", self._path(key), exc)
