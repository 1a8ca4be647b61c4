"""JSON Lines and JSON, streamed: records are parsed one at a time, none longer than the record-size limit.

JSONL: one record per line (split on "\\n" only: U+2028 inside a string is text); a line over the
limit is read past and reported as over_limit, naming the key whose value runs past the limit.
JSON: a list of records, or {"pairs": [...]} with "pairs" first, is parsed element by element with
json.JSONDecoder.raw_decode over a buffer of READ_CHUNK pieces; an element over the limit is read
past by `JsonSkip`. Any other JSON document (an object whose "pairs" list is not its first key) is
read whole, up to the limit, and refused with a hint beyond it.
"""

from __future__ import annotations

import json
import re

from workbench.data.pairs import DataError, Dataset, Problem
from workbench.data.records import from_objects, skipped
from workbench.data.stream import MAX_RECORD_CHARS, READ_CHUNK, Lines, RecordSkipped, open_text

_DECODER = json.JSONDecoder()
_PAIRS_OBJECT = re.compile(r'\{\s*"pairs"\s*:\s*\[')
_STRUCTURE = re.compile(r'["{}\[\]]')
_NOT_A_LIST = "expected a JSON list of {\"question\": ..., \"answer\": ...} objects"


def cut_key(head: str) -> str | None:
    """The key of the object starting `head` whose value runs past its end (None if not an object, or none)."""
    i = len(head) - len(head.lstrip())
    if head[i:i + 1] != "{":
        return None
    i += 1
    try:
        while True:
            while head[i] in " \t\r\n,":
                i += 1
            key, i = _DECODER.raw_decode(head, i)
            while head[i] in " \t\r\n:":
                i += 1
            try:
                _, i = _DECODER.raw_decode(head, i)
            except json.JSONDecodeError:
                return str(key)
    except (json.JSONDecodeError, IndexError, RecursionError):
        return None


class JsonlScan:
    """Where a JSON Lines record ends: past its "\\n". Remembers the key that runs past the first piece."""

    def __init__(self):
        self.key: str | None = None
        self.started = False

    def feed(self, text: str) -> int:
        if not self.started:
            self.started, self.key = True, cut_key(text)
        j = text.find("\n")
        return -1 if j < 0 else j + 1

    def eof(self) -> None:
        pass


class JsonSkip:
    """Where one JSON value (an element of a list) ends, fed in pieces: strings, escapes, bracket depth."""

    def __init__(self):
        self.depth, self.in_string, self.backslashes = 0, False, 0   # backslashes ending the last piece

    def _string_end(self, text: str, i: int) -> int:
        """Index past the closing quote of the string we are in, or -1 (a quote after an odd run of backslashes
        is escaped; str.find, not a regex, so a huge string is passed over at memory speed)."""
        while True:
            j = text.find('"', i)
            if j < 0:
                run = len(text) - len(text.rstrip("\\"))
                self.backslashes = (self.backslashes + run) if run == len(text) else run
                return -1
            k = j
            while k and text[k - 1] == "\\":
                k -= 1
            run = j - k
            if k == 0:
                run += self.backslashes
            self.backslashes = 0
            if run % 2 == 0:
                return j + 1
            i = j + 1

    def feed(self, text: str) -> int:
        i, n = 0, len(text)
        while i < n:
            if self.in_string:
                i = self._string_end(text, i)
                if i < 0:
                    return -1
                self.in_string = False
                if self.depth == 0:
                    return i
                continue
            m = _STRUCTURE.search(text, i)
            if m is None:
                return -1
            c, i = m.group(), m.end()
            if c == '"':
                self.in_string = True
            elif c in "{[":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth <= 0:
                    return i
        return -1

    def eof(self) -> None:
        pass


def load_jsonl(path: str, columns: dict[str, str], progress=None, limit: int = MAX_RECORD_CHARS,
               utf8: bool = False) -> Dataset:
    problems: list[Problem] = []
    objs, row = [], 0
    with open_text(path, "jsonl", progress, newline="\n", utf8=utf8) as fh:
        lines = Lines(fh, limit, JsonlScan, newline="\n")
        while True:
            first = lines.first
            try:
                raw = next(lines)
            except StopIteration:
                break
            except RecordSkipped as s:
                row += 1
                problems.append(skipped(path, row, first, s.scan.key, s.chars, None, limit))
                continue
            lines.end_record()
            if not raw.strip():
                continue
            row += 1
            try:
                objs.append((row, first, json.loads(raw)))
            except (json.JSONDecodeError, RecursionError) as exc:
                why = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                problems.append(Problem(path, row, None, f"invalid JSON: {why}; not loaded", first, "error",
                                        "bad_record"))
    return from_objects(objs, path, columns, problems, row)


class _Buffer:
    """The text of a JSON file in a window of READ_CHUNK pieces: buf[pos:] is what is not parsed yet."""

    def __init__(self, fh, path: str, limit: int):
        self.fh, self.path, self.limit = fh, path, limit
        self.buf, self.pos, self.eof, self.line = "", 0, False, 1     # line: the line buf[0] is on

    def more(self) -> bool:
        # a record cut by the buffer's end is parsed again from its start: read as much again as is pending,
        # so a long record costs a few attempts, not one per chunk
        chunk = self.fh.read(max(READ_CHUNK, len(self.buf) - self.pos))
        self.line += self.buf.count("\n", 0, self.pos)
        self.buf, self.pos, self.eof = self.buf[self.pos:] + chunk, 0, not chunk
        return bool(chunk)

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self.more():
                return self.buf[self.pos:self.pos + 1]

    def error(self, message: str, pos: int | None = None) -> DataError:
        line = self.line + self.buf.count("\n", 0, self.pos if pos is None else pos)
        return DataError([Problem(self.path, None, None, f"invalid JSON: {message}", line)])

    def value(self):
        """The next JSON value; (None, length) in place of one over the limit, read past."""
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
                if end - self.pos > self.limit:      # within one buffer, so held briefly; over the limit all the same
                    key, length, self.pos = cut_key(self.buf[self.pos:self.pos + self.limit]), end - self.pos, end
                    return None, (key, length)
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return obj, None
            except json.JSONDecodeError as exc:
                cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.buf) - 16
                if self.eof or not cut:
                    raise self.error(exc.msg, exc.pos) from None
            except RecursionError:
                raise self.error("nested too deeply") from None
            if len(self.buf) - self.pos > self.limit:
                return None, self._skip()
            self.more()

    def _skip(self) -> tuple[str | None, int]:
        key, scan, chars = cut_key(self.buf[self.pos:self.pos + self.limit]), JsonSkip(), 0
        while True:
            end = scan.feed(self.buf[self.pos:]) if self.pos < len(self.buf) else -1
            if end >= 0:
                self.pos += end
                return key, chars + end
            chars += len(self.buf) - self.pos
            self.pos = len(self.buf)
            if not self.more():
                raise self.error("the file ends inside a record (a list or string that is not closed)")


def load_json(path: str, columns: dict[str, str], progress=None, limit: int = MAX_RECORD_CHARS,
              utf8: bool = False) -> Dataset:
    with open_text(path, "json", progress, utf8=utf8) as fh:
        src = _Buffer(fh, path, limit)
        first = src.peek()
        while first == "{" and len(src.buf) - src.pos < 64 and src.more():
            pass
        if first == "[":
            src.pos += 1
        elif first == "{" and (m := _PAIRS_OBJECT.match(src.buf, src.pos)):
            src.pos = m.end()
        else:
            return _load_whole(src, columns)
        objs, problems = [], []
        _elements(src, objs, problems)
        if first == "[" and src.peek():
            raise src.error("Extra data")
    return from_objects(objs, path, columns, problems, len(objs) + len(problems))


def _elements(src: _Buffer, objs: list, problems: list[Problem]) -> None:
    """The list's elements up to its closing "]" (already past the "[")."""
    if src.peek() == "]":
        src.pos += 1
        return
    while True:
        obj, skip = src.value()
        row = len(objs) + len(problems) + 1
        if skip is None:
            objs.append((row, None, obj))
        else:
            problems.append(skipped(src.path, row, None, skip[0], skip[1], None, src.limit))
        c = src.peek()
        src.pos += 1
        if c == "]":
            return
        if c != ",":
            raise src.error("the list is not closed" if not c else "Expecting ',' delimiter", src.pos - 1)
        if src.peek() == "]":
            raise src.error("Expecting value (a comma before ']')")


def _load_whole(src: _Buffer, columns: dict[str, str]) -> Dataset:
    """Any other JSON document: read whole, as long as it is within the record-size limit."""
    while src.more():
        if len(src.buf) > src.limit:
            raise DataError([Problem(src.path, None, None, f"a JSON file that is not a list of records is read whole, "
                                     f"up to {src.limit:,} characters, and this one is longer: save it as JSON Lines "
                                     "(one record per line), or as a list, or with the \"pairs\" list first")])
    try:
        data = json.loads(src.buf)
    except json.JSONDecodeError as exc:
        raise DataError([Problem(src.path, None, None, f"invalid JSON: {exc.msg}", exc.lineno)]) from None
    except RecursionError:
        raise DataError([Problem(src.path, None, None, "invalid JSON: nested too deeply")]) from None
    if isinstance(data, dict) and isinstance(data.get("pairs"), list):
        data = data["pairs"]
    if not isinstance(data, list):
        raise DataError([Problem(src.path, None, None, _NOT_A_LIST)])
    return from_objects([(i, None, obj) for i, obj in enumerate(data, start=1)], src.path, columns, [], len(data))
