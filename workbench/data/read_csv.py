"""CSV, streamed: csv.reader over `stream.Lines`, so no record longer than the record-size limit is held.

Rows are numbered from 1 over the data records (the header is not a row), with the line each
starts on. A record over the limit is read past by `CsvScan` (the excel dialect as csv.reader
reads it, in pieces) and reported as over_limit, naming its longest field. A quote that is never
closed refuses the file (see `stray_problem`).
"""

from __future__ import annotations

import csv

from workbench.data.names import resolve
from workbench.data.pairs import DataError, Dataset, Problem
from workbench.data.records import RowSink, skipped
from workbench.data.stream import MAX_RECORD_CHARS, Lines, RecordSkipped, line_breaks, open_text

csv.field_size_limit(2**31 - 1)   # fields are bounded by the record-size limit (Lines), not by csv
_START, _FIELD, _QUOTED, _AFTER_QUOTE = range(4)


def _field_end(text: str, i: int) -> int:
    """The first comma or line break at or after i, or -1 (str.find, each bounded by the one before:
    several times faster than a regex over a huge field)."""
    end = text.find(",", i)
    stop = end if end >= 0 else len(text)
    for c in "\n\r":
        k = text.find(c, i, stop)
        if k >= 0:
            end = stop = k
    return end


class CsvScan:
    """Where a CSV record ends, fed in pieces: index past its line break, or -1. Also finds its longest
    field, and a quote that is not closed properly (see `stray_quote`), as line offsets in the record."""

    def __init__(self):
        self.state, self.field, self.flen, self.breaks = _START, 0, 0, 0
        self.longest = (0, 0)                            # (characters, field index)
        self.opened = 0                                  # line offset where the quoted field opened
        self.stray: tuple[int, int, int | None] | None = None   # (field, opening line, closing line or None)

    def _close(self) -> None:
        self.longest = max(self.longest, (self.flen, self.field))
        self.field, self.flen, self.state = self.field + 1, 0, _START

    def feed(self, text: str) -> int:
        i, n = 0, len(text)
        while i < n:
            if self.state == _START:
                if text[i] == '"':
                    self.state, self.opened, i = _QUOTED, self.breaks, i + 1
                    continue
                self.state = _FIELD
            if self.state == _FIELD:
                end = _field_end(text, i)
                if end < 0:
                    self.flen += n - i
                    return -1
                self.flen += end - i
                self._close()
                if text[end] != ",":
                    return end + 1
                i = end + 1
            elif self.state == _QUOTED:
                j = text.find('"', i)
                part = text[i:] if j < 0 else text[i:j]
                self.flen, self.breaks = self.flen + len(part), self.breaks + line_breaks(part)
                if j < 0:
                    return -1
                self.state, i = _AFTER_QUOTE, j + 1
            else:                                        # after a quote inside quotes: "" or the field's end
                c = text[i]
                if c == '"':
                    self.state, self.flen, i = _QUOTED, self.flen + 1, i + 1
                elif c in ",\r\n":
                    self._close()
                    if c != ",":
                        return i + 1
                    i += 1
                else:                                    # text after the closing quote: csv.reader appends it
                    if self.breaks > self.opened and self.stray is None:
                        self.stray = (self.field, self.opened, self.breaks)
                    self.state = _FIELD
        return -1

    def eof(self) -> None:
        if self.state == _QUOTED and self.stray is None:
            self.stray = (self.field, self.opened, None)
        self._close()


def stray_quote(raw: str) -> tuple[int, int, int | None] | None:
    """(field index, line offset of the opening quote, line offset of its closing quote or None at the end
    of `raw`) for a quoted field of this one record that is not closed properly, else None.

    "Not closed properly": the quote runs to the end of the file, or it spans a line break and its
    closing quote is followed by text instead of a comma or the line end. The second is what a
    missing quote looks like mid-file: the quote pairs with the opening quote of a later field, so
    the rows between fall inside it."""
    scan = CsvScan()
    if scan.feed(raw) < 0:
        scan.eof()
    return scan.stray


def stray_problem(path: str, row: int, first: int, bad, names: list[str], last_line: int) -> Problem:
    """The unclosed quote of record `row` (first line `first`), with what it would swallow.

    We refuse the whole file rather than recover the rows after it: where the field was meant to end
    is unknown (the lines after the quote may be its own multi-line text, or rows), so any guess
    could load made-up pairs or lose text; one clear line naming the quote is safer and the fix is
    one character."""
    field, opened, closed = bad
    line = first + opened
    if closed is None:
        rest = last_line - line
        lost = (f"the rest of the file ({rest} line{'s' if rest != 1 else ''}) would be read into this field"
                if rest else "the file ends inside it")
    else:
        end = first + closed
        lost = (f"it closes only on line {end}, at a quote followed by text, so {end - line} line"
                f"{'s' if end - line != 1 else ''} would be read into this field")
    return Problem(path, row, names[field] if field < len(names) else None,
                   f"a quote opened here is never closed; {lost}. Close the quote (a quote inside "
                   "quoted text is written twice: \"\")", line, "error", "unclosed_quote")


def _header(reader, lines: Lines, path: str, limit: int) -> list[str] | None:
    lines.skip_over = False             # a "header" over the limit is not a header: stop at once
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise DataError([Problem(path, None, None, f"malformed CSV header: {exc}", lines.line)]) from None
        except RecordSkipped:
            raise DataError([Problem(path, None, None, f"no header line in the first {limit:,} characters: not a "
                                     "CSV file of question/answer rows", lines.first, "error", "too_large")]) from None
        lines.end_record()
        if rec and any(h.strip() for h in rec):
            lines.skip_over = True
            return rec


def load_csv(path: str, columns: dict[str, str], progress=None, limit: int = MAX_RECORD_CHARS,
             utf8: bool = False) -> Dataset:
    with open_text(path, "csv", progress, utf8=utf8) as fh:
        lines = Lines(fh, limit, CsvScan)
        return _read(csv.reader(lines), lines, path, columns, limit)


def _read(reader, lines: Lines, path: str, columns: dict[str, str], limit: int) -> Dataset:
    header = _header(reader, lines, path, limit)
    if header is None:
        raise DataError([Problem(path, None, None, "file is empty; expected a header 'question,answer,category'")])
    names = resolve(header, columns, path, lines.line)
    width, problems, strays, row, last = len(names), [], [], 0, None
    sink = RowSink(names, path, problems)
    while True:
        first = lines.first
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError([Problem(path, row + 1, None, f"malformed CSV: {exc}", first)]) from None
        except RecordSkipped as s:
            row += 1
            length, j = s.scan.longest
            problems.append(skipped(path, row, first, names[j] if j < width else None, s.chars, length, limit))
            if s.scan.stray:
                strays.append(stray_problem(path, row, first, s.scan.stray, names, lines.line))
            continue
        raw, multi = lines.kept, len(lines.kept) > 1
        lines.end_record()
        if not rec or (len(rec) == 1 and not rec[0].strip() and width > 1):
            continue  # blank line between records: not data
        row += 1
        if len(rec) > width:
            if any(c.strip() for c in rec[width:]):
                problems.append(Problem(path, row, None, f"the row has {len(rec)} cells but the header has {width}; "
                                        "the cells past the header hold text (a comma outside quotes?)", first,
                                        "error", "extra_cells"))
            rec = rec[:width]
        sink.add(row, first, rec)
        # Only records that span lines (and the last one) can hold a quote that is not closed.
        last = (row, first, raw)
        if multi and (bad := stray_quote("".join(raw))) is not None:
            strays.append(stray_problem(path, row, first, bad, names, lines.line))
    if last is not None and len(last[2]) == 1 and (bad := stray_quote(last[2][0])) is not None:
        strays.append(stray_problem(path, last[0], last[1], bad, names, lines.line))
    if strays:
        raise DataError(strays)
    return sink.done(row)
