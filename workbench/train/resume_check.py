"""Is a checkpoint's run the one being resumed? Model keys, split keys and the split itself.

A resumed run must train on the same training pairs and validate on the same held-out pairs,
or pairs it trained on become validation and its numbers are no longer held out. Two checks:

1. `check_resume_config(path, cfg, dim)`, before any embedding: reads only the checkpoint's JSON
   header (checkpoint.read_state) and compares the model keys (MODEL_KEYS), the keys that
   decide the split (SPLIT_KEYS: seed, split.*, data.* which choose the rows kept) and the
   embedding size. A cold 100k-pair run embeds for up to an hour; a wrong --resume is refused
   in seconds.
2. `check_split(checkpoint, data, path)`, after prepare(): compares `split_fingerprint`, a hash
   of the training and validation question/answer texts in order, which catches an edited DATA
   or --val file, or rows kept differently (--drop-invalid). A checkpoint written before the
   fingerprint existed is resumed with a warning, not refused.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from workbench.train.record.checkpoint import CheckpointError, load_checkpoint, read_state
from workbench.train.config import ConfigError, RunConfig, flat_dict, from_dict

# Config keys a checkpoint's weights and optimizer state depend on; the rest (epochs, lr, patience…) may change.
MODEL_KEYS = ("lattice.", "teacher.model", "teacher.pooling", "teacher.max_length", "teacher.normalize",
              "optim.optimizer", "optim.scheduler")

SPLIT_KEYS = ("seed", "split.", "data.")
RESUME_KEYS = MODEL_KEYS + SPLIT_KEYS
log = logging.getLogger(__name__)
# The keys the weights alone depend on: a run started from another run's weights (init_from) brings a fresh optimizer.
WEIGHT_KEYS = tuple(k for k in MODEL_KEYS if not k.startswith("optim."))
BEST = "best.safetensors"      # the checkpoint holding a run's best epoch (state.py writes it)


def config_differences(saved: dict, current: RunConfig, keys=MODEL_KEYS) -> list[str]:
    """'key (checkpoint X, this run Y)' for each model-defining key that differs."""
    old, new = flat_dict(from_dict(saved)), flat_dict(current)
    return [f"{k} (checkpoint {old.get(k)!r}, this run {new.get(k)!r})"
            for k in new if k.startswith(keys) and old.get(k) != new.get(k)]


def split_fingerprint(train, val) -> str:
    """sha256 over the training then the validation (question, answer) texts, in order. train/val: Datasets."""
    h = hashlib.sha256()
    for name, ds in (("train", train), ("val", val)):
        h.update(f"\x1d{name}:{len(ds)}\x1d".encode())
        for p in ds.pairs:
            h.update(p.question.encode("utf-8", "surrogatepass") + b"\x1f"
                     + p.answer.encode("utf-8", "surrogatepass") + b"\x1e")
    return h.hexdigest()


def differences(saved: dict, cfg: RunConfig, dim: int | None, saved_dim, path, keys=RESUME_KEYS) -> list[str]:
    """Every `keys` key that differs between the checkpoint's run and this one, named with both values, and the
    embedding size (a resume compares RESUME_KEYS; a run started from another run's weights WEIGHT_KEYS)."""
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path}: checkpoint config is not a config")
    try:
        diffs = config_differences(saved, cfg, keys)
    except ConfigError as exc:
        raise CheckpointError(f"{path}: checkpoint config is unusable ({exc})") from None
    if dim is not None and saved_dim is not None and saved_dim != dim:
        diffs.insert(0, f"embedding size (checkpoint {saved_dim}, this run {dim}: another teacher)")
    return diffs


def refuse(path, diffs: list[str]) -> None:
    if diffs:
        raise CheckpointError(f"{path}: cannot resume, the checkpoint's run differs in " + "; ".join(diffs)
                              + ". Resume with that run's settings (--config RUN/config.json, the same DATA and "
                              "--seed) or start a new run.")


def check_resume_config(path: str | Path, cfg: RunConfig, dim: int | None = None) -> None:
    """The cheap check: from the header alone, before the data is loaded or embedded. Raises CheckpointError."""
    state = read_state(path)
    refuse(path, differences(state.get("config"), cfg, dim, state.get("embedding_dim"), path))


def check_split(ck: dict, fingerprint: str, path) -> list[str]:
    """After prepare(): refuse a changed split; returns warnings (an old checkpoint without a fingerprint)."""
    saved = ck.get("split_fingerprint")
    if not fingerprint:            # TrainData built by hand (tests, benchmarks): nothing to compare against
        return []
    if not saved:
        return [f"{path} was written before checkpoints recorded their split: cannot check that the training and "
                "validation pairs are the ones it trained with (same DATA, --val, --seed and split settings?)"]
    if saved != fingerprint:
        refuse(path, ["the data file's rows changed: the training/validation pairs are not the ones the checkpoint "
                      "trained with (an edited DATA or --val file, or other rows left out, e.g. --drop-invalid)"])
    return []


# -- init_from: a new run that starts from another run's best weights (fine-tuning) ------------------------

def init_checkpoint(config: RunConfig) -> Path:
    """The checkpoint config.init_from names: a run folder's best.safetensors (or a checkpoint file itself)."""
    path = Path(config.init_from)
    if path.is_dir():
        path = path / BEST
    if not path.is_file():
        raise CheckpointError(f"{config.init_from}: init_from needs a trained run folder holding {BEST} "
                              "(or a checkpoint file); none found")
    return path


def refuse_init(path, diffs: list[str]) -> None:
    if diffs:
        raise CheckpointError(f"{path}: cannot start from this run, its model differs in " + "; ".join(diffs)
                              + ". Use that run's lattice and teacher settings (--config RUN/config.json).")


def check_init_from(config: RunConfig, dim: int | None) -> Path:
    """From the checkpoint's header alone (seconds, before any embedding): the weight-defining keys must match."""
    path = init_checkpoint(config)
    state = read_state(path)
    refuse_init(path, differences(state.get("config"), config, dim, state.get("embedding_dim"), path, WEIGHT_KEYS))
    return path


def init_weights(config: RunConfig, model) -> dict:
    """The parent run's best weights for `model`; every differing config key or weight (name, shape) is named."""
    path = init_checkpoint(config)
    ck = load_checkpoint(path)
    diffs = differences(ck["config"], config, model.dim, ck.get("embedding_dim"), path, WEIGHT_KEYS)
    own, theirs = model.state_dict(), ck["model"] if isinstance(ck["model"], dict) else {}
    diffs += [f"weight {k} (missing in the checkpoint)" for k in own if k not in theirs]
    diffs += [f"weight {k} (only in the checkpoint)" for k in theirs if k not in own]
    diffs += [f"weight {k} (checkpoint shape {tuple(theirs[k].shape)}, this run {tuple(v.shape)})"
              for k, v in own.items() if k in theirs and tuple(theirs[k].shape) != tuple(v.shape)]
    refuse_init(path, diffs)
    log.info("starting from the weights of %s (epoch %s)", path, ck.get("epoch"))
    return theirs
