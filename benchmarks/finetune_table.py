"""Fine-tuning against training from scratch: every run scored on the same held-out pairs, beside identity.

    python benchmarks/finetune_table.py SPLIT_RUN NAME=RUN_DIR [NAME=RUN_DIR ...]

SPLIT_RUN's validation pairs (its pairs.json: the pairs it held out) are written to a temporary CSV, and each
named run's best checkpoint is scored on them with the API's `run.evaluate` (workbench-eval: cosine, top-1 and
MRR among those answers, ties against the model). The runs trained on that data must share its split (same
DATA and --seed): checked from their pairs.json. A parent trained on other data (MedQuAD) is scored as it is:
that row shows what its weights do on this split before any fine-tuning.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile

from workbench.train.record.pairs_record import read_run_pairs
from workbench.use.run import load_run


def main(argv: list[str]) -> None:
    if len(argv) < 2 or any("=" not in a for a in argv[1:]):
        sys.exit(__doc__)
    split = read_run_pairs(argv[0])
    if split is None:
        sys.exit(f"{argv[0]}: no pairs.json (a run made before runs recorded their pairs)")
    runs = [a.split("=", 1) for a in argv[1:]]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "held_out.csv")
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["question", "answer"])
            w.writerows(split.val_pairs)
        print(f"{len(split.val_pairs)} held-out pairs of {argv[0]}; retrieval among their answers, ties against "
              "the model")
        print(f"| model | val cosine | top-1 | MRR |\n|---|---|---|---|")
        identity = None
        for name, run_dir in runs:
            own = read_run_pairs(run_dir)
            if own is not None and own.val and own.val != split.val:
                print(f"note: {run_dir} held out other pairs than {argv[0]}", file=sys.stderr)
            res = load_run(run_dir).evaluate(path)
            identity = identity or res.identity
            m = res.model
            print(f"| {name} | {m.cosine:.3f} | {m.top1:.3f} | {m.mrr:.3f} |")
        print(f"| identity (answer := question) | {identity.cosine:.3f} | {identity.top1:.3f} | {identity.mrr:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
