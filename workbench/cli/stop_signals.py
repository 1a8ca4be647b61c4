"""Ctrl+C and SIGTERM (a cluster's preemption, torchrun passing on its own) stop a headless run cleanly.

The first SIGINT or SIGTERM asks the run to stop: the trainer ends after the batch it is on and writes
last.safetensors with the epoch's position (batch order, running sums, RNG states), so a `--resume` goes on
with the next batch. Under torchrun every rank gets the signal, and the trainer's stop is a collective, so all
ranks stop at the same batch and rank 0 writes. A second signal of the same kind acts as it would without this
(Ctrl+C raises KeyboardInterrupt, SIGTERM ends the process), for a run that must end now.

    with stop_on_signals(stop) as received:   # stop: a callable, e.g. pipeline.StopRequest
        outcome = run_training(..., stop=stop)
    if received: exit code 128 + received[0]  (130 for Ctrl+C, 143 for SIGTERM: the run did not complete)
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(stop: Callable[[], None], signals=STOP_SIGNALS) -> Iterator[list[int]]:
    """Yields the list of signals received (empty while none came). Only the main thread can take signals;
    elsewhere (a test calling the CLI in a thread) nothing is installed."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum, _frame):
        received.append(signum)
        signal.signal(signum, previous[signum])        # a second one: what it did before, at once
        stop()

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def signal_exit_code(received: list[int]) -> int:
    """128 + the signal's number, as a shell reports a process a signal ended; 0 when none came."""
    return 128 + int(received[0]) if received else 0
