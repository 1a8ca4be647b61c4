"""Time as the trainer sees it: an active clock that skips pauses, and throughput with an ETA."""

from __future__ import annotations

import time
from collections import deque


def fmt_duration(seconds: float | None, spaced: bool = False, unknown: str = "?") -> str:
    """`unknown` before a rate is known, else 42s, 3m05s or 2h07m (the console), or with spaced=True
    42 s, 3 min 05 s or 2 h 07 min (the app's labels)."""
    if seconds is None or seconds != seconds or seconds < 0:
        return unknown
    s = int(round(seconds))
    sec, mins, hrs = (" s", " min ", " h ") if spaced else ("s", "m", "h")
    if s < 60:
        return f"{s}{sec}"
    if s < 3600:
        return f"{s // 60}{mins}{s % 60:02d}{sec}"
    return f"{s // 3600}{hrs}{s % 3600 // 60:02d}{mins.rstrip()}"


class ActiveClock:
    """Seconds the trainer itself ran: the time a consumer holds the generator between events (a paused GUI,
    a slow writer) is not counted, so throughput and ETA stay true across a pause."""

    def __init__(self):
        self.total, self._since = 0.0, time.perf_counter()

    def hold(self) -> None:
        self.total += time.perf_counter() - self._since

    def release(self) -> None:
        self._since = time.perf_counter()

    def __call__(self) -> float:
        return self.total + time.perf_counter() - self._since


class Throughput:
    """Samples/s over the last `window` batches and the ETA to the end of the run."""

    def __init__(self, window: int = 50):
        self.marks: deque[tuple[float, int]] = deque(maxlen=window + 1)
        self.eval_s = 0.0           # duration of the last end-of-epoch evaluation, added once per remaining epoch

    def restart(self, t: float, samples: int) -> None:
        self.marks.clear()
        self.marks.append((t, samples))

    def update(self, t: float, samples: int) -> float:
        self.marks.append((t, samples))
        (t0, s0), (t1, s1) = self.marks[0], self.marks[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def eta(self, rate: float, samples_left: int, evals_left: int) -> float:
        return (samples_left / rate if rate > 0 else 0.0) + evals_left * self.eval_s
