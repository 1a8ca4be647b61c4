"""The training charts: per-batch loss and per-epoch metrics on one samples-seen axis, and the runs on disk overlaid on them."""
