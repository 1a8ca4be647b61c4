"""The teacher's embedding cache: one SQLite file per teacher identity, built for 100k+ texts.

Why SQLite: one file (plus its WAL while open) instead of one file per text; rows hold raw float32
bytes, so the file stays near the raw vector size; WAL mode lets several processes (DDP ranks, the
app and the CLI) read while one writes; a committed transaction survives kill -9, and a killed
writer's half-written transaction is rolled back on the next open, never seen.

Row: key = sha256(teacher identity | pooling | max length | text) (32 bytes), `truncated` (the text
was longer than max length), `crc` = crc32 over key, truncated flag and vector bytes, `vec` = float32
little-endian bytes. A row whose length, checksum or values (NaN/inf) are wrong is reported as
damaged and recomputed by the teacher, never trusted.

A cache that cannot be opened or written (read-only folder, full disk) only costs speed: the
problem is recorded once in `problems` (naming the path) and the run goes on without caching.
"""

from __future__ import annotations

import atexit
import os
import re
import sqlite3
import threading
import time
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LOOKUP_CHUNK = 500       # keys per SELECT … IN (…): well under SQLite's variable limit, few round trips
PAGE_SIZE = 16384        # 10 rows of a 384-d vector per page: the file stays ~5% above the raw float32 size
BUSY_TIMEOUT_S = 60      # a writer in another process holds the lock for one batch (milliseconds); wait, don't fail


def default_cache_dir() -> str:
    """$LATTICE_WORKBENCH_CACHE if set, else the platform's per-user cache folder."""
    env = os.environ.get("LATTICE_WORKBENCH_CACHE")
    if env:
        return env
    from platformdirs import user_cache_dir
    return os.path.join(user_cache_dir("lattice-workbench"), "embeddings")


def store_path(cache_dir: str | os.PathLike, identity: str) -> Path:
    """`<cache_dir>/<model name>-<weights fingerprint>.sqlite3`: one store per teacher identity."""
    name, _, fingerprint = identity.rpartition("@")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name or name)[-60:] or "teacher"
    return Path(cache_dir) / f"{slug}-{fingerprint or 'x'}.sqlite3"


def row_crc(key: bytes, truncated: int, vec: bytes) -> int:
    return zlib.crc32(vec, zlib.crc32(key + bytes([truncated & 1])))


@dataclass
class Lookup:
    """What `get_many` found for n keys: vectors (n, dim) float32 (zeros where missing), found and truncated masks."""
    vectors: np.ndarray
    found: np.ndarray
    truncated: np.ndarray
    damaged: int = 0          # rows that failed verification (reported as missing, to be recomputed)


class EmbeddingStore:
    """Batched get/put of embedding vectors keyed by 32-byte sha256 digests. Safe across threads and processes."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.problems: list[str] = []   # at most one line per kind of failure, each naming the path
        self.damaged = 0                # entries found damaged since creation
        self.usable = True              # False once the store could not be opened: every lookup misses
        self.writable = True            # False once a write failed: lookups still work
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._lock = threading.Lock()

    # -- connection ---------------------------------------------------------------------------------------------
    def _report(self, what: str, exc: BaseException) -> None:
        reason = str(exc) or type(exc).__name__
        self.problems.append(f"embedding cache {self.path}: {what} ({reason}); embeddings are computed but not "
                             "cached, which only costs speed")

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")        # only takes effect before the first table exists
            conn.execute("PRAGMA journal_mode=WAL")               # readers never block the writer, nor the reverse
            conn.execute("PRAGMA synchronous=NORMAL")             # WAL + NORMAL: a process kill loses nothing committed
            conn.execute("CREATE TABLE IF NOT EXISTS emb (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, "
                         "truncated INTEGER NOT NULL, crc INTEGER NOT NULL, vec BLOB NOT NULL)")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> sqlite3.Connection | None:
        """The open connection of this process (a forked child opens its own), or None when the store is unusable."""
        if not self.usable:
            return None
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc) or "malformed" in str(exc):
                self._conn = self._replace_damaged_file(exc)
            else:                                   # e.g. a read-only file or folder: reading may still work
                self._conn = self._open_read_only(exc)
            if self._conn is None:
                return None
        except OSError as exc:
            self.usable = False
            self._report("cannot be created", exc)
            return None
        self._pid = os.getpid()
        ref = weakref.ref(self)                   # closed at exit, so the WAL is folded back and its two files go
        atexit.register(lambda: ref() is not None and ref().close())
        return self._conn

    def _open_read_only(self, exc: BaseException) -> sqlite3.Connection | None:
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                   isolation_level=None, check_same_thread=False)
            conn.execute("SELECT 1 FROM emb LIMIT 1").fetchone()
        except sqlite3.Error as exc2:
            self.usable = False
            self._report("cannot be opened", exc if "no such table" in str(exc2) else exc2)
            return None
        self.writable = False
        self._report("can only be read", exc)
        return conn

    def _replace_damaged_file(self, exc: BaseException) -> sqlite3.Connection | None:
        """A file that is not a SQLite database (overwritten, truncated by hand) is moved aside, not deleted."""
        aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
        try:
            os.replace(self.path, aside)
            conn = self._open()
        except (OSError, sqlite3.Error) as exc2:
            self.usable = False
            self._report("is damaged and cannot be replaced", exc2)
            return None
        self.problems.append(f"embedding cache {self.path} was damaged ({exc}); it was moved to {aside.name} "
                             "and a fresh cache was started")
        return conn

    def close(self) -> None:
        if not self._lock.acquire(timeout=5):    # at exit, a daemon thread may hold it mid-write: never hang
            return
        try:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
        finally:
            self._lock.release()

    # -- reads --------------------------------------------------------------------------------------------------
    def get_many(self, keys: list[bytes], dim: int) -> Lookup:
        """Look up n distinct keys in chunks of LOOKUP_CHUNK; every row is verified before it is returned."""
        n = len(keys)
        out = Lookup(np.zeros((n, dim), np.float32), np.zeros(n, bool), np.zeros(n, bool))
        with self._lock:
            conn = self._connection()
            if conn is None or n == 0:
                return out
            where = {k: i for i, k in enumerate(keys)}
            try:
                for s in range(0, n, LOOKUP_CHUNK):
                    chunk = keys[s:s + LOOKUP_CHUNK]
                    rows = conn.execute(f"SELECT key, truncated, crc, vec FROM emb WHERE key IN "
                                        f"({','.join('?' * len(chunk))})", chunk).fetchall()
                    for key, trunc, crc, vec in rows:
                        i = where.get(key)
                        if i is None:
                            continue
                        if len(vec) != 4 * dim or row_crc(key, trunc, vec) != crc:
                            out.damaged += 1
                            continue
                        out.vectors[i] = np.frombuffer(vec, "<f4")
                        out.found[i], out.truncated[i] = True, bool(trunc)
            except sqlite3.Error as exc:          # the file went away or bad under us: what was read still counts
                self.usable = False
                self._report("cannot be read", exc)
        bad = out.found & ~np.isfinite(out.vectors).all(axis=1)   # NaN/inf stored with a valid checksum
        if bad.any():
            out.found[bad] = False
            out.vectors[bad] = 0.0
            out.damaged += int(bad.sum())
        self.damaged += out.damaged
        return out

    def __len__(self) -> int:
        with self._lock:
            conn = self._connection()
            return 0 if conn is None else conn.execute("SELECT COUNT(*) FROM emb").fetchone()[0]

    def verify(self) -> tuple[int, int]:
        """(good, bad) over every row: SQLite's own integrity check, then length/checksum/finite per row."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return 0, 0
            status = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if status != "ok":
                raise sqlite3.DatabaseError(f"{self.path}: {status}")
            good = bad = 0
            for key, trunc, crc, vec in conn.execute("SELECT key, truncated, crc, vec FROM emb"):
                ok = len(vec) % 4 == 0 and row_crc(key, trunc, vec) == crc and np.isfinite(np.frombuffer(vec, "<f4")).all()
                good, bad = good + ok, bad + (not ok)
            return good, bad

    # -- writes -------------------------------------------------------------------------------------------------
    def put_many(self, keys: list[bytes], vectors: np.ndarray, truncated: np.ndarray | None = None) -> bool:
        """Insert or replace n rows in one transaction; False (reported once) when the cache cannot be written."""
        if not len(keys):
            return True
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
        flags = np.zeros(len(keys), bool) if truncated is None else np.asarray(truncated, bool)
        rows = []
        for key, vec, trunc in zip(keys, vectors, flags):
            blob = vec.tobytes()
            rows.append((key, int(trunc), row_crc(key, int(trunc), blob), blob))
        with self._lock:
            if not self.writable:
                return False
            conn = self._connection()
            if conn is None:
                return False
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR REPLACE INTO emb (key, truncated, crc, vec) VALUES (?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:   # full disk, read-only file or folder, lock held too long
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self.writable = False
                self._report("cannot be written", exc)
                return False
        return True
