"""Checkpoints cannot run code: crafted pickles are refused everywhere a checkpoint is read (issue 7, critical)."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest
import torch

from workbench.cli import train as cli
from workbench.train.record.checkpoint import CheckpointError, encode_checkpoint, load_checkpoint, save_checkpoint
from helpers import SAMPLE_45

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"


class CreatesFile:
    """Unpickling this calls open(marker, "w"): the file appears if anything unpickles it."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def crafted_checkpoints(tmp_path: Path) -> list[tuple[Path, Path]]:
    """(checkpoint, marker) pairs: a torch.save zip and a raw pickle, under old and new names."""
    out = []
    for i, (name, writer) in enumerate([
            ("last.pt", lambda p, m: torch.save({"model": CreatesFile(m), "optimizer": {}, "config": {}, "epoch": 1}, p)),
            ("last.safetensors", lambda p, m: p.write_bytes(pickle.dumps({"model": CreatesFile(m)}))),
            ("best.safetensors", lambda p, m: torch.save({"model": CreatesFile(m)}, p))]):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        marker = tmp_path / f"pwned{i}"
        writer(folder / name, marker)
        out.append((folder / name, marker))
    return out


def test_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path):
    for path, marker in crafted_checkpoints(tmp_path):
        with pytest.raises(CheckpointError, match="never unpickles"):
            load_checkpoint(path)
        assert not marker.exists(), f"loading {path.name} ran code"


def test_ask_panel_loader_refuses_crafted_checkpoint(tmp_path):
    from workbench.train.predict import load_model
    for path, marker in crafted_checkpoints(tmp_path):
        with pytest.raises(CheckpointError, match="never unpickles"):
            load_model(str(path))
        assert not marker.exists()


def test_cli_resume_from_crafted_checkpoint_exits_2(tmp_path, cache_dir, capsys):
    path, marker = crafted_checkpoints(tmp_path)[0]
    code = cli.run([str(SAMPLE_45), "--out", str(tmp_path / "new"), "--resume", str(path), "--epochs", "1",
                    "--cache-dir", str(cache_dir), "--set", "lattice.channels=4", "--set", "lattice.hidden=8",
                    "--set", "lattice.steps=1"])
    err = capsys.readouterr().err
    assert code == 2 and "never unpickles" in err and str(path) in err and "Traceback" not in err
    assert not marker.exists()


def test_round_trip_keeps_structure_and_tensors(tmp_path):
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.ones(3))], lr=1e-3)
    opt.param_groups[0]["params"][0].grad = torch.ones(3)
    opt.step()
    payload = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "optimizer": opt.state_dict(), "config": {"seed": 1},
               "epoch": 2, "best_value": float("-inf"), "tup": (1, "a", None), "gen": torch.Generator().get_state()}
    save_checkpoint(tmp_path / "c.safetensors", payload)
    back = load_checkpoint(tmp_path / "c.safetensors")
    assert torch.equal(back["model"]["w"], payload["model"]["w"]) and back["tup"] == (1, "a", None)
    assert back["best_value"] == float("-inf") and torch.equal(back["gen"], payload["gen"])
    assert set(back["optimizer"]["state"]) == {0}                       # int keys survive
    assert torch.equal(back["optimizer"]["state"][0]["exp_avg"], payload["optimizer"]["state"][0]["exp_avg"])
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    fresh = torch.optim.AdamW([torch.nn.Parameter(torch.ones(3))], lr=1e-3)
    fresh.load_state_dict(back["optimizer"])                             # the optimizer accepts it as is


@pytest.mark.parametrize("damage", ["truncate", "flip-header", "empty", "other-safetensors"])
def test_damaged_or_foreign_files_give_a_clear_error(tmp_path, damage):
    blob = encode_checkpoint({"model": {"w": torch.ones(4)}, "optimizer": {}, "config": {}, "epoch": 1})
    path = tmp_path / "last.safetensors"
    if damage == "truncate":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "flip-header":
        path.write_bytes(blob[:8] + b"#" + blob[9:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        from safetensors.torch import save_file
        save_file({"w": torch.ones(2)}, str(path))
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    assert str(path) in str(e.value)


def test_nothing_in_the_package_unpickles():
    """torch.load, pickle/dill/joblib loads and np.load(allow_pickle=True) are absent from workbench/."""
    offenders = []
    for py in PACKAGE.rglob("*.py"):
        tree = ast.parse(py.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name in ("torch.load", "pickle.load", "pickle.loads", "pickle.Unpickler", "joblib.load",
                            "dill.load", "dill.loads", "torch.serialization.load"):
                    offenders.append(f"{py.name}:{node.lineno} {name}")
                if any(k.arg == "allow_pickle" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                       for k in node.keywords):
                    offenders.append(f"{py.name}:{node.lineno} allow_pickle")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("pickle", "dill", "joblib", "cloudpickle") for n in names):
                    offenders.append(f"{py.name}:{node.lineno} imports a pickle library")
    assert not offenders, offenders
