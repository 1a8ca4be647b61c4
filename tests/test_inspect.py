"""workbench.inspect and workbench-inspect on a tiny real run (the real teacher, a real trained lattice).

The knockout shortcut (step 1 shared, silenced cells put back to s_0) is checked against the lattice's own
forward with the live mask; every-cell and no-cell silencing against the knocked-out and the trained lattice;
the step dynamics' last step against the run's own metrics.json; the atlas against per-row traces.
"""

import json

import numpy as np
import pytest
import torch

from helpers import SAMPLE_45, cli_run
from workbench.cli import inspect as cli_inspect
from workbench.inspect import files
from workbench.inspect.atlas import category_atlas, row_difference
from workbench.inspect.dynamics import state_update_norms, step_dynamics
from workbench.inspect.knockout import knockout_map, live_masks, region_cells, silenced_cosine
from workbench.inspect.source import open_source
from workbench.train.metrics import pair_cosine
from workbench.train.predict import load_model, trace
from workbench.train.record.replay import read_replay

FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=3",
        "--set", "lattice.shape=4x4x3", "--set", "lattice.extra_depth=0", "--seed", "3",
        "--set", "lattice.neighbourhood=moore", "--set", "optim.batch_size=8", "--set", "optim.lr=0.01"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, cache_dir):
    return cli_run(tmp_path_factory.mktemp("inspect") / "run", SAMPLE_45, cache_dir, 3, FAST)


@pytest.fixture(scope="module")
def source(run_dir, cache_dir):
    return open_source(run_dir, SAMPLE_45, split="val", cache_dir=str(cache_dir))


def mean_cos(pred, a):
    return float(pair_cosine(pred, a).mean())


def test_silencing_every_cell_is_the_knocked_out_lattice_and_none_is_the_trained_one(source):
    m, q, a = source.model, source.q, source.a
    with torch.no_grad():
        trained, off = mean_cos(m(q), a), mean_cos(m(q, steps=0), a)
        assert abs(trained - off) > 1e-3                      # the lattice does something, or the test proves nothing
        assert torch.allclose(m(q, live=torch.zeros(m.cells)), q, atol=1e-6)   # all silenced: pred = q exactly
    got = silenced_cosine(m, q, a, torch.stack([torch.zeros(m.cells), torch.ones(m.cells)]))
    assert got[0].item() == pytest.approx(off, abs=1e-6)
    assert got[1].item() == pytest.approx(trained, abs=1e-6)


def test_the_batched_shortcut_equals_the_lattice_forward_with_the_live_mask(source):
    m, q, a = source.model, source.q, source.a
    regions = region_cells(m.shape, 2)
    live = live_masks(m.cells, regions)
    got = silenced_cosine(m, q, a, live, rows=64)            # several regions per call, several pair chunks
    with torch.no_grad():
        want = [mean_cos(m(q, live=lv), a) for lv in live]
    assert np.allclose(got.numpy(), want, atol=1e-5)
    assert len(set(np.round(want, 6))) > 1                   # regions differ: the mask reached the lattice


def test_knockout_map_volume_regions_and_deciles(source):
    m, q, a = source.model, source.q, source.a
    res = knockout_map(m, q, a, block=1, seed=1)
    X, Y, Z = m.shape
    assert res.volume.shape == (X, Y, Z) and len(res.regions) == X * Y * Z
    with torch.no_grad():
        base = mean_cos(m(q), a)
        x, y, z = 1, 2, 0
        live = torch.ones(X, Y, Z)
        live[x, y, z] = 0
        one = mean_cos(m(q, live=live.reshape(-1)), a)
    assert res.base_cosine == pytest.approx(base, abs=1e-6)
    assert res.volume[x, y, z] == pytest.approx(one - base, abs=1e-5)
    assert res.regions[(x * Y + y) * Z + z] == {"cells": [[x, y, z]], "delta_cosine": pytest.approx(one - base, abs=1e-5)}
    k = int(np.ceil(m.cells / 10))
    top = np.argsort(res.volume.ravel(), kind="stable")[:k]
    live = torch.ones(m.cells)
    live[torch.from_numpy(top)] = 0
    with torch.no_grad():
        assert res.top_decile_delta == pytest.approx(mean_cos(m(q, live=live), a) - base, abs=1e-5)
    assert len(res.random_draws) == 5 and res.random_decile_delta == pytest.approx(np.mean(res.random_draws))
    assert set(res.as_json()) >= {"base_cosine", "regions", "top_decile_delta", "random_decile_delta"}


def test_step_dynamics_last_step_is_the_runs_own_figure(source, run_dir):
    dyn = step_dynamics(source.model, source.q, source.a, rows=5)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    T = source.model.cfg.steps
    assert dyn.cosine.shape == dyn.update_norm.shape == (T + 1,)
    assert dyn.cosine[-1] == pytest.approx(metrics["val_cosine"], abs=1e-5)
    assert dyn.cosine[0] == pytest.approx(metrics["baseline_identity_val_cosine"], abs=1e-5)
    assert dyn.update_norm[0] == 0 and (dyn.update_norm[1:] > 0).all()
    one = trace(source.model, source.q[0].numpy())           # (T+1, C, X, Y, Z): a single pair's update sizes
    alone = step_dynamics(source.model, source.q[:1], source.a[:1])
    assert np.allclose(state_update_norms(one), alone.update_norm, rtol=1e-4)


def test_atlas_means_and_differences_match_per_row_traces(source):
    labels = source.labels("category")
    atlas = category_atlas(source.model, source.q, labels)
    T, C = source.model.cfg.steps, source.model.cfg.channels
    assert atlas.states.shape == (len(set(labels)), T + 1, C, *source.model.shape)
    assert sum(atlas.counts) == len(labels) and atlas.counts == sorted(atlas.counts, reverse=True)
    first, second = atlas.names[:2]
    rows = [i for i, l in enumerate(labels) if l == first]
    want = np.mean([trace(source.model, source.q[i].numpy()) for i in rows], axis=0)
    assert np.allclose(atlas.states[0], want, atol=1e-5)
    assert np.allclose(atlas.difference(first, second), atlas.states[0] - atlas.states[1])
    diff = row_difference(source.model, source.q[0], source.q[1])
    assert np.allclose(diff, trace(source.model, source.q[0].numpy()) - trace(source.model, source.q[1].numpy()),
                       atol=1e-5)
    with pytest.raises(KeyError, match="no category 'nope'"):
        atlas.difference("nope", first)


def test_the_trainer_records_an_epoch_replay_in_the_run_folder(run_dir, source):
    rep = read_replay(run_dir)
    T, C = source.model.cfg.steps, source.model.cfg.channels
    assert rep.epochs.tolist() == [0, 1, 2, 3]
    assert rep.states.shape == (4, T + 1, C, *source.model.shape) and rep.states.dtype == np.float16
    assert rep.question == source.pairs.questions()[rep.sample]
    last = load_model(str(run_dir / "last.safetensors"))
    want = trace(last.trained, source.q[rep.sample].numpy())
    assert np.allclose(rep.states[-1].astype(np.float32), want, atol=2e-2, rtol=2e-3)
    untrained = trace(last.untrained, source.q[rep.sample].numpy())
    assert np.allclose(rep.states[0].astype(np.float32), untrained, atol=2e-2, rtol=2e-3)
    assert not np.allclose(rep.states[0], rep.states[-1], atol=1e-2)        # the cells changed while it learned


def test_inspect_cli_writes_the_volume_the_atlas_and_the_report(run_dir, cache_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli_inspect.run([str(run_dir), str(SAMPLE_45), "--split", "val", "--knockout", "--block", "2", "--atlas",
                            "--out", str(out), "--json", str(tmp_path / "r.json"), "--cache-dir", str(cache_dir),
                            "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "top-decile silenced" in printed and "random-decile silenced" in printed
    report = json.loads((tmp_path / "r.json").read_text())
    assert report == json.loads((out / files.REPORT).read_text())
    assert {"base_cosine", "regions", "top_decile_delta", "random_decile_delta", "step_dynamics", "atlas"} <= set(report)
    vol = files.load_knockout(out / files.KNOCKOUT)
    assert vol.shape == (4, 4, 3)
    assert len(report["regions"]) == 2 * 2 * 2
    region = report["regions"][0]
    assert all(vol[x, y, z] == pytest.approx(region["delta_cosine"]) for x, y, z in region["cells"])
    atlas = files.load_atlas(out / files.ATLAS)
    assert [c["name"] for c in report["atlas"]["categories"]] == atlas.names


def test_inspect_cli_refuses_bad_input_with_one_line(run_dir, cache_dir, tmp_path, capsys):
    assert cli_inspect.run([str(run_dir), str(SAMPLE_45), "--knockout", "--block", "0", "--quiet"]) == 2
    assert "--block must be at least 1" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    other.write_text("\n".join(SAMPLE_45.read_text().splitlines()[:30]) + "\n")
    assert cli_inspect.run([str(run_dir), str(other), "--split", "val", "--cache-dir", str(cache_dir), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not the data" in err and "Traceback" not in err
    assert cli_inspect.run([str(tmp_path / "nope"), str(SAMPLE_45), "--quiet"]) == 2
    assert cli_inspect.run([str(run_dir), str(SAMPLE_45), "--atlas", "--by", "nope", "--cache-dir", str(cache_dir),
                            "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err


def test_a_resumed_run_keeps_the_replay_epochs_already_recorded(tmp_path):
    from workbench.train.events import LatticeSnapshot
    from workbench.train.record.replay import ReplayRecorder
    states = lambda e: np.full((2, 3, 2, 2, 1), e, np.float32)        # noqa: E731  (T+1, C, X, Y, Z)
    first = ReplayRecorder(tmp_path)
    for e in (0, 1, 2, 3):
        first(LatticeSnapshot(e, 0, "q?", states(e)))
    resumed = ReplayRecorder(tmp_path)                                 # --resume from epoch 2's checkpoint
    resumed(LatticeSnapshot(3, 0, "q?", states(30)))
    rep = read_replay(tmp_path)
    assert rep.epochs.tolist() == [0, 1, 2, 3] and rep.states[-1].max() == 30 and rep.states[2].max() == 2
    (tmp_path / "replay.npz").write_bytes(b"not an npz")
    with pytest.raises(ValueError, match="not a readable training replay"):
        read_replay(tmp_path)
