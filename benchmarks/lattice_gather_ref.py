"""The workbench's previous lattice step (until the conv3d rewrite), kept only so benchmarks/lattice_speed.py
can report before/after ratios measured in the same run. Gather through an explicit (N, K) neighbour table,
N small batched matmuls, and a hand-written backward. Not used by the workbench.
"""

from __future__ import annotations

import torch

from workbench.model.lattice import CellLattice, neighbour_index


def reverse_index(idx: torch.Tensor, n: int) -> torch.Tensor:
    """(N·R,) long: for each cell j, the feature slots p with idx[p] == j, padded with slot N·K (zero).

    Turns the backward scatter-add into a gather, which is much faster on the CPU. R is the
    largest number of slots reading one cell (K for walls/periodic, a little more for reflect).
    """
    slots = [[] for _ in range(n)]
    for p, j in enumerate(idx.tolist()):
        if j < n:
            slots[j].append(p)
    r = max(len(s) for s in slots)
    pad = idx.numel()
    return torch.tensor([s + [pad] * (r - len(s)) for s in slots], dtype=torch.long).reshape(-1)


class _LatticeStep(torch.autograd.Function):
    """out = s + fire ⊙ (W2ᵀ·act(W1ᵀ·gather(s) + bias) + b2), with a fused backward.

    Layout is cell-major, batch-last: s (N+1, C, B), where row N is an always-zero sentinel
    (the wall). Gathering a cell's K neighbours then copies whole (C, B) blocks, the fastest
    gather on a CPU, and the shared rule becomes N small batched matmuls with no transposes.
    idx (N·K,) and rev (N·R,) come from neighbour_index / reverse_index; W1 (K·C, H);
    bias (N, H); W2 (H, C); b2 (C,); fire (N, 1, B) or None.
    tanh is computed as 2·sigmoid(2x)−1: the same function, 4x faster than torch.tanh here.
    """

    @staticmethod
    def forward(ctx, s, idx, rev, w1, bias, w2, b2, fire, relu: bool):
        N1, C, B = s.shape
        N = N1 - 1
        feats = s.index_select(0, idx).view(N, -1, B)                             # (N, K·C, B)
        pre = torch.bmm(w1.T.contiguous().expand(N, -1, -1), feats).add_(bias.unsqueeze(-1))  # (N, H, B)
        h = pre.clamp_(min=0) if relu else pre.mul_(2).sigmoid_().mul_(2).sub_(1)
        d = torch.bmm(w2.T.contiguous().expand(N, -1, -1), h).add_(b2.view(1, C, 1))          # (N, C, B)
        if fire is not None:
            d.mul_(fire)
        out = s.clone()
        out[:N] += d
        ctx.save_for_backward(feats, rev, w1, w2, h, fire)
        ctx.relu = relu
        return out

    @staticmethod
    def backward(ctx, g):
        feats, rev, w1, w2, h, fire = ctx.saved_tensors
        N1, C, B = g.shape
        N = N1 - 1
        gd = g[:N] * fire if fire is not None else g[:N]                          # (N, C, B)
        dw2 = torch.bmm(h, gd.transpose(1, 2)).sum(0)                            # (H, C)
        db2 = gd.sum((0, 2))
        dpre = torch.bmm(w2.expand(N, -1, -1), gd)                               # (N, H, B)
        dpre = dpre.mul_(h > 0) if ctx.relu else torch.ops.aten.tanh_backward(dpre, h)  # one fused pass
        dbias = dpre.sum(2)                                                      # (N, H)
        dw1 = torch.bmm(feats, dpre.transpose(1, 2)).sum(0)                      # (K·C, H)
        KC = w1.shape[0]
        dfeats = g.new_empty(N * KC // C + 1, C, B)                              # (N·K + 1, C, B)
        dfeats[-1] = 0                                                           # the zero slot rev pads with
        torch.bmm(w1.expand(N, -1, -1), dpre, out=dfeats[:-1].view(N, KC, B))
        # scatter-add as a gather (deterministic, unlike index_add's atomics on a GPU)
        ds = dfeats.index_select(0, rev).view(N, -1, C, B).sum(1)                # (N, C, B)
        gs = g.clone()
        gs[:N] += ds
        gs[N] = 0  # the sentinel is a constant wall, not a state
        return gs, None, None, dw1, dbias, dw2, db2, None, None


def gather_run(m: CellLattice, s: torch.Tensor) -> torch.Tensor:
    """m.run(s) with the previous step (no fire rate): s (B, N, C) → (B, N, C)."""
    if not hasattr(m, "_gather_idx"):
        idx = neighbour_index(m.shape, m.cfg.neighbourhood, m.cfg.boundary)
        m._gather_idx, m._gather_rev = idx, reverse_index(idx, m.cells)
    B = s.shape[0]
    x = torch.cat([s.permute(1, 2, 0), s.new_zeros(1, m.cfg.channels, B)])
    bias = m.rule_bias()
    for _ in range(m.cfg.steps):
        x = _LatticeStep.apply(x, m._gather_idx, m._gather_rev, m.w1, bias, m.w2, m.b2, None,
                               m.cfg.activation == "relu")
    return x[:-1].permute(2, 0, 1)
