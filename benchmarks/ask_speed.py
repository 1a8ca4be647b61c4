"""workbench-ask's exact answer search (workbench.train.metrics.top_k) over 100k answers, against one matmul.

The bank is random unit vectors (the search does not care what they mean). Timed, interleaved in each repeat
(the machine may be shared):
  chunked  - top_k: the bank in chunks (≤ SIM_FLOATS similarities at once), each chunk's top-k merged into a
             running top-k
  matmul   - the plain way: one (n, N) similarity matrix, then torch.topk over it (n × N floats at once)
Both give the same answers (checked). Printed: the CPU model, the load average, the same-run rate of a 1024³
fp32 matmul, answers searched per second, and the chunked / one-matmul time ratio (same run).

    python benchmarks/ask_speed.py [--answers 100000] [--queries 1 100 1000] [-k 5] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from machine import cpu_model, matmul_gflops
from workbench.train.metrics import SIM_FLOATS, top_k, unit


def one_matmul(q: np.ndarray, bank: torch.Tensor, k: int):
    sims = unit(torch.from_numpy(q)) @ bank.T      # (n, N) at once
    s, ix = torch.topk(sims, k, dim=1)
    return s.numpy(), ix.numpy()


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=100_000)
    ap.add_argument("--queries", type=int, nargs="+", default=[1, 100, 1000])
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    # normalised once, as AnswerBank keeps its bank (both ways search the same unit vectors)
    bank = unit(torch.from_numpy(rng.standard_normal((args.answers, args.dim)).astype(np.float32)))
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"bank: {args.answers:,} random unit vectors of {args.dim}-d; k={args.k}; at most {SIM_FLOATS:,} "
          "similarities at once")
    print(f"{'queries':>8} {'chunked s':>10} {'one matmul s':>13} {'ratio':>6} {'answers/s (chunked)':>20} "
          f"{'matmul GFLOP/s (same run)':>26}")
    for n in args.queries:
        q = rng.standard_normal((n, args.dim)).astype(np.float32)
        ours, plain, rate = [], [], []
        for _ in range(args.repeats):
            rate.append(matmul_gflops())
            t1, (s1, i1) = timed(lambda: top_k(q, bank, args.k, bank_is_unit=True))
            t2, (s2, i2) = timed(lambda: one_matmul(q, bank, args.k))
            ours.append(t1)
            plain.append(t2)
        np.testing.assert_allclose(s1, s2, atol=1e-5)
        assert (i1 == i2).mean() > 0.999, "the two searches disagree"
        a, b = statistics.median(ours), statistics.median(plain)
        print(f"{n:>8} {a:>10.4f} {b:>13.4f} {a / b:>6.2f} {n * args.answers / a:>20,.0f} "
              f"{statistics.median(rate):>26.1f}")
    mem = 1000 * args.answers * 4 / 2**20
    print(f"memory for 1,000 queries: one matmul holds a {mem:,.0f} MB similarity matrix; chunked at most "
          f"{SIM_FLOATS * 4 / 2**20:,.0f} MB")


if __name__ == "__main__":
    main()
