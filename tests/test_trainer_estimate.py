"""Issue 7 item 2: size and time of a run from its config, before allocating; refuse what cannot fit."""

from __future__ import annotations

import dataclasses
import resource
import subprocess
import sys

import pytest
import torch

from workbench.model.lattice import CellLattice
from workbench.train.estimate import RunTooLarge, check_fits, count_params, estimate_run, memory, slow_warning
from helpers import SAMPLE_45


@pytest.mark.parametrize("overrides", [
    {},
    {"lattice.neighbourhood": "moore", "lattice.cell_code": 0},
    {"lattice.shape": "8x8x6"},                                   # plain reshape: no projections
    {"lattice.learn_projection": False},                          # projections as buffers, not parameters
    {"lattice.io": "face", "lattice.shape": "8x8x3", "lattice.channels": 6},
])
def test_parameter_count_matches_the_real_lattice(make_config, overrides):
    cfg = make_config(**overrides)
    model = CellLattice(384, cfg.lattice)
    assert count_params(cfg.lattice, 384) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("overrides", [
    {"lattice.fire_rate": 1.0}, {"lattice.fire_rate": 0.5}, {"lattice.neighbourhood": "von_neumann"},
    {"lattice.boundary": "periodic"}, {"lattice.boundary": "reflect", "lattice.neighbourhood": "von_neumann"},
    {"lattice.shape": "", "lattice.extra_depth": 2, "lattice.cell_code": 8}])
def test_activation_estimate_covers_what_autograd_keeps(make_config, overrides):
    """Bytes autograd keeps for backward (distinct storages, parameters excluded, counted by a saved-tensor
    hook on a real forward/backward) ≤ the estimate ≤ 2× them."""
    cfg = make_config(**{"lattice.shape": "6x6x6", "lattice.steps": 5, "optim.batch_size": 8, **overrides})
    model = CellLattice(384, cfg.lattice).train()
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if t.is_floating_point() and storage.data_ptr() not in params:
            kept[storage.data_ptr()] = storage.nbytes()     # a tensor saved twice is held once
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.randn(8, 384)).sum().backward()
    est = memory(cfg, n_train=100, n_val=20, dim=384)["train_batch"]
    assert sum(kept.values()) <= est <= 2 * sum(kept.values()), (sum(kept.values()), est)


def test_huge_lattice_is_refused_before_allocating(tmp_path):
    """--set lattice.shape=200x200x200: exit 2, one line with the estimate, and no 12 GB allocation tried."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "workbench.cli.train", str(SAMPLE_45), "--out", str(tmp_path / "r"),
                           "--set", "lattice.shape=200x200x200"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "needs about" in lines[0] and "free" in lines[0] and "lattice.shape" in lines[0]
    assert "200×200×200" in lines[0]
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert max(peak_kb, before) < 3 * 2**20, f"child peaked at {peak_kb / 2**20:.1f} GB"
    assert not (tmp_path / "r").exists()                  # nothing was started


def test_check_fits_refuses_with_the_estimate(make_config):
    cfg = make_config()
    est = estimate_run(cfg, 100, 384, 20, device="cpu", timed=False)
    check_fits(dataclasses.replace(est, free_bytes=est.peak_bytes + 1), cfg)
    with pytest.raises(RunTooLarge) as e:
        check_fits(dataclasses.replace(est, free_bytes=est.peak_bytes - 1), cfg)
    assert "needs about" in str(e.value) and "optim.batch_size" in str(e.value)


def test_under_torchrun_a_node_s_memory_is_shared_by_its_local_ranks(make_config, monkeypatch):
    """Two ranks on one node each get half of its available memory: a run that fits one process is refused."""
    import workbench.train.estimate as E
    cfg = make_config()
    peak = estimate_run(cfg, 100, 384, 20, device="cpu", timed=False).peak_bytes
    monkeypatch.setattr(E, "node_free_memory", lambda: int(1.5 * peak), raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    check_fits(estimate_run(cfg, 100, 384, 20, device="cpu", timed=False), cfg)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    est = estimate_run(cfg, 100, 384, 20, device="cpu", timed=False)
    assert est.free_bytes == int(1.5 * peak) // 2
    with pytest.raises(RunTooLarge, match="each of the 2 processes on this node"):
        check_fits(est, cfg)


def test_big_slow_run_is_estimated_without_building_it(make_config):
    cfg = make_config(**{"lattice.shape": "40x40x40", "lattice.hidden": 256, "lattice.steps": 64,
                         "lattice.neighbourhood": "moore", "lattice.channels": 32})
    est = estimate_run(cfg, 100_000, 384, 10_000, device="cpu")
    assert est.seconds_per_epoch > 3600 and "scaled by FLOPs" in est.basis
    assert "h" in slow_warning(est) and est.peak_bytes > 10 * 2**30


def test_time_estimate_scales_with_the_data_and_the_lattice(make_config):
    """Seconds per epoch come from one cached probe per config: linear in the pairs, larger for a larger lattice.
    (How close the estimate is to a measured epoch is a figure, printed by benchmarks/estimate_accuracy.py.)"""
    cfg = make_config()
    one = estimate_run(cfg, 1000, 384, 0, device="cpu")
    two = estimate_run(cfg, 2000, 384, 0, device="cpu")
    assert one.seconds_per_epoch > 0 and two.seconds_per_epoch == pytest.approx(2 * one.seconds_per_epoch, rel=1e-6)
    assert "ms per batch" in one.basis
    # lattices too big to build are timed through one shared probe of their rule, scaled by cells, steps and FLOPs
    big = {"lattice.shape": "40x40x40", "lattice.neighbourhood": "moore", "lattice.channels": 32, "lattice.steps": 10}
    wide = estimate_run(make_config(**big, **{"lattice.hidden": 512}), 1000, 384, 0, device="cpu")
    narrow = estimate_run(make_config(**big, **{"lattice.hidden": 256}), 1000, 384, 0, device="cpu")
    longer = estimate_run(make_config(**{**big, "lattice.hidden": 256, "lattice.steps": 20}), 1000, 384, 0, device="cpu")
    assert wide.seconds_per_epoch > 1.9 * narrow.seconds_per_epoch
    assert longer.seconds_per_epoch > 1.9 * narrow.seconds_per_epoch
