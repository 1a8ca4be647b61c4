"""How close the trainer's pre-run estimate (workbench/train/estimate.py) comes to a measured epoch.

For a few lattices on the shipped 160-pair sample (or --data FILE), prints the estimated seconds per
epoch (from the timed probe), the measured seconds of epochs 2..N (epoch 1 carries first-call
warm-up), their ratio, and the estimated peak memory beside the process's peak RSS growth.

    python benchmarks/estimate_accuracy.py [--data FILE] [--epochs 3]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

from workbench.train.config import from_preset, set_value
from workbench.train.estimate import gib
from workbench.train.events import EpochMetrics
from workbench.train.pipeline import prepare
from workbench.train.trainer import TrainingState, train

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "pairs_160.csv"
CONFIGS = {
    "small (4 ch, 16 hidden, 3 steps)": {"lattice.channels": 4, "lattice.hidden": 16, "lattice.steps": 3,
                                         "lattice.neighbourhood": "von_neumann", "optim.batch_size": 8},
    "recommended": {},
    "moore 8×8×16, 12 steps": {"lattice.shape": "8x8x16", "lattice.steps": 12},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SAMPLE))
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="estimate-bench-")
    print(f"{'config':<36}{'estimate s':>11}{'measured s':>11}{'ratio':>7}{'est. peak':>11}{'RSS growth':>11}")
    for name, overrides in CONFIGS.items():
        cfg = from_preset("recommended")
        cfg.teacher.cache_dir = cache
        for k, v in {**overrides, "optim.epochs": args.epochs, "optim.early_stop_patience": 0}.items():
            set_value(cfg, k, v)
        data = prepare(cfg, args.data).data
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        state = TrainingState.create(cfg, data)
        secs = [e.metrics["seconds"] for e in train(state) if isinstance(e, EpochMetrics)]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0
        measured = (secs[-1] - secs[0]) / max(1, len(secs) - 1)
        est = state.estimate
        print(f"{name:<36}{est.seconds_per_epoch:>11.2f}{measured:>11.2f}{est.seconds_per_epoch / measured:>7.2f}"
              f"{gib(est.peak_bytes):>11}{gib(max(rss, 0)):>11}")
    print("RSS growth is a lower bound of what a run used (memory freed and reused by an earlier config is not counted).")


if __name__ == "__main__":
    main()
