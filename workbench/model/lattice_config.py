"""Lattice configuration, free of torch so the GUI can build its form before torch is imported."""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_SHAPES = {384: (8, 8, 6), 768: (8, 8, 12), 512: (8, 8, 8), 1024: (8, 8, 16)}


def default_shape(dim: int) -> tuple[int, int, int]:
    """8×8×6 for 384-d and 8×8×12 for 768-d (the prototype's grid); else the nearest 8×8×k cube that holds D."""
    if dim in DEFAULT_SHAPES:
        return DEFAULT_SHAPES[dim]
    return (8, 8, max(1, math.ceil(dim / 64)))


def grid_shape(cfg: "LatticeConfig", dim: int) -> tuple[int, int, int]:
    """The explicit shape, else the default grid for D deepened by extra_depth layers."""
    if cfg.shape:
        return tuple(cfg.shape)
    x, y, z = default_shape(dim)
    return (x, y, z + max(0, cfg.extra_depth))


@dataclass
class LatticeConfig:
    shape: tuple[int, int, int] | None = None  # None = 8×8×6 for 384-d, 8×8×12 for 768-d (plain reshape, invertible)
    extra_depth: int = 0          # z-layers added to the default grid; >0 = more cells than D, via learned projections
    channels: int = 8             # state per cell; the prototype's size, enough to carry a value plus context
    hidden: int = 16              # rule width: the prototype's 68→16→8 cell
    neighbourhood: str = "von_neumann"  # 6 face neighbours (cheap); "moore" = 26, mixes faster per step
    boundary: str = "walls"       # "walls" (zero outside), "periodic" (wrap) or "reflect" (mirror at the face)
    steps: int = 12               # propagation steps; the signal crosses ~1 cell per step, 12 spans the 8×8×12 grid
    fire_rate: float = 1.0        # <1 = each cell updates at random with this chance (NCA-style robustness)
    activation: str = "tanh"      # the prototype's; "relu" also works
    learn_projection: bool = True  # when X·Y·Z ≠ D: train the D↔grid projections (False = fixed random pinv pair)
    io: str = "volume"            # "volume": inject/read every cell; "face": inject at z=0, read at z=Z-1
    cell_code: int = 8            # learned per-cell code the shared rule reads (starts as x,y,z); 0 = no code.
                                  # Like a positional embedding: one rule, but it can act differently per place


NEIGHBOURHOODS = {"von_neumann": 6, "moore": 26}
BOUNDARIES = ("walls", "periodic", "reflect")


def check_config(cfg: LatticeConfig, dim: int) -> list[str]:
    """Human-readable reasons the config cannot build a lattice for D=dim ([] when it can)."""
    errs = []
    if cfg.neighbourhood not in NEIGHBOURHOODS:
        errs.append(f"lattice.neighbourhood must be one of {list(NEIGHBOURHOODS)}, not '{cfg.neighbourhood}'")
    if cfg.boundary not in BOUNDARIES:
        errs.append(f"lattice.boundary must be one of {list(BOUNDARIES)}, not '{cfg.boundary}'")
    if cfg.activation not in ("tanh", "relu"):
        errs.append(f"lattice.activation must be 'tanh' or 'relu', not '{cfg.activation}'")
    if cfg.io not in ("volume", "face"):
        errs.append(f"lattice.io must be 'volume' or 'face', not '{cfg.io}'")
    if not 0.0 < cfg.fire_rate <= 1.0:
        errs.append(f"lattice.fire_rate must be in (0, 1], not {cfg.fire_rate}")
    for name in ("channels", "hidden", "steps"):
        if getattr(cfg, name) < (0 if name == "steps" else 1):
            errs.append(f"lattice.{name} must be positive, not {getattr(cfg, name)}")
    shape = grid_shape(cfg, dim)
    if len(shape) != 3 or min(shape) < 1:
        errs.append(f"lattice.shape must be three positive sizes, not {shape}")
    elif cfg.io == "face":
        x, y, _ = shape
        if dim % (x * y) or dim // (x * y) > cfg.channels:
            errs.append(f"face io puts D={dim} on the {x}×{y} face as channels: needs D divisible by {x * y} "
                        f"and D/{x * y} ≤ channels={cfg.channels}")
    return errs
