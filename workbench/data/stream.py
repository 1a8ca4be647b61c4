"""Bounded reading: no data file, however large, endless or malformed, can take the machine's memory.

`open_text(path, fmt, progress)` opens a dataset file as a text stream through a byte source that
- refuses before reading a regular file whose size cannot fit in the memory free (`stat` size × the
  format's measured expansion, against MemAvailable and the cgroup limit), with the figures;
- reads a file without a size (a pipe, a device, a link to one) only up to SIZELESS_BYTES and
  refuses it with one line when it passes that, so `/dev/zero` stops within seconds;
- stops any read whose resident memory grows past what was free (or SIZELESS_MEMORY for a file
  without a size): the size check is an estimate, this is the bound;
- reports (bytes read, total or None) to `progress` every READ_CHUNK bytes; `progress` may raise
  LoadCancelled (the app's Cancel button).

`Lines` hands the CSV reader and the JSONL loader one line at a time and never more than
`limit` characters of one record: a record that passes it is skipped by `skip_record` with a small
scanner over READ_CHUNK pieces (it is never held whole) and reported by the loader (record.py).
"""

from __future__ import annotations

import io
import os
import resource
import stat
import sys

from workbench.data.pairs import DataError, Problem

READ_CHUNK = 1 << 20               # bytes per read; progress and the memory bound are checked this often
MAX_RECORD_CHARS = 16_000_000      # one record (all its fields) at most: 160x the data.max_chars paste guard
SIZELESS_BYTES = 256 << 20         # a pipe or device is read this far at most
SIZELESS_MEMORY = 512 << 20        # ... and may hold this much in rows
# Resident memory per byte of input while loading (peak above the interpreter's, benchmarks/data_memory.py on
# medquad_dev.csv: CSV 1.5, JSONL 1.6, JSON 1.8, Parquet 17 per MB of the file, which is compressed), with room
# for corpora of short rows, whose per-row overhead weighs more. The bound while reading is what holds.
EXPANSION = {"csv": 3, "jsonl": 3, "json": 3, "parquet": 20}
MB = 1 << 20


class LoadCancelled(Exception):
    """Raised by a progress callback to stop a load (the app's Cancel); not a problem with the data."""


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().split()[0]
        return None if text == "max" else int(text)
    except (OSError, ValueError, IndexError):
        return None


def available_memory() -> int | None:
    """Bytes this process may still take: MemAvailable, or less under a cgroup limit; None when unknown."""
    free = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    limit, used = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if limit is not None and used is not None:
        free = min(free, limit - used) if free is not None else limit - used
    return free


def resident_memory() -> int:
    """This process's resident memory now (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def peak_resident_memory() -> int:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: on Linux a child's ru_maxrss starts at its
    parent's resident size at fork (the old address space's high-water mark is kept across exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _mb(n: int) -> str:
    return f"{n / MB:,.0f} MB" if n >= 10 * MB else f"{n / MB:,.1f} MB"


def _refusal(path: str, message: str) -> DataError:
    return DataError([Problem(path, None, None, message, None, "error", "too_large")])


def check_fits(path: str, fmt: str, size: int | None = None, free: int | None = None) -> None:
    """Refuse, before reading, a file whose size times the format's expansion is more than the memory free."""
    if size is None:
        try:
            st = os.stat(path)
        except OSError as exc:
            raise DataError([Problem(path, None, None, f"cannot read file: {exc.strerror or exc}")]) from None
        if not stat.S_ISREG(st.st_mode):
            raise _refusal(path, f"a {fmt.upper()} file must be a regular file (this one has no size: a pipe, a device "
                           "or a link to one); save the data to a regular file and open that")
        size, free = st.st_size, available_memory()
    if free is not None and size * EXPANSION[fmt] > free:
        raise _refusal(path, f"the file is {_mb(size)}; reading it as {fmt.upper()} takes about "
                       f"{_mb(size * EXPANSION[fmt])} of memory and {_mb(free)} is free. Use a smaller file (split it, "
                       "or keep only the columns and rows you train on), or free memory")


def check_parquet_sizes(path: str, md, limit: int) -> None:
    """From the Parquet footer, before reading any data: refuse a file whose row groups (read one at a time)
    cannot fit uncompressed in the memory free, naming the row group, its largest column and the sizes."""
    free = available_memory()
    if free is None:
        return
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        size = rg.total_byte_size                    # uncompressed
        if size * EXPANSION["parquet"] > free:
            sizes = [(rg.column(j).total_uncompressed_size, rg.column(j).path_in_schema) for j in range(rg.num_columns)]
            big, col = max(sizes)
            raise _refusal(path, f"row group {g + 1} of {md.num_row_groups} ({rg.num_rows:,} rows) is {_mb(size)} "
                           f"uncompressed (column '{col}': {_mb(big)}); reading it takes about "
                           f"{_mb(size * EXPANSION['parquet'])} of memory and {_mb(free)} is free. Write the file with "
                           "smaller row groups (pyarrow: row_group_size=), or as JSON Lines")


class ByteSource(io.RawIOBase):
    """The file's bytes, read with the bounds in the module docstring."""

    def __init__(self, path: str, fmt: str, progress=None):
        super().__init__()
        self.path, self.progress, self.done = path, progress, 0
        try:
            st = os.stat(path)              # follows a link: a link to /dev/zero has no size
            self.fh = open(path, "rb", buffering=0)
        except OSError as exc:
            raise DataError([Problem(path, None, None, f"cannot read file: {exc.strerror or exc}")]) from None
        # A size of 0 is no size either: /proc and /sys files report 0 and may not end.
        self.size = st.st_size if stat.S_ISREG(st.st_mode) and st.st_size else None
        free = available_memory()
        if self.size is not None:
            try:
                check_fits(path, fmt, self.size, free)
            except DataError:
                self.fh.close()
                raise
        self.budget = int(free * 0.8) if free is not None else None     # the size check is an estimate; this bounds
        if self.size is None:
            self.budget = min(self.budget or SIZELESS_MEMORY, SIZELESS_MEMORY)
        self.start_rss = resident_memory()

    def _refusal(self, message: str) -> DataError:
        return _refusal(self.path, message)

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = self.fh.readinto(buf)
        if not n:
            return n
        self.done += n
        if self.size is None and self.done > SIZELESS_BYTES:
            raise self._refusal(f"read {_mb(self.done)} of a file without a size (a pipe, a device or a link to one) "
                                f"and it has not ended; such a file is read up to {_mb(SIZELESS_BYTES)}. Save the "
                                "data to a regular file and open that (JSON Lines reads record by record)")
        grown = resident_memory() - self.start_rss
        if self.budget is not None and grown > self.budget:
            raise self._refusal(f"the rows read so far (the first {_mb(self.done)}) take {_mb(grown)} of memory, "
                                f"over the {_mb(self.budget)} this read may use; use a smaller file (split it), or a "
                                "regular file rather than a pipe")
        if self.progress is not None:
            self.progress(self.done, self.size)
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()


def open_text(path: str, fmt: str, progress=None, newline: str = "", utf8: bool = False) -> io.TextIOWrapper:
    """The file as text: UTF-16 with a BOM (spreadsheet exports), else (or with utf8=True, after a UTF-16
    read failed) UTF-8 with undecodable bytes kept as surrogate escapes, so each bad row is named and
    written back unchanged."""
    raw = io.BufferedReader(ByteSource(path, fmt, progress), READ_CHUNK)
    utf16 = not utf8 and raw.peek(2)[:2] in (b"\xff\xfe", b"\xfe\xff")
    return io.TextIOWrapper(raw, encoding="utf-16" if utf16 else "utf-8-sig",
                            errors="strict" if utf16 else "surrogateescape", newline=newline)


def line_breaks(s: str) -> int:
    """Line breaks in s: "\n", "\r" and "\r\n" (each a single fast pass when there is no "\r")."""
    n = s.count("\n")
    return n + s.count("\r") - s.count("\r\n") if "\r" in s else n


class Lines:
    """One record's lines at a time from `fh`, at most `limit` characters of a record held.

    Iterated by csv.reader (or the JSONL loader). The loader calls `end_record()` after each record.
    A record longer than `limit` raises RecordSkipped from `__next__` once `skip(scanner)` has read past
    its end: csv.reader starts afresh on its next call, so reading goes on at the next record."""

    def __init__(self, fh: io.TextIOBase, limit: int, scanner, newline: str = ""):
        self.fh, self.limit, self.scanner, self.newline = fh, limit, scanner, newline
        self.skip_over = True                        # False: a record over the limit ends the read (a header)
        self.pending: io.StringIO | None = None      # text read past a skipped record's end
        self.line = 0                                # the number of the last line read
        self.first = 1                               # first line of the record being read
        self.kept: list[str] = []                    # its lines so far
        self.used = 0

    def __iter__(self):
        return self

    def _readline(self, room: int) -> str:
        if self.pending is not None:
            line = self.pending.readline(room)
            if (line and line[-1] in "\r\n") or len(line) >= room:
                return line
            self.pending = None                      # used up: the line goes on in the file
            return line + self.fh.readline(room - len(line))
        return self.fh.readline(room)

    def __next__(self) -> str:
        line = self._readline(self.limit + 1 - self.used)
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > self.limit:
            if not self.skip_over:
                raise RecordSkipped(self.first, self.used, None)
            raise self._skip("".join(self.kept) + line)
        self.kept.append(line)
        self.line += 1
        return line

    def end_record(self) -> None:
        self.kept, self.used, self.first = [], 0, self.line + 1

    def read(self, n: int) -> str:
        if self.pending is not None:
            text = self.pending.read(n)
            if text:
                return text
            self.pending = None
        return self.fh.read(n)

    def _skip(self, head: str) -> "RecordSkipped":
        """Read on to the end of the record that starts with `head`; what follows it is read next."""
        scan, text, chars, breaks = self.scanner(), head, 0, 0
        last = ""
        while text:
            end = scan.feed(text)
            if end >= 0:
                chars, breaks = chars + end, breaks + line_breaks(text[:end])
                rest = text[end:]
                if rest[:1] == "\n" and text[end - 1:end] == "\r":
                    rest = rest[1:]
                self.pending = io.StringIO(rest, newline=self.newline) if rest else None
                break
            chars, breaks = chars + len(text), breaks + line_breaks(text)
            last, text = text[-1:], self.read(READ_CHUNK)
        else:
            scan.eof()
            breaks += last not in ("\r", "\n")          # the file's last line has no line break
        skipped = RecordSkipped(self.first, chars, scan)
        self.line = self.first - 1 + breaks          # the lines of the record, kept ones included
        self.end_record()
        return skipped


class RecordSkipped(Exception):
    """A record over the limit was read past: first line, its length in characters, the scanner's findings."""

    def __init__(self, first: int, chars: int, scan):
        super().__init__(first)
        self.first, self.chars, self.scan = first, chars, scan
