"""Config facts in one place: each config field carries its reason, range or choices, unit and widget hint.

    lr: float = setting(5e-4, "the prototype's learning rate", range=(1e-7, 1.0), hint="log")

`setting` is `dataclasses.field(default=..., metadata=meta(...))`. Validation (`config.set_value`),
the CLI's `--list-keys`, and the GUI form all read `field_meta(f)`; nothing parses comments.
This module sits below every stage (it imports only the standard library), so the torch-free
LatticeConfig, the TeacherConfig and the run config can all use it.

Widget hints: "log" (a rate spanning decades: logarithmic stepping, typed as 3e-4), "shape"
(three sizes like 8x8x6, or empty for auto), "path" (a file, folder or model name). Without a
hint the type decides: bool → check box, choices → list, int/float → spin box, str → text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

KEY = "lattice_workbench"


class UserError(Exception):
    """An expected failure caused by the user's input (data, config, checkpoint, run folder, teacher, sweep…).

    Every such exception class in the package derives from this one, so each command ends through one guard
    (cli/guard.py): exit code 2 and `error: <str(exc)>` on one line, never a traceback. Anything that is not a
    UserError is a bug and keeps its traceback. It lives here, below every stage, so any stage can raise one."""   # the metadata key, so other libraries' field metadata never collides


@dataclass(frozen=True)
class FieldMeta:
    reason: str                                   # why the default is what it is: tooltip and --list-keys
    range: tuple[float, float] | None = None      # inclusive numeric bounds
    choices: tuple[str, ...] | None = None        # the allowed words of a text field
    unit: str = ""                                # shown after the value: "steps", "samples", "chars", …
    hint: str = ""                                # widget hint (see the module docstring)


def meta(reason: str, *, range: tuple[float, float] | None = None, choices: tuple[str, ...] | None = None,
         unit: str = "", hint: str = "") -> dict[str, FieldMeta]:
    """Field metadata for `dataclasses.field(metadata=meta(...))`."""
    if range is not None and not range[0] <= range[1]:
        raise ValueError(f"range {range} is empty")
    return {KEY: FieldMeta(reason, tuple(range) if range else None, tuple(choices) if choices else None, unit, hint)}


def setting(default: Any, reason: str, **kw) -> Any:
    """A dataclass field with a default and its facts: `x: int = setting(8, "why 8", range=(1, 256))`."""
    return dataclasses.field(default=default, metadata=meta(reason, **kw))


def field_meta(f: dataclasses.Field) -> FieldMeta:
    """The facts of one field (an empty FieldMeta for a field declared without them)."""
    return f.metadata.get(KEY) or FieldMeta("")


def nested_fields(cls_or_obj, prefix: str = "") -> list[tuple[str, dataclasses.Field]]:
    """(dotted key, field) for every leaf field, nested dataclass sections expanded, in declaration order."""
    obj = cls_or_obj() if isinstance(cls_or_obj, type) else cls_or_obj
    out = []
    for f in dataclasses.fields(obj):
        val = getattr(obj, f.name)
        if dataclasses.is_dataclass(val):
            out += nested_fields(val, f"{prefix}{f.name}.")
        else:
            out.append((f"{prefix}{f.name}", f))
    return out


def check_value(key: str, value: Any, m: FieldMeta) -> str:
    """'' when value satisfies m's range/choices, else one line naming the key, the value and the rule."""
    if m.range is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = m.range
        if not lo <= value <= hi:
            return f"{key}={value} is out of range [{lo:g}, {hi:g}]{' ' + m.unit if m.unit else ''}"
    if m.choices is not None and value not in m.choices:
        return f"{key}: '{value}' is not one of {', '.join(m.choices)}"
    return ""
