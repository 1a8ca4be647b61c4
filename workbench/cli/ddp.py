"""workbench-train under torchrun: what ranks other than 0 do, and how rank 0 hands them the data.

Rank 0 runs the ordinary workbench-train path (run folder, data, teacher, printing, recording) and, once
the data is prepared, broadcasts the split embeddings (`Rank0Share`); if it stops before that (bad data,
a refused run folder), it broadcasts "nothing" so the others end at once with a clear line instead of
waiting. The other ranks (`follow`) receive the data, build the same state, resume from the same
checkpoint when asked, and train their slice of every batch without writing or printing anything.
"""

from __future__ import annotations

import sys

from workbench.train import distributed
from workbench.cli.stop_signals import signal_exit_code, stop_on_signals
from workbench.train.events import Finished
from workbench.cli.train import EXIT_BAD_INPUT, EXIT_TRAINING_FAILED

EXIT_OK = 0


class Rank0Share:
    """with Rank0Share(ddp) as share: …; share(prepared.data)  — leaving the block unshared sends None."""

    def __init__(self, ddp: distributed.Ddp | None):
        self.ddp, self.sent = ddp, False

    def __call__(self, data) -> None:
        if self.ddp is not None and not self.sent:
            distributed.share_data(self.ddp, data)
        self.sent = True

    def __enter__(self) -> "Rank0Share":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.ddp is not None and not self.sent and exc_type is not None:
            try:
                distributed.share_data(self.ddp, None)   # the others end now, not at a timeout
            except RuntimeError:                          # they are gone already: nothing to tell
                pass
            self.sent = True
        return False


def follow(ddp: distributed.Ddp, cfg, resume: str | None) -> int:
    """Rank > 0: train in step with rank 0 on the data it sends; write and print nothing but errors."""
    from workbench.train.trainer import TrainingState, train
    data = distributed.receive_data(ddp)
    if data is None:
        print(f"rank {ddp.rank}: rank 0 stopped before training (its message above says why)", file=sys.stderr)
        return EXIT_BAD_INPUT
    state = TrainingState.create(cfg, data, out_dir=None, ddp=ddp)
    if resume:
        state.resume_from(resume)        # every rank reads the same checkpoint (on a shared filesystem across nodes)
    finished = None
    with stop_on_signals(state.request_stop) as received:   # torchrun passes SIGTERM/SIGINT on to every rank
        for ev in train(state):
            if isinstance(ev, Finished):
                finished = ev
    if received:
        return signal_exit_code(received)
    return EXIT_TRAINING_FAILED if finished is None or finished.reason == "error" else EXIT_OK


def lost_peer_message(ddp: distributed.Ddp, exc: BaseException) -> str:
    """One line for a collective that failed because another process of the job ended or hung."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"rank {ddp.rank} of {ddp.world_size}: lost contact with another process of this job ({first[:200]}); "
            "torchrun names the rank that failed. The run folder keeps the last completed epoch: resume with "
            "--resume RUN/last.safetensors")
