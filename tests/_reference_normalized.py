# ruff: noqa: E501, B905  (section 3 of the spec's reference, copied verbatim)
"""Vowpal Wabbit's default update (``optimizer='normalized'``) in NumPy.

Copied from the spec's companion (shared/reference/new_optimizers/
new_optimizers_reference.py, section 3: ``VWGD`` replays vowpalwabbit 9.11.9
bit for bit in float32), plus what the tests need around it: ``KernelVWGD``
(VW's rule, with the prediction computed as sgdlearn's kernel computes it
and without VW's clipping) and ``batch_epoch`` (sgdlearn's mini-batch form,
which has no VW equivalent).  Loaded by path, as conftest.load_reference.
"""
from __future__ import annotations

import math

import numpy as np

try:  # VW calls glibc expf, which is not always correctly rounded
    import ctypes
    import ctypes.util
    _expf = ctypes.CDLL(ctypes.util.find_library("m")).expf
    _expf.restype, _expf.argtypes = ctypes.c_float, [ctypes.c_float]
except (OSError, AttributeError, TypeError):
    _expf = None


def vw_exp(F, x):
    return F(_expf(float(x))) if (F is np.float32 and _expf is not None) else F(math.exp(x))


def vw_wexpmx(x):
    """VW's approximation of LambertW(exp(x)) - x (|err| < 9e-5): defines its logistic update."""
    w = 0.86 * x + 0.01 if x >= 1.0 else math.exp(0.8 * x - 0.65)
    r = x - math.log(w) - w if x >= 1.0 else 0.2 * x + 0.65 - w
    t = 1.0 + w
    u = 2.0 * t * (t + 2.0 * r / 3.0)
    return w * (1.0 + r / t * (u - r) / (u - 2.0 * r)) - x


def vw_text_float(s):
    """The float32 VW's text parser (parse_float) reads from s: not strtof-exact."""
    f32, acc, i, sign, num_dec, exp = np.float32, np.float32(0), 0, 1, 0, 0
    if s[0] == "-":
        sign, i = -1, 1
    while i < len(s) and s[i].isdigit():
        acc, i = f32(acc * f32(10) + f32(int(s[i]))), i + 1
    if i < len(s) and s[i] == ".":
        i += 1
        while i < len(s) and s[i].isdigit():
            acc, num_dec, i = f32(acc * f32(10) + f32(int(s[i]))), num_dec + 1, i + 1
    if i < len(s) and s[i] in "eE":
        exp = int(s[i + 1:])
    k, p = exp - num_dec, f32(1)
    for _ in range(abs(k)):  # fast_pow10 table: repeated float *10 or /10
        p = f32(p * f32(10)) if k > 0 else f32(p / f32(10))
    return float(f32(acc * p) * sign)


def parse_vw_args(args):
    tok, o = args.split(), {}
    for i, a in enumerate(tok):
        if a in ("--sgd", "--adaptive", "--normalized", "--invariant"):
            o[a[2:]] = True
        elif a in ("-l", "--power_t", "--initial_t", "--l1", "--l2", "--loss_function",
                   "--ftrl_alpha", "--ftrl_beta"):
            o[{"-l": "learning_rate"}.get(a, a[2:])] = tok[i + 1]
    return o


class VWGD:
    """VW's `gd` for one linear model; loss 'squared' (labels real) or 'logistic' (labels +-1),
    importance weight h. Per feature w, G (sum h*dl^2*x^2), N (max|x|); globals S (sum h*
    ||x/N||^2), W (sum h), t, contraction, gravity. The constant is an ordinary feature (x=1)."""

    def __init__(self, d, args="", f32=False):
        o = parse_vw_args(args)
        F = self.F = np.float32 if f32 else np.float64
        self.loss = o.get("loss_function", "squared")
        self.eta, self.power_t = float(o.get("learning_rate", 0.5)), float(o.get("power_t", 0.5))
        t0 = float(o.get("initial_t", 0.0))
        self.S = self.W = max(t0, 0.0)  # initial_t fake examples of norm 1
        self.adaptive = self.normalized = self.invariant = True
        if any(k in o for k in ("sgd", "adaptive", "normalized", "invariant")):  # gd_setup
            self.adaptive, self.normalized, self.invariant = ("adaptive" in o, "normalized" in o,
                                                              "invariant" in o)
            if "learning_rate" not in o and not (self.adaptive and self.normalized):
                self.eta = 10.0
            if not self.adaptive and not self.normalized:
                t0 = t0 if "initial_t" in o else 1.0
                self.eta *= t0 ** self.power_t
        self.t = t0
        self.nnp = self.power_t - 1.0 if self.adaptive else -1.0  # neg_norm_power
        self.l1, self.l2 = float(F(o.get("l1", 0))), float(F(o.get("l2", 0)))  # float lambdas
        self.contraction, self.gravity, self.mult = 1.0, 0.0, F(1)
        self.w, self.N = np.zeros(d, F), np.zeros(d, F)
        self.G = np.full(d, t0 if (self.adaptive and t0 > 0) else 0.0, F)  # G starts at initial_t
        self.lo, self.hi = (-50.0, 50.0) if self.loss == "logistic" else (0.0, 0.0)

    def _dl(self, p, y):  # first_derivative
        F = self.F
        if self.loss == "squared":
            return F(2) * (p - F(y))
        return F(-y) / (F(1) + vw_exp(F, F(y) * p))

    def _update(self, p, y, s, ppu):  # get_update (invariant) / get_unsafe_update
        F = self.F
        if self.loss == "squared":
            if not self.invariant or s * ppu < 1e-6:
                return F(2) * (F(y) - p) * s
            return (F(y) - p) * (F(1) - vw_exp(F, F(-2) * s * ppu)) / ppu
        d = vw_exp(F, F(y) * p)
        if not self.invariant or s * ppu < 1e-6:
            return F(y) * s / (F(1) + d)
        return -(F(y) * F(vw_wexpmx(float(s * ppu + F(y) * p + d))) + p) / ppu

    def predict(self, idx, val):
        F, acc, g = self.F, self.F(0), self.F(self.gravity)
        for i, x in zip(idx, val):
            wi = self.w[i]
            if self.l1:  # truncated gradient: predict with trunc(w, gravity)
                wi = wi - np.sign(wi) * g if g < abs(wi) else F(0)
            acc = F(acc + wi * F(x))
        return F(min(max(F(acc * F(self.contraction)), F(self.lo)), F(self.hi)))

    def learn_one(self, idx, val, y, h=1.0):
        F, h, sq, nnp = self.F, self.F(h), self.power_t == 0.5, self.nnp
        if self.loss == "squared":  # scorer: set_minmax(label) before predicting
            self.lo, self.hi = min(self.lo, y), max(self.hi, y)
        p = self.predict(idx, val)
        loss = (p - F(y)) ** 2 if self.loss == "squared" else F(math.log(F(1) + vw_exp(F, F(-y) * p)))
        u, rates = F(0), [F(1)] * len(idx)
        if loss > 0:
            g2 = h * (self._dl(p, y) ** 2)
            if (self.adaptive or self.normalized) and g2 == 0:  # VW: ppu=1, state untouched
                ppu, rates = F(1), [F(0)] * len(idx)  # (VW would reuse stale per-feature rates)
            elif self.adaptive or self.normalized:  # pred_per_update_feature, stateful
                ppu, nx, rates = F(0), F(0), []
                for i, x in zip(idx, val):
                    x = F(x)
                    x2 = x * x
                    if self.adaptive:
                        self.G[i] += g2 * x2
                    if self.normalized:
                        ax = abs(x)
                        if ax > self.N[i]:  # new max|x|: rescale w as if always at this scale
                            if self.N[i] > 0:
                                if sq:
                                    rs = self.N[i] / ax
                                    self.w[i] *= rs if self.adaptive else rs * rs
                                else:
                                    rs = ax / self.N[i]
                                    self.w[i] *= F((rs * rs) ** F(nnp))
                            self.N[i] = ax
                        nx += x2 / (self.N[i] * self.N[i])
                    r = F(1)
                    if self.adaptive:
                        r = F(1) / np.sqrt(self.G[i]) if sq else F(self.G[i] ** F(-self.power_t))
                    if self.normalized:
                        if sq:
                            r = r * (F(1) / self.N[i]) if self.adaptive else r * (F(1) / self.N[i]) ** 2
                        else:
                            r = r * F((self.N[i] * self.N[i]) ** F(nnp))
                    rates.append(r)
                    ppu += x2 * r
                if self.normalized:
                    self.S += float(h) * float(nx)
                    self.W += float(h)
                    if sq:
                        avg = F(self.W) / F(self.S)
                        self.mult = np.sqrt(avg) if self.adaptive else avg
                    else:
                        self.mult = F((F(self.S) / F(self.W)) ** F(nnp))
                    ppu *= self.mult
            else:
                ppu = F(sum(F(x) * F(x) for x in val))
            s = F(self.eta) * h
            if not self.adaptive:  # time decay only without adaptive
                s *= F(F(self.t + float(h)) ** F(-self.power_t))
            u = self._update(p, y, s, ppu)
            if (self.l1 or self.l2) and abs(u) > 1e-8:
                dev1 = float(self._dl(p, y))
                eta_bar = -float(u) / dev1 if abs(dev1) > 1e-8 else 0.0
                if abs(dev1) > 1e-8:
                    self.contraction *= 1.0 - self.l2 * eta_bar
                u = F(u / F(self.contraction))
                self.gravity += eta_bar * self.l1
        if u != 0:
            u = u * self.mult if self.normalized else u
            for i, x, r in zip(idx, val, rates):
                self.w[i] += u * (F(x) * r)
        if self.contraction < 1e-9 or self.gravity > 1e3:  # sync_weights: materialize
            g, c = self.F(self.gravity), self.F(self.contraction)
            self.w = (np.where(g < abs(self.w), self.w - np.sign(self.w) * g, 0) * c).astype(self.F)
            self.contraction, self.gravity = 1.0, 0.0
        self.t += float(h)
        return float(p)


def vw_line(idx, val, y, h=1.0):
    return f"{y:.9g} {h:.9g} | " + " ".join(f"{i + 1}:{v:.9g}" for i, v in zip(idx, val))


def vw_replay(args, rows, ys, d, hs=None):
    """pyvw on the same stream (feature j named j+1: hash j+1, no collisions at -b 18).
    Returns per-example (reported prediction, partial_prediction), weights, constant weight."""
    from vowpalwabbit import pyvw
    vw, ps = pyvw.Workspace(args + " -b 18 --quiet"), []
    for k, ((idx, val), y) in enumerate(zip(rows, ys)):
        ex = vw.parse(vw_line(idx, val, y, 1.0 if hs is None else hs[k]))
        vw.learn(ex)
        ps.append((ex.get_simplelabel_prediction(), ex.get_partial_prediction()))
        vw.finish_example(ex)
    w = np.array([vw.get_weight(j + 1) for j in range(d)])
    const = vw.get_weight(11650396 & ((1 << 18) - 1))  # VW's constant feature hash
    vw.finish()
    return np.array(ps), w, const



# ======== sgdlearn's side ==========================================================================
def kernel_dot(w, idx, val, d=None):
    """w . x as the kernel computes it: in float64 with four accumulators,
    lane j % 4 (dense rows of d columns, the last d % 4 in lane 0) or
    position % 4 (CSR rows, ``d=None``), summed (a0 + a1) + (a2 + a3)."""
    acc = [0.0, 0.0, 0.0, 0.0]
    n = len(idx)
    for pos, (j, x) in enumerate(zip(idx, val)):
        k = j if d is not None else pos
        top = d if d is not None else n
        lane = k % 4 if k < 4 * (top // 4) else 0
        acc[lane] += float(w[j]) * float(x)
    return (acc[0] + acc[1]) + (acc[2] + acc[3])


class KernelVWGD(VWGD):
    """VWGD with sgdlearn's prediction: the kernel's float64 dot product
    (``kernel_dot``, dense with ``d`` columns or CSR), times the weight scale
    (VW's contraction) plus the intercept (the constant, last, unscaled),
    rounded to the float type; no clipping to the labels' range.  Pass the
    row's non-zeros only (VW never sees a zero)."""

    def __init__(self, d, args="", f32=False, dense=True, intercept=True):
        super().__init__(d + 1, args, f32)
        self.d, self.dense, self.intercept = d, dense, intercept

    def predict(self, idx, val):
        n = len(idx) - (1 if self.intercept else 0)
        p = kernel_dot(self.w, idx[:n], val[:n], self.d if self.dense else None)
        p = p * self.contraction + (float(self.w[self.d]) if self.intercept else 0.0)
        return self.F(p)

    def learn_row(self, x, y, h=1.0):
        """learn_one on a dense row x (its non-zeros, then the constant)."""
        idx = list(np.flatnonzero(x))
        val = [x[j] for j in idx]
        if self.intercept:
            idx, val = idx + [self.d], val + [self.F(1)]
        return self.learn_one(idx, val, y, h)


def batch_epoch(state, X, y, h, eta, batch, loss="squared", fit_intercept=True,
                adaptive=True, normalized=True, power=0.5):
    """sgdlearn's mini-batch form of the rule (docs/algorithm.rst) in
    float64, rows in order.  ``state``: dict with w (d,), b, G (d,), Gb,
    N (d,), Nb, S, W; updated in place.  Per batch B: N from its rows, row by
    row (w_j *= N_j / |x_j| on a new maximum), S += mean h ||x / N||^2,
    W += mean h; the mean gradient g = mean(h dl x) (and its intercept
    part); G += g^2 / mean(h); w -= eta mult g r, r = G^-p N^(2(p-1)),
    mult = (S / W)^(p-1).  Loss: 'squared' ((p-y)^2/2) or 'logistic' (y=+-1)."""
    s = state
    nnp = power - 1 if adaptive else -1.0
    n = X.shape[0]
    for start in range(0, n, batch):
        rows = range(start, min(start + batch, n))
        B = len(rows)
        if normalized:
            dS = dW = 0.0
            for r in rows:
                nx = 0.0
                for j in np.flatnonzero(X[r]):
                    ax = abs(X[r, j])
                    if ax > s["N"][j]:
                        if s["N"][j] > 0:
                            s["w"][j] *= ((ax / s["N"][j]) ** 2) ** nnp
                        s["N"][j] = ax
                    nx += X[r, j] ** 2 / s["N"][j] ** 2
                if fit_intercept:
                    s["Nb"] = 1.0
                    nx += 1.0
                dS += h[r] * nx
                dW += h[r]
            s["S"] += dS / B
            s["W"] += dW / B
        H = sum(h[r] for r in rows) / B
        g, gb = np.zeros(X.shape[1]), 0.0
        for r in rows:
            p = X[r] @ s["w"] + s["b"]
            dl = p - y[r] if loss == "squared" else -y[r] / (1 + math.exp(y[r] * p))
            g += h[r] * dl * X[r] / B
            gb += h[r] * dl / B
        mult = (s["S"] / s["W"]) ** nnp if normalized else 1.0

        def rate(G, N):
            r = G ** -power if adaptive else 1.0
            return r * (N * N) ** nnp if normalized else r

        for j in np.flatnonzero(g):
            if adaptive:
                s["G"][j] += g[j] ** 2 / H
            s["w"][j] -= eta * mult * g[j] * rate(s["G"][j], s["N"][j])
        if fit_intercept and gb != 0:
            if adaptive:
                s["Gb"] += gb ** 2 / H
            s["b"] -= eta * mult * gb * rate(s["Gb"], s["Nb"])
    return s


class NormalizedRule:
    """sgdlearn's normalized rule in float64 NumPy for K outputs sharing x
    (docs/algorithm.rst): per sample, VW's rule (KernelVWGD's for K = 1, up
    to rounding) with N, S and W shared by the outputs; mini-batches, the
    batch's mean gradient through the rates.  Updates ``coef`` (K, d) and
    ``intercept`` (K,) in place; the true weights (the L2 shrink applied)."""

    def __init__(self, K, d, adaptive=True, normalized=True, invariant=True,
                 exponent=0.5):
        self.adaptive, self.normalized, self.invariant = adaptive, normalized, invariant
        self.power = exponent
        self.nnp = exponent - 1 if adaptive else -1.0
        self.G, self.N = np.zeros((K, d)), np.zeros((K, d))
        self.Gb, self.Nb = np.zeros(K), np.zeros(K)
        self.S = self.W = 0.0

    def rate(self, G, N):
        r = G ** -self.power if self.adaptive else np.ones_like(G)
        return r * (N * N) ** self.nnp if self.normalized else r

    def normalize(self, coef, x, h, fit_intercept):
        nx = 0.0
        for j in np.flatnonzero(x):
            ax = abs(x[j])
            if ax > self.N[0, j]:
                if self.N[0, j] > 0:
                    coef[:, j] *= ((ax / self.N[0, j]) ** 2) ** self.nnp
                self.N[:, j] = ax
            nx += x[j] ** 2 / self.N[0, j] ** 2
        if fit_intercept:
            self.Nb[:] = 1.0
            nx += 1.0
        return h * nx, h

    def mult(self):
        return (self.S / self.W) ** self.nnp if self.normalized and self.S > 0 else 1.0

    def sample(self, coef, intercept, x, p, y, dl, h, eta, loss, lam=0.0,
               fit_intercept=True, intercept_decay=1.0):
        """One per-sample update: scores p (K,), targets y (K,), derivatives
        dl (K,; 0 where the loss is 0), weight h; loss 'squared', 'log' or
        other (plain steps -dl s)."""
        g2 = h * dl ** 2
        if not np.any(g2 != 0):
            return
        mult = 1.0
        if self.normalized:
            dS, dW = self.normalize(coef, x, h, fit_intercept)
            self.S, self.W = self.S + dS, self.W + dW
            mult = self.mult()
        nz, s = np.flatnonzero(x), eta * h
        steps, bars = [], []
        for k in range(coef.shape[0]):
            if g2[k] == 0:
                steps.append(None)
                continue
            x2 = x[nz] ** 2
            if self.adaptive or self.normalized:
                if self.adaptive:
                    self.G[k, nz] += g2[k] * x2
                r = self.rate(self.G[k, nz], self.N[k, nz])
                ppu, rb = x2 @ r, 0.0
                if fit_intercept:
                    if self.adaptive:
                        self.Gb[k] += g2[k]
                    rb = self.rate(self.Gb[k:k + 1], self.Nb[k:k + 1])[0]
                    ppu += rb
                ppu *= mult if self.normalized else 1.0
            else:
                r, rb = np.ones(len(nz)), 1.0
                ppu = x2.sum() + (1.0 if fit_intercept else 0.0)
            if loss == "squared" and self.invariant and s * ppu >= 2e-6:
                u = (y[k] - p[k]) * (1 - math.exp(-s * ppu)) / ppu
            elif loss == "squared":
                u = (y[k] - p[k]) * s
            elif loss == "log" and self.invariant and s * ppu >= 1e-6:
                u = -(y[k] * vw_wexpmx(s * ppu + y[k] * p[k] + math.exp(y[k] * p[k]))
                      + p[k]) / ppu
            elif loss == "log":
                u = y[k] * s / (1 + math.exp(y[k] * p[k]))
            else:
                u = -dl[k] * s
            two = 2.0 if loss == "squared" else 1.0
            if lam > 0 and abs(u) * two > 1e-8 and abs(dl[k]) * two > 1e-8:
                bars.append(-u / dl[k])
            steps.append((u, r, rb))
        if bars:
            coef *= max(0.0, 1.0 - lam * np.mean(bars))
        um = mult if self.normalized else 1.0
        for k, step in enumerate(steps):
            if step is None or step[0] == 0:
                continue
            u, r, rb = step
            coef[k, nz] += u * um * x[nz] * r
            if fit_intercept:
                intercept[k] += u * um * rb * intercept_decay

    def batch_normalize(self, coef, X, h, fit_intercept):
        """Before a mini-batch's scores: N from its rows, S and W by the
        batch's means; returns 1 / the batch's mean weight."""
        B = X.shape[0]
        if self.normalized:
            dS = dW = 0.0
            for x, hr in zip(X, h):
                a, b = self.normalize(coef, x, hr, fit_intercept)
                dS, dW = dS + a, dW + b
            self.S, self.W = self.S + dS / B, self.W + dW / B
        return B / h.sum() if h.sum() > 0 else 0.0

    def batch(self, coef, intercept, g, gb, inv_h, eta, lam=0.0,
              fit_intercept=True, intercept_decay=1.0):
        """The batch's step for its mean gradient g (K, d) and gb (K,)."""
        coef *= max(0.0, 1.0 - eta * lam)
        mult = self.mult()
        for k in range(coef.shape[0]):
            for j in np.flatnonzero(g[k]):
                if self.adaptive:
                    self.G[k, j] += g[k, j] ** 2 * inv_h
                coef[k, j] -= eta * mult * g[k, j] * self.rate(
                    self.G[k, j:j + 1], self.N[k, j:j + 1])[0]
            if fit_intercept and gb[k] != 0:
                if self.adaptive:
                    self.Gb[k] += gb[k] ** 2 * inv_h
                intercept[k] -= eta * intercept_decay * mult * gb[k] * self.rate(
                    self.Gb[k:k + 1], self.Nb[k:k + 1])[0]
