"""workbench-train under torchrun with 2 gloo processes: same trajectory as 1 process, rank-0-only writes, resume,
and a job whose rank dies or whose data is bad ends quickly with a clear message."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import SAMPLE_45, SAMPLE_160
from workbench.cli import train as cli
from workbench.train.record.progress_log import PROGRESS_FILE, read_progress

ROOT = Path(__file__).resolve().parents[1]
# the recommended preset's loss (MSE + cosine + L1 + InfoNCE over the batch) and context noise, on a tiny lattice
TINY = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=16", "--quiet"]


def torchrun(*args: str, nproc: int = 2, env_extra: dict | None = None, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "workbench.cli.train", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, **kw)


def history(run: Path) -> list[dict]:
    return [{k: float(v) for k, v in row.items()} for row in csv.DictReader((run / "history.csv").open())]


def _rank_pid(launcher: int, rank: int) -> int | None:
    """The worker process torchrun started with RANK=rank (Linux /proc)."""
    for task in Path(f"/proc/{launcher}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                env = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"RANK={rank}".encode() in env:
                return int(child)
    return None


def _after_first_epoch(proc: subprocess.Popen, run: Path, rank: int = 1) -> int:
    """Wait until rank 0 recorded epoch 1 (the ranks are then in epoch 2); the pid of `rank`."""
    deadline = time.monotonic() + 300
    while not (run / PROGRESS_FILE).exists() or '"kind":"epoch"' not in (run / PROGRESS_FILE).read_text():
        assert proc.poll() is None and time.monotonic() < deadline, "training never started"
        time.sleep(0.1)
    pid = _rank_pid(proc.pid, rank)
    assert pid is not None
    return pid


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the rank's process through /proc")
def test_stochastic_cells_under_two_processes_follow_one_process_through_a_killed_rank_and_a_resume(tmp_path,
                                                                                                    cache_dir):
    """fire_rate < 1 and context noise: 2 processes give the 1-process validation cosine in every epoch (1e-4),
    also after SIGKILL to rank 1 mid-epoch and `--resume last.safetensors` under torchrun. The kill ends the job
    within 60 s naming the rank and the signal, and the folder keeps the last completed epoch."""
    from workbench.train.record.checkpoint import load_checkpoint
    one, two = tmp_path / "one", tmp_path / "two"
    common = [str(SAMPLE_160), "--cache-dir", str(cache_dir), *TINY, "--set", "lattice.fire_rate=0.6"]
    assert cli.run([*common, "--epochs", "4", "--out", str(one)]) == 0
    proc = torchrun(*common, "--out", str(two), "--epochs", "40")      # cannot end before the kill
    try:
        pid = _after_first_epoch(proc, two)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        out, _ = proc.communicate(timeout=120)      # bounded: never a hang
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.monotonic() - killed < 60 and proc.returncode != 0, out
    assert "rank      : 1" in out and "SIGKILL" in out                 # torchrun names the rank that died
    kept = history(two)                                                # whole epochs, and the checkpoint of the last
    assert 1 <= len(kept) < 4 and int(load_checkpoint(two / "last.safetensors")["epoch"]) == len(kept)
    proc = torchrun(*common, "--out", str(two), "--epochs", "4", "--resume", str(two / "last.safetensors"))
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    h1, h2 = history(one), history(two)
    assert [r["epoch"] for r in h2] == [1, 2, 3, 4]
    for a, b in zip(h1, h2):     # the same trajectory up to float reduction order
        for key in ("val_cosine", "train_cosine", "loss"):
            assert b[key] == pytest.approx(a[key], abs=1e-4), (a["epoch"], key)
    assert h2[-1]["val_cosine"] != h2[0]["val_cosine"]            # it did learn: the epochs differ
    m1, m2 = (json.loads((r / "metrics.json").read_text()) for r in (one, two))
    assert (m1["world_size"], m1["backend"]) == (1, "none")
    assert (m2["world_size"], m2["backend"]) == (2, "gloo")
    assert m2["n_train"] == m1["n_train"] and m2["epochs_run"] == 4
    # only rank 0 wrote: one "started" line per launch, not one per process
    started = [x for x in read_progress(two / PROGRESS_FILE) if x["kind"] == "started"]
    assert [x["start_epoch"] for x in started] == [1, len(kept) + 1] and all(x["world_size"] == 2 for x in started)
    assert "2 processes (gloo)" in (two / "report.md").read_text()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the rank's process through /proc")
def test_a_hung_rank_is_caught_by_the_collective_timeout(tmp_path, cache_dir):
    """SIGSTOP freezes rank 1 mid-run: rank 0's next collective times out (10 s here) and the job ends."""
    run = tmp_path / "run"
    proc = torchrun(str(SAMPLE_45), "--out", str(run), "--epochs", "100000", "--cache-dir", str(cache_dir), *TINY,
                    env_extra={"WORKBENCH_DDP_TIMEOUT": "10"})
    pid = None
    try:
        pid = _after_first_epoch(proc, run)
        os.kill(pid, signal.SIGSTOP)
        stopped = time.monotonic()
        out, _ = proc.communicate(timeout=240)
    finally:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and time.monotonic() - stopped < 200, out
    assert "rank 0 of 2: lost contact with another process of this job" in out, out
    assert len(history(run)) >= 1 and (run / "last.safetensors").exists()


@pytest.mark.slow
def test_bad_data_under_torchrun_stops_every_rank(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nWhat is a GPU?,A processor for parallel work.\nWhat is a CPU?,   \n")
    proc = torchrun(str(bad), "--out", str(tmp_path / "r"), *TINY)
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode != 0
    assert "bad.csv" in (tmp_path / "r" / "data_problems.csv").read_text() or "bad.csv" in out
    assert "error: invalid data" in out and "rank 1: rank 0 stopped before training" in out
    assert "exitcode  : 2" in out


def torchrun_wrapped(tmp_path: Path, prelude: str, *args: str) -> subprocess.CompletedProcess:
    """torchrun with 2 processes running workbench-train behind `prelude` (Python run first in every rank:
    an audit hook, or a fault injected into one rank). The prelude only observes or breaks; what runs is the
    shipped workbench-train."""
    script = tmp_path / "rank_main.py"
    script.write_text(prelude + "\nfrom workbench.cli.train import main\nmain()\n")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", str(script), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=300)


# every file a rank opens, one path a line, in OPENED.<rank> (Python's "open" audit event: io.open and os.open)
TRACE_OPENS = """
import os, sys
_log = open(os.environ["OPENED"] + "." + os.environ["RANK"], "w")
def _hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _log.write(os.path.realpath(os.fsdecode(args[0])) + "\\n")
        _log.flush()
sys.addaudithook(_hook)
"""


@pytest.mark.slow
def test_other_ranks_open_neither_the_data_nor_the_config_file_and_do_not_log(tmp_path, cache_dir, monkeypatch):
    data, config = tmp_path / "pairs.csv", tmp_path / "run_config.json"
    data.write_bytes(SAMPLE_45.read_bytes())
    config.write_text(json.dumps({"optim": {"epochs": 1}}))
    monkeypatch.setenv("OPENED", str(tmp_path / "opened"))
    # no --preset: rank 0 reads the data to choose it (the size-based default), and only rank 0
    proc = torchrun_wrapped(tmp_path, TRACE_OPENS, str(data), "--config", str(config), "--out", str(tmp_path / "run"),
                            "--cache-dir", str(cache_dir), "-v", *TINY)
    assert proc.returncode == 0, proc.stdout
    # -v logs to stderr on rank 0 only: the epoch's log line appears once, not once per rank
    assert proc.stdout.count("INFO workbench.train.trainer: epoch 1: loss") == 1, proc.stdout
    opened = {rank: set((tmp_path / f"opened.{rank}").read_text().splitlines()) for rank in (0, 1)}
    assert {str(data.resolve()), str(config.resolve())} <= opened[0]             # the trace sees rank 0's reads
    assert str(data.resolve()) not in opened[1] and str(config.resolve()) not in opened[1]
    assert not any(p.startswith(str(cache_dir.resolve())) for p in opened[1])  # nor the teacher's cache
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs_run"] == 1   # the config held


@pytest.mark.slow
def test_resume_from_best_with_overwrite_under_two_processes(tmp_path, cache_dir):
    run = tmp_path / "run"
    common = [str(SAMPLE_45), "--cache-dir", str(cache_dir), "--out", str(run), *TINY]
    assert cli.run([*common, "--epochs", "2"]) == 0
    # rank 0 moves OUT aside and resumes from the moved copy: every rank must get that path, not OUT/best
    proc = torchrun(*common, "--epochs", "3", "--resume", str(run / "best.safetensors"), "--overwrite")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    moved = list(tmp_path.glob("run.old-*"))
    assert len(moved) == 1 and (moved[0] / "best.safetensors").exists()
    assert [r["epoch"] for r in history(run)] == [1, 2, 3]
    assert json.loads((run / "metrics.json").read_text())["world_size"] == 2


@pytest.mark.slow
def test_a_runtime_error_on_rank_1_is_reported_as_itself(tmp_path, cache_dir):
    fault = ("import os\nif os.environ['RANK'] == '1':\n"
             "    from workbench.model.lattice import CellLattice\n"
             "    def forward(self, q, **kw):\n"
             "        raise RuntimeError('injected fault in the lattice on rank 1')\n"
             "    CellLattice.forward = forward\n")
    proc = torchrun_wrapped(tmp_path, fault, str(SAMPLE_45), "--out", str(tmp_path / "run"), "--epochs", "2",
                            "--cache-dir", str(cache_dir), *TINY)
    out = proc.stdout
    assert proc.returncode != 0
    assert "RuntimeError: injected fault in the lattice on rank 1" in out       # its own traceback, its own words
    assert "rank 1 of 2: lost contact" not in out                               # never blamed on a peer
    assert "rank      : 1" in out                                               # torchrun names the failed rank
