"""Lattice Workbench: train a 3D cellular lattice that maps question embeddings to answer embeddings.

The core (data, teacher, reshaper, lattice, trainer, metrics, CLI) is GUI-free; only
`workbench.gui` imports Qt, pyqtgraph or pyvista.
"""

__version__ = "0.1.0"
__all__ = ["load_run", "__version__"]

import logging as _logging

# A library logs, the application decides where to: the CLI adds run.log (and stderr with -v).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())


def __getattr__(name: str):
    """`workbench.load_run` is imported on first use (PEP 562): `import workbench` must not import torch, so the
    app's window can appear before torch loads."""
    if name == "load_run":
        from workbench.use.run import load_run
        return load_run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
