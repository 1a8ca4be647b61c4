"""Shared fixtures: the real shipped teacher with a per-session cache, and the project's own sample data."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.config import RunConfig, from_preset, set_value
from workbench.teacher import Teacher, TeacherConfig

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_45 = ROOT / "sample_data" / "pairs_45.csv"
SAMPLE_160 = ROOT / "sample_data" / "pairs_160.csv"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def teacher(cache_dir) -> Teacher:
    return Teacher(TeacherConfig(cache_dir=str(cache_dir)))


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


@pytest.fixture
def make_config(cache_dir):
    return lambda **kw: small_config(cache_dir, **kw)
