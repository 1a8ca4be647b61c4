"""workbench-export: a trained run's map as ONNX, for a service that already embeds questions with the run's teacher.

    workbench-export RUN_DIR --onnx OUT.onnx [--check]

Input `question_embedding` (n, D) float32, output `answer_embedding` (n, D), n dynamic; the teacher's name and
settings are in the model's metadata. --check runs the file with onnxruntime beside the run's own map. Needs
the optional extra: pip install 'lattice-workbench[onnx]'. Bad input exits 2 with one line.
"""

from __future__ import annotations

import argparse
import sys

from workbench.cli.guard import guarded

CHECK_ROWS = 64       # random unit vectors compared between onnxruntime and run.map by --check


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench-export", description="Export a trained run's lattice as ONNX.")
    p.add_argument("run_dir", help="run folder written by workbench-train (its best.safetensors)")
    p.add_argument("--onnx", required=True, metavar="OUT", help="the .onnx file to write")
    p.add_argument("--check", action="store_true",
                   help=f"run the file with onnxruntime on {CHECK_ROWS} random embeddings and print the largest "
                        "difference from the run's own map")
    return p


def _export(args) -> int:
    from workbench.use.export import check_onnx, export_onnx
    from workbench.use.run import load_run
    run = load_run(args.run_dir)
    path = export_onnx(run, args.onnx)
    print(f"wrote {path}: question_embedding (n, {run.dim}) → answer_embedding (n, {run.dim}), "
          f"teacher {run.teacher.identity}")
    if args.check:
        diff = check_onnx(run, path, CHECK_ROWS)
        print(f"onnxruntime vs the run's map on {CHECK_ROWS} embeddings: max abs difference {diff:.2e}")
    return 0


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(lambda: _export(args))


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
