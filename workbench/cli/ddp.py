"""workbench-train under torchrun: what ranks other than 0 do, and how rank 0 hands them everything they need.

Rank 0 runs the ordinary workbench-train path (the data file, the config file, the teacher, the run folder,
printing, recording) and, once the data is prepared, broadcasts the run's plan (the config it built, the
resume path it resolved, e.g. after --overwrite moved the folder) and the split embeddings (`Rank0Share`).
If it stops before that (bad data, a refused run folder), it broadcasts "nothing" so the others end at once
with a clear line instead of waiting. The other ranks (`follow`) read no file but the checkpoint they resume
from: they receive the plan and the data, then call the same run function (`pipeline.run_training`) and
train their slice of every batch without writing or printing anything.
"""

from __future__ import annotations

import sys

from workbench.cli.guard import EXIT_BAD_INPUT, EXIT_OK, EXIT_TRAINING_FAILED
from workbench.cli.stop_signals import signal_exit_code, stop_on_signals
from workbench.train import distributed
from workbench.train.config import from_dict, to_dict


class Rank0Share:
    """with Rank0Share(ddp) as share: …; share(prepared.data, cfg, resume)  — leaving the block unshared sends None."""

    def __init__(self, ddp: distributed.Ddp | None):
        self.ddp, self.sent = ddp, False

    def __call__(self, data, config, resume: str | None) -> None:
        if self.ddp is not None and not self.sent:
            distributed.share_data(self.ddp, data, {"config": to_dict(config), "resume": resume})
        self.sent = True

    def __enter__(self) -> "Rank0Share":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.ddp is not None and not self.sent and exc_type is not None:
            try:
                distributed.share_data(self.ddp, None)   # the others end now, not at a timeout
            except distributed.PeerLost:                  # they are gone already: nothing to tell
                pass
            self.sent = True
        return False


def follow(ddp: distributed.Ddp) -> int:
    """Rank > 0: train in step with rank 0 on the plan and data it sends; write and print nothing but errors."""
    from workbench.train.pipeline import StopRequest, run_training
    received = distributed.receive_data(ddp)
    if received is None:
        print(f"rank {ddp.rank}: rank 0 stopped before training (its message above says why)", file=sys.stderr)
        return EXIT_BAD_INPUT
    data, plan = received
    cfg = from_dict(plan["config"])
    ddp.place(cfg.device)
    # every rank reads the same checkpoint, the path rank 0 resolved (on a shared filesystem across nodes)
    stop = StopRequest()
    with stop_on_signals(stop) as signals:       # torchrun passes SIGTERM/SIGINT on to every rank
        outcome = run_training(cfg, data, None, ddp=ddp, resume=plan["resume"], stop=stop)
    if signals:
        return signal_exit_code(signals)
    return EXIT_TRAINING_FAILED if outcome.failed else EXIT_OK


def lost_peer_message(ddp: distributed.Ddp, exc: BaseException) -> str:
    """One line for a collective that failed because another process of the job ended or hung."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"rank {ddp.rank} of {ddp.world_size}: lost contact with another process of this job ({first[:200]}); "
            "torchrun names the rank that failed. The run folder keeps the last completed epoch: resume with "
            "--resume RUN/last.safetensors")
