import csv
import json
import subprocess
import sys

import pytest

from workbench.cli import train as cli
from workbench.train.config import ConfigError, from_preset, load_config, save_config, set_value, field_metas, PRESETS
from helpers import SAMPLE_45

FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8"]

REQUIRED_KEYS = {"val_cosine", "val_top1", "val_mrr", "train_cosine", "train_cosine_start",
                 "baseline_identity_val_cosine", "baseline_identity_val_top1", "baseline_ridge_val_cosine",
                 "epochs_run", "best_epoch", "teacher", "embedding_dim", "lattice_shape", "n_train", "n_val",
                 "grad_coverage", "seconds"}


def test_headless_run_writes_the_run_folder(tmp_path, cache_dir, capsys):
    out = tmp_path / "run"
    code = cli.run([str(SAMPLE_45), "--epochs", "3", "--seed", "2", "--out", str(out),
                    "--cache-dir", str(cache_dir), *FAST])
    assert code == 0
    printed = capsys.readouterr()
    assert "LATTICE" in printed.out and "identity" in printed.out
    metrics = json.loads((out / "metrics.json").read_text())
    assert REQUIRED_KEYS <= set(metrics)
    assert metrics["epochs_run"] == 3 and metrics["n_train"] + metrics["n_val"] == 45
    assert metrics["embedding_dim"] == 384 and metrics["lattice_shape"] == [8, 8, 8]  # recommended: 8×8×6 + 2 layers
    rows = list(csv.DictReader((out / "history.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["seed"] == 2 and cfg["optim"]["epochs"] == 3
    report = (out / "report.md").read_text()
    for part in ("identity", "ridge", "absolute", "relative", "factor", "Training dynamics", "Dataset"):
        assert part in report
    assert (out / "best.safetensors").exists() and (out / "last.safetensors").exists()
    # resume from the checkpoint for two more epochs
    assert cli.run([str(SAMPLE_45), "--epochs", "5", "--seed", "2", "--out", str(out), "--resume",
                    str(out / "last.safetensors"), "--cache-dir", str(cache_dir), *FAST]) == 0
    assert [r["epoch"] for r in csv.DictReader((out / "history.csv").open())] == ["1", "2", "3", "4", "5"]
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 5


@pytest.mark.parametrize("args,needle", [
    (["--set", "optim.lr=fast"], "optim.lr: expected a float"),
    (["--set", "optim.nope=1"], "unknown config key 'optim.nope'"),
    (["--set", "optim.lr=5"], "out of range"),
    (["--set", "lattice.boundary=sticky"], "not one of"),
    (["--teacher", "/no/such/model/dir"], "teacher '/no/such/model/dir'"),
])
def test_bad_arguments_exit_nonzero_without_traceback(tmp_path, args, needle):
    proc = subprocess.run([sys.executable, "-m", "workbench.cli.train", str(SAMPLE_45), "--out", str(tmp_path / "r"), *args],
                          capture_output=True, text=True, timeout=120, env={"HF_HUB_OFFLINE": "1", "PATH": ""})
    assert proc.returncode == 2
    assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_bad_data_names_file_row_and_field(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer,category\nWhat is a GPU?,A processor for parallel work.,cs\n"
                   "What is a CPU?,   ,cs\n")
    proc = subprocess.run([sys.executable, "-m", "workbench.cli.train", str(bad), "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "bad.csv, row 2 (line 3), field 'answer': empty" in proc.stderr


def test_missing_file_is_a_clean_error(tmp_path):
    assert cli.run([str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r")]) == 2


def test_config_round_trip_and_file_errors(tmp_path):
    cfg = from_preset("prototype-2.2")
    set_value(cfg, "lattice.shape", "8x8x8")
    save_config(cfg, tmp_path / "c.json")
    assert load_config(tmp_path / "c.json") == cfg
    (tmp_path / "bad.json").write_text('{"optim": {"lr": "x"}}')
    with pytest.raises(ConfigError, match="bad.json: optim.lr"):
        load_config(tmp_path / "bad.json")


def test_every_field_has_a_reason_and_presets_differ():
    reasons = {k: m.reason for k, m in field_metas().items()}
    assert all(reasons.values()), [k for k, v in reasons.items() if not v]
    a, b = from_preset("prototype-2.1"), from_preset("prototype-2.2")
    assert a.lattice.steps == 25 and a.optim.lr == 5e-4 and a.optim.batch_size == 4 and a.optim.epochs == 10
    assert (a.loss.mse, a.loss.cosine, a.loss.l1) == (0.7, 0.3, 0.1)
    assert a != b and set(PRESETS) == {"prototype-2.1", "prototype-2.2", "recommended", "large-data"}
