import pytest
import torch

from workbench.model.lattice import CellLattice, LatticeConfig, _LatticeStep, check_config, neighbour_index
from workbench.model.lattice_config import default_shape
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


@pytest.mark.parametrize("nb", ["von_neumann", "moore"])
@pytest.mark.parametrize("boundary", ["walls", "periodic", "reflect"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_fused_step_gradient_matches_finite_differences(nb, boundary, act):
    m = _with_random_rule(LatticeConfig(shape=(2, 3, 4), channels=3, hidden=5, neighbourhood=nb,
                                        boundary=boundary, activation=act, steps=1))
    s = torch.randn(24, 3, 2, dtype=torch.double, requires_grad=True)
    bias = m.rule_bias().detach().clone().requires_grad_()
    fire = (torch.rand(24, 1, 2) < 0.6).double()

    def step(s, w1, b, w2, b2):
        x = torch.cat([s, s.new_zeros(1, 3, 2)])
        return _LatticeStep.apply(x, m.idx, m.rev, w1, b, w2, b2, fire, act == "relu")[:-1]
    assert torch.autograd.gradcheck(step, (s, m.w1, bias, m.w2, m.b2), fast_mode=True)


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
