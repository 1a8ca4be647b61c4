"""Lattice Workbench: train a 3D cellular lattice that maps question embeddings to answer embeddings.

The core (data, teacher, reshaper, lattice, trainer, metrics, CLI) is GUI-free; only
`workbench.gui` imports Qt, pyqtgraph or pyvista.
"""

__version__ = "0.1.0"

import logging as _logging

# A library logs, the application decides where to: the CLI adds run.log (and stderr with -v).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
