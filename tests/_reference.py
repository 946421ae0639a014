"""A pure-NumPy transcription of ``docs/algorithm.rst`` ("What is computed,
exactly"), independent of sgdlearn's code.

The tests compare the compiled kernels with it.  It is written to be read
next to the document, not to be fast: one update at a time, in float64, the
optimizer rules in torch.optim's form.

``Model`` holds the weights, the optimizer state and the counters of one
binary (or single-output regression) problem; ``Model.epoch`` runs one epoch
over rows in a given order.  With ``lazy=True`` and CSR input it follows the
"Sparse input" section: only the coordinates stored in a batch's rows
(explicit zeros included) receive the loss gradient, the coupled L2 term and
an optimizer step; the others evolve as with a zero gradient (momentum keeps
moving, RMSProp decays), except under Adam, AMSGrad and AdamW whose absent
coordinates stay frozen, as under NAdam, RAdam and Adamax; Adadelta's
absent coordinates keep their weight while both averages decay (its rule
with a zero gradient); the multiplicative decay of ``sgd``, ``adamw`` and
``decoupled_weight_decay=True`` reaches every coordinate.  Dense mode
touches every coordinate every update.
"""

import math

import numpy as np
import scipy.sparse as sp

MAX_DLOSS = 1e12


# ----------------------------------------------------------------------------
# Losses L(p, y) and dL/dp, scikit-learn's (y in {-1, +1} for classification)
def _hinge(p, y, threshold):
    z = p * y
    if z <= threshold:
        return threshold - z, -y
    return 0.0, 0.0


def _squared_hinge(p, y, threshold):
    z = threshold - p * y
    if z > 0:
        return z * z, -2.0 * y * z
    return 0.0, 0.0


def _modified_huber(p, y, _):
    z = p * y
    if z >= 1.0:
        return 0.0, 0.0
    if z >= -1.0:
        return (1.0 - z) ** 2, -2.0 * (1.0 - z) * y
    return -4.0 * z, -4.0 * y


def _log(p, y, _):
    z = p * y
    if z > 18.0:
        return math.exp(-z), -y * math.exp(-z)
    if z < -18.0:
        return -z, -y
    return math.log1p(math.exp(-z)), -y / (math.exp(z) + 1.0)


def _squared(p, y, _):
    return 0.5 * (p - y) ** 2, p - y


def _huber(p, y, epsilon):
    r = p - y
    if abs(r) <= epsilon:
        return 0.5 * r * r, r
    return epsilon * (abs(r) - 0.5 * epsilon), math.copysign(epsilon, r)


def _epsilon_insensitive(p, y, epsilon):
    if y - p > epsilon:
        return y - p - epsilon, -1.0
    if p - y > epsilon:
        return p - y - epsilon, 1.0
    return 0.0, 0.0


def _squared_epsilon_insensitive(p, y, epsilon):
    z = y - p
    if z > epsilon:
        return (z - epsilon) ** 2, -2.0 * (z - epsilon)
    if z < -epsilon:
        return (-z - epsilon) ** 2, 2.0 * (-z - epsilon)
    return 0.0, 0.0


# estimator loss name -> (function, its parameter; "epsilon": the estimator's)
LOSSES = {
    "hinge": (_hinge, 1.0),
    "perceptron": (_hinge, 0.0),
    "squared_hinge": (_squared_hinge, 1.0),
    "modified_huber": (_modified_huber, 0.0),
    "log_loss": (_log, 0.0),
    "squared_error": (_squared, 0.0),
    "huber": (_huber, "epsilon"),
    "epsilon_insensitive": (_epsilon_insensitive, "epsilon"),
    "squared_epsilon_insensitive": (_squared_epsilon_insensitive, "epsilon"),
}


def loss_grad(loss, p, y, param=None):
    """(L(p, y), dL/dp) of the estimator loss ``loss``; ``param`` overrides
    its fixed parameter (hinge threshold, epsilon)."""
    function, default = LOSSES[loss]
    return function(float(p), float(y), default if param is None else param)


def softmax_grad(p, label):
    """Multinomial cross-entropy of scores p: (loss, softmax(p) - onehot)."""
    p = np.asarray(p, dtype=np.float64)
    e = np.exp(p - p.max())
    grad = e / e.sum()
    grad[label] -= 1.0
    return p.max() + math.log(e.sum()) - p[label], grad


# ----------------------------------------------------------------------------
# Schedules: the rate of update t (1-based)
def schedule(t, learning_rate="constant", *, eta0=0.01, alpha=1e-4, power_t=0.5,
             decay_steps=1000, decay_rate=0.1, eta_min=0.0, warmup_steps=0,
             optimizer="sgd"):
    if learning_rate == "optimal":
        t0 = alpha ** -0.75
        if optimizer == "sgd":
            eta = 1.0 / (alpha * (t0 + t - 1))
        else:
            eta = eta0 * t0 / (t0 + t - 1)
    elif learning_rate == "invscaling":
        eta = eta0 / t ** power_t
    elif learning_rate == "step":
        eta = eta0 * decay_rate ** math.floor((t - 1) / decay_steps)
    elif learning_rate == "exponential":
        eta = eta0 * decay_rate ** ((t - 1) / decay_steps)
    elif learning_rate == "cosine":
        phase = ((t - 1) % decay_steps) / decay_steps
        eta = eta_min + (eta0 - eta_min) * (1 + math.cos(math.pi * phase)) / 2
    else:  # constant, adaptive (between reductions), pa1, pa2
        eta = eta0
    if t < warmup_steps:
        eta *= t / warmup_steps
    return eta


# ----------------------------------------------------------------------------
# Optimizers
# The rules whose hyperparameters are torch's own (on their sgdlearn.optim
# objects, not the estimator's flat parameters), with torch's defaults.
OWN_DEFAULTS = {
    "nadam": dict(beta_1=0.9, beta_2=0.999, eps=1e-8, momentum_decay=4e-3,
                  decoupled_weight_decay=False),
    "radam": dict(beta_1=0.9, beta_2=0.999, eps=1e-8,
                  decoupled_weight_decay=False),
    "adamax": dict(beta_1=0.9, beta_2=0.999, eps=1e-8),
    "adadelta": dict(rho=0.9, eps=1e-6),
    "ftrl": dict(beta=1.0, l1=0.0, l2=0.0),
    "cocob": dict(alpha=100.0, eps=1e-8),
    "normalized": dict(adaptive=True, normalized=True, invariant=True,
                       exponent=0.5),
}


def optimizer_rule(optimizer, flat):
    """(name, hyperparameters) of an estimator's ``optimizer`` (a string
    with the flat parameters ``flat``, or an sgdlearn.optim object of one
    of the OWN_DEFAULTS rules)."""
    if isinstance(optimizer, str):
        return optimizer, dict(OWN_DEFAULTS.get(optimizer, flat))
    name = type(optimizer).__name__.lower()
    return name, {**OWN_DEFAULTS[name], **optimizer.get_params()}


class Optimizer:
    """torch.optim's rule ``name`` with its per-coordinate state (all zero at
    the start).  ``step`` updates ``w`` in place."""

    def __init__(self, name, shape, **hyper):
        hyper = {**OWN_DEFAULTS.get(name, {}), **hyper}
        self._init(name, shape, **hyper)

    def _init(self, name, shape, *, momentum=0.9, beta_1=0.9, beta_2=0.999,
              eps=1e-8, rho=0.99, centered=False, momentum_decay=4e-3,
              decoupled_weight_decay=False, beta=1.0, l1=0.0, l2=0.0,
              alpha=100.0):
        self.beta, self.l1, self.l2 = beta, l1, l2  # FTRL's
        self.alpha = alpha  # COCOB's
        self.name, self.mu, self.b1, self.b2 = name, momentum, beta_1, beta_2
        self.eps, self.r, self.centered = eps, rho, centered
        self.psi, self.decoupled = momentum_decay, decoupled_weight_decay
        self.mu_product = 1.0
        self.m, self.v, self.a, self.vmax = (np.zeros(shape) for _ in range(4))

    def step(self, w, g, eta, k, lam=0.0, present=None, scale=1.0):
        """Update k (1 on the first) with rate eta, loss gradient g, coupled
        or decoupled L2 strength lam; ``present`` (default all) masks the
        coordinates that get g and the coupled L2 term; ``scale`` multiplies
        the step (the intercept decay)."""
        name, lr = self.name, eta * scale
        if present is None:
            present = np.ones(w.shape, dtype=bool)
        if name in ("sgd", "adamw") or self.decoupled:  # every coordinate
            w *= max(0.0, 1.0 - eta * lam)
            lam = 0.0
        g = np.where(present, g + lam * w, 0.0)
        if name == "sgd":
            w -= lr * g
        elif name == "momentum":
            self.m = self.mu * self.m + g
            w -= lr * self.m
        elif name == "nesterov":
            self.m = self.mu * self.m + g
            w -= lr * (g + self.mu * self.m)
        elif name == "adagrad":
            self.v += g * g
            w -= lr * g / (np.sqrt(self.v) + self.eps)
        elif name == "rmsprop":
            self.v = self.r * self.v + (1 - self.r) * g * g
            if self.centered:
                self.a = self.a + (1 - self.r) * (g - self.a)
                denom = np.sqrt(self.v - self.a ** 2) + self.eps
            else:
                denom = np.sqrt(self.v) + self.eps
            w -= lr * g / denom
        elif name == "adadelta":
            self.v = self.r * self.v + (1 - self.r) * g * g
            dx = np.sqrt(self.a + self.eps) / np.sqrt(self.v + self.eps) * g
            self.a = self.r * self.a + (1 - self.r) * dx * dx
            w -= lr * dx
        elif name in ("nadam", "radam", "adamax"):
            self._torch_lazy(w, g, lr, k, present)
        elif name == "ftrl":
            self._ftrl(w, g, eta, present)
        elif name == "cocob":  # no rate: eta and scale are not read
            self._cocob(w, g, present)
        else:  # adam, amsgrad, adamw: lazy, absent coordinates stay frozen
            P = present
            self.m[P] += (1 - self.b1) * (g[P] - self.m[P])
            self.v[P] = self.b2 * self.v[P] + (1 - self.b2) * g[P] ** 2
            v = self.v
            if name == "amsgrad":
                self.vmax[P] = np.maximum(self.vmax[P], self.v[P])
                v = self.vmax
            denom = np.sqrt(v[P]) / math.sqrt(1 - self.b2 ** k) + self.eps
            w[P] -= lr / (1 - self.b1 ** k) * self.m[P] / denom

    def _ftrl(self, w, g, alpha, P):
        """FTRL-Proximal, McMahan et al. 2013, Algorithm 1, on the present
        coordinates (z in self.m, n in self.v): the weight is a function of
        (z, n), computed before the coordinate's update and used for sigma;
        stored after it (the value the paper computes at the next touch).
        Untouched coordinates change nothing."""
        z, n, g = self.m[P], self.v[P], g[P]
        w_now = self._ftrl_weights(z, n, alpha)
        sigma = (np.sqrt(n + g * g) - np.sqrt(n)) / alpha
        z = z + g - sigma * w_now
        n = n + g * g
        self.m[P], self.v[P] = z, n
        w[P] = self._ftrl_weights(z, n, alpha)

    def _ftrl_weights(self, z, n, alpha):
        """w_i = 0 if |z_i| <= l1, else -(z_i - sgn(z_i) l1) / ((beta +
        sqrt(n_i)) / alpha + l2)."""
        return np.where(np.abs(z) <= self.l1, 0.0,
                        -(z - np.sign(z) * self.l1)
                        / ((self.beta + np.sqrt(n)) / alpha + self.l2))

    def _torch_lazy(self, w, g, lr, k, P):
        """NAdam, RAdam, Adamax (torch 2.13) on the present coordinates;
        the step count k and NAdam's mu_product advance for all."""
        b1, b2, eps = self.b1, self.b2, self.eps
        self.m[P] += (1 - b1) * (g[P] - self.m[P])
        if self.name == "adamax":
            self.v[P] = np.maximum(b2 * self.v[P], np.abs(g[P]) + eps)
            w[P] -= lr / (1 - b1 ** k) * self.m[P] / self.v[P]
            return
        self.v[P] = b2 * self.v[P] + (1 - b2) * g[P] ** 2
        bc1, bc2 = 1 - b1 ** k, 1 - b2 ** k
        if self.name == "nadam":
            mu = b1 * (1 - 0.5 * 0.96 ** (k * self.psi))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((k + 1) * self.psi))
            self.mu_product *= mu
            denom = np.sqrt(self.v[P] / bc2) + eps
            w[P] -= lr * (1 - mu) / (1 - self.mu_product) * g[P] / denom
            w[P] -= (lr * mu_next / (1 - self.mu_product * mu_next)
                     * self.m[P] / denom)
            return
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * k * b2 ** k / bc2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            w[P] -= (self.m[P] / bc1 * lr * math.sqrt(bc2)
                     / (np.sqrt(self.v[P]) + eps) * rect)
        else:
            w[P] -= self.m[P] / bc1 * lr


# ----------------------------------------------------------------------------
# Training
class Model:
    """Weights, optimizer state and counters of one problem.  The keyword
    arguments are the estimators' (``intercept_decay`` a number); ``lazy``
    selects the CSR semantics (``epoch`` then needs CSR input)."""

    def __init__(self, n_features, *, loss="squared_error", epsilon=0.1,
                 penalty=None, alpha=1e-4, l1_ratio=0.15, fit_intercept=True,
                 learning_rate="constant", eta0=0.01, power_t=0.5,
                 optimizer="sgd", batch_size=1, momentum=0.9, beta_1=0.9,
                 beta_2=0.999, eps=1e-8, rho=0.99, centered=False,
                 decay_steps=1000, decay_rate=0.1, eta_min=0.0, warmup_steps=0,
                 intercept_decay=1.0, average=False, lazy=False, coef=None,
                 intercept=0.0):
        function, param = LOSSES[loss]
        self.loss = function
        self.loss_param = epsilon if param == "epsilon" else param
        l1_ratio = {None: 0.0, "l2": 0.0, "l1": 1.0}.get(penalty, l1_ratio)
        self.alpha, self.l1_ratio = (alpha, l1_ratio) if penalty else (0.0, 0.0)
        self.lam = self.alpha * (1 - l1_ratio)  # L2 strength
        self.l1 = self.alpha * l1_ratio
        self.fit_intercept, self.intercept_decay = fit_intercept, intercept_decay
        self.learning_rate = learning_rate
        self.schedule_params = dict(
            eta0=eta0, alpha=alpha, power_t=power_t, decay_steps=decay_steps,
            decay_rate=decay_rate, eta_min=eta_min, warmup_steps=warmup_steps,
            optimizer=optimizer)
        self.batch_size = batch_size
        self.average = int(average)
        self.lazy = lazy
        optimizer, hyper = optimizer_rule(optimizer, dict(
            momentum=momentum, beta_1=beta_1, beta_2=beta_2, eps=eps, rho=rho,
            centered=centered))
        self.schedule_params["optimizer"] = optimizer
        self.rule = None
        if optimizer == "normalized":  # a row-level rule (end of this file)
            self.rule = normalized_rule(n_features, hyper)
            optimizer, hyper = "sgd", {}
        self.opt_w = Optimizer(optimizer, n_features, **hyper)
        if optimizer == "ftrl":
            # Its penalty is its own l1, l2, without the intercept's; the
            # estimator's is not read.
            hyper = {**hyper, "l1": 0.0, "l2": 0.0}
            self.alpha = self.l1_ratio = self.lam = self.l1 = 0.0
        self.opt_b = Optimizer(optimizer, 1, **hyper)
        self.w = np.zeros(n_features) if coef is None else np.array(coef, float)
        self.b = np.array([float(intercept)])
        self.avg_w, self.avg_b = np.zeros(n_features), np.zeros(1)
        self.t = 1  # the schedule's update number (t_)
        self.k = 0  # updates made by the optimizer state
        self.u, self.q = 0.0, np.zeros(n_features)

    @property
    def coef(self):
        averaged = self.average and self.average <= self.t - 1
        return (self.avg_w if averaged else self.w).copy()

    @property
    def intercept(self):
        averaged = self.average and self.average <= self.t - 1
        return float((self.avg_b if averaged else self.b)[0])

    def eta(self, t):
        return schedule(t, self.learning_rate, **self.schedule_params)

    def epoch(self, X, y, sample_weight=None, order=None, new_call=False):
        """One epoch over the rows ``order`` (default: all, in order).
        Returns the epoch's objective.  The cumulative L1 penalty (u, q)
        runs over the epochs of one call (fit) and restarts with
        ``new_call`` (each partial_fit call), as in scikit-learn."""
        n, d = X.shape
        if self.lazy:
            X = sp.csr_matrix(X, dtype=np.float64)
            X.sum_duplicates()
        dense = X.toarray() if sp.issparse(X) else np.asarray(X, np.float64)
        y = np.asarray(y, dtype=np.float64)
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
        order = np.arange(n) if order is None else np.asarray(order)
        size = self.batch_size
        size = len(order) if size in (None, "full") else size
        if new_call:
            self.u, self.q = 0.0, np.zeros(d)
        sumloss = 0.0
        for start in range(0, len(order), size):
            rows = order[start:start + size]
            present = np.ones(d, dtype=bool)
            if self.lazy:
                present[:] = False
                present[X[rows].indices] = True
            sumloss += self._update(dense[rows], y[rows], sw[rows], present)
        self._truncate(np.ones(d, dtype=bool))  # settle lazily clipped ones
        w = self.w
        return sumloss / max(len(order), 1) + self.alpha * (
            (1 - self.l1_ratio) / 2 * w @ w + self.l1_ratio * np.abs(w).sum())

    def _update(self, X, y, sw, present):
        """Update number self.t on the batch (X, y, sw); returns its summed
        weighted loss."""
        if self.rule is not None:
            return normalized_update(self, X, y, sw, present)
        t = self.t
        eta = self.eta(t)
        self._truncate(present)  # catch up before use (no-op when dense)
        p = X @ self.w + self.b[0]
        losses, dloss = np.array(
            [self.loss(pi, yi, self.loss_param) for pi, yi in zip(p, y, strict=True)]
        ).reshape(-1, 2).T
        c = sw * np.clip(dloss, -MAX_DLOSS, MAX_DLOSS)
        if self.learning_rate in ("pa1", "pa2"):  # batch_size=1, plain SGD
            eta0, sq_norm = self.schedule_params["eta0"], X[0] @ X[0]
            if self.learning_rate == "pa1":
                if sq_norm == 0:
                    return float(sw @ losses)
                c *= min(eta0, losses[0] / sq_norm) / eta0
            else:
                c *= losses[0] / (sq_norm + 0.5 / eta0) / eta0
        g, gb = c @ X / len(y), c.mean()
        self.k += 1
        self.opt_w.step(self.w, g, eta, self.k, self.lam, present)
        if self.fit_intercept:
            self.opt_b.step(self.b, np.array([gb]), eta, self.k,
                            scale=self.intercept_decay)
        if self.l1 > 0:
            self.u += eta * self.l1
            self._truncate(present)
        if self.average and t >= self.average:
            n_avg = t - self.average + 1
            if n_avg == 1:
                self.avg_w, self.avg_b = self.w.copy(), self.b.copy()
            else:
                self.avg_w += (self.w - self.avg_w) / n_avg
                self.avg_b += (self.b - self.avg_b) / n_avg
        self.t += 1
        return float(sw @ losses)

    def _truncate(self, mask):
        """Cumulative L1 truncation (Tsuruoka et al. 2009) of w[mask]."""
        if self.l1 == 0:
            return
        z, q = self.w[mask], self.q[mask]
        w = np.where(z > 0, np.maximum(0.0, z - (self.u + q)),
                     np.where(z < 0, np.minimum(0.0, z + (self.u - q)), z))
        self.q[mask] = q + w - z
        self.w[mask] = w


# ----------------------------------------------------------------------------
# FTRL-Proximal in Vowpal Wabbit's operation order (ftrl.cc
# inner_update_proximal), in the dtype of the weights: the spec's
# FTRLProximal(f32=True), which is bit-exact with ``vw --ftrl``, but with the
# score computed as the kernel computes it (float64, given to it).
class FTRLProximalVW:
    """Per-sample FTRL on float32 (or float64) coefficients; the intercept
    (float64, no penalty) is one more coordinate with x = 1."""

    def __init__(self, d, alpha, beta=1.0, l1=0.0, l2=0.0, dtype=np.float32):
        F = self.F = dtype
        self.alpha, self.beta, self.l1, self.l2 = F(alpha), F(beta), F(l1), F(l2)
        self.z, self.n, self.w = np.zeros(d, F), np.zeros(d, F), np.zeros(d, F)
        self.zb = self.nb = self.b = 0.0
        self.alpha_b, self.beta_b = float(alpha), float(beta)

    def learn_one(self, x, dloss):
        """Update on row x (dense, the weights' dtype) with loss derivative
        ``dloss`` (float64, the kernel's)."""
        F, P = self.F, np.flatnonzero(x)
        g = F(dloss) * x[P]
        ng = self.n[P] + g * g
        sigma = (np.sqrt(ng) - np.sqrt(self.n[P])) / self.alpha
        self.z[P] += g - sigma * self.w[P]
        self.n[P] = ng
        z = self.z[P]
        step = F(1) / (self.l2 + (self.beta + np.sqrt(ng)) / self.alpha)
        self.w[P] = np.where(np.abs(z) <= self.l1, F(0),
                             step * np.sign(z) * (self.l1 - np.abs(z)))
        # The intercept: float64, lambda_1 = lambda_2 = 0.
        ng = self.nb + dloss * dloss
        sigma = (math.sqrt(ng) - math.sqrt(self.nb)) / self.alpha_b
        self.zb += dloss - sigma * self.b
        self.nb = ng
        step = 1.0 / ((self.beta_b + math.sqrt(ng)) / self.alpha_b)
        self.b = 0.0 if self.zb == 0 else step * math.copysign(1.0, self.zb) * (
            -abs(self.zb))


# ----------------------------------------------------------------------------
# COCOB-Backprop (Orabona & Tommasi 2017, Algorithm 2), as the authors' code
# (parameterfree 0.0.1) runs it, on the present coordinates; g already holds
# the coupled L2 term there (Optimizer.step).  Its state starts at the first
# step, from the weights then (x0; L at eps).
def _cocob(self, w, g, P):
    if not hasattr(self, "x0"):
        self.x0 = w.copy()
        self.theta, self.G, self.reward = (np.zeros(w.shape) for _ in range(3))
        self.L = np.full(w.shape, self.eps)
    g = g[P]
    self.L[P] = L = np.maximum(self.L[P], np.abs(g))
    self.theta[P] = theta = self.theta[P] - g
    self.G[P] = G = self.G[P] + np.abs(g)
    self.reward[P] = reward = np.maximum(
        self.reward[P] - g * (w[P] - self.x0[P]), 0.0)
    w[P] = (reward + L) * theta / (np.maximum(G + L, self.alpha * L) * L) + (
        self.x0[P])


Optimizer._cocob = _cocob


# ----------------------------------------------------------------------------
# Vowpal Wabbit's normalized rule (optimizer="normalized"): row-level, so
# Model._update hands its rows to NormalizedRule (_reference_normalized.py).
def _load_normalized():
    import importlib.util
    import sys
    from pathlib import Path

    name = "sgdlearn_test_reference_normalized"
    if name not in sys.modules:
        path = Path(__file__).with_name("_reference_normalized.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def normalized_rule(n_features, hyper):
    return _load_normalized().NormalizedRule(1, n_features, **hyper)


def normalized_update(model, X, y, sw, present):
    """Model._update for optimizer='normalized': per sample, VW's rule;
    mini-batches, its batch form (N, S, W from the rows before the scores);
    then the estimator's L1 truncation and averaging as for the others."""
    t, rule = model.t, model.rule
    eta = model.eta(t)
    model._truncate(present)
    coef = model.w.reshape(1, -1)  # a view: the rule updates model.w
    per_sample = model.batch_size == 1
    if not per_sample:
        inv_h = rule.batch_normalize(coef, X, sw, model.fit_intercept)
    p = X @ model.w + model.b[0]
    losses, dloss = np.array(
        [model.loss(pi, yi, model.loss_param) for pi, yi in zip(p, y, strict=True)]
    ).reshape(-1, 2).T
    dloss = np.clip(dloss, -MAX_DLOSS, MAX_DLOSS)
    kind = {_squared: "squared", _log: "log"}.get(model.loss, "other")
    decay = model.intercept_decay
    if per_sample:
        dl = np.where(losses == 0, 0.0, dloss)
        rule.sample(coef, model.b, X[0], p, y, dl, sw[0], eta, kind, model.lam,
                    model.fit_intercept, decay)
    else:
        c = sw * dloss
        rule.batch(coef, model.b, (c @ X / len(y))[None], np.array([c.mean()]),
                   inv_h, eta, model.lam, model.fit_intercept, decay)
    model.k += 1
    if model.l1 > 0:
        model.u += eta * model.l1
        model._truncate(present)
    if model.average and t >= model.average:
        n_avg = t - model.average + 1
        if n_avg == 1:
            model.avg_w, model.avg_b = model.w.copy(), model.b.copy()
        else:
            model.avg_w += (model.w - model.avg_w) / n_avg
            model.avg_b += (model.b - model.avg_b) / n_avg
    model.t += 1
    return float(sw @ losses)

