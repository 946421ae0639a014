"""torch.optim.lr_scheduler's schedules as sgdlearn.schedules objects.

The kernel's rates (and cycled momenta) against a NumPy transcription of
each scheduler's closed form (below; torch's step k is update t = k + 1),
always; and weight trajectories, full-batch and per-sample, against the
same transcription driving torch's single-tensor rules, and against
torch.optim with the real scheduler attached when torch is installed.
"""

import math
import os
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sgdlearn._kernels._schedule import py_eta, py_momentum
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._data import kernel_rows
from sgdlearn._kernel_args import kernel_settings
from sgdlearn.schedules import (
    Adaptive,
    Constant,
    Cosine,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    Exponential,
    LinearLR,
    OneCycleLR,
    Optimal,
    PolynomialLR,
    SequentialLR,
    Step,
)

from .conftest import snapshot
from .test_torch_rules import full_batch_gradient, torch_step


# ----------------------------------------------------------------------------
# The schedulers' closed forms (torch 2.13, lr_scheduler.py), at step k
def linear_lr(k, base, start_factor=1 / 3, end_factor=1.0, total_iters=5):
    return base * (start_factor + (end_factor - start_factor)
                   * min(k, total_iters) / total_iters), None


def polynomial_lr(k, base, total_iters=5, power=1.0):
    return base * (1.0 - min(k, total_iters) / total_iters) ** power, None


def one_cycle(k, max_lr, total_steps=None, pct_start=0.3, anneal_strategy="cos",
              div_factor=25.0, final_div_factor=1e4, three_phase=False,
              cycle_momentum=True, base_momentum=0.85, max_momentum=0.95):
    init, T = max_lr / div_factor, total_steps
    k = min(k, T - 1)  # sgdlearn holds the last value (torch raises)
    lo, hi_m, lo_m = init / final_div_factor, max_momentum, base_momentum
    phases = [(pct_start * T - 1, init, max_lr, hi_m, lo_m)]
    if three_phase:
        phases += [(2 * pct_start * T - 2, max_lr, init, lo_m, hi_m),
                   (T - 1, init, lo, hi_m, hi_m)]
    else:
        phases += [(T - 1, max_lr, lo, lo_m, hi_m)]
    if anneal_strategy == "cos":
        def ann(a, b, p):
            return b + (a - b) / 2.0 * (math.cos(math.pi * p) + 1)
    else:
        def ann(a, b, p):
            return (b - a) * p + a
    start = 0.0
    for i, (end, l0, l1, m0, m1) in enumerate(phases):
        if k <= end or i == len(phases) - 1:
            pct = (k - start) / (end - start)
            return ann(l0, l1, pct), ann(m0, m1, pct) if cycle_momentum else None
        start = end


def cyclic_lr(k, max_lr, base_lr, step_size_up=2000, step_size_down=None,
              mode="triangular", gamma=1.0, cycle_momentum=True,
              base_momentum=0.8, max_momentum=0.9):
    up = float(step_size_up)
    total = up + (float(step_size_down) if step_size_down is not None else up)
    ratio = up / total
    cycle = math.floor(1 + k / total)
    x = 1.0 + k / total - cycle
    f = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    scale = {"triangular": 1.0, "triangular2": 1 / (2.0 ** (cycle - 1)),
             "exp_range": gamma ** k}[mode]
    mom = max_momentum - (max_momentum - base_momentum) * f * scale
    return (base_lr + (max_lr - base_lr) * f * scale,
            mom if cycle_momentum else None)


def warm_restarts(k, base, T_0, T_mult=1, eta_min=0.0):
    T_cur, T_i = 0, T_0
    for _ in range(k):  # CosineAnnealingWarmRestarts.step()'s bookkeeping
        T_cur += 1
        if T_cur >= T_i:
            T_cur, T_i = T_cur - T_i, T_i * T_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2, None


def today(k, base, kind, **p):
    """Today's schedules, as SequentialLR phases (torch's StepLR, ...)."""
    if kind == "optimal":  # eta0 t0 / (t0 + k), not plain SGD's; alpha=1e-4
        t0 = 1.0 / (np.sqrt(1.0 / np.sqrt(1e-4)) * 1e-4)
        return base * t0 / (t0 + k), None
    if kind == "step":
        return base * p["decay_rate"] ** (k // p["decay_steps"]), None
    if kind == "exponential":
        return base * p["decay_rate"] ** (k / p["decay_steps"]), None
    if kind == "cosine":
        T0, eta_min = p["decay_steps"], p["eta_min"]
        return eta_min + (base - eta_min) * (
            1 + math.cos(math.pi * (k % T0) / T0)) / 2, None
    return base, None


def sequential(k, base, phases, milestones):
    i = sum(k >= m for m in milestones)
    start = ([0] + list(milestones))[i]
    return phases[i](k - start, base)


def _np(obj):
    """The transcription of a schedule object: k, base -> (lr, momentum)."""
    params = obj.get_params(deep=False)
    if isinstance(obj, LinearLR):
        return lambda k, b: linear_lr(k, b, **params)
    if isinstance(obj, PolynomialLR):
        return lambda k, b: polynomial_lr(k, b, **params)
    if isinstance(obj, OneCycleLR):
        return lambda k, b: one_cycle(k, b, **params)
    if isinstance(obj, CyclicLR):
        return lambda k, b: cyclic_lr(k, b, **params)
    if isinstance(obj, CosineAnnealingWarmRestarts):
        return lambda k, b: warm_restarts(k, b, **params)
    if isinstance(obj, SequentialLR):
        phases = [_np(s) for s in obj.schedules]
        return lambda k, b: sequential(k, b, phases, obj.milestones)
    kind = {Step: "step", Exponential: "exponential", Cosine: "cosine",
            Optimal: "optimal"}.get(type(obj), "constant")
    return lambda k, b: today(k, b, kind, **params)


# ----------------------------------------------------------------------------
# The same schedules through torch.optim.lr_scheduler
def _torch_scheduler(torch, opt, obj, eta0):
    L = torch.optim.lr_scheduler
    params = obj.get_params(deep=False)
    if isinstance(obj, LinearLR):
        return L.LinearLR(opt, **params)
    if isinstance(obj, PolynomialLR):
        return L.PolynomialLR(opt, **params)
    if isinstance(obj, OneCycleLR):
        return L.OneCycleLR(opt, max_lr=eta0, **params)
    if isinstance(obj, CyclicLR):
        return L.CyclicLR(opt, max_lr=eta0, **params)
    if isinstance(obj, CosineAnnealingWarmRestarts):
        return L.CosineAnnealingWarmRestarts(opt, **params)
    if isinstance(obj, SequentialLR):
        return L.SequentialLR(opt, [_torch_scheduler(torch, opt, s, eta0)
                                    for s in obj.schedules], obj.milestones)
    if isinstance(obj, Step):
        return L.StepLR(opt, step_size=obj.decay_steps, gamma=obj.decay_rate)
    if isinstance(obj, Cosine):
        return L.CosineAnnealingWarmRestarts(opt, T_0=obj.decay_steps,
                                             eta_min=obj.eta_min)
    return L.ConstantLR(opt, factor=1.0, total_iters=0)


def _torch_optimizer(torch, kind, hp, params, lr):
    if kind in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=hp["momentum"],
                               nesterov=kind == "nesterov")
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if kind == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, foreach=False)
    cls = {"adamw": torch.optim.AdamW, "nadam": torch.optim.NAdam,
           "radam": torch.optim.RAdam, "adamax": torch.optim.Adamax}.get(
        kind, torch.optim.Adam)
    return cls(params, lr=lr, betas=(hp["beta_1"], hp["beta_2"]),
               weight_decay=0.0, foreach=False)


# ----------------------------------------------------------------------------
# Cases: schedules over N_STEPS full-batch updates
N_STEPS = 12
ETA0 = 0.05
SCHEDULES = {
    "linear": LinearLR(start_factor=0.2, end_factor=0.9, total_iters=6),
    "linear_default": LinearLR(),
    "polynomial": PolynomialLR(total_iters=8, power=2.0),
    "one_cycle": OneCycleLR(total_steps=N_STEPS),
    "one_cycle_linear_3": OneCycleLR(total_steps=N_STEPS, anneal_strategy="linear",
                                     three_phase=True, pct_start=0.25,
                                     div_factor=10.0, final_div_factor=100.0),
    "one_cycle_no_momentum": OneCycleLR(total_steps=N_STEPS, pct_start=0.4,
                                        cycle_momentum=False),
    "cyclic": CyclicLR(base_lr=0.005, step_size_up=3, base_momentum=0.7),
    "cyclic_triangular2": CyclicLR(base_lr=0.005, step_size_up=2,
                                   step_size_down=3, mode="triangular2"),
    "cyclic_exp_range": CyclicLR(base_lr=0.01, step_size_up=2, mode="exp_range",
                                 gamma=0.9, cycle_momentum=False),
    "warm_restarts": CosineAnnealingWarmRestarts(T_0=2, T_mult=2, eta_min=0.001),
    "warm_restarts_1": CosineAnnealingWarmRestarts(T_0=5),
    "sequential": SequentialLR([LinearLR(start_factor=0.25, total_iters=3),
                                CosineAnnealingWarmRestarts(T_0=4)], [4]),
    "sequential_today": SequentialLR(
        [Constant(), Step(decay_steps=2, decay_rate=0.5),
         Cosine(decay_steps=3, eta_min=0.01)], [3, 7]),
    # (Both with the same momentum range: torch's keep theirs in the
    # optimizer's param group, where the last one constructed wins.)
    "sequential_cycle": SequentialLR(
        [OneCycleLR(total_steps=6), CyclicLR(base_lr=0.005, step_size_up=2,
                                             base_momentum=0.85,
                                             max_momentum=0.95)],
        [6]),
    # The optimizer's own momentum, then a cycled one.  Not torch's: its
    # OneCycleLR overwrites the group's initial_lr when constructed, and
    # SequentialLR's LinearLR then scales that (eta0 / 25) instead of eta0.
    "sequential_cycle_late": SequentialLR(
        [LinearLR(start_factor=0.5, total_iters=2), OneCycleLR(total_steps=8)],
        [4]),
    "sequential_optimal": SequentialLR(
        [LinearLR(start_factor=0.5, total_iters=3), Optimal()], [3]),
}
# (torch's Optimal would be a LambdaLR: the transcription checks it.)
NOT_TORCH = {"sequential_cycle_late", "sequential_optimal"}
CYCLING = {k for k, s in SCHEDULES.items()
           if any(getattr(p, "cycle_momentum", False)
                  for p in getattr(s, "schedules", [s]))}
OPTIMIZERS = {
    "sgd": dict(optimizer="sgd"),
    "momentum": dict(optimizer="momentum", momentum=0.95),
    "nesterov": dict(optimizer="nesterov", momentum=0.95),
    "adam": dict(optimizer="adam", beta_1=0.95, beta_2=0.99),
    "adamw": dict(optimizer="adamw", beta_1=0.95, beta_2=0.99),
    # torch's own rules, at their defaults (their betas live on their objects)
    "nadam": dict(optimizer="nadam"),
    "radam": dict(optimizer="radam"),
    "adamax": dict(optimizer="adamax"),
    "adadelta": dict(optimizer="adadelta"),
}
NO_MOMENTUM = {"sgd", "adadelta"}
SLICE = [("momentum", s) for s in SCHEDULES] + [
    ("adam", s) for s in ("one_cycle", "cyclic", "sequential_cycle", "linear",
                          "warm_restarts", "sequential_cycle_late")] + [
    ("sgd", s) for s in ("polynomial", "sequential", "one_cycle_no_momentum")] + [
    # beta_1 cycled: NAdam's momentum schedule and mu_product, RAdam's and
    # Adamax's bias correction read the current beta_1
    ("nadam", "one_cycle"), ("radam", "cyclic"), ("adamax", "one_cycle_linear_3"),
    ("nadam", "sequential_cycle"), ("adadelta", "warm_restarts")]
ALL = [(o, s) for o in OPTIMIZERS for s in SCHEDULES
       if not (o in NO_MOMENTUM and (s in CYCLING or s == "sequential_optimal"))]
# Every other combination: SGDLEARN_SLOW_TESTS=1 (or -m slow) runs them.
_SLOW = [pytest.mark.slow, pytest.mark.skipif(
    os.environ.get("SGDLEARN_SLOW_TESTS") != "1",
    reason="exhaustive: set SGDLEARN_SLOW_TESTS=1")]
EXHAUSTIVE = [pytest.param(*c, marks=_SLOW) for c in ALL if c not in SLICE]

rng = np.random.default_rng(5)
X = rng.normal(0.0, 0.6, (30, 5))
_coef = rng.normal(size=5)
Y = X @ _coef + 0.5 + 0.1 * rng.normal(size=30)
SW = rng.uniform(0.5, 2.0, 30)


def _hp(optimizer):
    hp = dict(OPTIMIZERS[optimizer])
    hp.setdefault("beta_1", 0.9)
    hp.setdefault("beta_2", 0.999)
    hp.setdefault("momentum", 0.0)
    return hp


def _estimator(optimizer, schedule, table=SCHEDULES, **params):
    return GDRegressor(loss="squared_error", penalty=None, shuffle=False,
                       eta0=ETA0, learning_rate=clone(table[schedule]),
                       **OPTIMIZERS[optimizer], **params)


def numpy_rates(schedule, n, table=SCHEDULES):
    f = _np(table[schedule])
    return [f(k, ETA0) for k in range(n)]


def numpy_trajectory(optimizer, schedule, rows, n_updates, warmup=0,
                     table=SCHEDULES):
    """Updates over ``rows`` (a list of row-index arrays per update): the
    transcription of torch's rule with the schedule's rate and momentum."""
    kind = OPTIMIZERS[optimizer]["optimizer"]
    w, b, states, out = np.zeros(X.shape[1]), np.zeros(1), ({}, {}), []
    for k, (lr, mom) in enumerate(numpy_rates(schedule, n_updates, table)):
        if warmup and k + 1 < warmup:
            lr *= (k + 1) / warmup
        hp = _hp(optimizer)
        if mom is not None:
            hp["momentum"] = hp["beta_1"] = mom
        r = rows[k % len(rows)]
        gw, gb = full_batch_gradient("reg", w, b[0], X[r], Y[r], SW[r])
        w = torch_step(kind, hp, w, gw, states[0], lr, 0.0)
        b = torch_step(kind, hp, b, np.array([gb]), states[1], lr, 0.0)
        out.append((w.copy(), b[0]))
    return out


def torch_trajectory(torch, optimizer, schedule, rows, n_updates,
                     table=SCHEDULES):
    """Under the float64 default dtype: NAdam keeps mu_product in it."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _torch_trajectory(torch, optimizer, schedule, rows, n_updates,
                                 table)
    finally:
        torch.set_default_dtype(old)


def _torch_trajectory(torch, optimizer, schedule, rows, n_updates, table):
    kind = OPTIMIZERS[optimizer]["optimizer"]
    linear = torch.nn.Linear(X.shape[1], 1, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
    opt = _torch_optimizer(torch, kind, _hp(optimizer),
                           [linear.weight, linear.bias], ETA0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = _torch_scheduler(torch, opt, table[schedule], ETA0)
    out = []
    for k in range(n_updates):
        r = rows[k % len(rows)]
        Xt, y, sw = (torch.tensor(a[r]) for a in (X, Y, SW))
        opt.zero_grad()
        p = linear(Xt).ravel()
        (sw * 0.5 * (p - y) ** 2).mean().backward()
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler.step()
        out.append((linear.weight.detach().numpy().ravel().copy(),
                    float(linear.bias.detach()[0])))
    return out


def full_batch_run(optimizer, schedule, **params):
    est = _estimator(optimizer, schedule, batch_size="full", **params)
    out = []
    for _ in range(N_STEPS):
        est.partial_fit(X, Y, sample_weight=SW)
        out.append((est.coef_.copy(), float(est.intercept_[0])))
    return out


# Per-sample runs make 2 * 30 updates: OneCycleLR's cycle spans them.
PER_SAMPLE = {k: clone(s).set_params(total_steps=2 * len(Y))
              if isinstance(s, OneCycleLR) else s for k, s in SCHEDULES.items()}


def per_sample_run(optimizer, schedule, X_fit=X, epochs=2, **params):
    est = _estimator(optimizer, schedule, PER_SAMPLE, batch_size=1, **params)
    out = []
    for _ in range(epochs):
        est.partial_fit(X_fit, Y, sample_weight=SW)
        out.append((est.coef_.copy(), float(est.intercept_[0])))
    return out, est


def assert_close(actual, expected, rtol=1e-10, atol=1e-13):
    for i, ((w, b), (w_ref, b_ref)) in enumerate(zip(actual, expected, strict=True)):
        assert_allclose(w, w_ref, rtol=rtol, atol=atol, err_msg=f"at {i}")
        assert_allclose(b, b_ref, rtol=rtol, atol=atol, err_msg=f"at {i}")


ALL_ROWS = [np.arange(len(Y))]
PER_ROW = [np.array([i]) for i in range(len(Y))]


# ----------------------------------------------------------------------------
# Rates and momenta
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_kernel_rates_are_transcription(schedule):
    est = _estimator("momentum", schedule)
    struct = kernel_settings(est, kernel_rows(X), len(Y)).schedule
    n = 40
    for k, (lr, mom) in enumerate(_np(SCHEDULES[schedule])(k, ETA0)
                                  for k in range(n)):
        assert_allclose(py_eta(struct, k + 1.0), lr, rtol=1e-13, atol=1e-300,
                        err_msg=f"lr at step {k}")
        if mom is not None:
            assert_allclose(py_momentum(struct, k + 1.0), mom, rtol=1e-13,
                            err_msg=f"momentum at step {k}")
        elif struct["cycle_momentum"]:  # a SequentialLR's other phases
            assert py_momentum(struct, k + 1.0) == 0.95


def test_spec_values():
    """The values torch 2.13 prints (new_optimizers.md, section 1.6)."""
    def rates(obj, n, base=1.0):
        f = _np(obj)
        pairs = [f(k, base) for k in range(n)]
        return [lr for lr, _ in pairs], [mom for _, mom in pairs]

    lr, _ = rates(LinearLR(), 7)
    assert_allclose(lr, [1 / 3, .466667, .6, .733333, .866667, 1, 1], rtol=1e-5)
    lr, _ = rates(PolynomialLR(4, power=2), 6)
    assert_allclose(lr, [1, .5625, .25, .0625, 0, 0], atol=1e-12)
    lr, mom = rates(OneCycleLR(10, anneal_strategy="linear"), 10)
    assert_allclose(lr, [.04, .52, 1, .857143, .714287, .57143, .428574,
                         .285717, .142861, 4e-06], rtol=2e-5)
    assert_allclose(mom, [.95, .9, .85, .864286, .878571, .892857, .907143,
                          .921429, .935714, .95], rtol=1e-5)
    lr, _ = rates(OneCycleLR(10, three_phase=True), 10)
    assert_allclose(lr, [.04, .52, 1, .52, .04, .0361807, .0261817, .0138223,
                         .00382328, 4e-06], rtol=2e-5)
    lr, mom = rates(CyclicLR(.1, step_size_up=2), 10)
    assert_allclose(lr, [.1, .55, 1, .55, .1, .55, 1, .55, .1, .55])
    assert_allclose(mom[:5], [.9, .85, .8, .85, .9])
    lr, _ = rates(CyclicLR(.1, step_size_up=2, mode="triangular2"), 10)
    assert_allclose(lr, [.1, .55, 1, .55, .1, .325, .55, .325, .1, .2125])
    lr, _ = rates(CyclicLR(.1, step_size_up=2, mode="exp_range", gamma=.9), 10)
    assert_allclose(lr, [.1, .505, .829, .42805, .1, .365721, .578297, .315234,
                         .1, .274339], rtol=1e-5)
    lr, _ = rates(CosineAnnealingWarmRestarts(2, T_mult=2), 10)
    assert_allclose(lr, [1, .5, 1, .853553, .5, .146447, 1, .96194, .853553,
                         .691342], rtol=1e-5)


@pytest.mark.parametrize("schedule", sorted(set(SCHEDULES) - NOT_TORCH))
def test_transcription_is_torch_scheduler(schedule):
    """The transcription's rates and momenta are torch's own (SGD with
    momentum; Adam's beta_1 for the cycling ones)."""
    torch = pytest.importorskip("torch")
    for optimizer in ("momentum", "adam"):
        w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = _torch_optimizer(torch, optimizer, _hp(optimizer), [w], ETA0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sch = _torch_scheduler(torch, opt, SCHEDULES[schedule], ETA0)
            for k, (lr, mom) in enumerate(numpy_rates(schedule, 3 * N_STEPS)):
                if "one_cycle" in schedule and k >= N_STEPS:
                    break
                group = opt.param_groups[0]
                assert_allclose(group["lr"], lr, rtol=1e-13, atol=1e-300)
                actual = (group["betas"][0] if optimizer == "adam"
                          else group["momentum"])
                if mom is not None:
                    assert_allclose(actual, mom, rtol=1e-13)
                w.grad = torch.zeros(1, dtype=torch.float64)
                opt.step()
                sch.step()


# ----------------------------------------------------------------------------
# Trajectories
@pytest.mark.parametrize("optimizer, schedule", SLICE + EXHAUSTIVE)
def test_full_batch_is_transcription(optimizer, schedule):
    actual = full_batch_run(optimizer, schedule)
    assert_close(actual, numpy_trajectory(optimizer, schedule, ALL_ROWS, N_STEPS))


@pytest.mark.parametrize("optimizer, schedule", SLICE + EXHAUSTIVE)
def test_full_batch_is_torch(optimizer, schedule):
    torch = pytest.importorskip("torch")
    if schedule in NOT_TORCH:
        pytest.skip("torch's SequentialLR bases this one on another rate")
    actual = full_batch_run(optimizer, schedule)
    assert_close(actual, torch_trajectory(torch, optimizer, schedule, ALL_ROWS,
                                          N_STEPS))


def _per_sample_expected(trajectory):
    n = len(Y)
    return [trajectory[n - 1], trajectory[2 * n - 1]]


@pytest.mark.parametrize("optimizer, schedule", SLICE + EXHAUSTIVE)
def test_per_sample_is_transcription(optimizer, schedule):
    actual, est = per_sample_run(optimizer, schedule)
    assert est.t_ == 2 * len(Y) + 1
    expected = numpy_trajectory(optimizer, schedule, PER_ROW, 2 * len(Y),
                                table=PER_SAMPLE)
    assert_close(actual, _per_sample_expected(expected))


@pytest.mark.parametrize("optimizer, schedule", SLICE + EXHAUSTIVE)
def test_per_sample_is_torch(optimizer, schedule):
    torch = pytest.importorskip("torch")
    if schedule in NOT_TORCH:
        pytest.skip("torch's SequentialLR bases this one on another rate")
    actual, _ = per_sample_run(optimizer, schedule)
    expected = torch_trajectory(torch, optimizer, schedule, PER_ROW, 2 * len(Y),
                                PER_SAMPLE)
    assert_close(actual, _per_sample_expected(expected))


@pytest.mark.parametrize("optimizer, schedule", [
    ("momentum", "one_cycle"), ("adam", "cyclic"), ("nesterov", "sequential")])
def test_float32(optimizer, schedule):
    """float32 data: the rates and momenta are float64 scalars, the weights
    float32 (the float64 transcription to float32 precision)."""
    est = _estimator(optimizer, schedule, batch_size="full")
    out = []
    for _ in range(N_STEPS):
        est.partial_fit(X.astype(np.float32), Y.astype(np.float32),
                        sample_weight=SW)
        out.append((est.coef_.copy(), float(est.intercept_[0])))
    assert est.coef_.dtype == np.float32
    expected = numpy_trajectory(optimizer, schedule, ALL_ROWS, N_STEPS)
    assert_close(out, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("schedule", ["one_cycle", "polynomial", "sequential"])
def test_warmup_multiplies(schedule):
    actual = full_batch_run("momentum", schedule, warmup_steps=4)
    expected = numpy_trajectory("momentum", schedule, ALL_ROWS, N_STEPS, warmup=4)
    assert_close(actual, expected)


@pytest.mark.parametrize("average", [False, 5])
@pytest.mark.parametrize("optimizer", ["momentum", "nesterov"])
@pytest.mark.parametrize("schedule", ["one_cycle", "cyclic",
                                      "sequential_cycle_late", "warm_restarts"])
def test_sparse_catch_up_with_cycled_momentum(schedule, optimizer, average):
    """The lazy catch-up of skipped coordinates (momentum drift) stays exact
    when the schedule changes the momentum every update: CSR input with many
    zeros trains the dense run's model."""
    Xz = X * (rng.random(X.shape) < 0.4)
    for batch_size in (1, 4):
        runs = []
        for X_fit in (Xz, sp.csr_array(Xz)):
            est = _estimator(optimizer, schedule, batch_size=batch_size,
                             average=average, intercept_decay=1.0)
            for _ in range(3):
                est.partial_fit(X_fit, Y, sample_weight=SW)
            runs.append(est.coef_.copy())
        assert_allclose(runs[1], runs[0], rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------
# State, total_steps=None, errors
@pytest.mark.parametrize("schedule", ["one_cycle", "cyclic_triangular2",
                                      "sequential_cycle", "warm_restarts"])
def test_state_survives_partial_fit_and_pickle(schedule):
    """Where the schedule is in its cycle is t_: six calls equal three,
    a pickle round trip, and three more."""
    straight = _estimator("adam", schedule, batch_size=7)
    resumed = clone(straight)
    for _ in range(6):
        straight.partial_fit(X, Y)
    for _ in range(3):
        resumed.partial_fit(X, Y)
    resumed = pickle.loads(pickle.dumps(resumed))
    for _ in range(3):
        resumed.partial_fit(X, Y)
    assert resumed.t_ == straight.t_ == 6 * 5 + 1
    assert_allclose(resumed.coef_, straight.coef_, rtol=0, atol=0)


def test_total_steps_none_spans_fit():
    """OneCycleLR() spans max_iter epochs of ceil(n / batch_size) updates;
    tol does not stop it early, and no ConvergenceWarning says it should
    have."""
    epochs, batch = 7, 8
    est = GDRegressor(optimizer="momentum", learning_rate=OneCycleLR(),
                      eta0=ETA0, batch_size=batch, max_iter=epochs, tol=10.0,
                      random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, Y)
    total = epochs * math.ceil(len(Y) / batch)
    assert est.n_iter_ == epochs and est.t_ == total + 1
    explicit = clone(est).set_params(learning_rate=OneCycleLR(total_steps=total),
                                     tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        explicit.fit(X, Y)
    assert_allclose(est.coef_, explicit.coef_, rtol=0, atol=0)
    # With a validation fraction, the training rows set the length.
    early = clone(est).set_params(early_stopping=True, validation_fraction=0.2,
                                  n_iter_no_change=1)
    early.fit(X, Y)
    assert early.n_iter_ == epochs
    assert early.t_ == epochs * math.ceil(24 / batch) + 1


def test_total_steps_none_in_partial_fit_is_an_error():
    est = GDRegressor(optimizer="momentum", learning_rate=OneCycleLR(), eta0=ETA0)
    with pytest.raises(ValueError, match="partial_fit cannot know"):
        est.partial_fit(X, Y)
    assert not hasattr(est, "coef_")
    est.set_params(learning_rate=OneCycleLR(total_steps=10)).partial_fit(X, Y)
    before = snapshot(est)
    est.set_params(learning_rate=OneCycleLR())
    with pytest.raises(ValueError, match="pass total_steps"):
        est.partial_fit(X, Y)
    after = snapshot(est)
    after.pop("learning_rate")
    before.pop("learning_rate")
    assert pickle.dumps(after) == pickle.dumps(before)


def test_one_cycle_holds_its_last_rate():
    est = _estimator("momentum", "one_cycle")
    struct = kernel_settings(est, kernel_rows(X), len(Y)).schedule
    last = py_eta(struct, float(N_STEPS))
    assert py_eta(struct, N_STEPS + 1.0) == py_eta(struct, 1e6) == last
    assert last == pytest.approx(ETA0 / 25 / 1e4)


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "rmsprop"])
@pytest.mark.parametrize("schedule", [OneCycleLR(total_steps=50), CyclicLR(0.001),
                                      SequentialLR([Constant(), CyclicLR(0.001)],
                                                   [5])])
def test_cycle_momentum_needs_a_momentum(optimizer, schedule):
    for Est in (GDRegressor, GDClassifier):
        y = Y if Est is GDRegressor else Y > 0
        est = Est(optimizer=optimizer, learning_rate=schedule)
        with pytest.raises(ValueError, match="cycle_momentum=False"):
            est.fit(X, y)
        with pytest.raises(ValueError, match="cycle_momentum=False"):
            est.partial_fit(X, y, **({} if Est is GDRegressor
                                     else {"classes": [False, True]}))
        assert not hasattr(est, "coef_")
    schedule = clone(schedule)
    for s in getattr(schedule, "schedules", [schedule]):
        if hasattr(s, "cycle_momentum"):
            s.set_params(cycle_momentum=False)
    GDRegressor(optimizer=optimizer, learning_rate=schedule, max_iter=2,
                tol=None).fit(X, Y)


@pytest.mark.parametrize("schedule, match", [
    (SequentialLR([Constant(), LinearLR()], []), "one milestone fewer"),
    (SequentialLR([Constant(), LinearLR()], [0]), "increasing positive"),
    (SequentialLR([Constant(), LinearLR(), Constant()], [5, 5]), "increasing"),
    (SequentialLR([Constant(), Adaptive()], [5]), "cannot chain"),
    (SequentialLR([Constant(), OneCycleLR()], [5]), "ambiguous"),
    (SequentialLR([Constant()] * 9, list(range(1, 9))), "1 to 8"),
    (SequentialLR([Constant(), LinearLR(start_factor=0)], [5]), "start_factor"),
    (OneCycleLR(total_steps=10, pct_start=0.1), "phase of no length"),
    (OneCycleLR(total_steps=10, anneal_strategy="exp"), "anneal_strategy"),
    (CyclicLR(0.1, mode="exp"), "mode"),
    (CosineAnnealingWarmRestarts(0), "T_0"),
    (PolynomialLR(total_iters=0), "total_iters"),
])
def test_invalid_schedules(schedule, match):
    est = GDRegressor(optimizer="momentum", learning_rate=schedule)
    with pytest.raises(ValueError, match=match):
        est.fit(X, Y)
    with pytest.raises(ValueError, match=match):
        est.partial_fit(X, Y)
    assert not hasattr(est, "coef_")


def test_grid_search_parameters():
    est = GDRegressor(optimizer="momentum",
                      learning_rate=OneCycleLR(total_steps=100))
    params = est.get_params()
    assert params["learning_rate__pct_start"] == 0.3
    est.set_params(learning_rate__pct_start=0.5, learning_rate__max_momentum=0.9)
    assert clone(est).learning_rate == OneCycleLR(total_steps=100, pct_start=0.5,
                                                  max_momentum=0.9)
    struct = kernel_settings(est, kernel_rows(X), len(Y)).schedule
    assert struct["p"][1] == 0.5 and struct["p"][7] == 0.9


def test_grid_search_and_clone():
    from sklearn.model_selection import GridSearchCV

    sequence = SequentialLR([LinearLR(), Cosine(decay_steps=10)], [5])
    assert clone(sequence) == sequence and hash(clone(sequence)) == hash(sequence)
    search = GridSearchCV(
        GDRegressor(optimizer="adam", learning_rate=OneCycleLR(), max_iter=5),
        {"learning_rate__pct_start": [0.2, 0.4],
         "learning_rate__anneal_strategy": ["cos", "linear"]}, cv=2)
    search.fit(X, Y)
    assert search.best_estimator_.learning_rate.pct_start in (0.2, 0.4)


def test_optimal_in_a_sequence_needs_alpha():
    est = GDRegressor(alpha=0.0, learning_rate=SequentialLR(
        [LinearLR(), Optimal()], [5]))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        est.fit(X, Y)


def test_flat_eta_min_conflicts_with_warm_restarts():
    est = GDRegressor(optimizer="momentum", eta_min=0.1,
                      learning_rate=CosineAnnealingWarmRestarts(T_0=3))
    with pytest.raises(ValueError, match="eta_min"):
        est.fit(X, Y)
