"""Console progress: tqdm bars on a terminal, a timed line (not one per batch) in a redirected log."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from helpers import SAMPLE_45
from workbench.cli import progress, train as cli
from workbench.cli.progress import Printer, fmt_duration
from workbench.train.events import BatchProgress, EmbedProgress

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8"]


class TerminalStream(io.StringIO):
    """A text stream that says it is a terminal, so the printer draws bars into it."""

    def isatty(self) -> bool:
        return True


def test_redirected_log_gets_progress_lines_with_an_eta(tmp_path):
    """A real run whose stderr goes to a file: embedding and batch progress lines, each with a rate and an ETA."""
    log = tmp_path / "train.log"
    with log.open("w") as fh:
        proc = subprocess.run([sys.executable, "-m", "workbench.cli.train", str(SAMPLE_45), "--epochs", "2",
                               "--out", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"),
                               "--set", "teacher.batch_size=16", "--progress-interval", "0", *FAST],
                              stdout=subprocess.PIPE, stderr=fh, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "\r" not in text and "\x1b" not in text                       # no bar redraws in a file
    # times are "45s", or "1m05s" on a busy machine: any duration fmt_duration writes
    embed = re.findall(r"^\[[\dhms]+\] embedding texts: (\d+)/90 \(0 cached\), ([\d.]+) texts/s, ETA [\dhms]+$", text,
                       re.M)
    assert len(embed) >= 5 and embed[-1][0] == "90"                        # 90 texts in batches of at most 16
    batches = re.findall(r"^\[[\dhms]+\] epoch (\d)/2: batch (\d)/5, (\d+) samples, loss [\d.]+, (\d+) samples/s, "
                         r"ETA [\dhms]+$", text, re.M)
    assert [(int(e), int(b)) for e, b, *_ in batches] == [(e, b) for e in (1, 2) for b in range(1, 6)]  # every batch
    seen = [int(b[2]) for b in batches]
    assert seen == sorted(set(seen))                                    # samples seen keeps growing
    assert re.search(r"^epoch +2 +loss", text, re.M)


def test_a_log_gets_one_line_per_interval_not_one_per_batch():
    now = [0.0]
    out = io.StringIO()
    p = Printer(stream=out, interval=10.0, clock=lambda: now[0])
    for i in range(300):                                      # 300 batches over 150 s
        now[0] = i * 0.5
        p(BatchProgress(1, i + 1, 300, 0.5, now[0], 1, 8 * (i + 1), 0.5, 16.0, 150 - now[0]))
    lines = out.getvalue().splitlines()
    assert len(lines) == 15 and all("samples/s, ETA" in ln for ln in lines)
    assert lines[1].startswith("[10s] epoch 1/1: batch 21/300") and lines[-1].endswith("ETA 10s")


def test_a_terminal_gets_bars_with_rates_and_etas(tmp_path, monkeypatch):
    """A real run (fresh cache, so the teacher runs) printing to a stream that is a terminal."""
    term = TerminalStream()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setattr(progress, "REDRAW_S", 0.0)           # draw every update: a fast machine must not skip them
    code = cli.run([str(SAMPLE_45), "--epochs", "2", "--out", str(tmp_path / "run"), "--cache-dir",
                    str(tmp_path / "cache"), "--set", "teacher.batch_size=32", *FAST])
    text = term.getvalue()
    assert code == 0, text
    assert re.search(r"\rembedding texts +\d+%\|.*\| \d+/90 \[.*0 cached, [\d.]+ texts/s, ETA \d+s\]", text)
    assert re.search(r"\repoch 2/2 +\d+%\|.*\| \d/5 \[.*loss [\d.]+, \d+ samples/s, ETA \d+s\]", text)
    assert re.search(r"(^|\r)epoch +1 +loss", text, re.M) and "finished: completed" in text
    assert not re.search(r"^\[\d+s\]", text, re.M)            # no log-style lines on a terminal


PTY_CHILD = """
import sys, time
from workbench.cli import progress
from workbench.train.events import BatchProgress
progress.REDRAW_S = 0.0
p = progress.Printer(False, sys.stderr)
for b in range(1, 4):
    p(BatchProgress(1, b, 3, 0.5, b * 0.1, 2, 8 * b, 0.5, 80.0, 2.0))
p.line("permanent line")
"""


def test_a_real_pseudo_terminal_without_a_size_still_gets_bars():
    """A pty nobody sized (0 x 0, as in containers and some CI runners): tqdm alone would draw nothing."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:                                                  # the child: stderr is the pty
        os.execve(sys.executable, [sys.executable, "-c", PTY_CHILD], {**os.environ, "PYTHONPATH": str(ROOT)})
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:                                           # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    text = out.decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert re.search(r"\repoch 1/2 +100%\|.*\| 3/3 \[.*loss 0.5000, 80 samples/s, ETA 2s\]", text), text
    assert "permanent line" in text


def test_embedding_events_carry_rate_and_eta(tmp_path):
    from workbench.teacher.encoder import Teacher, TeacherConfig
    from helpers import SAMPLE_160
    from workbench.data.dataset import load_dataset
    texts = load_dataset(str(SAMPLE_160)).answers()[:60]
    seen: list[EmbedProgress] = []
    t = Teacher(TeacherConfig(cache_dir=str(tmp_path), batch_size=16))
    t.encode(texts, progress=seen.append)
    assert seen[0].done == 0 and seen[0].eta_s is None and seen[-1].done == seen[-1].total == 60
    assert len(seen) == 1 + t.model_calls and all(e.texts_per_s > 0 and e.eta_s >= 0 for e in seen[1:])
    assert [e.done for e in seen] == sorted(e.done for e in seen) and seen[-1].eta_s == 0
    again: list[EmbedProgress] = []
    Teacher(TeacherConfig(cache_dir=str(tmp_path))).encode(texts, progress=again.append)
    assert [(e.done, e.cache_hits, e.eta_s) for e in again] == [(60, 60, 0.0)]


def test_durations_read_well():
    assert [fmt_duration(x) for x in (None, float("nan"), 4.4, 65, 3 * 3600 + 7 * 60)] == ["?", "?", "4s", "1m05s", "3h07m"]
