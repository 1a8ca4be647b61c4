"""The inspect outputs kept in a folder (by default RUN_DIR/inspect/), written atomically, read without pickle.

    knockout.npy   (X, Y, Z) float32: each cell's delta_cosine when its region is silenced
    atlas.npz      names (K,) str, counts (K,) int, states (K, T+1, C, X, Y, Z) float32
    inspect.json   the report (the command's --json): base_cosine, regions, deciles, step dynamics, atlas
A later inspection of the same run replaces them: they are derived from the run, never its record.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from workbench.data.atomic import atomic_write_bytes, atomic_write_text
from workbench.inspect.atlas import Atlas

FOLDER = "inspect"
KNOCKOUT = "knockout.npy"
ATLAS = "atlas.npz"
REPORT = "inspect.json"


def default_folder(run_dir: str | Path) -> Path:
    return Path(run_dir) / FOLDER


def save_npy(path: Path, array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def save_atlas(path: Path, atlas: Atlas) -> None:
    buf = io.BytesIO()
    np.savez(buf, names=np.asarray(atlas.names, dtype=str), counts=np.asarray(atlas.counts, np.int64),
             states=atlas.states.astype(np.float32), unlabelled=np.int64(atlas.unlabelled))
    atomic_write_bytes(path, buf.getvalue())


def load_atlas(path: str | Path) -> Atlas:
    """ValueError naming the file when it is not an atlas this module wrote."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return Atlas([str(n) for n in z["names"]], [int(c) for c in z["counts"]], z["states"].astype(np.float32),
                         int(z["unlabelled"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable atlas ({exc})") from None


def load_knockout(path: str | Path) -> np.ndarray:
    """(X, Y, Z) float32; ValueError naming the file when it is not a 3D array."""
    try:
        vol = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable knockout map ({exc})") from None
    if vol.ndim != 3:
        raise ValueError(f"{path}: a knockout map holds one value per cell (X, Y, Z), not shape {vol.shape}")
    return vol.astype(np.float32)


def save_report(path: str | Path, report: dict) -> None:
    atomic_write_text(path, json.dumps(report, indent=1) + "\n")
