"""Shared fixtures: the real shipped teacher with a per-session cache, and the project's own sample data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers import SAMPLE_45, SAMPLE_160, small_config  # noqa: F401
from shared_data import find_corpus, in_ci
from workbench.teacher.encoder import Teacher, TeacherConfig

@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def teacher(cache_dir) -> Teacher:
    return Teacher(TeacherConfig(cache_dir=str(cache_dir)))


@pytest.fixture
def make_config(cache_dir):
    return lambda **kw: small_config(cache_dir, **kw)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """@pytest.mark.corpus("NAME", ...): the test reads the real corpus ../shared/data/NAME. A fresh clone has no
    ../shared: the test skips, saying why (`pytest -rs`). In CI the corpora are there, and a missing one fails."""
    for mark in item.iter_markers("corpus"):
        missing = [f"../shared/data/{n}" for n in mark.args if find_corpus(n) is None]
        if missing and in_ci():
            pytest.fail(f"{', '.join(missing)} missing: in CI (LATTICE_WORKBENCH_CI=1) the real corpora must sit "
                        "beside the repository", pytrace=False)
        if missing:
            pytest.skip(f"needs the real corpus {', '.join(missing)} (beside the repository in CI, not in a clone)")


def pytest_collection_modifyitems(config, items):
    """GUI tests need a real display (pytest-xvfb starts Xvfb). In CI they must run, never skip."""
    if os.environ.get("LATTICE_WORKBENCH_CI") and any("gui" in it.keywords for it in items):
        if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            raise pytest.UsageError("GUI tests need Xvfb in CI: install xvfb (see .ci/install); refusing to skip them")


@pytest.fixture
def space(tmp_path) -> Path:
    """A small sweep space file (two searched keys), shared by the sweep tests."""
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"defaults": False, "optim.lr": {"low": 1e-3, "high": 1e-2, "log": True},
                                "lattice.steps": {"low": 1, "high": 3}}))
    return path
