"""Issue 11: config facts in one place, as dataclass field metadata read by validation, the CLI and the form."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from workbench.config_meta import field_meta, nested_fields
from workbench.cli import train as cli
from workbench.model.lattice import CellLattice
from workbench.model.lattice_config import LatticeConfig, check_config
from workbench.teacher.encoder import TeacherConfig
from workbench.train.config import ConfigError, RunConfig, field_metas, set_value


def test_every_field_declares_its_facts():
    for cls in (RunConfig, LatticeConfig, TeacherConfig):
        for key, f in nested_fields(cls):
            m = field_meta(f)
            assert m.reason, f"{cls.__name__}.{key} has no reason"
            if f.type in ("int", "float"):
                assert m.range, f"{key} has no range"


def test_the_metadata_is_read_by_dotted_key():
    metas = field_metas()
    assert metas["optim.lr"].range == (1e-7, 1.0) and metas["optim.lr"].hint == "log"
    assert metas["lattice.boundary"].choices == ("walls", "periodic", "reflect")
    assert metas["teacher.max_length"].reason.startswith("MiniLM was trained on 256 tokens")
    assert metas["lattice.steps"].unit == "steps" and metas["lattice.shape"].hint == "shape"


def test_validation_reads_the_metadata():
    cfg = RunConfig()
    with pytest.raises(ConfigError, match=r"lattice.steps=999 is out of range \[0, 512\] steps"):
        set_value(cfg, "lattice.steps", 999)
    with pytest.raises(ConfigError, match="teacher.pooling: 'max' is not one of mean, cls"):
        set_value(cfg, "teacher.pooling", "max")



def test_a_lattice_built_in_code_is_held_to_the_declared_ranges():
    """check_config (which every CellLattice runs) reads the same declared ranges as set_value: it once
    hard-coded weaker ones (fire_rate in (0, 1], channels ≥ 1), so a lattice set up in code, around set_value,
    was built with values --set refuses."""
    cfg = LatticeConfig(fire_rate=0.005, channels=1000, activation="gelu", cell_code=300)
    assert check_config(cfg, 384) == ["lattice.channels=1000 is out of range [1, 256]",
                                      "lattice.fire_rate=0.005 is out of range [0.01, 1]",
                                      "lattice.activation: 'gelu' is not one of tanh, relu",
                                      "lattice.cell_code=300 is out of range [0, 256] values"]
    with pytest.raises(ValueError, match="fire_rate=0.005 is out of range"):
        CellLattice(384, LatticeConfig(fire_rate=0.005))
    for key, f in nested_fields(LatticeConfig):             # and every declared bound itself is accepted
        m = field_meta(f)
        for bound in (m.range or ()):
            value = type(getattr(LatticeConfig(), key))(bound)
            assert not [e for e in check_config(LatticeConfig(**{key: value}), 384) if key in e], (key, bound)


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
