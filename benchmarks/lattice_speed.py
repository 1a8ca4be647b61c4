"""Lattice forward+backward speed against a dense matmul measured in the same run, before/after, and the
time of a MedQuAD-sized epoch.

Two cells are timed: the prototype's (state 8, 6 neighbours, rule 56→16→8 tanh, 8×8×12 grid, 25 steps,
batch 32) and the one of a preset (default `recommended`). FLOPs counted are the rule's useful matmuls
only: 2·(K·C·H + H·C) per cell-step forward, ×3 for forward+backward (zero taps of a conv are not counted).

Implementations of the same maths, timed interleaved in each repeat (the machine may be shared):
  conv3d    - workbench.model.lattice: the rule as channels-last 3D convolutions, autograd backward
  gather    - the previous workbench step (benchmarks/lattice_gather_ref.py): index gather, N small
              batched matmuls, hand-written backward
  plain     - gather through the neighbour table, two matmuls, autograd (the obvious vectorised code)
  compiled  - torch.compile of the conv3d model (--compile; compile time is printed)
  bf16      - conv3d under CPU bf16 autocast (--bf16; its gradient error against fp32 is printed)
  loop      - the prototype's Python loop over cells (--loop, prototype cell, one sample; slow)

    python benchmarks/lattice_speed.py [--repeats 5] [--threads N] [--preset NAME] [--compile] [--bf16]
                                       [--profile] [--loop]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from lattice_gather_ref import gather_run
from machine import matmul_gflops
from workbench.model.lattice import CellLattice, neighbour_index
from workbench.model.lattice_config import LatticeConfig
from workbench.model.lattice_config import NEIGHBOURHOODS
from workbench.train import metrics as M
from workbench.train.config import from_preset

DIM = 384
MEDQUAD_TRAIN, MEDQUAD_VAL = 10_500, 2_600   # ~80/20 document split of medquad_dev.csv's 13,191 pairs


def rule_flops(m: CellLattice, batch: int) -> float:
    c, h = m.cfg.channels, m.cfg.hidden
    k = 1 + NEIGHBOURHOODS[m.cfg.neighbourhood]
    return 3 * 2 * (k * c * h + h * c) * m.cells * m.cfg.steps * batch


def trained_looking(m: CellLattice) -> CellLattice:
    torch.nn.init.normal_(m.w2, std=0.1)   # a non-zero last layer, so nothing is trivially zero
    return m


def variants(m: CellLattice, q: torch.Tensor, args) -> dict:
    idx = neighbour_index(m.shape, m.cfg.neighbourhood, m.cfg.boundary)

    def around(run):   # the model's forward with another lattice run: q + readout(s_T) − readout(s_0)
        s0 = m.inject(q)
        return q + m.readout(run(s0)) - m.readout(s0)

    def plain(s):
        B, N, C = s.shape
        bias = m.rule_bias()
        for _ in range(m.cfg.steps):
            feats = torch.cat([s, s.new_zeros(B, 1, C)], 1)[:, idx].reshape(B, N, -1)
            s = s + torch.tanh(feats @ m.w1 + bias) @ m.w2 + m.b2
        return s

    def fwd_bwd(forward):
        def f():
            m.zero_grad(set_to_none=True)
            forward().square().mean().backward()
        return f

    out = {"conv3d": fwd_bwd(lambda: m(q)), "gather": fwd_bwd(lambda: around(lambda s: gather_run(m, s))),
           "plain": fwd_bwd(lambda: around(plain))}
    if args.compile:
        t = time.perf_counter()
        try:
            cm = torch.compile(m)
            fwd_bwd(lambda: cm(q))()
            print(f"  torch.compile: first call (compile) took {time.perf_counter() - t:.1f} s")
            out["compiled"] = fwd_bwd(lambda: cm(q))
        except Exception as exc:   # no compiler, unsupported op: report and go on without it
            print(f"  torch.compile failed, skipped: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    if args.bf16:
        def amp():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return m(q).float()
        out["bf16"] = fwd_bwd(amp)
        grads = []
        for f in (out["conv3d"], out["bf16"]):
            f()
            grads.append(torch.cat([p.grad.reshape(-1) for p in m.parameters()]))
        err = float((grads[1] - grads[0]).norm() / grads[0].norm())
        print(f"  bf16 autocast: gradient differs from fp32 by {err:.1e} (relative L2)")
    return out


def time_cell(name: str, m: CellLattice, batch: int, args) -> None:
    q = torch.nn.functional.normalize(torch.randn(batch, m.dim), dim=-1)
    print(f"\n{name}: grid {'×'.join(map(str, m.shape))}, state {m.cfg.channels}, {NEIGHBOURHOODS[m.cfg.neighbourhood]} "
          f"neighbours, rule {(1 + NEIGHBOURHOODS[m.cfg.neighbourhood]) * m.cfg.channels}→{m.cfg.hidden}→"
          f"{m.cfg.channels} {m.cfg.activation}, cell code {m.cfg.cell_code}, {m.cfg.steps} steps, batch {batch}")
    fns = variants(m, q, args)
    for f in fns.values():
        f()                                    # warm-up
    times = {k: [] for k in fns}
    rates = []
    for _ in range(args.repeats):              # interleaved, so drift on a shared machine hits all alike
        rates.append(matmul_gflops())
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    peak = statistics.median(rates)
    flops = rule_flops(m, batch)
    print(f"  dense 1024³ fp32 matmul, same run: {peak:.1f} GFLOP/s (median of {min(rates):.0f}–{max(rates):.0f})")
    for k, ts in times.items():
        t = min(ts)
        g = flops / t / 1e9
        ratio = statistics.median(a / b for a, b in zip(times["gather"], ts))
        print(f"  {k:9s} {t * 1000 / batch:8.3f} ms/sample  {g:6.1f} GFLOP/s  = {g / peak * 100:5.1f}% of matmul"
              f"   {ratio:5.2f}× the previous (gather) step, median of per-repeat ratios")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fns["conv3d"]()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))


def epoch_estimate(preset: str, repeats: int) -> None:
    """Seconds per MedQuAD-sized epoch with the preset: training steps plus the trainer's per-epoch evaluation
    of the train and validation sets, measured on synthetic unit embeddings (speed does not depend on text)."""
    cfg = from_preset(preset)
    m = CellLattice(DIM, cfg.lattice)
    opt = torch.optim.AdamW(m.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    bs = cfg.optim.batch_size
    q = torch.nn.functional.normalize(torch.randn(bs, DIM), dim=-1)
    a = torch.nn.functional.normalize(torch.randn(bs, DIM), dim=-1)

    def train_step():
        loss = M.loss_terms(m(q), a, cfg.loss)["total"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), cfg.optim.grad_clip)
        opt.step()

    qe = torch.nn.functional.normalize(torch.randn(256, DIM), dim=-1)

    @torch.no_grad()
    def eval_batch():
        m.eval()
        m(qe)
        m.train()

    train_step(), eval_batch()
    t_train = statistics.median(_timed(train_step) for _ in range(max(3, 2 * repeats)))
    t_eval = statistics.median(_timed(eval_batch) for _ in range(max(2, repeats)))
    train_s = math.ceil(MEDQUAD_TRAIN / bs) * t_train
    eval_s = (MEDQUAD_TRAIN + MEDQUAD_VAL) / 256 * t_eval
    total = train_s + eval_s
    print(f"\nMedQuAD-sized epoch, preset '{preset}' (batch {bs}, {cfg.optim.epochs} epochs max), synthetic embeddings:")
    print(f"  {MEDQUAD_TRAIN} training pairs: {t_train * 1000:.1f} ms/batch → {train_s:.0f} s; evaluating "
          f"{MEDQUAD_TRAIN} + {MEDQUAD_VAL} pairs: {eval_s:.0f} s; epoch ≈ {total:.0f} s "
          f"= {total / 60:.1f} min; {cfg.optim.epochs} epochs ≈ {total * cfg.optim.epochs / 60:.0f} min "
          f"(early stopping may end sooner)")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def loop_forward_backward(steps: int = 25) -> float:
    """The prototype's shape of code: every cell runs the rule in a Python loop. One sample, 8×8×12, C=8."""
    X, Y, Z, C, H = 8, 8, 12, 8, 16
    offsets = [(0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
    rule = torch.nn.Sequential(torch.nn.Linear(7 * C, H), torch.nn.Tanh(), torch.nn.Linear(H, C))
    s = torch.randn(X, Y, Z, C, requires_grad=True)
    t = time.perf_counter()
    for _ in range(steps):
        cells = []
        for x in range(X):
            for y in range(Y):
                for z in range(Z):
                    nb = [s[x + dx, y + dy, z + dz] if 0 <= x + dx < X and 0 <= y + dy < Y and 0 <= z + dz < Z
                          else torch.zeros(C) for dx, dy, dz in offsets]
                    cells.append(s[x, y, z] + rule(torch.cat(nb)))
        s = torch.stack(cells).view(X, Y, Z, C)
    s.square().mean().backward()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    ap.add_argument("--preset", default="recommended", help="preset whose cell and epoch are timed")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile of the model")
    ap.add_argument("--bf16", action="store_true", help="also time CPU bf16 autocast")
    ap.add_argument("--profile", action="store_true", help="print where the conv3d lattice's time goes")
    ap.add_argument("--loop", action="store_true", help="also time the Python loop over cells (about a minute)")
    ap.add_argument("--no-epoch", action="store_true", help="skip the MedQuAD epoch estimate")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}")
    proto = LatticeConfig(shape=(8, 8, 12), channels=8, hidden=16, steps=25, cell_code=0)
    time_cell("prototype cell", trained_looking(CellLattice(768, proto)), 32, args)   # 768-d: a plain reshape
    cfg = from_preset(args.preset)
    time_cell(f"'{args.preset}' preset cell", trained_looking(CellLattice(DIM, cfg.lattice)), cfg.optim.batch_size, args)
    if not args.no_epoch:
        epoch_estimate(args.preset, args.repeats)
    if args.loop:
        t_loop = loop_forward_backward()
        print(f"\npython loop over cells, prototype cell, 1 sample: {t_loop * 1000:.0f} ms/sample")


if __name__ == "__main__":
    main()
