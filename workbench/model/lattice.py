"""The cubic core: a 3D lattice of cells that share one small neural rule and talk to their neighbours.

Shapes: B samples, N = X·Y·Z cells, C state channels, K = 1 + neighbours, H hidden units.
State is kept as (B, N, C), cells in x-major order so it lines up with `grid.reshape(B, N)`.

Each step every cell reads its own state and its neighbours' (a gather through a fixed
(N, K) index table that encodes the boundary rule), applies the shared rule
C·K → H → C, and adds the result to its state (residual update, like neural cellular
automata). The rule's last layer starts at zero, so the untrained lattice is the identity.
The step has a hand-written backward (see `_LatticeStep`) because autograd's generic
gather/scatter bookkeeping made it about 2x slower on the CPU (benchmarks/).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from .lattice_config import NEIGHBOURHOODS, LatticeConfig, check_config, grid_shape
from .reshaper import Reshaper

__all__ = ["CellLattice", "LatticeConfig", "check_config", "neighbour_index", "reverse_index"]


def neighbour_index(shape: tuple[int, int, int], neighbourhood: str, boundary: str) -> torch.Tensor:
    """(N·K,) long: for each cell, itself then its neighbours; index N is an always-zero sentinel (walls)."""
    X, Y, Z = shape
    if neighbourhood == "moore":
        offsets = [o for o in itertools.product((-1, 0, 1), repeat=3) if o != (0, 0, 0)]
    else:
        offsets = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
    offsets = [(0, 0, 0)] + offsets
    n = X * Y * Z
    idx = torch.empty(X, Y, Z, len(offsets), dtype=torch.long)
    for x, y, z in itertools.product(range(X), range(Y), range(Z)):
        for k, (dx, dy, dz) in enumerate(offsets):
            a, b, c = x + dx, y + dy, z + dz
            if boundary == "periodic":
                a, b, c = a % X, b % Y, c % Z
            elif boundary == "reflect":  # the cell beyond the face mirrors the cell at the face
                a, b, c = min(max(a, 0), X - 1), min(max(b, 0), Y - 1), min(max(c, 0), Z - 1)
            inside = 0 <= a < X and 0 <= b < Y and 0 <= c < Z
            idx[x, y, z, k] = (a * Y + b) * Z + c if inside else n
    return idx.reshape(-1)


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


class CellLattice(nn.Module):
    """question embedding (B, D) → predicted answer embedding (B, D) through T lattice steps."""

    def __init__(self, dim: int, cfg: LatticeConfig = LatticeConfig()):
        super().__init__()
        errs = check_config(cfg, dim)
        if errs:
            raise ValueError("; ".join(errs))
        self.cfg, self.dim = cfg, dim
        self.io_scale = math.sqrt(dim)
        self.shape = grid_shape(cfg, dim)
        X, Y, Z = self.shape
        self.cells = X * Y * Z
        C, H = cfg.channels, cfg.hidden
        self.face_channels = dim // (X * Y) if cfg.io == "face" else 1
        self.reshaper = Reshaper(dim, self.shape, cfg.learn_projection) if cfg.io == "volume" else None
        idx = neighbour_index(self.shape, cfg.neighbourhood, cfg.boundary)
        self.register_buffer("idx", idx, persistent=False)
        self.register_buffer("rev", reverse_index(idx, self.cells), persistent=False)
        K = 1 + NEIGHBOURHOODS[cfg.neighbourhood]
        # The shared cell rule ("cell prototype"): C·K (+ cell code) → H → C.
        self.w1 = nn.Parameter(torch.randn(K * C, H) / math.sqrt(K * C))
        self.b1 = nn.Parameter(torch.zeros(H))
        P = cfg.cell_code
        self.w_code = nn.Parameter(torch.randn(P, H) / math.sqrt(max(P, 1))) if P else None
        self.w2 = nn.Parameter(torch.zeros(H, C))   # zero: the untrained lattice is the identity map
        self.b2 = nn.Parameter(torch.zeros(C))
        if P:
            axes = [torch.linspace(-1, 1, n) if n > 1 else torch.zeros(1) for n in self.shape]
            xyz = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)  # (N, 3)
            code = 0.1 * torch.randn(self.cells, P)
            code[:, :min(3, P)] = xyz[:, :min(3, P)]
            self.code = nn.Parameter(code)                                               # (N, P)
        else:
            self.code = None

    # -- input/output ---------------------------------------------------------------
    def inject(self, q: torch.Tensor) -> torch.Tensor:
        """(B, D) → initial state (B, N, C). Unit embeddings are scaled by √D so each cell holds an O(1)
        value: the rule's tanh then works outside its linear range, and Adam's ~lr-sized first steps
        are small against the signal instead of swamping 0.05-sized coordinates."""
        q = q * self.io_scale
        B, C = q.shape[0], self.cfg.channels
        s = q.new_zeros(B, self.cells, C)
        if self.reshaper is not None:
            s[:, :, 0] = self.reshaper.encode(q).reshape(B, -1)
        else:  # face z=0 holds D as (X, Y, D/(X·Y)) channels
            X, Y, Z = self.shape
            s = s.view(B, X, Y, Z, C)
            s[:, :, :, 0, :self.face_channels] = q.view(B, X, Y, self.face_channels)
            s = s.view(B, self.cells, C)
        return s

    def readout(self, s: torch.Tensor) -> torch.Tensor:
        """state (B, N, C) → (B, D), undoing inject's √D scale."""
        B = s.shape[0]
        if self.reshaper is not None:
            return self.reshaper.decode(s[:, :, 0].reshape(B, *self.shape)) / self.io_scale
        X, Y, Z = self.shape
        return s.reshape(B, X, Y, Z, -1)[:, :, :, Z - 1, :self.face_channels].reshape(B, self.dim) / self.io_scale

    def rule_bias(self) -> torch.Tensor:
        """(N, H): b1 plus each cell's code term, computed once per forward rather than per step."""
        bias = self.b1.expand(self.cells, -1)
        return bias + self.code @ self.w_code if self.code is not None else bias.contiguous()

    def run(self, s: torch.Tensor, steps: int | None = None, record: bool = False):
        """Propagate T steps from s (B, N, C). Returns the final state and, if record, T+1 detached CPU states."""
        cfg = self.cfg
        B = s.shape[0]
        bias = self.rule_bias()
        relu = cfg.activation == "relu"
        trace = [s.detach().cpu()] if record else None
        # (B, N, C) → (N+1, C, B): cell-major plus the wall's zero row (see _LatticeStep)
        x = torch.cat([s.permute(1, 2, 0), s.new_zeros(1, cfg.channels, B)])
        for _ in range(cfg.steps if steps is None else steps):
            fire = None
            if cfg.fire_rate < 1.0:
                if self.training:
                    fire = (torch.rand(self.cells, 1, B, device=s.device) < cfg.fire_rate).to(s.dtype)
                else:  # the expected update: deterministic evaluation
                    fire = s.new_full((self.cells, 1, B), cfg.fire_rate)
            x = _LatticeStep.apply(x, self.idx, self.rev, self.w1, bias, self.w2, self.b2, fire, relu)
            if record:
                trace.append(x[:-1].permute(2, 0, 1).detach().cpu())
        return x[:-1].permute(2, 0, 1), trace

    def forward(self, q: torch.Tensor, record: bool = False):
        """pred = q + readout(s_T) − readout(s_0): exactly q while the rule's last layer is zero."""
        s0 = self.inject(q)
        sT, trace = self.run(s0, record=record)
        pred = q + self.readout(sT) - self.readout(s0)
        return (pred, trace) if record else pred

    def trace_grids(self, trace: list[torch.Tensor], sample: int = 0):
        """Recorded states of one sample as a numpy array (T+1, C, X, Y, Z) for the 3D view."""
        return torch.stack([t[sample] for t in trace]).permute(0, 2, 1).reshape(
            len(trace), self.cfg.channels, *self.shape).numpy()
