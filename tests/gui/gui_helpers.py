"""Helpers for the GUI tests."""


def wait_for_run(qtbot, win, timeout=180_000):
    qtbot.waitUntil(lambda: win.run is not None and not win.run.is_running(), timeout=timeout)
    qtbot.wait(200)  # let queued signals from the worker arrive and the cube's deferred render run


class BatchGate:
    """Holds the training thread inside its next batch until released: a behaviour (does the GUI wait for the
    thread?) becomes a fact to assert, not a race against the clock. Wraps the real loss, computed as usual."""

    def __init__(self, monkeypatch):
        import sys
        import threading
        from workbench.train import metrics
        self.armed, self.entered, self.release = threading.Event(), threading.Event(), threading.Event()
        self.batches_after_release = 0
        self.calls = 0                  # training batches computed on the training thread
        real = metrics.loss_terms

        def gated(*args, **kwargs):
            if sys._getframe(1).f_code.co_name != "_train_batch":    # the time estimate and evaluations pass
                return real(*args, **kwargs)
            if threading.current_thread() is not threading.main_thread():
                self.calls += 1
            if self.armed.is_set() and threading.current_thread() is not threading.main_thread():
                if self.release.is_set():
                    self.batches_after_release += 1
                else:
                    self.entered.set()
                    self.release.wait(120)
            return real(*args, **kwargs)
        monkeypatch.setattr(metrics, "loss_terms", gated)

    def hold(self, qtbot) -> None:
        """Arm the gate and wait until the training thread is held inside a batch."""
        self.armed.set()
        qtbot.waitUntil(self.entered.is_set, timeout=120_000)
