"""See inside a trained lattice, headless: which cells matter (knockout), what each step adds (dynamics), how
categories use the cells (atlas). The `workbench-inspect` command and the app's inspect views call these.

A stage at the level of workbench.sweep: it reads run folders and data through workbench.train, never Qt.
"""
