"""Search and filter for a table of 10k+ rows: a casefolded index scanned by str.find, and a proxy that reads a mask.

The index is one string: every row's searchable text, casefolded once, separated by a character
no text holds. A search is a run of `str.find` calls over it (C speed; ~20 MB in a few ms) that
jumps to the next row after each hit, so a keystroke costs one scan, not one Python call per row
and field. Edited rows are re-casefolded alone; the joined string is rebuilt lazily, on the next
search. The proxy's filterAcceptsRow only reads a precomputed boolean per row.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSortFilterProxyModel, Qt

SEP = "\x00"   # NUL never survives into a searchable text: the loaders and the rules flag control characters


class SearchIndex:
    def __init__(self):
        self.texts: list[str] = []        # casefolded searchable text per row
        self._cache: dict[int, tuple] = {}   # id(pair) → (its source strings, casefolded text)
        self._joined: str | None = None
        self._starts = np.zeros(1, dtype=np.int64)

    def update(self, pairs) -> None:
        """Re-casefold only rows whose texts are not the same string objects as last time
        (an edit replaces the string, or the extra-columns dict, of its pair)."""
        cache, fresh, texts = self._cache, {}, []
        for pair in pairs:
            hit = cache.get(id(pair))
            if hit is None or hit[0] is not pair.question or hit[1] is not pair.answer \
                    or hit[2] is not pair.category or hit[3] is not pair.extra:
                src = (pair.question, pair.answer, pair.category, *pair.extra.values())
                hit = (pair.question, pair.answer, pair.category, pair.extra,
                       " \x1f ".join(s for s in src if s).replace(SEP, " ").casefold())
            fresh[id(pair)] = hit
            texts.append(hit[4])
        self._cache, self.texts, self._joined = fresh, texts, None

    def _ensure_joined(self) -> None:
        if self._joined is None:
            self._joined = SEP.join(self.texts) + SEP
            lengths = np.fromiter((len(t) + 1 for t in self.texts), dtype=np.int64, count=len(self.texts))
            self._starts = np.concatenate([[0], np.cumsum(lengths)])

    def matching(self, needle: str) -> np.ndarray:
        """Boolean mask: rows whose text contains the casefolded needle."""
        n = len(self.texts)
        mask = np.zeros(n, dtype=bool)
        needle = needle.casefold()
        if not needle:
            mask[:] = True
            return mask
        self._ensure_joined()
        big, starts, pos = self._joined, self._starts, 0
        while True:
            hit = big.find(needle, pos)
            if hit < 0:
                break
            row = int(np.searchsorted(starts, hit, side="right")) - 1
            if row >= n:
                break
            mask[row] = True
            pos = int(starts[row + 1])        # one hit per row is enough: continue at the next row
        return mask


class DatasetFilter(QSortFilterProxyModel):
    """Search text, category and "rows with problems" filters over a DatasetModel; sorts numbers as numbers."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.text, self.category, self.only_rows = "", "", None
        self.search_index = SearchIndex()
        self._stale = True                      # the index lags the data until a search needs it
        self._mask: np.ndarray | None = None    # None: every row passes
        self.setSortRole(Qt.UserRole)

    def setSourceModel(self, model) -> None:
        super().setSourceModel(model)
        model.contentChanged.connect(self._source_changed)
        model.modelReset.connect(self._source_changed)
        self._source_changed()

    def _source_changed(self) -> None:
        self._stale = True
        if self.text or self.category or self.only_rows is not None:
            self._compute_mask()
            self._refilter()

    def _compute_mask(self) -> None:
        pairs = self.sourceModel().dataset.pairs
        if self._stale and self.text:
            self.search_index.update(pairs)
            self._stale = False
        mask = self.search_index.matching(self.text) if self.text else np.ones(len(pairs), dtype=bool)
        if self.category:
            mask &= np.fromiter((p.category == self.category for p in pairs), dtype=bool, count=len(pairs))
        if self.only_rows is not None:
            keep = np.zeros(len(pairs), dtype=bool)
            keep[[r for r in self.only_rows if r < len(pairs)]] = True
            mask &= keep
        self._mask = None if mask.all() else mask

    def _refilter(self) -> None:
        if hasattr(self, "beginFilterChange"):   # Qt ≥ 6.9: invalidate*Filter() are deprecated
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def set_filters(self, text: str | None = None, category: str | None = None, only_rows=False) -> None:
        """Change any of the filters (only_rows: a set of source rows, or None for all; False = unchanged)."""
        if text is not None:
            self.text = text.casefold()
        if category is not None:
            self.category = category
        if only_rows is not False:
            self.only_rows = None if only_rows is None else set(only_rows)
        self._compute_mask()
        self._refilter()

    def set_text(self, text: str) -> None:
        self.set_filters(text=text)

    def set_category(self, category: str) -> None:
        self.set_filters(category=category)

    def filterAcceptsRow(self, row, parent):
        mask = self._mask
        return mask is None or (row < len(mask) and bool(mask[row]))

    def lessThan(self, left, right):
        # Ask the Python model directly: QModelIndex.data() returning None from Python over-releases
        # None in PySide6 6.12 (a refcount bug that later aborts the interpreter).
        src = self.sourceModel()
        a, b = src.sort_key(left.row(), left.column()), src.sort_key(right.row(), right.column())
        if a is None or b is None:
            return (a is None) and (b is not None)
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)
