"""TensorBoard view of a run: an EventSink that writes scalars and hparams through torch.utils.tensorboard.

`workbench-train --tensorboard` (and `workbench-sweep --tensorboard`, and the app's "Write TensorBoard logs"
toggle, all through run_sinks.run_folder_sinks) writes RUN/tensorboard/ as one
TensorBoard run, so `tensorboard --logdir RUN` shows one run and `tensorboard --logdir SWEEP_DIR` shows
every trial side by side. Tags:

    epoch/<key>            every per-epoch metric of history.csv (events.EPOCH_KEYS), step = epoch
    best/val_cosine        the best validation cosine so far, step = epoch (the HPARAMS tab's main metric)
    baseline/<name>        identity, mean_answer and ridge validation cosine, repeated per epoch as flat lines
    batch/loss, batch/running_loss, batch/samples_per_s
                           step = global batch number ((epoch-1)·batches + batch), at most one per `interval` s
    hparams                every config key (dotted) as an hparam, with epoch/val_cosine, epoch/val_top1,
                           epoch/val_mrr and best/val_cosine as metrics; session end written when the run ends

A custom-scalars layout puts the model's validation cosine and the baselines in one chart.
Only rank 0 of a distributed run creates this sink (the CLI decides), so there is one writer per run.
"""

from __future__ import annotations

import time
from pathlib import Path

from workbench.train.config import ConfigError, RunConfig, flat_dict
from workbench.train.events import EPOCH_KEYS, BatchProgress, EpochMetrics, EventSink, Finished, RunStarted

TB_DIR = "tensorboard"
HPARAM_METRICS = ("epoch/val_cosine", "epoch/val_top1", "epoch/val_mrr", "best/val_cosine")


INSTALL_HINT = "pip install 'lattice-workbench[tensorboard]'"


def tensorboard_available() -> bool:
    """Whether the optional tensorboard package is installed: a cheap look-up, nothing is imported
    (the app asks this when it builds its training panel)."""
    import importlib.util
    try:
        return importlib.util.find_spec("tensorboard") is not None
    except (ImportError, ValueError):
        return False


def require_tensorboard() -> None:
    """Fail early, with the install line, when the optional tensorboard package is missing."""
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"--tensorboard needs the tensorboard package ({exc}); "
                          + INSTALL_HINT) from None


def hparam_values(cfg: RunConfig) -> dict[str, float | int | str | bool]:
    """The config flattened to dotted keys with the value types TensorBoard's hparams accept."""
    def accepted(v):
        if isinstance(v, (bool, int, float, str)):
            return v
        # None (auto shape), lists (an explicit shape)
        return "auto" if v is None else "x".join(map(str, v)) if isinstance(v, list) else str(v)
    return {k: accepted(v) for k, v in flat_dict(cfg).items()}


class TensorBoardSink(EventSink):
    def __init__(self, log_dir: str | Path, config: RunConfig, interval: float = 1.0, clock=time.monotonic):
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter
        self.writer = SummaryWriter(log_dir=str(log_dir))
        self.config, self.interval, self.clock = config, interval, clock
        self._last_batch = float("-inf")
        self._baselines: dict[str, float] = {}
        self._best = float("-inf")
        self._session_open = False

    def on_run_started(self, ev: RunStarted) -> None:
        from torch.utils.tensorboard.summary import hparams
        exp, ssi, _ = hparams(hparam_values(self.config), {k: 0.0 for k in HPARAM_METRICS})
        fw = self.writer.file_writer
        fw.add_summary(exp)
        fw.add_summary(ssi)
        self._session_open = True
        self._baselines = {f"baseline/{name}": figs.cosine for name, figs in ev.baselines.items()
                           if figs.cosine is not None}
        self.writer.add_custom_scalars({"validation": {
            "val cosine: lattice vs baselines": ["Multiline", ["epoch/val_cosine", "best/val_cosine", r"baseline/.*"]],
            "retrieval": ["Multiline", ["epoch/val_top1", "epoch/val_top5", "epoch/val_mrr"]]}})
        if ev.start_epoch == 1:      # the untrained model at step 0, so the curve starts where training did
            self.writer.add_scalar("epoch/val_cosine", ev.start["val_cosine_start"], 0)
            self.writer.add_scalar("epoch/train_cosine", ev.start["train_cosine_start"], 0)
        self.writer.flush()

    def on_batch_progress(self, ev: BatchProgress) -> None:
        now = self.clock()
        if now - self._last_batch < self.interval and ev.batch < ev.n_batches:
            return
        self._last_batch = now
        step = (ev.epoch - 1) * ev.n_batches + ev.batch
        self.writer.add_scalar("batch/loss", ev.loss, step)
        self.writer.add_scalar("batch/running_loss", ev.running_loss, step)
        self.writer.add_scalar("batch/samples_per_s", ev.samples_per_s, step)

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        for key in EPOCH_KEYS:
            value = ev.metrics.get(key)
            if isinstance(value, (int, float)):
                self.writer.add_scalar(f"epoch/{key}", value, ev.epoch)
        self._best = max(self._best, float(ev.metrics["val_cosine"]))
        self.writer.add_scalar("best/val_cosine", self._best, ev.epoch)
        for tag, value in self._baselines.items():
            self.writer.add_scalar(tag, value, ev.epoch)
        self.writer.flush()           # a watcher (tensorboard, the app) sees each epoch as it ends

    def on_finished(self, ev: Finished) -> None:
        from tensorboard.plugins.hparams.api_pb2 import Status
        from torch.utils.tensorboard.summary import hparams
        if self._session_open:
            _, _, sei = hparams(hparam_values(self.config), {k: 0.0 for k in HPARAM_METRICS})
            if ev.reason == "error":  # the session end carries the run's outcome for the HPARAMS table
                sei.value[0].metadata.plugin_data.content = _end_status(Status.Value("STATUS_FAILURE"))
            self.writer.file_writer.add_summary(sei)
        self.close()

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def _end_status(status: int) -> bytes:
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo
    return HParamsPluginData(session_end_info=SessionEndInfo(status=status), version=0).SerializeToString()
