"""Lattice forward+backward speed at the prototype's cell size, against a dense matmul measured in the same run.

Cell: state 8, 6 neighbours (von Neumann), rule (1+6)·8=56 → 16 → 8 with tanh, on an 8×8×12
grid (768 cells, the prototype's 768-d layout), 25 steps, batch 32. FLOPs counted are the
rule's matmuls only: 2·(56·16 + 16·8) per cell-step forward, ×3 for forward+backward.

Three implementations of the same maths are timed:
  fused   - workbench.lattice (gather + batched matmuls, hand-written backward)
  naive   - the straightforward vectorized version: pad, slice 7 shifted views, concat, matmul, autograd
  loop    - the prototype's Python loop over cells (one sample, timed with --loop; it is slow)

    python benchmarks/lattice_speed.py [--loop] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from workbench.model.lattice import CellLattice, LatticeConfig

SHAPE, C, H, T, B = (8, 8, 12), 8, 16, 25, 32
OFFSETS = [(0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
FLOPS_PER_CELL_STEP = 3 * 2 * (7 * C * H + H * C)


def matmul_gflops(n: int = 1024, reps: int = 20) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def fused_model() -> CellLattice:
    m = CellLattice(768, LatticeConfig(shape=SHAPE, channels=C, hidden=H, steps=T, cell_code=0))
    torch.nn.init.normal_(m.w2, std=0.1)  # a trained-looking rule, so nothing is skipped
    return m


def naive_step(s, w1, b1, w2):
    """s (B, X, Y, Z, C): the straightforward version with autograd."""
    X, Y, Z = SHAPE
    p = F.pad(s, (0, 0, 1, 1, 1, 1, 1, 1))
    feats = torch.cat([p[:, 1 + dx:1 + dx + X, 1 + dy:1 + dy + Y, 1 + dz:1 + dz + Z] for dx, dy, dz in OFFSETS], -1)
    return s + torch.tanh(feats @ w1 + b1) @ w2


def loop_forward_backward(steps: int = T) -> float:
    """The prototype's shape of code: every cell runs the rule in a Python loop. One sample."""
    X, Y, Z = SHAPE
    rule = torch.nn.Sequential(torch.nn.Linear(7 * C, H), torch.nn.Tanh(), torch.nn.Linear(H, C))
    state = torch.randn(X, Y, Z, C, requires_grad=True)
    t = time.perf_counter()
    s = state
    for _ in range(steps):
        cells = []
        for x in range(X):
            for y in range(Y):
                for z in range(Z):
                    nb = [s[x + dx, y + dy, z + dz] if 0 <= x + dx < X and 0 <= y + dy < Y and 0 <= z + dz < Z
                          else torch.zeros(C) for dx, dy, dz in OFFSETS]
                    cells.append(s[x, y, z] + rule(torch.cat(nb)))
        s = torch.stack(cells).view(X, Y, Z, C)
    s.square().mean().backward()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", action="store_true", help="also time the Python loop over cells (about a minute)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.manual_seed(0)
    cells = SHAPE[0] * SHAPE[1] * SHAPE[2]
    flops = FLOPS_PER_CELL_STEP * cells * T * B
    peak = matmul_gflops()

    m = fused_model()
    q = torch.randn(B, 768)

    def fused():
        m.zero_grad()
        m(q).square().mean().backward()

    w1 = (torch.randn(7 * C, H) / 7.5).requires_grad_()
    b1 = torch.zeros(H, requires_grad=True)
    w2 = (0.1 * torch.randn(H, C)).requires_grad_()
    s0 = torch.randn(B, *SHAPE, C)

    def naive():
        s = s0
        for _ in range(T):
            s = naive_step(s, w1, b1, w2)
        s.square().mean().backward()

    t_fused, t_naive = best_time(fused, args.repeats), best_time(naive, args.repeats)
    peak = (peak + matmul_gflops()) / 2  # before and after, to even out clock drift
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; dense 1024³ fp32 matmul: {peak:.1f} GFLOP/s")
    print(f"grid 8×8×12, state {C}, 6 neighbours, rule 56→{H}→{C} tanh, {T} steps, batch {B}, forward+backward")
    for name, t in (("fused (workbench)", t_fused), ("naive vectorized", t_naive)):
        g = flops / t / 1e9
        print(f"  {name:18s} {t * 1000 / B:7.2f} ms/sample  {g:6.1f} GFLOP/s  = {g / peak * 100:5.1f}% of matmul")
    print(f"  fused is {t_naive / t_fused:.2f}x the naive vectorized version (same run)")
    if args.loop:
        t_loop = loop_forward_backward()
        print(f"  python loop (1 sample) {t_loop * 1000:9.0f} ms/sample  -> fused is {t_loop / (t_fused / B):.0f}x faster")


if __name__ == "__main__":
    main()
