"""Cold-cache embedding with 1 process against N processes sharing the work (the torchrun path), same texts.

    python benchmarks/teacher_ranks.py [--data medquad_dev.csv] [--texts 1000] [--procs 2]

Each setting embeds the same texts into its own empty cache: "1 × T" is one process with all usable cores
as torch threads; "N × T/N" is N gloo processes (as torchrun starts them, threads per rank = cores / N:
distributed.rank_threads) where rank 0 hands each round of misses to every rank (distributed.spread_embedding)
and writes the cache. Printed: seconds, texts/s, the ratio, and the largest difference between the vectors.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from teacher_speed import default_data  # noqa: E402
from workbench.teacher.batching import usable_cores  # noqa: E402
from workbench.teacher.encoder import Teacher, TeacherConfig  # noqa: E402
from workbench.train import distributed  # noqa: E402


def _rank(rank: int, world: int, store: str, texts: list[str], out: str) -> None:
    os.environ["LOCAL_WORLD_SIZE"] = str(world)
    torch.set_num_threads(distributed.rank_threads())
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        ddp = distributed.Ddp(rank, world, rank, "gloo", "cpu", dist.new_group(backend="gloo"))
        if rank == 0:
            teacher = Teacher(TeacherConfig(cache_dir=tempfile.mkdtemp(), normalize=False))
            teacher.load_checked()                  # model load outside the timing, as for 1 process
            distributed.spread_embedding(ddp, teacher)
            dist.barrier()
            t = time.perf_counter()
            vecs = teacher.encode(texts)
            seconds = time.perf_counter() - t
            distributed.share_data(ddp, None)
            np.save(Path(out) / "vecs.npy", vecs)
            (Path(out) / "seconds").write_text(str(seconds))
        else:
            Teacher(TeacherConfig(cache_dir=tempfile.mkdtemp())).load_checked()
            dist.barrier()
            distributed.receive_data(ddp)
    finally:
        dist.destroy_process_group()


def one_process(texts: list[str]) -> tuple[float, np.ndarray]:
    teacher = Teacher(TeacherConfig(cache_dir=tempfile.mkdtemp(), normalize=False))
    teacher.load_checked()
    t = time.perf_counter()
    vecs = teacher.encode(texts)
    return time.perf_counter() - t, vecs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--texts", type=int, default=1000, help="questions + answers of the first N/2 rows")
    ap.add_argument("--procs", type=int, default=2)
    args = ap.parse_args()
    with open(args.data, newline="", encoding="utf-8") as fh:
        rows = list(islice(csv.DictReader(fh), args.texts // 2))
    texts = list(dict.fromkeys([r["question"] for r in rows] + [r["answer"] for r in rows]))
    cores = usable_cores()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"{cpu}; {cores} usable cores; load {os.getloadavg()[0]:.1f}; {len(texts)} distinct texts")
    s1, v1 = one_process(texts)
    with tempfile.TemporaryDirectory() as tmp:
        mp.start_processes(_rank, args=(args.procs, str(Path(tmp) / "store"), texts, tmp), nprocs=args.procs,
                           join=True, start_method="spawn")
        sn, vn = float((Path(tmp) / "seconds").read_text()), np.load(Path(tmp) / "vecs.npy")
    print(f"  1 process × {cores} threads:      {s1:7.1f} s = {len(texts) / s1:6.1f} texts/s")
    print(f"  {args.procs} processes × {max(1, cores // args.procs)} thread(s): {sn:7.1f} s = {len(texts) / sn:6.1f} texts/s"
          f"  -> {s1 / sn:.2f}x; max |Δ| = {np.abs(vn - v1).max():.1e}; load now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
