"""Schedule-free SGD and AdamW in NumPy (Defazio et al. 2024; the
``schedulefree`` package 1.4.1), as the estimators train them: the rule of
``docs/algorithm.rst`` on K weight rows at once (binary and one-vs-rest
problems K = 1, multinomial K = classes, multi-output K = outputs).

Per-step rule: the spec's ``sf_sgd_step`` / ``sf_adamw_step``
(shared/reference/new_optimizers/new_optimizers_reference.py), written on
arrays.  Sparse input (``lazy=True``): a coordinate that no row of the update
stores gets a zero gradient and no decay (the kernel's O(1) catch-up is
this, in closed form), so with ``alpha=0`` it equals the dense rule.
"""

import math

import numpy as np
import scipy.sparse as sp
from sgdlearn_test_reference import MAX_DLOSS, loss_grad, schedule, softmax_grad


def lerp(a, b, w):
    """torch.lerp with a scalar weight."""
    return a + w * (b - a) if abs(w) < 0.5 else b - (b - a) * (1 - w)


class SFModel:
    """One problem of a schedule-free estimator: y (the weights gradients
    are taken at), z, AdamW's v, and the global k, lr_max, weight_sum."""

    def __init__(self, n_features, n_outputs=1, *, rule="sgd", loss="log_loss",
                 multinomial=False, eta0=0.1, learning_rate="constant",
                 warmup_steps=0, alpha=0.0, fit_intercept=True,
                 intercept_decay=1.0, batch_size=1, lazy=False, momentum=0.9,
                 beta_1=0.9, beta_2=0.999, eps=1e-8, r=0.0,
                 weight_lr_power=2.0, coef=None, intercept=None, epsilon=0.1,
                 power_t=0.5):
        K, d = n_outputs, n_features
        self.rule, self.loss, self.epsilon = rule, loss, epsilon
        self.multinomial = multinomial
        self.eta0, self.learning_rate, self.power_t = eta0, learning_rate, power_t
        self.warmup_steps, self.alpha = warmup_steps, alpha
        self.fit_intercept, self.intercept_decay = fit_intercept, intercept_decay
        self.batch_size, self.lazy = batch_size, lazy
        self.beta = momentum if rule == "sgd" else beta_1
        self.b2, self.eps, self.r, self.power = beta_2, eps, r, weight_lr_power
        w0 = np.zeros((K, d)) if coef is None else np.array(coef, float).reshape(K, d)
        b0 = np.zeros(K) if intercept is None else np.array(intercept, float).reshape(K)
        self.y, self.z, self.v = w0.copy(), w0.copy(), np.zeros((K, d))
        self.yb, self.zb, self.vb = b0.copy(), b0.copy(), np.zeros(K)
        self.k, self.lr_max, self.weight_sum, self.t = 0, -1.0, 0.0, 1

    # The point to predict with
    @property
    def coef(self):
        return lerp(self.y, self.z, 1 - 1 / self.beta)

    @property
    def intercept(self):
        return lerp(self.yb, self.zb, 1 - 1 / self.beta)

    def _grads(self, W, b, X, Y, sw):
        """(summed weighted loss, loss gradient per row (n, K)) at W, b."""
        P = X @ W.T + b
        total, C = 0.0, np.zeros_like(P)
        for i in range(P.shape[0]):
            if self.multinomial:
                loss, C[i] = softmax_grad(P[i], int(Y[i, 0]))
            else:
                loss = 0.0
                for k in range(P.shape[1]):
                    value, C[i, k] = loss_grad(self.loss, P[i, k], Y[i, k],
                                               self.epsilon if "epsilon" in self.loss
                                               or self.loss == "huber" else None)
                    loss += value
            total += sw[i] * loss
        return total, sw[:, None] * np.clip(C, -MAX_DLOSS, MAX_DLOSS)

    def _scalars(self):
        """The update's rate and c (schedulefree's _sf_weight), with the
        estimator's schedule (its warm-up: (k + 1) / warmup_steps)."""
        lr = schedule(self.t, self.learning_rate, eta0=self.eta0,
                      warmup_steps=self.warmup_steps, power_t=self.power_t,
                      optimizer="sf")
        self.lr_max = max(lr, self.lr_max)
        weight = (self.k + 1) ** self.r * self.lr_max ** self.power
        self.weight_sum += weight
        self.k += 1
        self.t += 1
        return lr, (weight / self.weight_sum if self.weight_sum != 0 else 0.0)

    def _step(self, y, z, v, g, lr, c, wd, present, k):
        """One step of the rule on arrays (v updated in place, y and z
        returned); g and the decay are zero outside ``present``."""
        if self.rule == "sgd":
            gn = np.where(present, g + wd * y, 0.0)
        else:
            v *= self.b2
            v += (1 - self.b2) * g * g
            bc2 = 1 - self.b2 ** k
            gn = np.where(present, g / (np.sqrt(v / bc2) + self.eps) + wd * y, 0.0)
        y = lerp(y, z, c) + lr * (self.beta * (1 - c) - 1) * gn
        return y, z - lr * gn

    def epoch(self, X, Y, sample_weight=None):
        """One epoch over the rows in order; returns the objective at x
        after it (the estimator's loss_curve_ value when tol is set), and
        keeps the progressive one (the losses at y as the updates met them,
        plus the penalty of x: loss_curve_ with tol=None) in
        ``self.progressive``."""
        n, d = X.shape
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            X.sum_duplicates()
        dense = X.toarray() if sp.issparse(X) else np.asarray(X, np.float64)
        Y = np.asarray(Y, np.float64)
        Y = Y.reshape(n, -1)
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        size = n if self.batch_size in (None, "full") else self.batch_size
        seen = 0.0
        for start in range(0, n, size):
            rows = np.arange(start, min(start + size, n))
            present = np.ones(d, dtype=bool)
            if self.lazy:
                present[:] = False
                present[X[rows].indices] = True
            loss, C = self._grads(self.y, self.yb, dense[rows], Y[rows], sw[rows])
            seen += loss
            G, gb = C.T @ dense[rows] / len(rows), C.mean(axis=0)
            lr, c = self._scalars()
            self.y, self.z = self._step(self.y, self.z, self.v, G, lr, c,
                                        self.alpha, present, self.k)
            if self.fit_intercept:
                self.yb, self.zb = self._step(
                    self.yb, self.zb, self.vb, gb, lr * self.intercept_decay,
                    c, 0.0, True, self.k)
        total, _ = self._grads(self.coef, self.intercept, dense, Y, sw)
        x = self.coef
        penalty = self.alpha / 2 * float((x * x).sum())
        self.progressive = seen / max(n, 1) + penalty
        return total / max(n, 1) + penalty

    def state(self):
        """The estimator's optimizer_state_ keys, shaped (K, d) / (K,)."""
        out = {"z": self.z, "y": self.y, "intercept_z": self.zb,
               "intercept_y": self.yb, "step": self.k, "lr_max": self.lr_max,
               "weight_sum": self.weight_sum}
        if self.rule == "adamw":
            out.update(exp_avg_sq=self.v, intercept_exp_avg_sq=self.vb)
        return out


def torch_replay(rule, X, y, w0, b0, n_epochs=1, eta0=0.1, alpha=0.0,
                 warmup_steps=0, loss="log_loss", **hp):
    """The same per-sample trajectory (rows in order, one output) with the
    real schedulefree optimizer: gradients of ``loss`` taken at its train-
    mode parameters, weight decay on the weights only (a second parameter
    group for the intercept: its k, lr_max and weight_sum advance the
    same).  Returns (x, x_b, y, y_b, z, z_b) after the epochs."""
    import schedulefree
    import torch

    w = torch.tensor(np.asarray(w0, np.float64).copy(), requires_grad=True)
    b = torch.tensor(np.asarray(b0, np.float64).copy().reshape(1),
                     requires_grad=True)
    if rule == "sgd":
        cls = schedulefree.SGDScheduleFree
        kw = dict(momentum=hp.get("momentum", 0.9))
    else:
        cls = schedulefree.AdamWScheduleFree
        kw = dict(betas=(hp.get("beta_1", 0.9), hp.get("beta_2", 0.999)),
                  eps=hp.get("eps", 1e-8))
    kw.update(r=hp.get("r", 0.0), weight_lr_power=hp.get("weight_lr_power", 2.0),
              warmup_steps=warmup_steps, lr=eta0, foreach=False)
    opt = cls([{"params": [w], "weight_decay": alpha},
               {"params": [b], "weight_decay": 0.0}], **kw)
    opt.train()
    for _ in range(n_epochs):
        for i in range(X.shape[0]):
            xi = np.asarray(X[i], np.float64)
            p = float(xi @ w.detach().numpy() + b.detach().numpy()[0])
            _, dloss = loss_grad(loss, p, y[i])
            w.grad = torch.tensor(dloss * xi)
            b.grad = torch.tensor([dloss], dtype=torch.float64)
            opt.step()
    y_w, y_b = w.detach().numpy().copy(), b.detach().numpy().copy()
    z_w = opt.state[w]["z"].numpy().copy()
    z_b = opt.state[b]["z"].numpy().copy()
    opt.eval()
    return (w.detach().numpy().copy(), b.detach().numpy().copy(), y_w, y_b,
            z_w, z_b)


__all__ = ["SFModel", "lerp", "math", "torch_replay"]
