"""Data-parallel training under torchrun: process-group setup, the sharded forward, gradient and metric agreement.

    torchrun --standalone --nproc-per-node N $(command -v workbench-train) DATA --out RUN

torchrun starts N copies of workbench-train with RANK, LOCAL_RANK and WORLD_SIZE set; `start()` joins them
into one process group: gloo on CPU, NCCL on CUDA with one GPU per process (cuda:LOCAL_RANK).

How one step stays the step of a single process (so 2 processes follow 1 process's trajectory up to float
reduction order):
- every rank draws the same seeded permutation, the same context noise and, with lattice.fire_rate < 1, the
  same update masks for the whole global batch (from the run's generator): the global batch is the config's
  `optim.batch_size`, identical on all ranks, and row i's noise and masks never depend on the split;
- rank r runs the lattice forward and backward on its contiguous slice of that batch only (the costly
  part, `torch.tensor_split` sizes), then all-gathers the predictions (without gradient) and puts its own
  slice, with gradient, back in place; every rank computes the loss over the whole global batch, so
  the in-batch InfoNCE term sees every negative, and a mean over the batch weights each shard by its size;
- the parameter gradients are summed across ranks (`sum_gradients`): rank r's gradient is the global
  loss's gradient through its own slice, so the sum is exactly the single-process gradient;
- evaluation is sharded the same way and gathered (predict.predict_chunks with ddp), so every rank holds the
  same predictions; rank 0's
  epoch row is then broadcast, so early stopping, the best epoch and the plateau scheduler decide on
  identical numbers everywhere; a stop request on any rank stops all ranks at the same batch.
Only rank 0 writes anything (run folder, checkpoints, report, progress, TensorBoard) or prints.

Teacher embeddings: rank 0 alone reads, validates, looks the texts up in the SQLite cache and splits the
data, then broadcasts the split embeddings to the other ranks (`share_data` / `receive_data`). The texts
missing from the cache are embedded by every rank, 1/N each, in rounds (`spread_embedding`): rank 0 sends a
round's texts, each rank embeds its contiguous slice, all vectors are gathered, and rank 0 writes the cache. Why rank 0 and
a broadcast rather than every rank reading the cache after a barrier: the teacher runs exactly once even on
nodes that do not share a cache folder, data problems are reported once, and every rank trains on the very
same split. The wait for rank 0's preparation uses a gloo group with a long timeout (DATA_TIMEOUT_S:
embedding a large corpus on a CPU can take an hour); training collectives use COLLECTIVE_TIMEOUT_S.

A rank that dies: its peers' next collective fails (gloo reports the closed connection at once; a hung
peer hits the timeout) and torchrun stops the other processes and names the failed rank. Untested on GPUs
here: the NCCL path is built to be correct (device per LOCAL_RANK, tensors on it), not yet run.
"""

from __future__ import annotations

import datetime
import functools
import logging
import os
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch
import torch.distributed as dist

from workbench.config_meta import UserError

log = logging.getLogger(__name__)

# seconds a training collective may wait for the slowest rank before the job fails (env: WORKBENCH_DDP_TIMEOUT)
COLLECTIVE_TIMEOUT_S = 600
# seconds the other ranks wait for rank 0 to embed and split the data (env: WORKBENCH_DDP_DATA_TIMEOUT)
DATA_TIMEOUT_S = 6 * 3600


class DistributedError(UserError, RuntimeError):
    """The job cannot start as a process group (environment, devices); the message says which rank and why."""


class PeerLost(RuntimeError):
    """A collective failed: another process of the job ended or hung. Only collectives raise it, so any other
    RuntimeError on a rank is that rank's own error and is reported as itself."""


def _collective(fn):
    """A function that only exchanges tensors: its RuntimeError means a lost peer (gloo: connection reset/closed,
    or the collective timeout)."""
    @functools.wraps(fn)
    def exchange(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PeerLost:
            raise
        except RuntimeError as exc:
            raise PeerLost(str(exc)) from exc
    return exchange


@dataclass
class Ddp:
    rank: int
    world_size: int
    local_rank: int
    backend: str                       # "gloo" or "nccl"
    device: str                        # "cpu" or "cuda:LOCAL_RANK"
    data_group: object = None          # gloo group with the long timeout, for rank 0's data broadcast

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def place(self, device: str = "auto") -> None:
        """The config's device ("auto", "cpu" or "cuda"): CUDA → NCCL on cuda:LOCAL_RANK, else gloo on the CPU."""
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise DistributedError(f"device '{device}' was requested but torch sees no CUDA GPU on rank {self.rank}")
        if device != "cpu" and torch.cuda.is_available():
            if self.local_rank >= torch.cuda.device_count():
                raise DistributedError(f"rank {self.rank} has LOCAL_RANK {self.local_rank} but this node has "
                                       f"{torch.cuda.device_count()} GPU(s): start at most one process per GPU")
            torch.cuda.set_device(self.local_rank)
            self.backend, self.device = "nccl", f"cuda:{self.local_rank}"
        else:
            self.backend, self.device = "gloo", "cpu"

    # -- the sharded forward ---------------------------------------------------------------------------------
    def shard_sizes(self, n: int) -> list[int]:
        """Rows of an n-row batch per rank: contiguous slices as torch.tensor_split cuts them (first ranks +1)."""
        return [n // self.world_size + (r < n % self.world_size) for r in range(self.world_size)]

    def own_rows(self, q: torch.Tensor) -> tuple[list[int], torch.Tensor]:
        """(every rank's slice size, this rank's contiguous slice of q)."""
        sizes = self.shard_sizes(len(q))
        start = sum(sizes[:self.rank])
        return sizes, q[start:start + sizes[self.rank]]

    @_collective
    def gather_rows(self, local: torch.Tensor, sizes: list[int], group=None) -> torch.Tensor:
        """All ranks' (sizes[r], D) slices, concatenated in rank order; padded for all_gather, then trimmed."""
        width = max(sizes)
        padded = local.new_zeros((width, *local.shape[1:]))
        padded[:len(local)] = local
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(parts, padded.contiguous(), group=group)
        return torch.cat([p[:s] for p, s in zip(parts, sizes)])

    def forward_shard(self, model: torch.nn.Module, q: torch.Tensor, fire: torch.Tensor | None = None) -> torch.Tensor:
        """(B, D) predictions of the global batch q: this rank's slice carries gradient, the others are gathered.
        fire: the global batch's (B, T, X, Y, Z) update masks (or None); each rank uses its own rows' masks."""
        sizes, local_q = self.own_rows(q)
        local_fire = None if fire is None else self.own_rows(fire)[1]
        local = model(local_q, fire=local_fire) if len(local_q) else q.new_zeros((0, q.shape[1]))
        parts = list(torch.split(self.gather_rows(local.detach(), sizes), sizes))
        parts[self.rank] = local
        return torch.cat(parts)

    # -- agreement -------------------------------------------------------------------------------------------
    @_collective
    def sum_gradients(self, params: Iterable[torch.nn.Parameter]) -> None:
        """One all-reduce over every gradient (and a has-gradient flag each, so a gradient that is None on
        every rank stays None, as it would in one process: the optimizer then leaves that tensor alone)."""
        params = list(params)
        if not params:
            return
        flat = [p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel(), device=p.device, dtype=p.dtype)
                for p in params]
        flags = torch.tensor([p.grad is not None for p in params], dtype=flat[0].dtype, device=flat[0].device)
        buf = torch.cat([*flat, flags])
        dist.all_reduce(buf, op=dist.ReduceOp.SUM)
        offset = 0
        for i, p in enumerate(params):
            n = p.numel()
            if buf[-len(params) + i] > 0:
                grad = buf[offset:offset + n].view_as(p)
                if p.grad is None:
                    p.grad = grad.clone()
                else:
                    p.grad.copy_(grad)
            offset += n

    @_collective
    def broadcast(self, obj):
        """Rank 0's value of a picklable object (an epoch's metrics row), on every rank."""
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    @_collective
    def any(self, flag: bool) -> bool:
        """True on every rank when it is True on any rank (a stop request)."""
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        raise DistributedError(f"environment variable {name}={os.environ[name]!r} is not a whole number") from None


def start() -> Ddp | None:
    """Join the torchrun process group when torchrun started this process, else None (a plain run).

    torchrun with one process (`--nproc-per-node 1`, e.g. one GPU) still forms a group of one, so that
    path (NCCL included) is the one measured and exercised.

    The group is joined before the config is known (only rank 0 reads it, then broadcasts it): with a GPU it
    carries both backends ("cpu:gloo,cuda:nccl"), so CPU tensors go through gloo and CUDA tensors through NCCL;
    `Ddp.place(config.device)` then picks the device every rank trains on.
    """
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1 and "TORCHELASTIC_RUN_ID" not in os.environ:     # torchrun sets it; a plain run has none
        return None
    if not dist.is_available():
        raise DistributedError("this torch build has no torch.distributed; run without torchrun")
    rank, local = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    torch.set_num_threads(rank_threads())   # torchrun's OMP_NUM_THREADS=1 would leave cores idle
    timeout = datetime.timedelta(seconds=_env_int("WORKBENCH_DDP_TIMEOUT", COLLECTIVE_TIMEOUT_S))
    dist.init_process_group("cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo", timeout=timeout)
    data_timeout = datetime.timedelta(seconds=_env_int("WORKBENCH_DDP_DATA_TIMEOUT", DATA_TIMEOUT_S))
    data_group = dist.new_group(backend="gloo", timeout=data_timeout)
    return Ddp(rank, world, local, "gloo", "cpu", data_group)


def rank_threads() -> int:
    """Torch threads for each process: WORKBENCH_THREADS when set, else the usable cores shared by the node's
    processes (torchrun's LOCAL_WORLD_SIZE). torchrun itself sets OMP_NUM_THREADS=1 for every process, which
    leaves cores idle when fewer processes than cores run on a node."""
    from workbench.teacher.batching import usable_cores
    return _env_int("WORKBENCH_THREADS", 0) or max(1, usable_cores() // max(1, _env_int("LOCAL_WORLD_SIZE", 1)))


def stop(ddp: Ddp | None) -> None:
    if ddp is not None and dist.is_initialized():
        dist.destroy_process_group()


# -- rank 0 prepares the data, the others receive it --------------------------------------------------------
_ARRAYS = ("q_train", "a_train", "q_val", "a_val")


def spread_embedding(ddp: Ddp | None, teacher) -> None:
    """Rank 0: let every rank embed its share of the texts missing from the cache (the others wait in receive_data)."""
    if ddp is None or ddp.world_size < 2:
        return
    from dataclasses import asdict

    @_collective
    def spread(texts: list[str]):
        dist.broadcast_object_list([{"embed": texts, "teacher": asdict(teacher.config)}], src=0, group=ddp.data_group)
        return _embed_share(ddp, teacher, texts)
    teacher.spread = spread


def _embed_share(ddp: Ddp, teacher, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """This rank embeds its contiguous slice of texts; every rank gets all (n, D) vectors and (n,) truncated flags."""
    from workbench.teacher.spread import embed_part
    sizes, mine = ddp.own_rows(texts)
    vecs, cut = embed_part(teacher, list(mine))
    local = torch.from_numpy(np.concatenate([vecs, cut[:, None].astype(np.float32)], axis=1))  # (n_r, D+1)
    rows = ddp.gather_rows(local, sizes, group=ddp.data_group).numpy()
    log.info("embedded %d of %d texts missing from the cache on rank %d of %d", len(mine), len(texts), ddp.rank,
             ddp.world_size)
    return np.ascontiguousarray(rows[:, :-1]), rows[:, -1] > 0.5


@_collective
def share_data(ddp: Ddp, data, plan: dict | None = None) -> None:
    """Rank 0: send the prepared TrainData and the run's plan (config, resolved resume path), or None when it
    stopped before training, to every other rank."""
    header = None if data is None else {"shapes": [getattr(data, k).shape for k in _ARRAYS],
                                        "val_questions": data.val_questions, "teacher": data.teacher,
                                        "train_groups": data.train_groups,   # grouped batches must match on every rank
                                        "split_fingerprint": data.split_fingerprint, "plan": plan or {}}
    dist.broadcast_object_list([header], src=0, group=ddp.data_group)
    if data is not None:
        for k in _ARRAYS:
            dist.broadcast(torch.from_numpy(np.ascontiguousarray(getattr(data, k), dtype=np.float32)), src=0,
                           group=ddp.data_group)


@_collective
def receive_data(ddp: Ddp):
    """Ranks > 0: (the TrainData rank 0 prepared, its plan), or None when rank 0 stopped before training.
    Meanwhile, embed this rank's part of every round of cache misses rank 0 sends (spread_embedding)."""
    from workbench.train.state import TrainData
    teacher = None
    while True:
        box = [None]
        dist.broadcast_object_list(box, src=0, group=ddp.data_group)
        header = box[0]
        if not (isinstance(header, dict) and "embed" in header):
            break
        if teacher is None:           # loaded at the first round: a warm cache never loads the model here
            from workbench.teacher.encoder import Teacher, TeacherConfig
            teacher = Teacher(TeacherConfig(**header["teacher"]))
        _embed_share(ddp, teacher, header["embed"])
    if teacher is not None:
        teacher.unload()
    if header is None:
        return None
    arrays = []
    for shape in header["shapes"]:
        t = torch.empty(tuple(shape), dtype=torch.float32)
        dist.broadcast(t, src=0, group=ddp.data_group)
        arrays.append(t.numpy())
    return TrainData(*arrays, val_questions=header["val_questions"], teacher=header["teacher"],
                     train_groups=header["train_groups"], split_fingerprint=header["split_fingerprint"]), header["plan"]
