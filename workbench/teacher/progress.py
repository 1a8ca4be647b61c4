"""What the teacher reports while it embeds (EmbedProgress, shown by the CLI and the GUI) and after (EncodeStats)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EmbedProgress:
    done: int                    # distinct texts that have a vector so far: cache hits + encoded
    total: int                   # distinct texts to embed (a repeated text is embedded once)
    cache_hits: int              # of those, read from the cache
    label: str = ""              # which texts are being embedded ("texts", "answers", …)
    encoded: int = 0             # texts run through the model so far
    texts_per_s: float = 0.0     # model throughput over the texts encoded so far (0 before the first batch)
    eta_s: float | None = None   # seconds left, from the padded tokens still to run; None before the first batch
    elapsed_s: float = 0.0       # since this encode call began (cache lookup and model load included)


@dataclass
class EncodeStats:
    texts: int = 0               # texts asked for, repeats included
    distinct: int = 0
    cache_hits: int = 0          # distinct texts served by the cache
    encoded: int = 0             # distinct texts run through the model
    truncated: int = 0           # texts (repeats included) longer than max_length tokens, cut to it
    damaged: int = 0             # cache entries that failed verification and were re-encoded
    model_batches: int = 0
    seconds: float = 0.0
