"""Issue 19: Ctrl+C and SIGTERM stop workbench-train cleanly, alone and under torchrun. The stop keeps the
interrupted epoch's position in last.safetensors; a resume in a new process trains the next batch (the epoch
is not started again) and ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import SAMPLE_45, SAMPLE_160
from workbench.cli import train as cli
from workbench.train.record.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TINY = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=4", "--seed", "2", "--quiet"]

# workbench-train itself, with one addition: when the console shows batch AT, this process sends itself the signal
# (rank 0 under torchrun sends it to torchrun, which passes it on to every rank, as a cluster's preemption does).
# The signal is real and is handled by the CLI's own handler; sending it from here makes the batch it lands on
# known instead of a race against a fast epoch.
SIGNAL_AT = """
import os, signal, sys
from workbench.cli import progress, train
sig, at, to_parent = getattr(signal, sys.argv[1]), tuple(map(int, sys.argv[2].split(","))), sys.argv[3] == "parent"
shown = progress.Printer.on_batch_progress
def on_batch_progress(self, ev):
    shown(self, ev)
    if (ev.epoch, ev.batch) == at:
        os.kill(os.getppid() if to_parent else os.getpid(), sig)
progress.Printer.on_batch_progress = on_batch_progress
sys.exit(train.run(sys.argv[4:]))
"""


def history(run: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader((run / "history.csv").open())]


def batches_of_last_start(run: Path) -> list[tuple[int, int]]:
    lines = [json.loads(x) for x in (run / "progress.jsonl").read_text().splitlines()]
    last = max(i for i, x in enumerate(lines) if x["kind"] == "started")
    return [(x["epoch"], x["batch"]) for x in lines[last:] if x["kind"] == "batch"]


@pytest.mark.parametrize("sig, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_in_mid_epoch_keeps_it_and_a_new_process_resumes_with_the_next_batch(sig, code, tmp_path, cache_dir):
    common = [str(SAMPLE_45), "--epochs", "3", "--cache-dir", str(cache_dir), *TINY]     # 9 batches an epoch
    straight, out = tmp_path / "straight", tmp_path / "run"
    assert cli.run([*common, "--out", str(straight)]) == 0
    proc = subprocess.run([sys.executable, "-c", SIGNAL_AT, sig, "2,3", "self", *common, "--out", str(out)],
                          env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == code, proc.stderr                   # the run did not complete: a job script can tell
    ck = load_checkpoint(out / "last.safetensors")
    assert (ck["epoch"], ck["partial"]["epoch"], ck["partial"]["batches"]) == (1, 2, 3)
    assert "kept in" in proc.stderr and f"--resume {out / 'last.safetensors'}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "error" not in proc.stderr.lower()     # a notice, not an error
    again = subprocess.run([sys.executable, "-m", "workbench.cli.train", *common, "--out", str(out),
                            "--resume", str(out / "last.safetensors")], env=ENV, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr
    seen = batches_of_last_start(out)
    assert seen[0] == (2, 4) and len(seen) == 6 + 9             # epoch 2 from batch 4, then epoch 3
    assert history(out) == history(straight)


@pytest.mark.slow
def test_sigterm_to_torchrun_stops_every_rank_and_the_resume_under_torchrun_ends_where_a_straight_run_ends(
        tmp_path, cache_dir):
    common = [str(SAMPLE_160), "--epochs", "3", "--cache-dir", str(cache_dir), *TINY]    # 32 batches an epoch
    script = tmp_path / "signal_at.py"
    script.write_text(SIGNAL_AT)
    run = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    straight, out = tmp_path / "straight", tmp_path / "run"
    done = subprocess.run([*run, "-m", "workbench.cli.train", *common, "--out", str(straight)], env=ENV,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    stopped = subprocess.run([*run, str(script), "SIGTERM", "2,3", "parent", *common, "--out", str(out)],
                             env=ENV, capture_output=True, text=True, timeout=900)
    assert stopped.returncode != 0                                # torchrun reports its workers' stop
    ck = load_checkpoint(out / "last.safetensors")                # rank 0 wrote the position all ranks stopped at
    assert ck["epoch"] == 1 and ck["partial"]["epoch"] == 2 and 3 <= ck["partial"]["batches"] < 32
    k = ck["partial"]["batches"]
    again = subprocess.run([*run, "-m", "workbench.cli.train", *common, "--out", str(out), "--resume",
                            str(out / "last.safetensors")], env=ENV, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert batches_of_last_start(out)[0] == (2, k + 1)
    assert history(out) == history(straight)
