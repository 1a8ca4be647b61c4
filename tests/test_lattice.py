import pytest
import torch

from workbench.model.lattice import CellLattice, neighbour_index
from workbench.model.lattice_config import LatticeConfig, check_config, default_shape
from workbench.model.reshaper import Reshaper


def test_default_shapes_match_the_prototype():
    assert default_shape(384) == (8, 8, 6) and default_shape(768) == (8, 8, 12)


def test_plain_reshape_is_exactly_invertible():
    r = Reshaper(768, (8, 8, 12))
    v = torch.randn(5, 768)
    grid = r.encode(v)
    assert grid.shape == (5, 8, 8, 12) and r.plain
    assert torch.equal(r.decode(grid), v)
    assert list(r.parameters()) == []


def test_projection_is_used_and_starts_near_identity():
    r = Reshaper(384, (8, 8, 8))
    assert not r.plain and r.proj_in.shape == (512, 384)
    v = torch.randn(3, 384)
    assert torch.allclose(r.decode(r.encode(v)), v, atol=1e-4)


@pytest.mark.parametrize("io,shape", [("volume", (8, 8, 6)), ("volume", (8, 8, 8)), ("face", (8, 8, 6))])
def test_untrained_lattice_is_the_identity(io, shape):
    m = CellLattice(384, LatticeConfig(shape=shape, io=io, steps=5, neighbourhood="moore"))
    q = torch.randn(4, 384)
    assert torch.allclose(m(q), q, atol=1e-5)


def test_neighbourhood_sizes_and_boundaries():
    n = 2 * 3 * 4
    walls = neighbour_index((2, 3, 4), "von_neumann", "walls").view(n, 7)
    assert (walls == n).any()                                   # walls point at the zero sentinel
    periodic = neighbour_index((2, 3, 4), "moore", "periodic").view(n, 27)
    assert not (periodic == n).any() and periodic.shape[1] == 27
    reflect = neighbour_index((2, 3, 4), "von_neumann", "reflect").view(n, 7)
    assert not (reflect == n).any()
    assert reflect[0, 2] == 0                                   # the -x neighbour of a corner is itself


def _with_random_rule(cfg, dim=24):
    m = CellLattice(dim, cfg).double()
    torch.manual_seed(1)
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.5)
    return m


def reference_run(m: CellLattice, s: torch.Tensor, steps: int, fire=None) -> torch.Tensor:
    """The rule written out plainly: gather each cell's K neighbours through the explicit table, two matmuls,
    residual add. s (B, N, C); fire (B, N, 1) or None. Autograd does the backward."""
    B, N, C = s.shape
    idx = neighbour_index(m.shape, m.cfg.neighbourhood, m.cfg.boundary)          # N = outside (zero)
    act = torch.relu if m.cfg.activation == "relu" else torch.tanh
    for _ in range(steps):
        padded = torch.cat([s, s.new_zeros(B, 1, C)], 1)
        feats = padded[:, idx].reshape(B, N, -1)                                   # (B, N, K·C)
        d = act(feats @ m.w1 + m.rule_bias()) @ m.w2 + m.b2
        s = s + (d if fire is None else d * fire)
    return s


@pytest.mark.parametrize("nb", ["von_neumann", "moore"])
@pytest.mark.parametrize("boundary", ["walls", "periodic", "reflect"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_lattice_matches_the_plain_rule_and_finite_differences(nb, boundary, act):
    m = _with_random_rule(LatticeConfig(shape=(2, 3, 4), channels=3, hidden=5, neighbourhood=nb, boundary=boundary,
                                        activation=act, steps=2, cell_code=2 if act == "tanh" else 0,
                                        fire_rate=0.6))   # per-cell bias with codes, the conv's own bias without
    s0 = torch.randn(2, 24, 3, dtype=torch.double, requires_grad=True)
    fire = m.fire_masks(2, torch.Generator().manual_seed(5))    # training mode: (B, T, X, Y, Z) update masks
    assert fire.shape == (2, 2, 2, 3, 4) and 0 < fire.float().mean() < 1
    out, _ = m.run(s0, fire=fire)
    ref = s0
    for t in range(2):
        ref = reference_run(m, ref, 1, fire[:, t].reshape(2, 24, 1).double())
    assert torch.allclose(out, ref, atol=1e-12, rtol=0)
    params = [s0] + list(m.parameters())
    g = torch.autograd.grad(out.sin().sum(), params)
    g_ref = torch.autograd.grad(ref.sin().sum(), params)
    for a, b in zip(g, g_ref):
        assert torch.allclose(a, b, atol=1e-10, rtol=1e-10)
    m.eval()                                        # the expected update, deterministic
    assert torch.allclose(m.run(s0)[0], reference_run(m, s0, 2, 0.6), atol=1e-12, rtol=0)
    names = [n for n, _ in m.named_parameters()]
    q = torch.randn(2, 24, dtype=torch.double, requires_grad=True)

    def whole_model(q, *ps):                        # inject → T steps → readout, parameters as inputs
        return torch.func.functional_call(m, dict(zip(names, ps)), (q,))
    assert torch.autograd.gradcheck(whole_model, (q, *m.parameters()), fast_mode=True)


def test_signal_travels_one_cell_per_step_and_wraps_when_periodic():
    for boundary, reaches_far_side in (("walls", False), ("periodic", True)):
        m = _with_random_rule(LatticeConfig(shape=(1, 1, 8), channels=2, hidden=4, boundary=boundary,
                                            cell_code=0), dim=8)
        with torch.no_grad():
            m.b1.zero_(); m.b2.zero_()
            s0 = torch.zeros(1, 8, 2, dtype=torch.double)
            s0[0, 0, :] = 1.0                                  # a pulse in cell z=0
            _, trace = m.run(s0, steps=2, record=True)
        moved = [t[0].abs().sum(-1) > 1e-12 for t in trace]
        assert moved[1][:2].all() and not moved[1][2:7].any()  # after one step: z=0,1 only…
        assert bool(moved[1][7]) == reaches_far_side           # …and z=7 only through the wrap


def test_record_returns_every_step_on_cpu():
    m = CellLattice(384, LatticeConfig(steps=4, channels=5))
    pred, trace = m(torch.randn(2, 384), record=True)
    assert len(trace) == 5 and all(not t.requires_grad and t.device.type == "cpu" for t in trace)
    grids = m.trace_grids(trace, sample=1)
    assert grids.shape == (5, 5, 8, 8, 6)


def test_every_parameter_gets_gradient_after_one_update():
    m = CellLattice(384, LatticeConfig(steps=3, shape=(8, 8, 8)))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    q, a = torch.randn(4, 384), torch.randn(4, 384)
    for _ in range(2):  # step 1 moves the zero last layer; step 2 reaches the first layer through it
        opt.zero_grad()
        (m(q) - a).square().mean().backward()
        opt.step()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


def test_stochastic_fire_rate_only_while_training():
    m = _with_random_rule(LatticeConfig(shape=(4, 4, 4), channels=3, hidden=6, fire_rate=0.5, steps=3), dim=64).float()
    q = torch.randn(2, 64)
    m.train()
    assert not torch.allclose(m(q), m(q))
    m.eval()
    assert torch.equal(m(q), m(q))


def test_bad_configs_are_explained():
    assert any("face io" in e for e in check_config(LatticeConfig(io="face", channels=2), 384))
    assert any("boundary" in e for e in check_config(LatticeConfig(boundary="sticky"), 384))
    with pytest.raises(ValueError, match="fire_rate"):
        CellLattice(384, LatticeConfig(fire_rate=0.0))


def test_gradients_do_not_depend_on_the_thread_count():
    """The conv's weight gradient takes a one-thread path when torch runs several threads (see _Conv3d)."""
    m = _with_random_rule(LatticeConfig(shape=(3, 3, 4), channels=3, hidden=5, neighbourhood="moore", steps=2), dim=36)
    q = torch.randn(2, 36, dtype=torch.double)
    threads = torch.get_num_threads()
    grads = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            m.zero_grad()
            m(q).sin().sum().backward()
            grads.append([p.grad.clone() for p in m.parameters()])
    finally:
        torch.set_num_threads(threads)
    assert all(torch.allclose(a, b, rtol=1e-10, atol=1e-12) for a, b in zip(*grads))
    assert torch.get_num_threads() == threads
