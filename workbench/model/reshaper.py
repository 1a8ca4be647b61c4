"""Reshaper: a D-vector onto an X×Y×Z grid and back.

When X·Y·Z == D it is a plain reshape, exactly invertible. Otherwise a learned input
projection (D→X·Y·Z) and output projection (X·Y·Z→D) are used, initialised as a
pseudo-inverse pair (orthonormal columns, so the inverse is a scaled transpose): with at
least D cells, decode(encode(v)) == v before training starts.
"""

from __future__ import annotations

import math

import torch
from torch import nn



class Reshaper(nn.Module):
    def __init__(self, dim: int, shape: tuple[int, int, int], learnable: bool = True):
        super().__init__()
        self.dim = dim
        self.shape = tuple(int(s) for s in shape)
        self.cells = math.prod(self.shape)
        self.plain = self.cells == dim
        if not self.plain:
            g = torch.Generator().manual_seed(0)
            n, d = self.cells, dim
            if n >= d:  # orthonormal columns scaled to keep per-cell variance: decode(encode(v)) == v
                w_in = torch.linalg.qr(torch.randn(n, d, generator=g))[0] * math.sqrt(n / d)   # (N, D)
                w_out = w_in.T * (d / n)                                                      # (D, N)
            else:       # fewer cells than dims: a lossy orthogonal projection and its pseudo-inverse
                w_out = torch.linalg.qr(torch.randn(d, n, generator=g))[0]                    # (D, N)
                w_in = w_out.T.contiguous()                                                   # (N, D)
            if learnable:
                self.proj_in, self.proj_out = nn.Parameter(w_in), nn.Parameter(w_out)
            else:  # a fixed random mixing: every cell sees a blend of all D inputs
                self.register_buffer("proj_in", w_in)
                self.register_buffer("proj_out", w_out)

    def encode(self, v: torch.Tensor) -> torch.Tensor:
        """(B, D) → (B, X, Y, Z)."""
        flat = v if self.plain else v @ self.proj_in.T
        return flat.reshape(v.shape[0], *self.shape)

    def decode(self, grid: torch.Tensor) -> torch.Tensor:
        """(B, X, Y, Z) → (B, D)."""
        flat = grid.reshape(grid.shape[0], self.cells)
        return flat if self.plain else flat @ self.proj_out.T
