"""Full batch, rows in order: the weight trajectory of every optimizer and
schedule is torch.optim's ("the rules are torch.optim's, with eta in place of
lr"; docs/algorithm.rst).

Checked against a NumPy transcription of torch's single-tensor code paths and
its schedulers' closed forms (below, independent of tests/_reference.py), and,
when torch is installed, against torch.optim driving a weight/bias pair like
``torch.nn.Linear``'s.  Each ``partial_fit`` call with ``batch_size="full"``
makes exactly one update.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sgdlearn import GDClassifier, GDRegressor, schedules
from sgdlearn._optim_table import OPTIMIZERS as TABLE
from sgdlearn.optim import Adadelta, Adamax, NAdam, RAdam

from .conftest import default_case, per_optimizer

N_STEPS = 8
ALPHA = 0.05
OPTIMIZERS = per_optimizer({
    "sgd": dict(optimizer="sgd", eta0=0.2),
    "momentum": dict(optimizer="momentum", eta0=0.1, momentum=0.8),
    "nesterov": dict(optimizer="nesterov", eta0=0.1, momentum=0.7),
    "adagrad": dict(optimizer="adagrad", eta0=0.2, eps=1e-7),
    "rmsprop": dict(optimizer="rmsprop", eta0=0.02, rho=0.9, eps=1e-6),
    "rmsprop_centered": dict(optimizer="rmsprop", eta0=0.02, rho=0.8,
                             centered=True),
    "adam": dict(optimizer="adam", eta0=0.1, beta_1=0.8, beta_2=0.95),
    "amsgrad": dict(optimizer="amsgrad", eta0=0.1, beta_2=0.9, eps=1e-6),
    "adamw": dict(optimizer="adamw", eta0=0.1),
    "nadam": dict(optimizer=NAdam(beta_1=0.85, beta_2=0.95,
                                  momentum_decay=0.05), eta0=0.1),
    "nadam_decoupled": dict(optimizer=NAdam(decoupled_weight_decay=True),
                            eta0=0.1),
    "radam": dict(optimizer=RAdam(beta_1=0.8), eta0=0.1),
    "radam_decoupled": dict(optimizer=RAdam(decoupled_weight_decay=True,
                                            beta_2=0.99), eta0=0.1),
    "adamax": dict(optimizer=Adamax(beta_1=0.8, beta_2=0.9), eta0=0.1),
    "adadelta": dict(optimizer=Adadelta(rho=0.8, eps=1e-4), eta0=2.0),
}, default=default_case(eta0=0.1))


def rule_of(case):
    """(name, hyperparameters) of a case's optimizer: a string with flat
    parameters, or an object."""
    optimizer = case["optimizer"]
    if isinstance(optimizer, str):
        return optimizer, case
    return optimizer._validated_rule()[0], optimizer.get_params()
# schedule id -> estimator parameters
SCHEDULES = {
    "constant": dict(learning_rate="constant"),
    "adaptive": dict(learning_rate="adaptive"),
    "optimal": dict(learning_rate="optimal"),
    "invscaling": dict(learning_rate="invscaling", power_t=0.6),
    "step": dict(learning_rate="step", decay_steps=3, decay_rate=0.5),
    "exponential": dict(learning_rate="exponential", decay_steps=1,
                        decay_rate=0.8),
    "cosine": dict(learning_rate="cosine", decay_steps=3, eta_min=0.01),
    "constant+warmup": dict(learning_rate="constant", warmup_steps=4),
    "step+warmup": dict(learning_rate="step", decay_steps=2, decay_rate=0.6,
                        warmup_steps=3),
    "exponential+warmup": dict(learning_rate="exponential", decay_steps=1,
                               decay_rate=0.7, warmup_steps=5),
    "cosine+warmup": dict(learning_rate="cosine", decay_steps=4, eta_min=0.0,
                          warmup_steps=3),
}

rng = np.random.default_rng(11)
X = rng.normal(0.0, 0.6, (36, 6))
_coef = rng.normal(size=6)
Y_REG = X @ _coef + 0.5 + 0.1 * rng.normal(size=36)
Y_CLF = (X @ _coef + 0.3 * rng.normal(size=36) > 0).astype(int)
SW = rng.uniform(0.5, 2.0, 36)


# Rules without a torch equivalent (FTRL: the table's ``cls``) are tested
# against their own references (tests/test_ftrl.py).
OPTIMIZERS = {case: params for case, params in OPTIMIZERS.items()
              if not TABLE[rule_of(params)[0]].cls}




# ----------------------------------------------------------------------------
# torch's learning rates, in its schedulers' closed forms (k = 0, 1, ...)
def base_lr(optimizer, schedule):
    """torch's lr: eta0, or scikit-learn's absolute 'optimal' rate for sgd."""
    hp = OPTIMIZERS[optimizer]
    if SCHEDULES[schedule]["learning_rate"] == "optimal" and (
            rule_of(hp)[0] == "sgd"):
        return 1 / (ALPHA * ALPHA ** -0.75)
    return hp["eta0"]


def torch_lr(optimizer, schedule, k):
    hp = SCHEDULES[schedule]
    kind, eta0 = hp["learning_rate"], base_lr(optimizer, schedule)
    if kind == "optimal":  # LambdaLR
        t0 = ALPHA ** -0.75
        lr = eta0 * t0 / (t0 + k)
    elif kind == "invscaling":  # LambdaLR
        lr = eta0 / (k + 1) ** hp["power_t"]
    elif kind == "step":  # StepLR(step_size, gamma)
        lr = eta0 * hp["decay_rate"] ** (k // hp["decay_steps"])
    elif kind == "exponential":  # ExponentialLR(gamma)
        lr = eta0 * hp["decay_rate"] ** k
    elif kind == "cosine":  # CosineAnnealingWarmRestarts(T_0, eta_min)
        T0, eta_min = hp["decay_steps"], hp["eta_min"]
        lr = eta_min + (eta0 - eta_min) * (1 + math.cos(math.pi * (k % T0) / T0)) / 2
    else:
        lr = eta0
    W = hp.get("warmup_steps", 0)
    if W:  # LinearLR(start_factor=1/W, total_iters=W-1)
        sf = 1 / W
        lr *= sf + (1 - sf) * min(k, W - 1) / (W - 1)
    return lr


# ----------------------------------------------------------------------------
# torch.optim's single-tensor update rules, transcribed
def torch_step(optimizer, hp, p, g, state, lr, weight_decay):
    """One step of torch's rule on parameter p (returns the new p); state
    is this parameter's state dict."""
    state["step"] = state.get("step", 0) + 1
    step = state["step"]
    if optimizer in ("sgd", "momentum", "nesterov"):  # torch.optim.SGD
        g = g + weight_decay * p
        if optimizer != "sgd":
            mu = hp["momentum"]
            state["buf"] = g.copy() if step == 1 else mu * state["buf"] + g
            g = g + mu * state["buf"] if optimizer == "nesterov" else state["buf"]
        return p - lr * g
    if optimizer == "adagrad":  # torch.optim.Adagrad(lr_decay=0)
        g = g + weight_decay * p
        state["sum"] = state.get("sum", 0.0) + g * g
        return p - lr * g / (np.sqrt(state["sum"]) + hp["eps"])
    if optimizer == "rmsprop":  # torch.optim.RMSprop(alpha=rho)
        alpha = hp["rho"]
        g = g + weight_decay * p
        state["sq"] = alpha * state.get("sq", 0.0) + (1 - alpha) * g * g
        if hp.get("centered"):
            gavg = state.get("gavg", 0.0)
            state["gavg"] = gavg + (1 - alpha) * (g - gavg)
            avg = np.sqrt(state["sq"] - state["gavg"] ** 2) + hp.get("eps", 1e-8)
        else:
            avg = np.sqrt(state["sq"]) + hp.get("eps", 1e-8)
        return p - lr * g / avg
    if optimizer in ("nadam", "radam", "adamax", "adadelta"):
        return torch_step_new(optimizer, hp, p, g, state, lr, weight_decay)
    # torch.optim.Adam(amsgrad=...) / AdamW
    b1, b2 = hp.get("beta_1", 0.9), hp.get("beta_2", 0.999)
    if optimizer == "adamw":
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    state["m"] = state.get("m", 0.0) + (1 - b1) * (g - state.get("m", 0.0))
    state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    v = state["v"]
    if optimizer == "amsgrad":
        state["vmax"] = v = np.maximum(state.get("vmax", 0.0), v)
    denom = np.sqrt(v) / math.sqrt(1 - b2 ** step) + hp.get("eps", 1e-8)
    return p - lr / (1 - b1 ** step) * state["m"] / denom


def torch_step_new(optimizer, hp, p, g, state, lr, weight_decay):
    """torch 2.13's NAdam, RAdam, Adamax and Adadelta (torch's defaults for
    the hyperparameters a case leaves out)."""
    step = state["step"]
    if optimizer == "adadelta":
        rho, eps = hp.get("rho", 0.9), hp.get("eps", 1e-6)
        g = g + weight_decay * p
        state["v"] = rho * state.get("v", 0.0) + (1 - rho) * g * g
        dx = np.sqrt(state.get("a", 0.0) + eps) / np.sqrt(state["v"] + eps) * g
        state["a"] = rho * state.get("a", 0.0) + (1 - rho) * dx * dx
        return p - lr * dx
    b1, b2 = hp.get("beta_1", 0.9), hp.get("beta_2", 0.999)
    eps = hp.get("eps", 1e-8)
    if hp.get("decoupled_weight_decay"):
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    state["m"] = m = state.get("m", 0.0) + (1 - b1) * (g - state.get("m", 0.0))
    if optimizer == "adamax":
        state["u"] = u = np.maximum(b2 * state.get("u", 0.0), np.abs(g) + eps)
        return p - lr / (1 - b1 ** step) * m / u
    state["v"] = v = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    bc1, bc2 = 1 - b1 ** step, 1 - b2 ** step
    if optimizer == "nadam":
        psi = hp.get("momentum_decay", 4e-3)
        mu = b1 * (1 - 0.5 * 0.96 ** (step * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((step + 1) * psi))
        state["mu_prod"] = mu_prod = state.get("mu_prod", 1.0) * mu
        denom = np.sqrt(v / bc2) + eps
        p = p - lr * (1 - mu) / (1 - mu_prod) * g / denom
        return p - lr * mu_next / (1 - mu_prod * mu_next) * m / denom
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * step * b2 ** step / bc2
    if rho_t > 5:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                         / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return p - m / bc1 * lr * math.sqrt(bc2) / (np.sqrt(v) + eps) * rect
    return p - m / bc1 * lr


def full_batch_gradient(task, w, b, X, y, sw):
    """d/d(w, b) of mean_i sw_i L(x_i . w + b, y_i)."""
    p = X @ w + b
    if task == "reg":  # squared_error
        dloss = p - y
    else:  # log_loss, y in {-1, +1}
        dloss = -y / (1 + np.exp(y * p))
    c = sw * dloss
    return c @ X / len(y), c.mean()


def numpy_trajectory(task, optimizer, schedule, X, y, sw, lam=0.0):
    kind, hp = rule_of(OPTIMIZERS[optimizer])
    w, b = np.zeros(X.shape[1]), np.zeros(1)
    states = {}, {}
    out = []
    for k in range(N_STEPS):
        lr = torch_lr(optimizer, schedule, k)
        gw, gb = full_batch_gradient(task, w, b[0], X, y, sw)
        w = torch_step(kind, hp, w, gw, states[0], lr, lam)
        b = torch_step(kind, hp, b, np.array([gb]), states[1], lr, 0.0)
        out.append((w.copy(), b[0]))
    return out


def estimator_trajectory(task, optimizer, schedule, X, y, sw, **params):
    Est = GDClassifier if task == "clf" else GDRegressor
    loss = "log_loss" if task == "clf" else "squared_error"
    est = Est(loss=loss, batch_size="full", shuffle=False, alpha=ALPHA,
              penalty=None, **OPTIMIZERS[optimizer],
              **explicit_schedule(Est, optimizer, schedule))
    est.set_params(**params)
    kw = dict(classes=[0, 1]) if task == "clf" else {}
    out = []
    for _ in range(N_STEPS):
        est.partial_fit(X, y, sample_weight=sw, **kw)
        out.append((est.coef_.ravel().copy(), float(est.intercept_[0])))
    assert est.t_ == N_STEPS + 1
    return out


def explicit_schedule(Est, optimizer, schedule):
    """SCHEDULES[schedule], as an object where the string is the
    estimator's default and the optimizer has a schedule of its own
    (Adadelta's constant rate would replace it, see resolve_rate)."""
    params = dict(SCHEDULES[schedule])
    name = params["learning_rate"]
    row = TABLE[rule_of(OPTIMIZERS[optimizer])[0]]
    if row.default_schedule and name == Est().learning_rate:
        params["learning_rate"] = (
            schedules.InvScaling(power_t=params.pop("power_t"))
            if name == "invscaling" else schedules.Optimal())
    return params


def assert_trajectories(actual, expected, rtol, atol):
    for step, ((w, b), (w_ref, b_ref)) in enumerate(zip(actual, expected, strict=True)):
        msg = f"after update {step + 1}"
        assert_allclose(w, w_ref, rtol=rtol, atol=atol, err_msg=msg)
        assert_allclose(b, b_ref, rtol=rtol, atol=atol, err_msg=msg)
    assert not np.allclose(expected[0][0], expected[-1][0], rtol=1e-3)


def _targets(task, y):
    return np.where(y == 1, 1.0, -1.0) if task == "clf" else y


TOL = {np.float64: (1e-10, 1e-13), np.float32: (1e-4, 1e-6)}


# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_full_batch_is_torch_rule(optimizer, schedule, dtype):
    Xd = X.astype(dtype)
    y = Y_REG.astype(dtype)
    actual = estimator_trajectory("reg", optimizer, schedule, Xd, y, SW)
    expected = numpy_trajectory("reg", optimizer, schedule, Xd.astype(float),
                                y.astype(float), SW)
    assert_trajectories(actual, expected, *TOL[dtype])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_full_batch_l2_is_torch_weight_decay(optimizer):
    """penalty="l2" is torch's weight_decay=alpha on the weights (decoupled
    for adamw; plain SGD's shrinking equals SGD(weight_decay) while eta
    alpha < 1), never on the intercept."""
    for task, y in (("reg", Y_REG), ("clf", Y_CLF)):
        actual = estimator_trajectory(task, optimizer, "invscaling", X, y, SW,
                                      penalty="l2", alpha=0.3)
        expected = numpy_trajectory(task, optimizer, "invscaling", X,
                                    _targets(task, y), SW, lam=0.3)
        assert_trajectories(actual, expected, *TOL[np.float64])


# ----------------------------------------------------------------------------
# torch.optim itself
def _torch_schedulers(torch, opt, schedule):
    sched = torch.optim.lr_scheduler
    hp = SCHEDULES[schedule]
    kind, chain = hp["learning_rate"], []
    W = hp.get("warmup_steps", 0)
    if W:
        chain.append(sched.LinearLR(opt, start_factor=1 / W, total_iters=W - 1))
    if kind == "step":
        chain.append(sched.StepLR(opt, step_size=hp["decay_steps"],
                                  gamma=hp["decay_rate"]))
    elif kind == "exponential":
        chain.append(sched.ExponentialLR(opt, gamma=hp["decay_rate"]))
    elif kind == "cosine":
        chain.append(sched.CosineAnnealingWarmRestarts(
            opt, T_0=hp["decay_steps"], eta_min=hp["eta_min"]))
    elif kind == "invscaling":
        chain.append(sched.LambdaLR(opt, lambda k: 1 / (k + 1) ** hp["power_t"]))
    elif kind == "optimal":
        t0 = ALPHA ** -0.75
        chain.append(sched.LambdaLR(opt, lambda k: t0 / (t0 + k)))
    return chain


def _torch_optimizer(torch, optimizer, groups, lr):
    kind, hp = rule_of(OPTIMIZERS[optimizer])
    optim = torch.optim
    if kind in ("nadam", "radam", "adamax", "adadelta"):
        defaults = {"nadam": optim.NAdam, "radam": optim.RAdam,
                    "adamax": optim.Adamax, "adadelta": optim.Adadelta}
        kwargs = dict(hp)
        if "beta_1" in kwargs:
            kwargs["betas"] = (kwargs.pop("beta_1"), kwargs.pop("beta_2"))
        if kind == "adamax":
            kwargs.pop("decoupled_weight_decay", None)
        return defaults[kind](groups, lr=lr, foreach=False, **kwargs)
    if kind == "sgd":
        return optim.SGD(groups, lr=lr)
    if kind in ("momentum", "nesterov"):
        return optim.SGD(groups, lr=lr, momentum=hp["momentum"],
                         nesterov=kind == "nesterov")
    if kind == "adagrad":
        return optim.Adagrad(groups, lr=lr, eps=hp["eps"])
    if kind == "rmsprop":
        return optim.RMSprop(groups, lr=lr, alpha=hp["rho"],
                             eps=hp.get("eps", 1e-8),
                             centered=hp.get("centered", False))
    betas = (hp.get("beta_1", 0.9), hp.get("beta_2", 0.999))
    eps = hp.get("eps", 1e-8)
    if kind == "adamw":
        return optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
    return optim.Adam(groups, lr=lr, betas=betas, eps=eps,
                      amsgrad=kind == "amsgrad")


def torch_trajectory(torch, task, optimizer, schedule, lam=0.0):
    """torch's trajectory under the float64 default dtype: NAdam keeps its
    mu_product in the default dtype (float32 unless set), which would
    round it at every step; sgdlearn keeps it in float64."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _torch_trajectory(torch, task, optimizer, schedule, lam)
    finally:
        torch.set_default_dtype(old)


def _torch_trajectory(torch, task, optimizer, schedule, lam):
    y = torch.tensor(_targets(task, Y_CLF if task == "clf" else Y_REG))
    Xt, sw = torch.tensor(X), torch.tensor(SW)
    linear = torch.nn.Linear(X.shape[1], 1, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
    opt = _torch_optimizer(torch, optimizer, [
        {"params": [linear.weight], "weight_decay": lam},
        {"params": [linear.bias], "weight_decay": 0.0},
    ], lr=base_lr(optimizer, schedule))
    schedulers = _torch_schedulers(torch, opt, schedule)
    out = []
    for _ in range(N_STEPS):
        opt.zero_grad()
        p = linear(Xt).ravel()
        if task == "reg":
            losses = 0.5 * (p - y) ** 2
        else:
            losses = torch.nn.functional.softplus(-y * p)
        (sw * losses).mean().backward()
        opt.step()
        for scheduler in schedulers:
            scheduler.step()
        out.append((linear.weight.detach().numpy().ravel().copy(),
                    float(linear.bias.detach()[0])))
    return out


TORCH_SCHEDULES = [s for s in sorted(SCHEDULES) if s != "cosine+warmup"]


@pytest.mark.parametrize("task", ["reg", "clf"])
@pytest.mark.parametrize("schedule", TORCH_SCHEDULES)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_full_batch_is_torch(optimizer, schedule, task):
    """CosineAnnealingWarmRestarts does not chain with LinearLR: the cosine
    warmup is checked against the transcription only."""
    torch = pytest.importorskip("torch")
    y = Y_CLF if task == "clf" else Y_REG
    actual = estimator_trajectory(task, optimizer, schedule, X, y, SW)
    expected = torch_trajectory(torch, task, optimizer, schedule)
    assert_trajectories(actual, expected, *TOL[np.float64])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_full_batch_l2_is_torch(optimizer):
    torch = pytest.importorskip("torch")
    actual = estimator_trajectory("reg", optimizer, "step+warmup", X, Y_REG, SW,
                                  penalty="l2", alpha=0.3)
    expected = torch_trajectory(torch, "reg", optimizer, "step+warmup", lam=0.3)
    assert_trajectories(actual, expected, *TOL[np.float64])


def test_transcription_is_torch():
    """The NumPy transcription above reproduces torch.optim (and its
    schedulers) itself, so the two checks agree."""
    torch = pytest.importorskip("torch")
    for optimizer in OPTIMIZERS:
        for schedule in TORCH_SCHEDULES:
            expected = torch_trajectory(torch, "reg", optimizer, schedule)
            actual = numpy_trajectory("reg", optimizer, schedule, X, Y_REG, SW)
            assert_trajectories(actual, expected, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------
# Per sample: one update per row (batch_size=1), rows in order
def numpy_per_sample(task, optimizer, schedule, X, y, sw):
    kind, hp = rule_of(OPTIMIZERS[optimizer])
    w, b = np.zeros(X.shape[1]), np.zeros(1)
    states = {}, {}
    for k in range(len(y)):
        lr = torch_lr(optimizer, schedule, k)
        gw, gb = full_batch_gradient(task, w, b[0], X[k:k + 1], y[k:k + 1],
                                     sw[k:k + 1])
        w = torch_step(kind, hp, w, gw, states[0], lr, 0.0)
        b = torch_step(kind, hp, b, np.array([gb]), states[1], lr, 0.0)
    return w, b[0]


def torch_per_sample(torch, task, optimizer, schedule):
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        y = torch.tensor(_targets(task, Y_CLF if task == "clf" else Y_REG))
        Xt, sw = torch.tensor(X), torch.tensor(SW)
        linear = torch.nn.Linear(X.shape[1], 1)
        with torch.no_grad():
            linear.weight.zero_()
            linear.bias.zero_()
        opt = _torch_optimizer(torch, optimizer, [
            {"params": [linear.weight], "weight_decay": 0.0},
            {"params": [linear.bias], "weight_decay": 0.0},
        ], lr=base_lr(optimizer, schedule))
        schedulers = _torch_schedulers(torch, opt, schedule)
        for k in range(len(y)):
            opt.zero_grad()
            p = linear(Xt[k:k + 1]).ravel()
            if task == "reg":
                loss = 0.5 * (p - y[k:k + 1]) ** 2
            else:
                loss = torch.nn.functional.softplus(-y[k:k + 1] * p)
            (sw[k:k + 1] * loss).sum().backward()
            opt.step()
            for scheduler in schedulers:
                scheduler.step()
        return (linear.weight.detach().numpy().ravel().copy(),
                float(linear.bias.detach()[0]))
    finally:
        torch.set_default_dtype(old)


def estimator_per_sample(task, optimizer, schedule):
    Est = GDClassifier if task == "clf" else GDRegressor
    loss = "log_loss" if task == "clf" else "squared_error"
    est = Est(loss=loss, batch_size=1, shuffle=False, alpha=ALPHA, penalty=None,
              max_iter=1, tol=None, **OPTIMIZERS[optimizer],
              **explicit_schedule(Est, optimizer, schedule))
    est.fit(X, Y_CLF if task == "clf" else Y_REG, sample_weight=SW)
    return est.coef_.ravel(), float(est.intercept_[0])


PER_SAMPLE_SCHEDULES = ["constant", "step+warmup", "cosine"]


@pytest.mark.parametrize("task", ["reg", "clf"])
@pytest.mark.parametrize("schedule", PER_SAMPLE_SCHEDULES)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_per_sample_is_torch_rule(optimizer, schedule, task):
    y = _targets(task, Y_CLF if task == "clf" else Y_REG)
    w, b = estimator_per_sample(task, optimizer, schedule)
    w_ref, b_ref = numpy_per_sample(task, optimizer, schedule, X, y, SW)
    assert_allclose(w, w_ref, rtol=1e-10, atol=1e-13)
    assert_allclose(b, b_ref, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("task", ["reg", "clf"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_per_sample_is_torch(optimizer, task):
    torch = pytest.importorskip("torch")
    w, b = estimator_per_sample(task, optimizer, "step+warmup")
    w_ref, b_ref = torch_per_sample(torch, task, optimizer, "step+warmup")
    assert_allclose(w, w_ref, rtol=1e-10, atol=1e-13)
    assert_allclose(b, b_ref, rtol=1e-10, atol=1e-13)
