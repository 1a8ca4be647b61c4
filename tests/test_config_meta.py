"""Issue 11: config facts in one place, as dataclass field metadata read by validation, the CLI and the form."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from workbench.config_meta import field_meta, nested_fields
from workbench.cli import train as cli
from workbench.model.lattice_config import LatticeConfig
from workbench.teacher.encoder import TeacherConfig
from workbench.train.config import (CHOICES, RANGES, ConfigError, RunConfig, field_reasons, set_value,
                                    validate_config)


def test_every_field_declares_its_facts():
    for cls in (RunConfig, LatticeConfig, TeacherConfig):
        for key, f in nested_fields(cls):
            m = field_meta(f)
            assert m.reason, f"{cls.__name__}.{key} has no reason"
            if f.type in ("int", "float"):
                assert m.range, f"{key} has no range"


def test_legacy_tables_are_views_of_the_metadata():
    metas = {k: field_meta(f) for k, f in nested_fields(RunConfig)}
    assert RANGES == {k: m.range for k, m in metas.items() if m.range}
    assert CHOICES == {k: m.choices for k, m in metas.items() if m.choices}
    assert RANGES["optim.lr"] == (1e-7, 1.0) and metas["optim.lr"].hint == "log"
    assert CHOICES["lattice.boundary"] == ("walls", "periodic", "reflect")
    assert field_reasons()["teacher.max_length"].startswith("MiniLM was trained on 256 tokens")
    assert metas["lattice.steps"].unit == "steps" and metas["lattice.shape"].hint == "shape"


def test_validation_reads_the_metadata():
    cfg = RunConfig()
    with pytest.raises(ConfigError, match=r"lattice.steps=999 is out of range \[0, 512\] steps"):
        set_value(cfg, "lattice.steps", 999)
    with pytest.raises(ConfigError, match="teacher.pooling: 'max' is not one of mean, cls"):
        set_value(cfg, "teacher.pooling", "max")
    cfg.optim.lr, cfg.lattice.activation = 3.0, "gelu"        # set in code, around set_value
    assert validate_config(cfg) == ["lattice.activation: 'gelu' is not one of tanh, relu",
                                    "optim.lr=3.0 is out of range [1e-07, 1]"]


def test_list_keys_shows_every_key_with_its_facts(capsys):
    assert cli.run(["--list-keys"]) == 0
    out = capsys.readouterr().out
    for key, f in nested_fields(RunConfig):
        line = next(ln for ln in out.splitlines() if ln.startswith(key + " "))
        assert field_meta(f).reason in line
    assert "1e-07…1" in out and "von_neumann|moore" in out


def test_lattice_config_stays_torch_free():
    code = ("import sys, workbench.model.lattice_config, workbench.config_meta, workbench.train.config; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_metadata_helper_refuses_an_empty_range():
    from workbench.config_meta import setting

    with pytest.raises(ValueError, match="empty"):
        @dataclasses.dataclass
        class Bad:
            x: int = setting(1, "why", range=(5, 1))
