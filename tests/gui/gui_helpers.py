"""Helpers for the GUI tests."""


def wait_for_run(qtbot, win, timeout=180_000):
    qtbot.waitUntil(lambda: win.run is not None and not win.run.is_running(), timeout=timeout)
    qtbot.wait(200)  # let queued signals from the worker arrive and the cube's deferred render run
