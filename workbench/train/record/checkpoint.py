"""Checkpoints that cannot run code: one safetensors file whose header carries the run's JSON state.

Why safetensors and not `torch.load(weights_only=True)`: a safetensors file is a JSON header
followed by raw little-endian tensor bytes, so reading one never executes anything, whatever
its author put in it. `weights_only=True` restricts unpickling instead of avoiding it; torch
releases before 2.6 that our pin still admits (>=2.2) had a bypass that ran code
(CVE-2025-32434), and numpy RNG state would need extra globals allowed. So nothing in
Lattice Workbench unpickles: an old `.pt` checkpoint, or any pickle, is refused with a message.

Layout of `last.safetensors` / `best.safetensors` (one file, so an atomic write is one rename):
  tensors:   "model/w1", "optimizer/state/0/exp_avg", "rng/torch", … (every tensor in the payload)
  metadata:  {"format": "lattice-workbench-checkpoint", "version": "1", "state": JSON}
where JSON is the payload with each tensor replaced by {"__tensor__": key}, each tuple by
{"__tuple__": [...]} and each dict with non-string keys (optimizer state is keyed by int) by
{"__items__": [[key, value], ...]}, so `load_checkpoint(save_checkpoint(x)) == x` structurally.
"""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load, save as st_save

from workbench.config_meta import UserError
from workbench.data.atomic import atomic_write_bytes

CHECKPOINT_SUFFIX = ".safetensors"
FORMAT = "lattice-workbench-checkpoint"
VERSION = "1"
REQUIRED = ("model", "optimizer", "config", "epoch")
MAX_HEADER = 100 * 2**20            # safetensors' own header limit; a larger "header" is not ours


class CheckpointError(UserError):
    """A checkpoint that cannot be used; the message names the file and what to do."""


# -- payload <-> (tensors, JSON) ------------------------------------------------------------

def _join(key: str, part) -> str:
    return f"{key}/{part}" if key else str(part)


def _flatten(obj: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        # clone: safetensors refuses tensors that share storage, and a view may not be contiguous
        tensors[key] = obj.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _flatten(v, _join(key, k), tensors) for k, v in obj.items()}
        return {"__items__": [[k, _flatten(v, _join(key, k), tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_flatten(v, _join(key, i), tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_flatten(v, _join(key, i), tensors) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"checkpoint field {key!r}: cannot store a {type(obj).__name__}")


def _restore(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__tensor__"}:
            return tensors[obj["__tensor__"]]
        if set(obj) == {"__tuple__"}:
            return tuple(_restore(v, tensors) for v in obj["__tuple__"])
        if set(obj) == {"__items__"}:
            return {k: _restore(v, tensors) for k, v in obj["__items__"]}
        return {k: _restore(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_restore(v, tensors) for v in obj]
    return obj


def encode_checkpoint(payload: dict) -> bytes:
    tensors: dict[str, torch.Tensor] = {}
    state = _flatten(payload, "", tensors)
    meta = {"format": FORMAT, "version": VERSION, "state": json.dumps(state, allow_nan=True)}
    return st_save(tensors, metadata=meta)


def save_checkpoint(path: str | Path, payload: dict) -> None:
    """Write atomically (temp file, fsync, rename): a kill mid-save leaves the previous checkpoint intact."""
    atomic_write_bytes(path, encode_checkpoint(payload))


def _header(blob: bytes, path) -> dict:
    """The safetensors JSON header, or a CheckpointError that says what the file looks like instead."""
    if blob[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or blob[:4] == b"PK\x03\x04":
        raise CheckpointError(
            f"{path}: this is a pickled PyTorch checkpoint (an old Lattice Workbench '.pt' file or one made "
            "elsewhere). Lattice Workbench never unpickles files, because unpickling can run any code the "
            f"file's author chose; it reads only its own '{CHECKPOINT_SUFFIX}' checkpoints. Train again to get one.")
    if len(blob) < 8:
        raise CheckpointError(f"{path}: not a checkpoint (only {len(blob)} bytes)")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise CheckpointError(f"{path}: not a Lattice Workbench checkpoint (no safetensors header; "
                              "truncated, or another kind of file)")
    try:
        header = json.loads(blob[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint header ({exc})") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file, but not a Lattice Workbench checkpoint "
                              "(no run state in its header)")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')!r}; this version "
                              f"reads version {VERSION}")
    return meta


def _read(path: str | Path, read) -> bytes:
    """read(), with a missing or unreadable file as one CheckpointError that names it."""
    try:
        return read()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc.strerror or exc})") from None


def load_checkpoint(path: str | Path, device: str = "cpu") -> dict:
    """The payload given to save_checkpoint, tensors on the CPU (load_state_dict moves them to `device`)."""
    blob = _read(path, Path(path).read_bytes)
    meta = _header(blob, path)
    try:
        tensors = st_load(blob)
        ck = _restore(json.loads(meta["state"]), tensors)
    except (SafetensorError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint ({type(exc).__name__}: {exc})") from None
    missing = set(REQUIRED) - set(ck) if isinstance(ck, dict) else {"everything"}
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(sorted(missing))}")
    return ck


def read_state(path: str | Path) -> dict:
    """The run state from the header alone (tensors left as {"__tensor__": key} placeholders): reads a few
    kilobytes, not the weights, so a --resume can be checked before anything slow starts."""
    def header_bytes() -> bytes:
        with open(path, "rb") as fh:
            head = fh.read(8)
            n = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            return head + (fh.read(n) if n <= MAX_HEADER else b"")
    blob = _read(path, header_bytes)
    meta = _header(blob, path)
    try:
        state = json.loads(meta["state"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or set(REQUIRED) - set(state):
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(sorted(set(REQUIRED) - set(state or {})))}")
    return state


# -- random number generators: a resumed run draws the same numbers as an uninterrupted one ----

def capture_rng() -> dict:
    """torch (CPU and every CUDA device), numpy's global and Python's `random` states."""
    name, key, pos, has_gauss, cached = np.random.get_state()
    out = {"torch": torch.get_rng_state(),
           "numpy": {"name": name, "key": torch.from_numpy(key.astype(np.int64)), "pos": int(pos),
                     "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
           "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def restore_rng(rng: dict) -> None:
    torch.set_rng_state(rng["torch"])
    n = rng["numpy"]
    np.random.set_state((n["name"], n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    version, internal, gauss = rng["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(rng["cuda"]))
