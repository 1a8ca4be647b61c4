"""A CLI resume in a new process ends exactly where an uninterrupted run ends (issue 20, item 4).

The in-process resume test (test_reliability) shares the interpreter's RNG and torch state with the run it
resumes; a new process has only what the checkpoint holds, which is what a resume after a crash or a reboot has.
Stochastic cells and context noise are on, so every RNG stream the run draws from must come back.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from helpers import SAMPLE_45

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8",
        "--set", "lattice.fire_rate=0.5", "--seed", "3"]


def train(cache_dir, *args) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "workbench.cli.train", str(SAMPLE_45), "--cache-dir",
                           str(cache_dir), *FAST, *args], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]


def history(out: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader((out / "history.csv").open())]


def test_resume_in_a_new_process_ends_where_the_uninterrupted_run_ends(tmp_path, cache_dir):
    whole, part = tmp_path / "whole", tmp_path / "part"
    train(cache_dir, "--epochs", "3", "--out", str(whole))
    train(cache_dir, "--epochs", "1", "--out", str(part))
    train(cache_dir, "--epochs", "3", "--out", str(part), "--resume", str(part / "last.safetensors"))
    want, got = history(whole), history(part)
    assert [r["epoch"] for r in got] == ["1", "2", "3"]
    assert got == want                   # every figure of every epoch, as text: bit for bit
