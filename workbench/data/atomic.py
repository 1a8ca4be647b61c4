"""Atomic file writes: write a temp file in the target folder, fsync, then rename over the target.

A crash mid-write leaves either the old file or the new one, never a truncated mix.
- The new file keeps the old one's permission bits (a new file gets the usual umask default,
  not mkstemp's 0600).
- A symlink is written through: the link's target is replaced atomically, the link stays.
- A full disk raises DiskFullError (an OSError, errno ENOSPC) naming the path and the free space
  needed, and leaves the old file and no temp file behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


def _umask() -> int:
    mask = os.umask(0o022)   # the only portable way to read it is to set it
    os.umask(mask)
    return mask


_NEW_FILE_MODE = 0o666 & ~_umask()   # what open() would give a new file; read once, at import


class DiskFullError(OSError):
    """No space left for a write; the message names the path, the size needed and the space free."""


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def disk_full(target: Path, needed: int | None) -> DiskFullError:
    try:
        free = shutil.disk_usage(target.parent).free
    except OSError:
        free = None
    need = f"needs at least {_mb(needed)} free" if needed else "needs more free space"
    have = f", {_mb(free)} free on that disk" if free is not None else ""
    return DiskFullError(errno.ENOSPC, f"disk full while writing {target}: the file {need}{have}; "
                         "free some space and try again (the previous file is unchanged)", str(target))


def resolve_target(path: str | os.PathLike) -> Path:
    """The file a write to `path` must replace: a symlink's (final) target, else the path itself."""
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                newline: str | None = None, errors: str | None = None,
                expected_size: int | None = None) -> Iterator[IO]:
    """Yield a handle to a temp file next to `path` (or next to its symlink's target); on success it replaces it.

    expected_size (bytes), when known, makes a disk-full message say how much space is needed."""
    target = resolve_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        old_mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        old_mode = _NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    binary = "b" in mode
    written = 0
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding,
                       newline=None if binary else newline, errors=None if binary else errors) as fh:
            yield fh
            fh.flush()
            written = fh.tell()
            os.fsync(fh.fileno())
        os.chmod(tmp, old_mode)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException as exc:
        try:
            written = written or os.path.getsize(tmp)
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC and not isinstance(exc, DiskFullError):
            raise disk_full(target, max(expected_size or 0, written) or None) from exc
        raise


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w", expected_size=len(text.encode("utf-8", errors="surrogateescape"))) as fh:
        fh.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_open(path, "wb", expected_size=len(data)) as fh:
        fh.write(data)
