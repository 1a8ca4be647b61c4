"""Lattice Workbench: train a 3D cellular lattice that maps question embeddings to answer embeddings.

The core (data, teacher, reshaper, lattice, trainer, metrics, CLI) is GUI-free; only
`workbench.gui` imports Qt, pyqtgraph or pyvista.
"""

__version__ = "0.1.0"
