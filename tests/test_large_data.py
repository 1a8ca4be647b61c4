"""Memory at corpus scale: the end-of-epoch loss over ~10k training pairs must not build an N x N matrix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from workbench.train import metrics as M

ROOT = Path(__file__).resolve().parents[1]

PEAK = """
import resource, sys, torch
from workbench.train import metrics as M
from workbench.train.config import RunConfig, apply_preset
cfg = apply_preset(RunConfig(), "recommended")          # its loss has the InfoNCE term
g = torch.Generator().manual_seed(0)
p, a = torch.randn(10500, 384, generator=g), torch.randn(10500, 384, generator=g)   # MedQuAD's training split size
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.no_grad():
    M.loss_terms(p, a, cfg.loss)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def test_info_nce_in_chunks_is_the_one_matrix_loss_and_gradient():
    g = torch.Generator().manual_seed(1)
    pred = torch.randn(300, 384, generator=g, requires_grad=True)
    target = torch.randn(300, 384, generator=g)
    dense = M.info_nce(pred, target, 0.05, chunk_rows=300)
    (g_dense,) = torch.autograd.grad(dense, pred)
    chunked = M.info_nce(pred, target, 0.05, chunk_rows=7)
    (g_chunked,) = torch.autograd.grad(chunked, pred)
    logits = M.unit(pred) @ M.unit(target).T / 0.05
    reference = torch.nn.functional.cross_entropy(logits, torch.arange(300))
    assert torch.allclose(dense, reference) and torch.allclose(chunked, reference, atol=1e-5)
    assert torch.allclose(g_chunked, g_dense, atol=1e-7)


def test_the_loss_over_10k_pairs_needs_tens_of_megabytes_not_a_gigabyte():
    out = subprocess.run([sys.executable, "-c", PEAK], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    growth_mb = float(out.stdout.strip().splitlines()[-1])
    assert growth_mb < 150, growth_mb            # one 10.5k x 10.5k float32 matrix alone is 441 MB
