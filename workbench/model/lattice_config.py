"""Lattice configuration, free of torch so the GUI can build its form before torch is imported."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from workbench.config_meta import check_value, field_meta, setting

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
    shape: tuple[int, int, int] | None = setting(
        None, "None = 8×8×6 for 384-d, 8×8×12 for 768-d (plain reshape, invertible)", unit="cells", hint="shape")
    extra_depth: int = setting(
        0, "z-layers added to the default grid; >0 = more cells than D, via learned projections",
        range=(0, 64), unit="layers")
    channels: int = setting(
        8, "state per cell; the prototype's size, enough to carry a value plus context", range=(1, 256))
    hidden: int = setting(16, "rule width: the prototype's 68→16→8 cell", range=(1, 4096), unit="units")
    neighbourhood: str = setting(
        "von_neumann", "6 face neighbours (cheap); \"moore\" = 26, mixes faster per step",
        choices=("von_neumann", "moore"))
    boundary: str = setting(
        "walls", "\"walls\" (zero outside), \"periodic\" (wrap) or \"reflect\" (mirror at the face)",
        choices=("walls", "periodic", "reflect"))
    steps: int = setting(
        12, "propagation steps; the signal crosses ~1 cell per step, 12 spans the 8×8×12 grid",
        range=(0, 512), unit="steps")
    fire_rate: float = setting(
        1.0, "<1 = each cell updates at random with this chance (NCA-style robustness)", range=(0.01, 1.0))
    activation: str = setting("tanh", "the prototype's; \"relu\" also works", choices=("tanh", "relu"))
    learn_projection: bool = setting(
        True, "when X·Y·Z ≠ D: train the D↔grid projections (False = fixed random pinv pair)")
    io: str = setting(
        "volume", "\"volume\": inject/read every cell; \"face\": inject at z=0, read at z=Z-1",
        choices=("volume", "face"))
    cell_code: int = setting(
        8, "learned per-cell code the shared rule reads (starts as x,y,z); 0 = no code. Like a positional "
        "embedding: one rule, but it can act differently per place", range=(0, 256), unit="values")


NEIGHBOURHOODS = {"von_neumann": 6, "moore": 26}


def check_config(cfg: LatticeConfig, dim: int) -> list[str]:
    """Human-readable reasons the config cannot build a lattice for D=dim ([] when it can): every field against
    its declared range or choices (the same facts set_value, --list-keys and the form read), then the grid."""
    errs = [msg for f in fields(LatticeConfig)
            if (msg := check_value(f"lattice.{f.name}", getattr(cfg, f.name), field_meta(f)))]
    shape = grid_shape(cfg, dim)
    if len(shape) != 3 or min(shape) < 1:
        errs.append(f"lattice.shape must be three positive sizes, not {shape}")
    elif cfg.io == "face":
        x, y, _ = shape
        if dim % (x * y) or dim // (x * y) > cfg.channels:
            errs.append(f"face io puts D={dim} on the {x}×{y} face as channels: needs D divisible by {x * y} "
                        f"and D/{x * y} ≤ channels={cfg.channels}")
    return errs
