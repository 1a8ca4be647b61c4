"""Paths and the small fast config shared by the tests."""

from __future__ import annotations

from pathlib import Path

from workbench.train.config import RunConfig, from_preset, set_value

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_45 = ROOT / "sample_data" / "pairs_45.csv"
SAMPLE_160 = ROOT / "sample_data" / "pairs_160.csv"


def small_config(cache_dir, **overrides) -> RunConfig:
    """A lattice small enough to train a few epochs in seconds, with the real teacher."""
    cfg = from_preset("recommended")
    cfg.teacher.cache_dir = str(cache_dir)
    base = {"lattice.channels": 4, "lattice.hidden": 16, "lattice.steps": 3, "lattice.neighbourhood": "von_neumann",
            "optim.epochs": 4, "optim.batch_size": 8, "optim.lr": 3e-3, "optim.early_stop_patience": 0}
    base.update(overrides)
    for k, v in base.items():
        set_value(cfg, k, v)
    return cfg


def cli_run(out: Path, data: Path, cache_dir, epochs: int, flags: list[str]) -> Path:
    """A small run folder trained by workbench-train (the module-scoped run fixtures share this): OUT."""
    from workbench.cli import train as cli_train
    assert cli_train.run([str(data), "--epochs", str(epochs), "--out", str(out), "--cache-dir", str(cache_dir),
                          "--quiet", *flags]) == 0
    return out


def run_until(state, when):
    """All events of train(state); state.request_stop() right after the first event for which when(ev) is true.
    Returns (every event, the events after the stop was asked)."""
    from workbench.train.trainer import train
    seen, stopped_at = [], None
    for e in train(state):
        seen.append(e)
        if stopped_at is None and when(e):
            state.request_stop()
            stopped_at = len(seen)
    return seen, seen[stopped_at:]
