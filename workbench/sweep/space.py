"""A sweep's search space: dotted config keys → ranges or choices, from defaults and an optional JSON/TOML file.

Space file schema (a JSON object, or a TOML file whose top-level tables are the keys), one entry per
config key that `workbench-train --set` accepts:

    {
      "optim.lr":              {"low": 1e-4, "high": 1e-2, "log": true},   // float, log-uniform
      "lattice.steps":         {"low": 2, "high": 12},                      // the key's type decides int or float
      "lattice.channels":      {"low": 4, "high": 24, "step": 4},           // optional step (int or float keys)
      "lattice.neighbourhood": {"choices": ["moore", "von_neumann"]},       // categorical: any listed values
      "loss.infonce":          null                                         // null (TOML: false) drops a default
    }

The file's entries are laid over the default space below; a top-level `"defaults": false` starts from an
empty space instead. Ranges are checked against the config's own limits (each field's declared range and
choices), so a space cannot propose a value `workbench-train` would refuse. Every problem is a ConfigError naming the
file and the key.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.train.config import ConfigError, RunConfig, get_value, set_value


@dataclass(frozen=True)
class Param:
    key: str                         # dotted config key, also the Optuna parameter name
    kind: str                        # "int", "float" or "choice"
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    choices: tuple = ()

    def to_json(self) -> dict:
        if self.kind == "choice":
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out

    def suggest(self, trial) -> Any:
        """Draw this parameter from an optuna Trial."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        return trial.suggest_float(self.key, self.low, self.high, step=self.step, log=self.log)


# Why these: lr is the knob that matters most and spans decades (log); steps, channels and hidden set the
# lattice's reach and capacity; the cosine and InfoNCE weights trade direction against retrieval; batch size
# trades update count against noise. Bounds stay where a 384-d run on a laptop finishes an epoch in minutes.
DEFAULT_SPACE: dict[str, dict] = {
    "optim.lr": {"low": 1e-4, "high": 1e-2, "log": True},
    "lattice.steps": {"low": 2, "high": 12},
    "lattice.channels": {"low": 4, "high": 24, "step": 4},
    "lattice.hidden": {"choices": [16, 32, 64, 128]},
    "loss.cosine": {"low": 0.0, "high": 1.0},
    "loss.infonce": {"low": 0.0, "high": 1.0},
    "optim.batch_size": {"choices": [8, 16, 32, 64]},
}


def _param(key: str, spec: Any, where: str) -> Param:
    def bad(text: str) -> ConfigError:
        return ConfigError(f"{where}: '{key}': {text}")
    probe = RunConfig()
    try:
        current = get_value(probe, key)
    except AttributeError:
        raise bad("not a config key (see workbench-train --set; e.g. optim.lr, lattice.steps)") from None
    if not isinstance(spec, dict):
        raise bad('expected {"low": …, "high": …} or {"choices": […]}')
    unknown = set(spec) - {"low", "high", "log", "step", "choices"}
    if unknown:
        raise bad(f"unknown field(s) {', '.join(sorted(unknown))}; allowed: low, high, log, step, choices")
    if "choices" in spec:
        if not isinstance(spec["choices"], list) or not spec["choices"]:
            raise bad("choices must be a non-empty list")
        for value in spec["choices"]:
            try:
                set_value(copy.deepcopy(probe), key, value)
            except ConfigError as exc:
                raise bad(f"choice {value!r} is not allowed ({exc})") from None
        return Param(key, "choice", choices=tuple(spec["choices"]))
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise bad("this key is not numeric: give choices instead of low/high")
    if "low" not in spec or "high" not in spec:
        raise bad("needs both low and high (or choices)")
    kind = "int" if isinstance(current, int) else "float"
    low, high, log, step = spec["low"], spec["high"], bool(spec.get("log", False)), spec.get("step")
    for name, value in (("low", low), ("high", high), ("step", step)):
        if value is None and name == "step":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(f"{name} must be a number, got {value!r}")
        if kind == "int" and float(value) != int(value):
            raise bad(f"{name} must be a whole number for an integer key, got {value!r}")
    if low > high:
        raise bad(f"low {low} is above high {high}")
    if log and low <= 0:
        raise bad("a log range needs low > 0")
    if log and step is not None:
        raise bad("log and step cannot be combined")
    if step is not None and step <= 0:
        raise bad("step must be positive")
    for value in (low, high):
        try:
            set_value(copy.deepcopy(probe), key, value)
        except ConfigError as exc:
            raise bad(str(exc)) from None
    if kind == "int":
        return Param(key, kind, int(low), int(high), log, int(step) if step is not None else None)
    return Param(key, kind, float(low), float(high), log, float(step) if step is not None else None)


def read_space_file(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the search space file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc})") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise ConfigError(f"{path}: not valid {kind} ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected an object mapping config keys to ranges")
    return _flatten_toml(data) if path.suffix.lower() == ".toml" else data


def _flatten_toml(data: dict) -> dict:
    """TOML writes `[optim.lr]` as nested tables: {"optim": {"lr": {...}}} → {"optim.lr": {...}}."""
    out: dict = {}
    for k, v in data.items():
        if k == "defaults" or not isinstance(v, dict) or not v or _is_spec(v):
            out[k] = v
        else:
            for sub, spec in _flatten_toml(v).items():
                out[f"{k}.{sub}"] = spec
    return out


def _is_spec(v: dict) -> bool:
    return bool(set(v) & {"low", "high", "choices"})


def build_space(path: str | Path | None = None) -> list[Param]:
    """The default space with the file's entries laid over it (see the module docstring)."""
    raw: dict[str, Any] = dict(DEFAULT_SPACE)
    where = "default search space"
    if path is not None:
        user = read_space_file(path)
        where = str(path)
        defaults = user.pop("defaults", True)
        if defaults is False:
            raw = {}
        elif defaults is not True:
            raise ConfigError(f"{path}: 'defaults' must be true or false, got {defaults!r}")
        for key, spec in user.items():
            if spec is None or spec is False:
                raw.pop(key, None)
            else:
                raw[key] = spec
    space = [_param(k, v, where) for k, v in raw.items()]
    if not space:
        raise ConfigError(f"{where}: the search space is empty; give at least one key to vary")
    return space


def apply_params(cfg: RunConfig, params: dict[str, Any]) -> RunConfig:
    """A copy of cfg with the trial's sampled values set (through set_value, so types and ranges hold)."""
    out = copy.deepcopy(cfg)
    for key, value in params.items():
        set_value(out, key, value)
    return out


def space_json(space: list[Param]) -> dict:
    return {p.key: p.to_json() for p in space}
