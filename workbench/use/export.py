"""The run's map as an ONNX model: question_embedding (n, D) float32 → answer_embedding (n, D), any n.

    export_onnx(run, "lattice.onnx")           # run = workbench.load_run(RUN_DIR); or: workbench-export RUN_DIR --onnx …

The model's metadata names what produced its input: the run's teacher (model, weights fingerprint, pooling,
max_length, normalisation), so a service embeds questions exactly as training did. Needs the optional
`onnx` extra (pip install 'lattice-workbench[onnx]': onnx and onnxscript for torch's exporter, onnxruntime
to run and check the file). The file is written to a temporary name and renamed: never a half-written model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
import tempfile
from pathlib import Path

import torch

from workbench import __version__
from workbench.use.run import LoadedRun, RunError

INPUT, OUTPUT = "question_embedding", "answer_embedding"
OPSET = 18


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise RunError(f"ONNX export needs the '{module}' package: pip install 'lattice-workbench[onnx]'") from None


def metadata(run: LoadedRun) -> dict[str, str]:
    t = run.config.teacher
    return {"teacher": t.model, "teacher_identity": run.teacher.identity, "teacher_pooling": t.pooling,
            "teacher_max_length": str(t.max_length), "teacher_normalize": str(t.normalize).lower(),
            "embedding_dim": str(run.dim), "run_dir": str(run.run_dir.resolve()), "checkpoint": run.checkpoint.name,
            "lattice": json.dumps(dataclass_dict(run.config.lattice)), "producer": f"lattice-workbench {__version__}"}


def dataclass_dict(obj) -> dict:
    import dataclasses
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(obj).items()}


class _Map(torch.nn.Module):
    """The lattice one level down: its cell-code parameter is called `code`, which clashes with torch.fx's
    GraphModule.code when the exporter lifts a top-level module's parameters ("attribute 'code' already exists")."""

    def __init__(self, lattice: torch.nn.Module):
        super().__init__()
        self.lattice = lattice

    def forward(self, q: torch.Tensor) -> torch.Tensor:      # (n, D) → (n, D)
        return self.lattice(q)


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter logs a line per optional op library it skips (torchvision) and deprecation warnings from
    its own dependencies: noise for a user, whose real errors still raise."""
    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        log.setLevel(level)


def export_onnx(run: LoadedRun, path: str | Path) -> Path:
    """Write the run's lattice to `path` (atomically), with a dynamic batch size and the teacher in its metadata."""
    _require("onnxscript")
    onnx = _require("onnx")
    path = Path(path)
    model = _Map(run.model.to("cpu")).eval()
    example = torch.zeros(2, run.dim)          # (n, D); n is exported as a dynamic dimension
    batch = torch.export.Dim("batch", min=1)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    try:
        with torch.no_grad(), _quiet_exporter():
            torch.onnx.export(model, (example,), tmp, input_names=[INPUT], output_names=[OUTPUT],
                              dynamic_shapes=({0: batch},), opset_version=OPSET, dynamo=True, external_data=False,
                              verbose=False)
        proto = onnx.load(tmp)
        for key, value in metadata(run).items():
            proto.metadata_props.add(key=key, value=value)
        onnx.save(proto, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        run.model.to(run.device)
    return path


def check_onnx(run: LoadedRun, path: str | Path, rows: int = 64, seed: int = 0) -> float:
    """Largest |onnxruntime − run.map| over `rows` random unit embeddings (needs onnxruntime)."""
    import numpy as np
    ort = _require("onnxruntime")
    x = np.random.default_rng(seed).standard_normal((rows, run.dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = session.run([OUTPUT], {INPUT: x})
    return float(np.abs(y - run.map(x)).max())
