"""Run-folder writers: config/history/metrics/report, the live progress log, checkpoints, TensorBoard, the folder itself."""
