"""Axes for the training charts: readable log ticks, and epoch numbers along the top of a samples-seen x-axis."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

NICE_STRIDES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _fmt(v: float) -> str:
    """1e-3 → '0.001' when short, else '1e-3'; 2e-4 → '2e-4'."""
    s = f"{v:.0e}" if v < 1e-2 or v >= 1e4 else f"{v:g}"
    return s.replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


class LogAxis(pg.AxisItem):
    """Log-mode ticks that do not pile up: decades are labelled (1e-3, 0.01, 0.1, 1); the 2…9 ticks
    between them get labels only when no decade is in view, and then only 1, 2 and 5."""

    def logTickStrings(self, values, scale, spacing):
        lo, hi = sorted(self.range)
        decade_in_view = math.floor(hi) >= math.ceil(lo)
        out = []
        for v in values:
            real = 10 ** v * scale
            whole = abs(v - round(v)) < 1e-6
            if whole:
                out.append(_fmt(real))
            elif spacing is None and not decade_in_view and round(real / 10 ** math.floor(v), 3) in (1.0, 2.0, 5.0):
                out.append(_fmt(float(f"{real:.1g}")))
            else:
                out.append("")
        return out


class EpochAxis(pg.AxisItem):
    """Ticks at the samples seen where each epoch ended, labelled with the epoch, thinned to fit."""

    def __init__(self, orientation: str = "top", **kw):
        super().__init__(orientation, **kw)
        self._x = np.empty(0)
        self._e = np.empty(0, dtype=int)

    def set_epochs(self, ticks: list[tuple[float, int]]) -> None:
        x = np.array([t[0] for t in ticks], dtype=float)
        if len(x) == len(self._x) and np.array_equal(x, self._x):
            return
        self._x, self._e = x, np.array([t[1] for t in ticks], dtype=int)
        self.picture = None
        self.update()

    def tickValues(self, minVal, maxVal, size):
        inside = (self._x >= minVal) & (self._x <= maxVal)
        xs, es = self._x[inside], self._e[inside]
        if not len(xs):
            return []
        room = max(1, int(size / 40))        # ~40 px per label
        stride = next((s for s in NICE_STRIDES if len(xs) / s <= room), NICE_STRIDES[-1])
        keep = (es % stride == 0) | (es == es.min()) if stride > 1 else np.ones(len(es), bool)
        xs, es = xs[keep], es[keep]
        if len(xs) > 1 and maxVal > minVal:   # the first label reads "epoch N": keep its neighbours clear of it
            px = (xs - xs[0]) * size / (maxVal - minVal)
            ok = (px == 0) | (px > 52)
            xs, es = xs[ok], es[ok]
        self._labels = {float(x): int(e) for x, e in zip(xs, es)}
        return [(float(stride), xs.tolist())]

    def tickStrings(self, values, scale, spacing):
        labels = getattr(self, "_labels", {})
        out = []
        for i, v in enumerate(values):
            e = labels.get(float(v))
            out.append("" if e is None else (f"epoch {e}" if i == 0 else str(e)))
        return out


class XFollow:
    """The shared x-range of a live run: it follows the data in coarse steps, doubling whenever the newest point
    passes the right edge (capped at the planned end of the run), so the first batches fill the chart instead of
    a sliver of the planned run, and the x-linked plots change range (a repaint of every plot) only
    log2(planned / first batch) times in a whole run. A manual zoom or pan stops following until the next run."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.span = 0.0
        self.following = True

    def grow(self, x: float, cap: float = 0.0) -> bool:
        """Take the newest x; True when the range must change (to 0…span)."""
        if not self.following or x <= self.span or x <= 0:
            return False
        span = self.span or x
        while span < x * (1 if self.span else 2):
            span *= 2
        if cap >= x:
            span = min(span, cap)
        self.span = float(span)
        return True
