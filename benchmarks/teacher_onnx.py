"""Would an ONNX Runtime teacher be worth keeping? torch against ONNX Runtime on the same MedQuAD texts, same run.

    pip install onnxruntime onnx
    python benchmarks/teacher_onnx.py [--data medquad_dev.csv] [--texts 2000] [--threads N]

The teacher's transformer is exported with torch.onnx.export (the TorchScript exporter that Hugging Face's
optimum also drives: inputs input_ids / attention_mask / token_type_ids with dynamic batch and sequence axes,
output last_hidden_state, opset 17; eager attention and a padded example input, see export()), then both backends embed the same texts through the same token-budget
batches (tokenized once, sorted by length) and the same masked mean pooling. Printed: texts/s of each, the
ratio, and the cosine between the two vectors of every text (mean and minimum). The bar for keeping it
(issue 16): >= 1.5x texts/s with mean cosine >= 0.9999.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from teacher_speed import default_data  # noqa: E402
from workbench.teacher.batching import pad, plan_batches, tokenize, torch_threads  # noqa: E402
from workbench.teacher.encoder import Teacher, TeacherConfig  # noqa: E402


def export(teacher: Teacher, path: Path) -> None:
    """Eager attention and a padded example: a trace through SDPA with an all-ones mask records the path that
    skips the mask (a data-dependent branch), and padded batches then attend to their padding."""
    import torch
    from transformers import AutoModel
    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"last_hidden_state": {0: "batch", 1: "sequence"}}
    class Encoder(torch.nn.Module):          # named inputs in, last_hidden_state out (as optimum's export)
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
    eager = AutoModel.from_pretrained(str(teacher.model_dir), local_files_only=True, use_safetensors=True,
                                      attn_implementation="eager")
    model = Encoder(eager.eval())
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, torch.zeros_like(ids)), str(path), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)


def pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    return (hidden * m).sum(1) / np.maximum(m.sum(1), 1.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    import onnxruntime as ort
    import csv
    from itertools import islice
    with open(args.data, newline="", encoding="utf-8") as fh:
        rows = list(islice(csv.DictReader(fh), args.texts // 2))
    texts = list(dict.fromkeys([r["question"] for r in rows] + [r["answer"] for r in rows]))
    teacher = Teacher(TeacherConfig(cache_dir=tempfile.mkdtemp()))
    teacher.load_checked()
    with torch_threads(args.threads) as threads:
        cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
        print(f"{cpu}; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
        ids, _ = tokenize(teacher.tokenizer, texts, teacher.config.max_length)
        lengths = np.fromiter((len(x) for x in ids), np.int64, len(ids))
        batches = plan_batches(lengths, teacher.config.batch_tokens, teacher.config.batch_size)
        onnx_path = Path(tempfile.mkdtemp()) / "teacher.onnx"
        t = time.perf_counter()
        export(teacher, onnx_path)
        print(f"exported {onnx_path.stat().st_size / 2**20:.1f} MB in {time.perf_counter() - t:.1f} s")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        a, b = np.zeros((len(texts), teacher.dim), np.float32), np.zeros((len(texts), teacher.dim), np.float32)
        times = {"torch": 0.0, "onnxruntime": 0.0}
        for rnd in range(1):           # alternate backends per batch, so load changes hit both alike
            for batch in batches:
                chunk = [ids[j] for j in batch]
                t = time.perf_counter()
                a[batch] = teacher.forward(chunk)
                times["torch"] += time.perf_counter() - t
                input_ids, mask = pad(chunk, teacher.tokenizer.pad_token_id or 0)
                t = time.perf_counter()
                hidden = sess.run(None, {"input_ids": input_ids.astype(np.int64), "attention_mask": mask.astype(np.int64),
                                         "token_type_ids": np.zeros_like(input_ids, dtype=np.int64)})[0]
                b[batch] = pooled(hidden, mask)
                times["onnxruntime"] += time.perf_counter() - t
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        rate = {k: len(texts) / v for k, v in times.items()}
        print(f"{len(texts)} distinct texts, {len(batches)} batches, {threads} thread(s), load {os.getloadavg()[0]:.1f}")
        for k, v in rate.items():
            print(f"  {k:12s} {v:7.1f} texts/s")
        print(f"  ratio onnxruntime/torch: {rate['onnxruntime'] / rate['torch']:.2f}x")
        print(f"  cosine onnxruntime vs torch: mean {cos.mean():.7f}, min {cos.min():.7f}")


if __name__ == "__main__":
    main()
