"""The views every run writes into its run folder, built in one place for every kind of run.

    sinks = run_folder_sinks(out, cfg, prepared, world_size=..., tensorboard=..., history=...)
    for ev in train(state):
        sinks(ev)                      # the folder is written before any other view sees the event
    sinks.recorder.metrics             # what the CLI prints at the end

The CLI (rank 0 of a torchrun job included), each sweep trial and the app's own runs all call this, so
their run folders hold the same files and cannot drift apart again:
- RunRecorder: config.json, history.csv, metrics.json, report.md, data_problems.csv, ridge weights;
- pairs.json (pairs_record.py): which pairs the run trained and validated on, matched by content later;
- ProgressLog: progress.jsonl, the one live log a follower reads (every batch, epochs, start and end);
- ReplayRecorder: replay.npz, the cube of the snapshot's validation question at every epoch (replay.py);
- TensorBoardSink, when asked: RUN/tensorboard/ (needs the optional tensorboard package).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.train.config import RunConfig
from workbench.train.events import EventSink
from workbench.train.record.pairs_record import write_run_pairs
from workbench.train.record.progress_log import ProgressLog
from workbench.train.record.recorder import RunRecorder
from workbench.train.record.replay import ReplayRecorder


@dataclass
class RunFolderSinks(EventSink):
    recorder: RunRecorder
    sinks: list[EventSink] = field(default_factory=list)    # the recorder first, then the live log, then the rest

    def __call__(self, ev) -> None:
        for sink in self.sinks:
            sink(ev)


def run_folder_sinks(out: str | Path, config: RunConfig, prepared, *, world_size: int = 1,
                     tensorboard: bool = False, history: list[dict] | None = None) -> RunFolderSinks:
    """`prepared` is the pipeline's PreparedRun (stats, notes, teacher name, data problems). `history`: the
    epochs a resumed run already has, so its history.csv keeps them. Raises ConfigError, with the install
    line, when TensorBoard is asked for but not installed."""
    recorder = RunRecorder(out, config, prepared.stats, prepared.notes, prepared.teacher, problems=prepared.problems)
    write_run_pairs(out, prepared.train, prepared.val)    # pairs.json: what the run trained on, for Ask and labels
    if history:
        recorder.history = list(history)
    sinks: list[EventSink] = [recorder, ProgressLog(out, config.optim.epochs, world_size), ReplayRecorder(out)]
    if tensorboard:
        from workbench.train.record.tensorboard import TB_DIR, TensorBoardSink
        sinks.append(TensorBoardSink(Path(out) / TB_DIR, config))
    return RunFolderSinks(recorder, sinks)
