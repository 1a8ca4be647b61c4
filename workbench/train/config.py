"""Run configuration: dataclasses with a reason beside every default, presets, JSON I/O and `key=value` overrides.

Every field is declared with `setting(default, reason, range=…, choices=…, unit=…, hint=…)`
(workbench/config_meta.py): validation here, the CLI's `--list-keys` and the GUI form all read
those facts (`field_metas()`), so the CLI and the app cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.config_meta import FieldMeta, UserError, check_value, field_meta, nested_fields, setting
from workbench.data.atomic import atomic_write_text
from workbench.data.rules import ValidationRules
from workbench.model.lattice_config import LatticeConfig
from workbench.teacher.encoder import TeacherConfig


@dataclass
class LossConfig:
    mse: float = setting(0.7, "the prototype's weights: MSE pulls every coordinate toward the answer…", range=(0, 100))
    cosine: float = setting(0.3, "…(1 − cos) aligns direction, which is what similarity measures…", range=(0, 100))
    l1: float = setting(0.1, "…and L1 (mean |pred − target|) resists a few large coordinate errors", range=(0, 100))
    infonce: float = setting(0.0, "in-batch contrastive term; >0 keeps answers apart, which protects retrieval",
                             range=(0, 100))
    temperature: float = setting(0.05, "InfoNCE softmax temperature; sentence-embedding cosines sit in a narrow band",
                                 range=(0.001, 10), hint="log")


@dataclass
class OptimConfig:
    optimizer: str = setting("adamw", "\"adam\", \"adamw\" or \"sgd\"; AdamW is the prototype's",
                             choices=("adam", "adamw", "sgd"))
    lr: float = setting(5e-4, "the prototype's learning rate", range=(1e-7, 1.0), hint="log")
    weight_decay: float = setting(0.01, "the prototype's; mild, the rule has few weights", range=(0, 1))
    momentum: float = setting(0.9, "SGD only", range=(0, 0.999))
    batch_size: int = setting(4, "the prototype's; small data wants many updates per epoch", range=(1, 4096),
                              unit="pairs")
    epochs: int = setting(10, "the prototype's", range=(1, 100000), unit="epochs")
    grad_clip: float = setting(1.0, "max global gradient norm; long unrolled lattices can spike", range=(0, 1e6))
    scheduler: str = setting("plateau", "\"plateau\" (ReduceLROnPlateau on validation cosine), \"cosine\" (per-step "
                             "linear warm-up, then cosine decay: the usual choice for thousands of pairs) or \"none\"",
                             choices=("plateau", "cosine", "none"))
    warmup_fraction: float = setting(0.05, "cosine only: share of all steps spent ramping the rate up from ~0; "
                                     "avoids large early updates while Adam's moments are still noisy", range=(0, 0.9))
    min_lr_fraction: float = setting(0.0, "cosine only: the rate at the last step, as a share of optim.lr",
                                     range=(0, 1))
    plateau_factor: float = setting(0.5, "halve the rate when validation stalls", range=(0.01, 0.99))
    plateau_patience: int = setting(3, "epochs without improvement before the rate drops", range=(0, 1000),
                                    unit="epochs")
    early_stop_patience: int = setting(0, "stop after this many epochs without a new best (0 = never)",
                                       range=(0, 100000), unit="epochs")
    context_noise: float = setting(0.0, "std of Gaussian noise added to question embeddings, fresh per batch",
                                   range=(0, 10))
    batching: str = setting("random", "\"random\": any pairs share a batch; \"group\": batches hold whole groups "
                            "(the split's group column, e.g. document), so InfoNCE's in-batch negatives are answers "
                            "on the same topic: +0.026 top-1 on MedQuAD (docs/large_data_sweep.md)",
                            choices=("random", "group"))
    drop_last: bool = setting(False, "skip each epoch's last, partial batch (a few pairs make a noisy step and a "
                              "weak InfoNCE term); the skipped pairs differ every epoch")


@dataclass
class SplitConfig:
    val_fraction: float = setting(0.2, "held-out share; validation is never trained on", range=(0.05, 0.9))
    val_file: str = setting("", "an explicit validation dataset instead of a random split", hint="path")
    group_column: str = setting("auto", "keep each group whole on one side: \"auto\" = a 'group' or 'document' "
                                "column if any, \"\" = off, or a column name")


@dataclass
class DataConfig:
    min_chars: int = setting(2, "shorter question/answer fields are a warning: the row is dropped and listed",
                             range=(1, 100000), unit="chars")
    max_chars: int = setting(100_000, "a guard against a pasted file in a cell (error); long answers are kept, "
                             "the teacher truncates", range=(1, 1000000), unit="chars")
    min_pair_cosine: float = setting(-1.0, "quality filter: drop pairs whose raw Q→A cosine is below this (-1 = off)",
                                     range=(-1, 1))


@dataclass
class RunConfig:
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    lattice: LatticeConfig = field(default_factory=LatticeConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    data: DataConfig = field(default_factory=DataConfig)
    seed: int = setting(0, "one seed drives the split, the init, the batches and the noise", range=(0, 2**31 - 1))
    target_similarity: float = setting(0.80, "the prototype's stated goal; progress is reported against it",
                                       range=(0, 1))
    device: str = setting("auto", "\"auto\" = CUDA when available, else CPU", choices=("auto", "cpu", "cuda"))
    snapshot_sample: int = setting(0, "which validation pair the lattice snapshots show", range=(0, 1000000))
    init_from: str = setting("", "start from this trained run's best weights (a run folder): fine-tuning; the optimizer "
                             "and the schedule start afresh, and the lattice settings must match the run's", hint="path")


def validation_rules(cfg: RunConfig) -> ValidationRules:
    """The run's data rules. The app's table uses them too (without importing the trainer, so without torch),
    so it flags what a run would do."""
    return ValidationRules(cfg.data.min_chars, cfg.data.max_chars)


def field_metas(cls=RunConfig) -> dict[str, FieldMeta]:
    """Dotted key → its facts (reason, range, choices, unit, hint), from the dataclasses' field metadata."""
    return {key: field_meta(f) for key, f in nested_fields(cls)}


class ConfigError(UserError, ValueError):
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
    "large-data": {  # thousands of pairs (docs/large_data_sweep.md): a small, fast lattice; direction-only loss
        # with a light contrastive term; whole documents per batch; warm-up + cosine decay over 8 epochs
        "lattice.extra_depth": 2, "lattice.channels": 8, "lattice.hidden": 32, "lattice.neighbourhood": "moore",
        "lattice.boundary": "walls", "lattice.steps": 4, "lattice.cell_code": 8, "lattice.activation": "tanh",
        "lattice.fire_rate": 1.0, "lattice.io": "volume", "lattice.learn_projection": True,
        "loss.mse": 0.0, "loss.cosine": 1.0, "loss.l1": 0.0, "loss.infonce": 0.03, "loss.temperature": 0.05,
        "optim.optimizer": "adamw", "optim.lr": 2e-3, "optim.weight_decay": 0.01, "optim.batch_size": 128,
        "optim.batching": "group", "optim.drop_last": True, "optim.epochs": 8, "optim.grad_clip": 1.0,
        "optim.scheduler": "cosine", "optim.warmup_fraction": 0.05, "optim.min_lr_fraction": 0.0,
        "optim.early_stop_patience": 0, "optim.context_noise": 0.0,
    },
}
DEFAULT_PRESET = "recommended"
LARGE_DATA_PRESET = "large-data"
LARGE_DATA_MIN_PAIRS = 2000   # from here on 'large-data' beats ridge and trains in minutes; 'recommended' takes hours


def suggested_preset(n_pairs: int) -> str:
    """The preset for a dataset of n_pairs valid pairs: 'large-data' from LARGE_DATA_MIN_PAIRS on, else the default."""
    return LARGE_DATA_PRESET if n_pairs >= LARGE_DATA_MIN_PAIRS else DEFAULT_PRESET


def fields_of(obj) -> list[tuple[str, dataclasses.Field]]:
    """Flattened (dotted key, field) pairs, nested dataclasses expanded, in declaration order."""
    return nested_fields(obj)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e12 else f"{x:g}"


def describe_keys(preset: str = DEFAULT_PRESET) -> str:
    """The `--list-keys` table: every key with its type, value under the preset, range or choices, unit, reason."""
    cfg = from_preset(preset)
    lines = [f"{'key':<27} {'type':<6} {'default':<21} {'allowed':<24} reason   (defaults: preset '{preset}')"]
    for key, f in nested_fields(RunConfig):
        m = field_meta(f)
        kind = m.hint if m.hint in ("shape", "path") else str(f.type).split("[")[0]
        allowed = f"{_num(m.range[0])}…{_num(m.range[1])}" if m.range else "|".join(m.choices or ())
        value = get_value(cfg, key)
        shown = "x".join(map(str, value)) if key == "lattice.shape" and value else repr(value)
        lines.append(f"{key:<27} {kind:<6} {shown:<21} {(allowed + ' ' + m.unit).strip():<24} {m.reason}")
    return "\n".join(lines)


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
    problem = check_value(key, value, field_meta(next(f for f in dataclasses.fields(obj) if f.name == name)))
    if problem:
        raise ConfigError(problem)
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


def flat_dict(cfg: RunConfig) -> dict[str, Any]:
    """The config as dotted keys ("optim.lr": 0.001), in declaration order: resume checks, sweeps and hparams."""
    def flat(d: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out
    return flat(to_dict(cfg))


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
