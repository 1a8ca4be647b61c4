"""What every benchmark prints beside its table: the CPU model and the same-run dense matmul rate.

torch is imported inside matmul_gflops, so a benchmark that must not load it (startup.py) can still take cpu_model.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def matmul_gflops(n: int = 1024, reps: int = 10) -> float:
    """float32 torch matmul rate on this machine now (GFLOP/s): the yardstick same-run ratios are quoted against."""
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9
