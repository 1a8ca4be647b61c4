"""How big and how slow a run will be, worked out before anything big is allocated.

    est = estimate_run(cfg, n_train, dim)     # a RunEstimate event: parameters, bytes, seconds per epoch
    check_fits(est)                           # RunTooLarge (a ConfigError: exit 2) when it cannot fit

Memory follows what autograd keeps in the lattice's conv3d step (model/lattice.py, `_step`), per
training batch of B samples on N cells, C channels, H hidden units:
  kept for backward, every step:  the step's input state (B, C, N) (one storage, shared by every
                                  first-layer conv; with periodic/reflect boundaries each conv keeps its
                                  own padded copy), the rule's hidden activation (B, H, N) and the fire
                                  mask (B, 1, N)
  alive within one step:          the pre-activation sum and one conv output (B, H, N) each, the update
                                  and the new state (B, C, N) each
plus the injected and read-out states, parameters × (weight, gradient, optimizer moments), the
embeddings, and an evaluation chunk of 256 samples that keeps nothing between steps.
`tests/test_trainer_estimate.py` checks the kept part against the bytes autograd really saves
(distinct storages, counted by a saved-tensor hook) for each neighbourhood and boundary.

Time comes from a timed probe on this machine and device, cached per config. A lattice whose
training batch needs under 1 GiB is timed as it is: real updates (forward, loss, backward,
clip, optimizer step) and an evaluation chunk. A bigger one is never built: two tiny
lattices (3³ and 6³ cells, 2 steps) with its rule are timed and fitted as seconds = overhead
per batch + cost per cell·step·sample, rules wider than 16 channels × 64 hidden scaled by their
FLOP ratio. Either way the probe takes a few seconds at most. Not counted: checkpoint writes
and the lattice snapshot, a few per cent of an epoch at real dataset sizes.
"""

from __future__ import annotations

import logging
import math
import os
import time

import torch

from workbench.train.config import ConfigError, RunConfig
from workbench.train.eval_pass import TRAIN_SCORE_ROWS
from workbench.train.predict import MODEL_ROWS
from workbench.train.events import RunEstimate
from workbench.model.lattice_config import NEIGHBOURHOODS, LatticeConfig, check_config, grid_shape

log = logging.getLogger(__name__)
FLOAT = 4                   # bytes per float32
EVAL_CHUNK = MODEL_ROWS     # rows per model call of an evaluation pass (predict.predict_chunks)
SLOW_EPOCH_S = 3600.0       # warn (and the GUI asks) when one epoch would take longer than this
PROBE_C, PROBE_H = 16, 64   # widest rule probed as is; wider ones are scaled by FLOPs


class RunTooLarge(ConfigError):
    """The run would need more memory than the device has free; the message gives the estimate."""


def gib(n: float) -> str:
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 2**10:.0f} KB"


def duration(s: float) -> str:
    return f"{s / 3600:.1f} h" if s >= 3600 else f"{s / 60:.1f} min" if s >= 60 else f"{s:.1f} s"


def count_params(lat: LatticeConfig, dim: int) -> int:
    """Trainable parameters of CellLattice(dim, lat), counted from its constructor's shapes."""
    x, y, z = grid_shape(lat, dim)
    n, k, c, h, p = x * y * z, 1 + NEIGHBOURHOODS[lat.neighbourhood], lat.channels, lat.hidden, lat.cell_code
    total = k * c * h + h + h * c + c + (p * h + n * p if p else 0)
    if lat.io == "volume" and n != dim and lat.learn_projection:
        total += 2 * n * dim                        # proj_in (N, D) and proj_out (D, N)
    return total


def _state_copies(lat: LatticeConfig, shape: tuple[int, int, int]) -> float:
    """State-sized (B, C, N) tensors each step keeps for backward: the input once with walls (the convs' own zero
    padding), else one padded copy per first-layer conv (Moore: one 3×3×3 conv; von Neumann: three axis convs)."""
    if lat.boundary == "walls":
        return 1.0
    x, y, z = shape
    n = x * y * z
    if lat.neighbourhood == "moore":
        return (x + 2) * (y + 2) * (z + 2) / n
    return ((x + 2) * y * z + x * (y + 2) * z + x * y * (z + 2)) / n


def memory(cfg: RunConfig, n_train: int, n_val: int, dim: int) -> dict[str, int]:
    """Bytes of weights, train_batch, eval_chunk, record and data, and the parameter count (module docstring)."""
    lat, o = cfg.lattice, cfg.optim
    shape = tuple(int(v) for v in grid_shape(lat, dim))
    n, c, h = math.prod(shape), lat.channels, lat.hidden
    params = count_params(lat, dim)
    buffers = (2 * n * dim if lat.io == "volume" and n != dim and not lat.learn_projection else 0) * FLOAT
    moments = {"adam": 2, "adamw": 2}.get(o.optimizer, 1 if o.momentum > 0 else 0)
    weights = params * (2 + moments) * FLOAT + buffers
    b = max(1, min(o.batch_size, n_train) if n_train else o.batch_size)
    fire = 1 if lat.fire_rate < 1 else 0
    kept = lat.steps * (c * _state_copies(lat, shape) + h + fire)     # per cell and sample, all steps
    transient = 2 * h + 2 * c                                          # within the step being computed
    io = 3 * c + 2 * dim / n                                           # injected state, read-outs, q and pred
    train = int(FLOAT * b * n * (kept + transient + io))
    e = min(EVAL_CHUNK, max(n_train, n_val)) if n_train else EVAL_CHUNK   # unknown size: a full chunk
    evaluation = int(FLOAT * e * n * (transient + 2 * c + io))
    record = FLOAT * (lat.steps + 1) * n * c * 2    # one snapshot's trace, and its numpy copy
    data = FLOAT * dim * 2 * (n_train + n_val)
    return {"weights": weights, "train_batch": train, "eval_chunk": evaluation, "record": record, "data": data,
            "params": params}


def local_processes() -> int:
    """Processes of this job on this node: torchrun's LOCAL_WORLD_SIZE (1 for a plain run)."""
    value = os.environ.get("LOCAL_WORLD_SIZE", "1")
    return max(1, int(value)) if value.isdigit() else 1


def free_memory(device: str) -> int:
    """Bytes free on the device now for this process (0 = unknown: nothing is refused then). On the CPU every
    process torchrun started on the node gets its share; a CUDA rank has a GPU of its own (cuda:LOCAL_RANK)."""
    if device.startswith("cuda"):
        try:
            return int(torch.cuda.mem_get_info(torch.device(device))[0])
        except (RuntimeError, AssertionError):
            return 0
    return node_free_memory() // local_processes()


def node_free_memory() -> int:
    """Bytes of RAM available on this machine now (MemAvailable), 0 when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError as exc:
        log.debug("cannot read /proc/meminfo (%s)", exc)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


_PROBES: dict[tuple, tuple[float, float, float]] = {}
# bytes: configs whose training batch needs less are probed as they are. A direct probe times the real update
# (a few batches, seconds); the scaled probe extrapolates from tiny lattices, and its per-batch overhead term
# swings several-fold on a busy machine, so the direct one is used wherever it is affordable.
DIRECT_LIMIT = 1024 * 2**20


def _timed(fn, device: str, reps: int = 3) -> float:
    """Best of `reps` timed calls after a warm-up (first-call allocation and dispatch); the best, not the mean,
    because other processes on a shared machine only ever add time."""
    fn()
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best


def _flops(k: int, c: int, h: int) -> int:
    return k * c * h + h * c                        # multiply-adds of the rule per cell, step and sample


def _probe_direct(cfg: RunConfig, dim: int, b: int, e: int, device: str) -> tuple[float, float, float]:
    """Time this very lattice: a real update (forward, loss, backward, clip, optimizer step) on b random rows,
    and an evaluation chunk of e rows. Returns (seconds per batch, 0, seconds per evaluated sample)."""
    from workbench.train import metrics as M
    from workbench.model.lattice import build_lattice
    from workbench.train.schedule import build_optimizer
    model = build_lattice(dim, cfg.lattice, 0).to(device)
    opt, _ = build_optimizer(model, cfg)
    q, a = torch.randn(b, dim, device=device), torch.randn(b, dim, device=device)

    def update():
        loss = M.loss_terms(model(q), a, cfg.loss)["total"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    t_batch = _timed(update, device)
    model.eval()
    qe = torch.randn(e, dim, device=device)
    with torch.no_grad():
        t_eval = _timed(lambda: model(qe), device)
    return t_batch, 0.0, t_eval / e


def _probe_scaled(lat: LatticeConfig, b: int, device: str) -> tuple[float, float, float]:
    """Two tiny lattices (3³ and 6³ cells, 2 steps) with this rule capped at 16×64 (probe_speed scales by FLOPs):
    (seconds of overhead per batch, seconds per cell·step·sample training, … evaluating)."""
    from workbench.model.lattice import CellLattice
    c, h = min(lat.channels, PROBE_C), min(lat.hidden, PROBE_H)
    b = min(b, 16)
    points = []
    for side in (3, 6):
        cells = side ** 3
        small = LatticeConfig(shape=(side, side, side), channels=c, hidden=h, steps=2,
                              neighbourhood=lat.neighbourhood, boundary=lat.boundary, activation=lat.activation,
                              fire_rate=lat.fire_rate, cell_code=min(lat.cell_code, 8))
        model = CellLattice(cells, small).to(device).train()
        q = torch.randn(b, cells, device=device)
        points.append((b * cells * 2, _timed(lambda: model(q).square().sum().backward(), device)))
    model.eval()
    with torch.no_grad():
        t_eval = _timed(lambda: model(q), device)
    (u0, t0), (u1, t1) = points
    per = (t1 - t0) / (u1 - u0)
    if per <= 0:                                    # timing noise on a busy machine: no overhead term
        per = t1 / u1
    return max(0.0, t0 - per * u0), per, t_eval / u1


def probe_speed(cfg: RunConfig, dim: int, n_train: int, n_val: int, device: str,
                train_bytes: int) -> tuple[float, float, float, str]:
    """(seconds per batch, per cell·step·sample, per evaluated sample or cell·step·sample, basis), cached."""
    b = max(1, min(cfg.optim.batch_size, n_train))
    direct = train_bytes <= DIRECT_LIMIT
    if direct:
        e = max(1, min(EVAL_CHUNK, n_train + n_val, 64))
        key = ("direct", repr(cfg.lattice), repr(cfg.loss), cfg.optim.optimizer, dim, b, e, device)
    else:
        lat = cfg.lattice               # the probed rule: capped width, same neighbourhood and update kind
        key = ("scaled", lat.neighbourhood, lat.boundary, lat.activation, lat.fire_rate < 1, min(lat.cell_code, 8),
               min(lat.channels, PROBE_C), min(lat.hidden, PROBE_H), min(b, 16), device)
    if key not in _PROBES:
        with torch.random.fork_rng(devices=[]):     # the probe must not move the run's random streams
            torch.manual_seed(0)
            _PROBES[key] = _probe_direct(cfg, dim, b, e, device) if direct else _probe_scaled(cfg.lattice, b, device)
    over, per, per_eval = _PROBES[key]
    if not direct:
        lat, k = cfg.lattice, 1 + NEIGHBOURHOODS[cfg.lattice.neighbourhood]
        scale = _flops(k, lat.channels, lat.hidden) / _flops(k, min(lat.channels, PROBE_C), min(lat.hidden, PROBE_H))
        per, per_eval = per * scale, per_eval * scale
    basis = (f"timed {b}-sample updates of this lattice on {device}: {over * 1e3:.1f} ms per batch" if direct else
             f"timed probe of this rule on {device}, scaled by FLOPs: {per * 1e9:.1f} ns per cell·step·sample")
    return over, per, per_eval, basis


def estimate_run(cfg: RunConfig, n_train: int, dim: int, n_val: int = 0, device: str | None = None,
                 timed: bool = True) -> RunEstimate:
    """Parameters, peak memory and seconds per epoch of this config on n_train + n_val pairs of D=dim.

    Raises ConfigError when the lattice config cannot be built at all (e.g. face io with the wrong D).
    `timed=False` skips the speed probe (seconds_per_epoch = 0), for a quick check before embedding.
    """
    errs = check_config(cfg.lattice, dim)
    if errs:
        raise ConfigError("; ".join(errs))
    if device is None:
        from workbench.teacher.model_files import pick_device
        device = pick_device(cfg.device)
    lat = cfg.lattice
    shape = tuple(int(s) for s in grid_shape(lat, dim))
    mem = memory(cfg, n_train, n_val, dim)
    acts = max(mem["train_batch"], mem["eval_chunk"]) + mem["record"]
    seconds, basis = 0.0, "not timed"
    if timed and n_train:
        bs = max(1, cfg.optim.batch_size)
        over, per, per_eval, basis = probe_speed(cfg, dim, n_train, n_val, device, train_bytes=mem["train_batch"])
        units = math.prod(shape) * lat.steps if per else 1     # direct probes time whole samples
        scored = min(n_train, TRAIN_SCORE_ROWS) + n_val       # what an epoch's evaluation predicts (eval_pass.py)
        seconds = math.ceil(n_train / bs) * over + n_train * units * per + scored * units * per_eval
    return RunEstimate(mem["params"], mem["weights"], acts, mem["data"], mem["weights"] + acts + mem["data"],
                       free_memory(device), seconds, cfg.optim.epochs, device, shape, basis)


def describe(est: RunEstimate) -> str:
    x, y, z = est.lattice_shape
    free = f", {gib(est.free_bytes)} free" if est.free_bytes else ""
    time_part = f"; about {duration(est.seconds_per_epoch)} per epoch" if est.seconds_per_epoch else ""
    return (f"estimate: lattice {x}×{y}×{z}, {est.n_params:,} parameters, peak memory {gib(est.peak_bytes)} "
            f"on {est.device}{free}{time_part}")


def check_fits(est: RunEstimate, cfg: RunConfig) -> None:
    """Raise RunTooLarge, with the estimate and what to shrink, when the run cannot fit in free memory."""
    if est.fits:
        return
    lat, x = cfg.lattice, est.lattice_shape
    n = 1 if est.device.startswith("cuda") else local_processes()
    share = f" for each of the {n} processes on this node" if n > 1 else ""
    raise RunTooLarge(
        f"this run needs about {gib(est.peak_bytes)} of memory but {est.device} has {gib(est.free_bytes)} free{share}: "
        f"lattice {x[0]}×{x[1]}×{x[2]} ({math.prod(x):,} cells), {lat.channels} channels, {lat.hidden} hidden, "
        f"{lat.steps} steps, batch {cfg.optim.batch_size}; {est.n_params:,} parameters. Weights and optimizer "
        f"state {gib(est.weight_bytes)}, activations {gib(est.activation_bytes)}, embeddings {gib(est.data_bytes)}. "
        "Shrink lattice.shape (or extra_depth), optim.batch_size, lattice.steps, lattice.channels or lattice.hidden.")


def slow_warning(est: RunEstimate) -> str:
    """A warning line when one epoch would take hours ("" otherwise)."""
    if est.seconds_per_epoch < SLOW_EPOCH_S:
        return ""
    return (f"one epoch will take about {duration(est.seconds_per_epoch)} ({duration(est.total_seconds)} for "
            f"{est.epochs} epochs) on {est.device}; a smaller lattice, fewer steps or a GPU would shorten it")
