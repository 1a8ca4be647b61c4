"""The cubic core: a 3D lattice of cells that share one small neural rule and talk to their neighbours.

Shapes: B samples, N = X·Y·Z cells, C state channels, K = 1 + neighbours, H hidden units.
Inputs and outputs of `run` are (B, N, C), cells in x-major order so they line up with `grid.reshape(B, N)`.

Each step every cell reads its own state and its neighbours' (the boundary rule decides what lies
beyond a face), applies the shared rule C·K → H → C, and adds the result to its state (residual
update, like neural cellular automata). The rule's last layer starts at zero, so the untrained
lattice is the identity.

A shared rule over a neighbourhood is a 3D convolution, so that is how it runs: the first layer is a
3×3×3 conv (Moore) or three 3-tap axis convs (von Neumann: 9 taps instead of 27, 7 of them useful),
the second a 1×1×1 conv, on channels-last (B, C, X, Y, Z) views of the (B, X, Y, Z, C) state, no
copies. oneDNN (CPU) and cuDNN (CUDA) run these far faster than gathers and batched matmuls
(benchmarks/lattice_speed.py: ~2× the previous gather step on the prototype's small cell, ~6× on
the recommended preset's, same run, one thread), and autograd's backward is exact. tanh runs as
2·sigmoid(2x) − 1 with the factors folded into the weights (torch.tanh is ~10× slower than sigmoid
on this CPU build).
`neighbour_index` is the same neighbourhood as an explicit table: the reference the tests check against.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from workbench.model.lattice_config import NEIGHBOURHOODS, LatticeConfig, check_config, grid_shape
from workbench.model.reshaper import Reshaper

__all__ = ["CellLattice", "build_lattice", "neighbour_index", "neighbour_offsets"]

PAD_MODES = {"periodic": "circular", "reflect": "replicate"}   # "reflect" mirrors the cell at the face: replicate


def neighbour_offsets(neighbourhood: str) -> list[tuple[int, int, int]]:
    """The K (dx, dy, dz) a cell reads, itself first; row k·C + c of the rule's w1 belongs to offset k."""
    if neighbourhood == "moore":
        offsets = [o for o in itertools.product((-1, 0, 1), repeat=3) if o != (0, 0, 0)]
    else:
        offsets = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
    return [(0, 0, 0)] + offsets


def neighbour_index(shape: tuple[int, int, int], neighbourhood: str, boundary: str) -> torch.Tensor:
    """(N·K,) long: for each cell, itself then its neighbours; index N means "outside" (a zero wall)."""
    X, Y, Z = shape
    offsets = neighbour_offsets(neighbourhood)
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


def conv_plan(neighbourhood: str) -> list[tuple[tuple[int, int, int], list[int]]]:
    """[(kernel size, offset index k at each kernel tap, -1 = zero tap)]: convs whose sum is the first layer.

    conv3d is a cross-correlation, so tap i along an axis reads offset i − 1 there.
    """
    offsets = neighbour_offsets(neighbourhood)
    if neighbourhood == "moore":
        return [((3, 3, 3), [offsets.index(o) for o in itertools.product((-1, 0, 1), repeat=3)])]
    plan = []
    for axis in range(3):
        taps = []
        for d in (-1, 0, 1):
            o = tuple(d if a == axis else 0 for a in range(3))
            taps.append(offsets.index(o) if d or axis == 0 else -1)   # the centre belongs to the x conv only
        plan.append((tuple(3 if a == axis else 1 for a in range(3)), taps))
    return plan


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
        K = 1 + NEIGHBOURHOODS[cfg.neighbourhood]
        # each first-layer conv: its size, and which row block of w1 sits at each tap (K = the zero block)
        self._sizes = []
        for i, (size, taps) in enumerate(conv_plan(cfg.neighbourhood)):
            self._sizes.append(size)
            self.register_buffer(f"_taps{i}", torch.tensor([k if k >= 0 else K for k in taps]), persistent=False)
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

    def rule_kernels(self):
        """The rule as conv weights, computed once per forward (autograd carries gradients back to w1, w2, …).

        Returns ([(w (H, C, kx, ky, kz), padding)], bias (1, H, X, Y, Z) or (H,) without cell codes,
        w2 (C, H, 1, 1, 1), b2 (C,)).
        For tanh the factors of 2·σ(2x) − 1 are folded in: first layer and bias ×2, then
        W2ᵀ(2σ − 1) + b2 = (2·W2)ᵀσ + (b2 − Σ_h W2[h]).
        """
        C, H = self.cfg.channels, self.cfg.hidden
        X, Y, Z = self.shape
        g = 1.0 if self.cfg.activation == "relu" else 2.0
        blocks = torch.cat([self.w1.view(-1, C, H), self.w1.new_zeros(1, C, H)])   # (K+1, C, H)
        convs = [((g * blocks.index_select(0, getattr(self, f"_taps{i}"))).permute(2, 1, 0).reshape(H, C, *size),
                  tuple(k // 2 for k in size)) for i, size in enumerate(self._sizes)]
        if self.code is None:   # the same bias in every cell: the first conv adds it (cheaper backward)
            bias = g * self.b1
        else:
            bias = (g * self.rule_bias()).view(1, X, Y, Z, H).permute(0, 4, 1, 2, 3)    # channels-last view
        w2, b2 = (self.w2, self.b2) if g == 1.0 else (2 * self.w2, self.b2 - self.w2.sum(0))
        return convs, bias, w2.T.reshape(C, H, 1, 1, 1), b2

    def fire_masks(self, batch: int, generator: torch.Generator | None = None,
                   steps: int | None = None) -> torch.Tensor | None:
        """(B, T, X, Y, Z) bool: which cells update at each step, one row per sample; None when all always fire.

        Drawn on the CPU from `generator` (the run's seeded one) for a whole global batch, so that under DDP
        each rank slices the very masks one process would use: row i's masks never depend on the split."""
        if self.cfg.fire_rate >= 1.0:
            return None
        T = self.cfg.steps if steps is None else steps
        return torch.rand((batch, T, *self.shape), generator=generator) < self.cfg.fire_rate

    def run(self, s: torch.Tensor, steps: int | None = None, record: bool = False,
            fire: torch.Tensor | None = None, live: torch.Tensor | None = None):
        """Propagate T steps from s (B, N, C). Returns the final state and, if record, T+1 detached CPU states.
        fire: (B, T, X, Y, Z) masks from fire_masks (training with fire_rate < 1; drawn here when not given).

        live (B, N) or (N,): 0 silences a cell, whose update is then dropped at every step: it holds its value
        in s (the injected one), which its neighbours still read. Why not zero: workbench/inspect/knockout.py."""
        cfg = self.cfg
        B, N, C = s.shape
        X, Y, Z = self.shape
        convs, bias, w2, b2 = self.rule_kernels()
        relu = cfg.activation == "relu"
        trace = [s.detach().cpu()] if record else None
        x = s.reshape(B, X, Y, Z, C).permute(0, 4, 1, 2, 3)     # (B, C, X, Y, Z), channels-last: a view
        keep = None if live is None else live.to(s.dtype).reshape(-1, 1, X, Y, Z)   # (B or 1, 1, X, Y, Z)
        T = cfg.steps if steps is None else steps
        if self.training and fire is None:
            fire = self.fire_masks(B, steps=T)
        if fire is not None:
            fire = fire.to(s.device)
        for t in range(T):
            mask = None
            if cfg.fire_rate < 1.0:
                # training: this step's (B, 1, X, Y, Z) mask; evaluation: the expected update (deterministic)
                mask = fire[:, t].unsqueeze(1).to(s.dtype) if self.training else cfg.fire_rate
            if keep is not None:
                mask = keep if mask is None else keep * mask
            x = _step(x, convs, bias, w2, b2, cfg.boundary, relu, mask)
            if record:
                trace.append(_cells(x).detach().cpu())
        return _cells(x), trace

    def forward(self, q: torch.Tensor, record: bool = False, steps: int | None = None,
                fire: torch.Tensor | None = None, live: torch.Tensor | None = None):
        """pred = q + readout(s_T) − readout(s_0): exactly q while the rule's last layer is zero.
        steps overrides lattice.steps (0 = the lattice knocked out: the ablation in the run report);
        fire: the batch's (B, T, X, Y, Z) update masks (fire_masks), drawn from the global stream when None;
        live (B, N) or (N,) silences the cells where it is 0 (see run)."""
        s0 = self.inject(q)
        sT, trace = self.run(s0, steps=steps, record=record, fire=fire, live=live)
        pred = self.prediction(q, s0, sT)
        return (pred, trace) if record else pred

    def prediction(self, q: torch.Tensor, s0: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """(B, D) read out of a state s (B, N, C) reached from s0 = inject(q); also before the last step."""
        return q + self.readout(s) - self.readout(s0)

    def trace_grids(self, trace: list[torch.Tensor], sample: int = 0):
        """Recorded states of one sample as a numpy array (T+1, C, X, Y, Z) for the 3D view."""
        return torch.stack([t[sample] for t in trace]).permute(0, 2, 1).reshape(
            len(trace), self.cfg.channels, *self.shape).numpy()


def _cells(x: torch.Tensor) -> torch.Tensor:
    """(B, C, X, Y, Z) → (B, N, C): a view when x is channels-last."""
    return x.permute(0, 2, 3, 4, 1).reshape(x.shape[0], -1, x.shape[1])


def _step(x, convs, bias, w2, b2, boundary: str, relu: bool, fire):
    """One residual update of the state x (B, C, X, Y, Z); see CellLattice.rule_kernels for the weights.

    In-place ops only touch tensors no backward needs (conv outputs), so autograd stays exact.
    """
    pre = None
    per_cell = bias.dim() > 1
    for w, pad in convs:
        b = None if per_cell or pre is not None else bias
        if boundary == "walls":      # zeros beyond the faces: the conv's own padding, no copy
            y = _Conv3d.apply(x, w, b, pad)
        else:
            px, py, pz = pad
            y = _Conv3d.apply(F.pad(x, (pz, pz, py, py, px, px), mode=PAD_MODES[boundary]), w, b, (0, 0, 0))
        pre = y if pre is None else pre.add_(y)
    if per_cell:
        pre = pre.add_(bias)
    h = pre.relu_() if relu else pre.sigmoid_()                          # (B, H, X, Y, Z)
    d = _Conv3d.apply(h, w2, b2, (0, 0, 0))                              # (B, C, X, Y, Z): the 1×1×1 layer
    if fire is not None:
        d = d.mul_(fire)
    return d.add_(x)


class _Conv3d(torch.autograd.Function):
    """F.conv3d(x, w, b, padding), whose weight gradient on the CPU runs on one thread.

    oneDNN's backward-weights kernel for these few channels ran 50-80× slower with 2 threads than
    with 1 on a busy 2-core machine: its cross-thread reductions stall whenever a thread is
    descheduled. On one thread it is cheap, so the CPU path pins it there; an im2col matmul
    instead made the whole step 1.5-2× slower. The input gradient uses every thread. CUDA keeps
    cuDNN's own backward.
    """

    @staticmethod
    def forward(ctx, x, w, b, padding):
        ctx.save_for_backward(x, w)
        ctx.padding, ctx.has_bias = list(padding), b is not None
        return F.conv3d(x, w, b, padding=padding)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]

        def grads(mask):
            return torch.ops.aten.convolution_backward(g, x, w, None, [1, 1, 1], ctx.padding, [1, 1, 1], False,
                                                       [0, 0, 0], 1, mask + [False])[:2]
        if x.device.type != "cpu" or torch.get_num_threads() == 1:
            gx, gw = grads([need_x, need_w]) if need_x or need_w else (None, None)
        else:
            gx = grads([True, False])[0] if need_x else None
            gw = None
            if need_w:
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
                try:
                    gw = grads([False, True])[1]
                finally:
                    torch.set_num_threads(threads)
        gb = g.sum((0, 2, 3, 4)) if ctx.has_bias and need_b else None
        return gx, gw, gb, None


def build_lattice(dim: int, cfg: LatticeConfig, seed: int) -> CellLattice:
    """The seed's initial lattice, the same whatever ran before: its own RNG fork, global streams untouched.
    The trainer starts from it and predict.load_model rebuilds a run's untrained lattice with it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CellLattice(dim, cfg)
