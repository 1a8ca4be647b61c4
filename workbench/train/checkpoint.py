"""Checkpoints (model, optimizer, scheduler, RNG, config, epoch, metrics) written atomically."""

from __future__ import annotations

import io
from pathlib import Path

import torch

from ..data.atomic import atomic_write_bytes


class CheckpointError(Exception):
    pass


def save_checkpoint(path: str | Path, payload: dict) -> None:
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path, device: str = "cpu") -> dict:
    try:
        ck = torch.load(path, map_location=device, weights_only=False)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found") from None
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    missing = {"model", "optimizer", "config", "epoch"} - set(ck) if isinstance(ck, dict) else {"everything"}
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(sorted(missing))}")
    return ck
