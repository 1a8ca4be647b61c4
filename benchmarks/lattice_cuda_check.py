"""CUDA check of the lattice, to run where a GPU is present (exits 1 when one is missing or a check fails).

For every neighbourhood × boundary × activation, on cuda: the lattice's output and gradients match the rule
written out through the explicit neighbour table, and a finite-difference gradcheck passes (float64).
Then CPU and CUDA forwards of the recommended cell agree, and its fwd+bwd time is printed.

    python benchmarks/lattice_cuda_check.py [cuda|cpu]
"""

from __future__ import annotations

import itertools
import sys
import time

import torch

from workbench.model.lattice import CellLattice, neighbour_index
from workbench.model.lattice_config import LatticeConfig
from workbench.train.config import from_preset


def reference_run(m: CellLattice, s: torch.Tensor, steps: int) -> torch.Tensor:
    B, N, C = s.shape
    idx = neighbour_index(m.shape, m.cfg.neighbourhood, m.cfg.boundary).to(s.device)
    act = torch.relu if m.cfg.activation == "relu" else torch.tanh
    for _ in range(steps):
        feats = torch.cat([s, s.new_zeros(B, 1, C)], 1)[:, idx].reshape(B, N, -1)
        s = s + act(feats @ m.w1 + m.rule_bias()) @ m.w2 + m.b2
    return s


def main() -> int:
    dev = sys.argv[1] if len(sys.argv) > 1 else "cuda"   # "cpu" runs the same checks here (a dry run of the script)
    if dev.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: nothing checked")
        return 1
    failed = 0
    for nb, boundary, act in itertools.product(("von_neumann", "moore"), ("walls", "periodic", "reflect"), ("tanh", "relu")):
        torch.manual_seed(0)
        m = CellLattice(24, LatticeConfig(shape=(2, 3, 4), channels=3, hidden=5, neighbourhood=nb, boundary=boundary,
                                          activation=act, steps=2, cell_code=2 if act == "tanh" else 0)).double().to(dev)
        for p in m.parameters():
            torch.nn.init.normal_(p, std=0.5)
        s0 = torch.randn(2, 24, 3, dtype=torch.double, device=dev, requires_grad=True)
        out, ref = m.run(s0)[0], reference_run(m, s0, 2)
        params = [s0, *m.parameters()]
        g = torch.autograd.grad(out.sin().sum(), params)
        g_ref = torch.autograd.grad(ref.sin().sum(), params)
        ok = torch.allclose(out, ref, atol=1e-10) and all(torch.allclose(a, b, atol=1e-9, rtol=1e-9) for a, b in zip(g, g_ref))
        names = [n for n, _ in m.named_parameters()]
        q = torch.randn(2, 24, dtype=torch.double, device=dev, requires_grad=True)
        ok = ok and torch.autograd.gradcheck(lambda q, *ps: torch.func.functional_call(m, dict(zip(names, ps)), (q,)),
                                             (q, *m.parameters()), fast_mode=True, raise_exception=False)
        failed += not ok
        print(f"{nb:12s} {boundary:9s} {act:5s} {'ok' if ok else 'FAILED'}")
    cfg = from_preset("recommended")
    torch.manual_seed(0)
    m = CellLattice(384, cfg.lattice)
    torch.nn.init.normal_(m.w2, std=0.1)
    q = torch.nn.functional.normalize(torch.randn(cfg.optim.batch_size, 384), dim=-1)
    with torch.no_grad():
        cpu = m(q)
        m.to(dev)
        gpu = m(q.to(dev)).cpu()
    diff = float((cpu - gpu).abs().max())
    failed += diff > 1e-4
    print(f"recommended cell: CPU vs CUDA forward max |Δ| = {diff:.1e}")
    qd = q.to(dev)
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    for i in range(6):
        sync()
        t = time.perf_counter()
        m.zero_grad()
        m(qd).square().mean().backward()
        sync()
        if i:
            print(f"recommended cell fwd+bwd on {dev}: {(time.perf_counter() - t) * 1000 / len(q):.3f} ms/sample")
    print("all checks passed" if not failed else f"{failed} check(s) FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
