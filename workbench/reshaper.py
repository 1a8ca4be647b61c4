"""Reshaper: a D-vector onto an X×Y×Z grid and back.

When X·Y·Z == D it is a plain reshape, exactly invertible. Otherwise a learned input
projection (D→X·Y·Z) and output projection (X·Y·Z→D) are used, initialised as a
pseudo-inverse pair so that decode(encode(v)) ≈ v before training starts.
"""

from __future__ import annotations

import math

import torch
from torch import nn

DEFAULT_SHAPES = {384: (8, 8, 6), 768: (8, 8, 12), 512: (8, 8, 8), 1024: (8, 8, 16)}


def default_shape(dim: int) -> tuple[int, int, int]:
    """8×8×6 for 384-d and 8×8×12 for 768-d (the prototype's grid); else the nearest 8×8×k cube that holds D."""
    if dim in DEFAULT_SHAPES:
        return DEFAULT_SHAPES[dim]
    return (8, 8, max(1, math.ceil(dim / 64)))


class Reshaper(nn.Module):
    def __init__(self, dim: int, shape: tuple[int, int, int], learnable: bool = True):
        super().__init__()
        self.dim = dim
        self.shape = tuple(int(s) for s in shape)
        self.cells = math.prod(self.shape)
        self.plain = self.cells == dim
        if not self.plain:
            g = torch.Generator().manual_seed(0)
            w_in = torch.randn(self.cells, dim, generator=g) / math.sqrt(dim)   # (N, D)
            w_out = torch.linalg.pinv(w_in)                                       # (D, N): identity when N ≥ D
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
