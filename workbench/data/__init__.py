"""Stage 1, the bottom layer: dialogue pairs on disk (load, validate, save), dataset statistics, atomic writes.

Imports nothing else from the workbench: every other stage may import it.
"""
