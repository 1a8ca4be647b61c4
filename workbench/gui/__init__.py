"""The desktop app (PySide6 + pyqtgraph + pyvistaqt). The only package allowed to import Qt."""
