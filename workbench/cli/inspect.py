"""workbench-inspect: see inside a trained run's lattice, headless (workbench.inspect).

    workbench-inspect RUN_DIR DATA [--knockout [--block N]] [--atlas [--by COLUMN]] [--split all|val]
                      [--json OUT] [--out DIR] [--cache-dir DIR] [--columns …] [--drop-invalid]

Always prints the step dynamics (cosine of the prediction read out after each step, and the update size).
--knockout silences each cell (or N×N×N block) during all steps, writes OUT_DIR/knockout.npy and prints the
top-decile and random-decile deltas. --atlas writes the mean states per category to OUT_DIR/atlas.npz.
OUT_DIR (--out) defaults to RUN_DIR/inspect/. Bad input exits 2 with one line and no traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from workbench.train.evaluate import EvalError
from workbench.inspect import files
from workbench.inspect.atlas import category_atlas
from workbench.inspect.dynamics import step_dynamics
from workbench.inspect.knockout import knockout_map
from workbench.inspect.source import SPLITS, open_source
from workbench.cli.guard import EXIT_OK, guarded
from workbench.cli.progress import Printer
from workbench.cli.run_flags import run_reader_flags


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench-inspect",
                                description="Look inside a trained lattice: step dynamics, knockout map, category atlas.")
    p.add_argument("run_dir", help="run folder written by workbench-train (its best.safetensors is inspected)")
    p.add_argument("data", help="pairs to inspect: .csv, .jsonl, .json or .parquet")
    p.add_argument("--split", choices=SPLITS, default="all",
                   help="all: every valid pair of DATA; val: the run's own validation split of DATA (its training file)")
    p.add_argument("--knockout", action="store_true", help="silence each cell (or block) and measure the cosine drop")
    p.add_argument("--block", type=int, default=1, metavar="N", help="silence N×N×N blocks instead of single cells")
    p.add_argument("--atlas", action="store_true", help="mean lattice states per category (or --by column value)")
    p.add_argument("--by", default="category", metavar="COLUMN", help="the column the atlas groups by (default category)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random deciles (default 0)")
    p.add_argument("--out", metavar="DIR", help="where knockout.npy, atlas.npz, inspect.json go (default RUN_DIR/inspect)")
    run_reader_flags(p, "also write the report to this JSON file")
    p.add_argument("--columns", metavar="ROLE=COL,...", help="column names when DATA's differ (as for workbench-train)")
    p.add_argument("--drop-invalid", action="store_true", help="leave invalid rows out (each is reported)")
    return p


def inspect(args, printer: Printer) -> dict:
    """Run what args ask for; write the files; return the report."""
    if args.block < 1:
        raise EvalError(f"--block must be at least 1, not {args.block}")
    src = open_source(args.run_dir, args.data, args.split, args.cache_dir, args.columns, args.drop_invalid, progress=printer)
    for note in src.notes:
        printer.line(note)
    out = Path(args.out) if args.out else files.default_folder(src.run_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = {"run_dir": str(src.run_dir), "data": src.data, "split": src.split, "checkpoint": str(src.checkpoint),
              "pairs": len(src.q), "grid": list(src.model.shape)}
    dyn = step_dynamics(src.model, src.q, src.a)
    report["step_dynamics"] = dyn.as_json()
    print(f"{len(src.q):,} pairs ({src.split}); step: cosine, update ‖s_t − s_t-1‖")
    for t, (c, u) in enumerate(zip(dyn.cosine, dyn.update_norm)):
        print(f"  {t:>3}: {c:.4f}  {u:.4f}")
    if args.atlas:
        atlas = category_atlas(src.model, src.q, src.labels(args.by))
        files.save_atlas(out / files.ATLAS, atlas)
        report["atlas"] = {"by": args.by, **atlas.as_json()}
        print(f"atlas: {len(atlas.names)} values of '{args.by}' → {out / files.ATLAS}")
    if args.knockout:
        t0 = time.perf_counter()
        res = knockout_map(src.model, src.q, src.a, block=args.block, seed=args.seed, progress=printer)
        printer.close_bar()
        files.save_npy(out / files.KNOCKOUT, res.volume)
        report.update(res.as_json())
        report["knockout_seconds"] = round(time.perf_counter() - t0, 1)
        print(f"knockout of {len(res.regions)} regions ({args.block}³ cells) in {report['knockout_seconds']:.0f} s: "
              f"base cosine {res.base_cosine:.4f}\n  top-decile silenced:    {res.top_decile_delta:+.4f}\n"
              f"  random-decile silenced: {res.random_decile_delta:+.4f} (mean of {len(res.random_draws)} draws)\n"
              f"  → {out / files.KNOCKOUT}")
    files.save_report(out / files.REPORT, report)
    if args.json_out:
        files.save_report(args.json_out, report)
    return report


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    printer = Printer(args.quiet)
    def body() -> int:
        inspect(args, printer)
        return EXIT_OK
    return guarded(body)


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
