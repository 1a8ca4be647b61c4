"""Run configuration: dataclasses with a reason beside every default, presets, JSON I/O and `key=value` overrides.

The GUI builds its hyperparameter form from these same dataclasses (field types, the
`RANGES` table and the inline reasons), so the CLI and the app cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.atomic import atomic_write_text
from ..model.lattice_config import LatticeConfig
from ..teacher.encoder import TeacherConfig


@dataclass
class LossConfig:
    mse: float = 0.7            # the prototype's weights: MSE pulls every coordinate toward the answer…
    cosine: float = 0.3         # …(1 − cos) aligns direction, which is what similarity measures…
    l1: float = 0.1             # …and L1 (mean |pred − target|) resists a few large coordinate errors
    infonce: float = 0.0        # in-batch contrastive term; >0 keeps answers apart, which protects retrieval
    temperature: float = 0.05   # InfoNCE softmax temperature; sentence-embedding cosines sit in a narrow band


@dataclass
class OptimConfig:
    optimizer: str = "adamw"    # "adam", "adamw" or "sgd"; AdamW is the prototype's
    lr: float = 5e-4            # the prototype's learning rate
    weight_decay: float = 0.01  # the prototype's; mild, the rule has few weights
    momentum: float = 0.9       # SGD only
    batch_size: int = 4         # the prototype's; small data wants many updates per epoch
    epochs: int = 10            # the prototype's
    grad_clip: float = 1.0      # max global gradient norm; long unrolled lattices can spike
    scheduler: str = "plateau"  # "plateau" (ReduceLROnPlateau on validation cosine) or "none"
    plateau_factor: float = 0.5     # halve the rate when validation stalls
    plateau_patience: int = 3       # epochs without improvement before the rate drops
    early_stop_patience: int = 0    # stop after this many epochs without a new best (0 = never)
    context_noise: float = 0.0      # std of Gaussian noise added to question embeddings, fresh per batch


@dataclass
class SplitConfig:
    val_fraction: float = 0.2   # held-out share; validation is never trained on
    val_file: str = ""          # an explicit validation dataset instead of a random split
    group_column: str = "auto"  # keep each group whole on one side: "auto" = a 'group' or 'document' column if any, "" = off, or a column name


@dataclass
class DataConfig:
    min_chars: int = 2            # shorter question/answer fields are a warning: the row is dropped and listed
    max_chars: int = 100_000      # a guard against a pasted file in a cell (error); long answers are kept, the teacher truncates
    min_pair_cosine: float = -1.0  # quality filter: drop pairs whose raw Q→A cosine is below this (-1 = off)


@dataclass
class RunConfig:
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    lattice: LatticeConfig = field(default_factory=LatticeConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    data: DataConfig = field(default_factory=DataConfig)
    seed: int = 0                    # one seed drives the split, the init, the batches and the noise
    target_similarity: float = 0.80  # the prototype's stated goal; progress is reported against it
    device: str = "auto"             # "auto" = CUDA when available, else CPU
    snapshot_sample: int = 0         # which validation pair the lattice snapshots show


# (min, max) for numeric fields, and choices for text fields; the GUI form and `check` use these.
RANGES: dict[str, tuple[float, float]] = {
    "teacher.max_length": (8, 8192), "teacher.batch_size": (1, 4096), "teacher.batch_tokens": (64, 1 << 20),
    "teacher.threads": (0, 1024),
    "lattice.channels": (1, 256), "lattice.extra_depth": (0, 64), "lattice.cell_code": (0, 256),
    "lattice.hidden": (1, 4096), "lattice.steps": (0, 512),
    "lattice.fire_rate": (0.01, 1.0),
    "loss.mse": (0, 100), "loss.cosine": (0, 100), "loss.l1": (0, 100), "loss.infonce": (0, 100),
    "loss.temperature": (0.001, 10),
    "optim.lr": (1e-7, 1.0), "optim.weight_decay": (0, 1), "optim.momentum": (0, 0.999),
    "optim.batch_size": (1, 4096), "optim.epochs": (1, 100000), "optim.grad_clip": (0, 1e6),
    "optim.plateau_factor": (0.01, 0.99), "optim.plateau_patience": (0, 1000),
    "optim.early_stop_patience": (0, 100000), "optim.context_noise": (0, 10),
    "split.val_fraction": (0.05, 0.9), "data.min_chars": (1, 100000), "data.max_chars": (1, 1000000),
    "data.min_pair_cosine": (-1, 1), "seed": (0, 2**31 - 1), "target_similarity": (0, 1),
    "snapshot_sample": (0, 1000000),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "teacher.pooling": ("mean", "cls"), "teacher.device": ("auto", "cpu", "cuda"), "device": ("auto", "cpu", "cuda"),
    "lattice.neighbourhood": ("von_neumann", "moore"), "lattice.boundary": ("walls", "periodic", "reflect"),
    "lattice.activation": ("tanh", "relu"), "lattice.io": ("volume", "face"),
    "optim.optimizer": ("adam", "adamw", "sgd"), "optim.scheduler": ("plateau", "none"),
}


class ConfigError(ValueError):
    """A config value or file that cannot be used; the message names the key."""


# The prototype's two configurations as we read them from its code, and one tuned to learn.
PRESETS: dict[str, dict[str, Any]] = {
    "prototype-2.1": {  # 8×8×(D/64) grid, state 8, 6 neighbours, rule 68→16→8 tanh, 25 steps, batch 4, 10 epochs
        "lattice.channels": 8, "lattice.hidden": 16, "lattice.steps": 25, "lattice.neighbourhood": "von_neumann",
        "lattice.fire_rate": 1.0, "lattice.activation": "tanh",
        "loss.mse": 0.7, "loss.cosine": 0.3, "loss.l1": 0.1, "loss.infonce": 0.0,
        "optim.optimizer": "adamw", "optim.lr": 5e-4, "optim.weight_decay": 0.01, "optim.batch_size": 4,
        "optim.epochs": 10, "optim.grad_clip": 1.0, "optim.scheduler": "plateau", "optim.context_noise": 0.0,
    },
    "prototype-2.2": {  # 2.1 plus its "context noise" augmentation and stochastic cell updates
        "lattice.channels": 8, "lattice.hidden": 16, "lattice.steps": 25, "lattice.neighbourhood": "von_neumann",
        "lattice.fire_rate": 0.5, "lattice.activation": "tanh",
        "loss.mse": 0.7, "loss.cosine": 0.3, "loss.l1": 0.1, "loss.infonce": 0.0,
        "optim.optimizer": "adamw", "optim.lr": 5e-4, "optim.weight_decay": 0.01, "optim.batch_size": 4,
        "optim.epochs": 10, "optim.grad_clip": 1.0, "optim.scheduler": "plateau", "optim.context_noise": 0.05,
    },
    "recommended": {  # tuned on held-out data (README): wider rule, Moore mixing, 2 extra layers through
        # learned projections, a contrastive term and weight decay that keep retrieval at the identity's level
        "lattice.channels": 16, "lattice.hidden": 64, "lattice.steps": 8, "lattice.neighbourhood": "moore",
        "lattice.fire_rate": 1.0, "lattice.activation": "tanh", "lattice.cell_code": 16, "lattice.extra_depth": 2,
        "loss.mse": 0.7, "loss.cosine": 0.3, "loss.l1": 0.1, "loss.infonce": 0.3, "loss.temperature": 0.05,
        "optim.optimizer": "adamw", "optim.lr": 1e-3, "optim.weight_decay": 0.1, "optim.batch_size": 16,
        "optim.epochs": 30, "optim.grad_clip": 1.0, "optim.scheduler": "plateau", "optim.plateau_patience": 3,
        "optim.early_stop_patience": 8, "optim.context_noise": 0.01,
    },
}
DEFAULT_PRESET = "recommended"


def fields_of(obj) -> list[tuple[str, dataclasses.Field]]:
    """Flattened (dotted key, field) pairs, nested dataclasses expanded, in declaration order."""
    out = []
    for f in dataclasses.fields(obj):
        val = getattr(obj, f.name)
        if dataclasses.is_dataclass(val):
            out += [(f"{f.name}.{k}", sub) for k, sub in fields_of(val)]
        else:
            out.append((f.name, f))
    return out


def field_reasons(cls=RunConfig) -> dict[str, str]:
    """Dotted key → the inline comment written beside its default (shown as GUI tooltips)."""
    import inspect
    reasons: dict[str, str] = {}
    for key, _ in fields_of(cls()):
        *path, name = key.split(".")
        owner = cls
        for p in path:
            owner = type(getattr(owner(), p))
        src = inspect.getsource(owner)
        m = re.search(rf"^\s+{name}:[^\n#]*#\s*(.+)$", src, re.M)
        reasons[key] = m.group(1).strip() if m else ""
    return reasons


def get_value(cfg: RunConfig, key: str):
    obj = cfg
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def _coerce(key: str, raw: Any, current: Any) -> Any:
    if isinstance(current, bool):
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("1", "true", "yes", "on"):
            return True
        if str(raw).lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected true/false, got {raw!r}")
    if key == "lattice.shape":
        if raw in (None, "", "auto", "none", "None"):
            return None
        parts = raw if isinstance(raw, (list, tuple)) else re.split(r"[x×,\s]+", str(raw).strip())
        try:
            shape = tuple(int(p) for p in parts if str(p) != "")
        except ValueError:
            raise ConfigError(f"lattice.shape: expected three sizes like 8x8x6, got {raw!r}") from None
        if len(shape) != 3 or min(shape) < 1:
            raise ConfigError(f"lattice.shape: expected three positive sizes like 8x8x6, got {raw!r}")
        return shape
    try:
        if isinstance(current, int):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            return int(raw)
        if isinstance(current, float):
            return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected a {type(current).__name__}, got {raw!r}") from None
    return str(raw)


def set_value(cfg: RunConfig, key: str, raw: Any) -> None:
    """Set a dotted key from text or JSON value, converting to the field's type and checking its range."""
    *path, name = key.split(".")
    obj = cfg
    try:
        for part in path:
            obj = getattr(obj, part)
        current = getattr(obj, name)
    except AttributeError:
        known = ", ".join(k for k, _ in fields_of(RunConfig()))
        raise ConfigError(f"unknown config key '{key}'. Known keys: {known}") from None
    if dataclasses.is_dataclass(current):
        raise ConfigError(f"'{key}' is a section; set one of its keys, e.g. {key}.{dataclasses.fields(current)[0].name}")
    value = _coerce(key, raw, current)
    if key in RANGES and isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = RANGES[key]
        if not lo <= value <= hi:
            raise ConfigError(f"{key}={value} is out of range [{lo:g}, {hi:g}]")
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{key}: '{value}' is not one of {', '.join(CHOICES[key])}")
    setattr(obj, name, value)


def apply_preset(cfg: RunConfig, name: str) -> RunConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset '{name}'; choose one of {', '.join(PRESETS)}")
    for key, value in PRESETS[name].items():
        set_value(cfg, key, value)
    return cfg


def from_preset(name: str = DEFAULT_PRESET) -> RunConfig:
    return apply_preset(RunConfig(), name)


def to_dict(cfg: RunConfig) -> dict:
    d = dataclasses.asdict(cfg)
    if d["lattice"]["shape"] is not None:
        d["lattice"]["shape"] = list(d["lattice"]["shape"])
    return d


def from_dict(data: dict, base: RunConfig | None = None, source: str = "config") -> RunConfig:
    cfg = base or RunConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a JSON object of sections")

    def walk(prefix: str, node: dict):
        for k, v in node.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                walk(key + ".", v)
            else:
                try:
                    set_value(cfg, key, v)
                except ConfigError as exc:
                    raise ConfigError(f"{source}: {exc}") from None
    walk("", data)
    return cfg


def save_config(cfg: RunConfig, path: str | Path) -> None:
    atomic_write_text(path, json.dumps(to_dict(cfg), indent=2) + "\n")


def load_config(path: str | Path, base: RunConfig | None = None) -> RunConfig:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    return from_dict(data, base, source=str(path))
