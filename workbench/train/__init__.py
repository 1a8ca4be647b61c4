"""Stage 3: run configuration, metrics and baselines, the trainer (an event generator), run folders, checkpoints."""
