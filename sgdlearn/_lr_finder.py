"""The learning-rate range test (Smith, 2015), as fastai's ``lr_find``."""

import copy
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from sgdlearn._exceptions import DivergenceError, DivergenceWarning


@dataclass
class LRFinderResult:
    """What :func:`lr_find` measured (each parameter is also an attribute).

    Parameters
    ----------
    lrs : ndarray
        The learning rate of every step of the sweep.
    losses : ndarray
        The smoothed loss of each step (an exponential moving average with
        bias correction, as fastai's).
    raw_losses : ndarray
        The loss of each step: the mean loss of its rows, each taken before
        the update that uses it.
    suggestion : float
        The suggested learning rate (``suggestions[method]``).
    suggestions : dict
        The learning rate suggested by each rule: ``"refit"``, ``"valley"``,
        ``"steep"`` and ``"minimum"`` (see :func:`lr_find`).
    method : str
        The rule that gave ``suggestion``.
    diverged : bool
        Whether the sweep stopped because the loss blew up.
    grid : ndarray or None
        Five rates worth a grid search: ``suggestion`` times 0.1, 0.32, 1,
        3.2 and 10 (None when the result was built without one).
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    suggestions: dict = field(default_factory=dict)
    method: str = "valley"
    diverged: bool = False
    grid: np.ndarray = None

    def plot(self, ax=None, suggestion=True):
        """Plot the smoothed loss against the learning rate (log scale).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        suggestion : bool, default=True
            Mark the suggested learning rate.

        Returns
        -------
        ax : matplotlib Axes
            The axes drawn on.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "plot() needs matplotlib: pip install matplotlib (or the "
                "'plot' extra, pip install 'sgdlearn[plot]')."
            ) from exc
        if ax is None:
            ax = plt.subplots()[1]
        ax.plot(self.lrs, self.losses)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("smoothed training loss")
        if suggestion:
            index = int(np.argmin(np.abs(np.log(self.lrs / self.suggestion))))
            ax.plot(self.suggestion, self.losses[index], "o", color="red",
                    label=f"{self.method}: {self.suggestion:.2g}")
            ax.legend()
        return ax


def lr_find(estimator, X, y, *, start_lr=1e-5, end_lr=1e4, num_it=100,
            batch_size=None, suggest="refit", stop_div=True, beta=0.98,
            classes=None, sample_weight=None, random_state=None,
            step_rows=None, epochs=None):
    """Learning-rate range test: sweep the rate up exponentially, watch the
    loss, suggest a rate.

    Trains a copy of ``estimator`` (a clone, or a deep copy when it is
    already fitted, so a fitted model is swept from where it is) for
    ``num_it`` steps, the learning rate of step i being
    ``start_lr * (end_lr / start_lr) ** (i / (num_it - 1))``, with the
    estimator's own optimizer, penalty and batch size (its schedule is
    replaced by the sweep).  Each step trains, at its constant rate, on the
    next ``step_rows`` rows of a random permutation of X, ``batch_size`` rows
    per update, exactly as ``partial_fit`` would: one update of 32 rows for
    ``batch_size=32``, 32 single-row updates for ``batch_size=1``.  The
    step's loss is the mean loss of its rows, each taken before the update
    that uses it (a progressive, held-out-like estimate), and is smoothed by
    a bias-corrected moving average; the sweep stops early when the smoothed
    loss exceeds four times its minimum or training diverges (Smith, 2017;
    fastai's ``lr_find``).  ``estimator`` is never modified.

    Changed: every update of the sweep used to be a mini-batch of 32 rows,
    even for a per-sample estimator, whose good rates are 10 to 30 times
    lower, and the default rule was ``'valley'``: refitted at the
    suggestion, models landed up to 17 accuracy points below the best rate
    of a grid (2.4 on average).  The sweep now trains as the estimator
    does, and the default rule ``'refit'`` accounts for the training
    length: 0.3 points on average, 1.2 at worst; the best of ``grid`` was
    within 0.5 points in 23 of 24 cases.  The measurements are in the user
    guide (:ref:`guide_lr_finder`, ``benchmarks/bench_lr_find.py``).

    Parameters
    ----------
    estimator : GDClassifier or GDRegressor
        The model whose learning rate (``eta0``) to choose.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data, preferably standardized as it will be for training.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    start_lr, end_lr : float, default=1e-5, 1e4
        The range of the sweep.  Linear models on standardized features
        train at rates around 1e-3 to 1 (the gradient of a mini-batch is a
        mean), well above neural networks' (fastai sweeps 1e-7 to 10); the
        range must reach the rates where the loss blows up, or the valley
        has no far end.
    num_it : int, default=100
        Number of steps (rates) of the sweep.
    batch_size : int, default=None
        Rows per update; None uses the estimator's ``batch_size`` (all the
        rows for ``"full"`` or None).  Give another only to sweep for
        another batch size: good rates grow with it.
    suggest : {'refit', 'valley', 'steep', 'minimum'}, default='refit'
        The rule for ``suggestion``.  'refit' (the default) is the rate to
        train at for ``epochs`` epochs: a tenth of the middle of the valley's
        floor (the geometric mean of the rates whose loss is within a fifth
        of the descent from the lowest loss), times
        ``sqrt(sweep rows / training rows)`` where the sweep
        trains on ``num_it * step_rows`` rows and training on
        ``epochs * n_samples`` (a longer training wants a lower constant
        rate, as the classic ``c / sqrt(T)``).  'valley' (fastai's default
        before) takes the longest run over which the loss keeps decreasing
        and returns a rate about halfway down it.  'steep' is the rate where
        the loss falls fastest per unit of log rate (noisy on regression);
        'minimum' a tenth of the rate at the lowest loss.  All four are in
        ``suggestions``, and ``grid`` holds rates around the suggestion
        worth a grid search.
    stop_div : bool, default=True
        Stop once the loss blows up.
    beta : float, default=0.98
        Smoothing factor of the loss.
    classes : array-like, default=None
        Classifiers: every class label; default ``np.unique(y)``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    random_state : int, RandomState instance or None, default=None
        Draws the permutations of the rows.
    step_rows : int, default=None
        Rows of one step: None is ``max(32, batch size)`` (all the rows
        for full-batch training), so a step is one update of a mini-batch
        of 32 or more, or 32 single-row updates.
    epochs : int, default=None
        The training length 'refit' is for: None is the estimator's
        ``max_iter`` when its ``tol`` is None, else ``min(max_iter, 20)``
        (with ``tol`` set, training usually stops after 10 to 60 epochs;
        the rule depends on the square root of it).

    Returns
    -------
    result : LRFinderResult
        The rates, the losses, the suggestion, a grid; ``result.plot()``
        draws them.

    References
    ----------
    Smith, L. N. (2017). Cyclical Learning Rates for Training Neural
    Networks. WACV. https://arxiv.org/abs/1506.01186

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sgdlearn import GDClassifier, lr_find
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> result = lr_find(GDClassifier(loss="log_loss", optimizer="adam"), X, y,
    ...                  random_state=0)
    >>> 1e-5 < result.suggestion < 1.0
    True
    >>> len(result.grid)
    5
    """
    if not (0 < start_lr < end_lr):
        raise ValueError(f"lr_find needs 0 < start_lr < end_lr, got "
                         f"start_lr={start_lr!r}, end_lr={end_lr!r}.")
    if num_it < 10:
        raise ValueError(f"lr_find needs num_it >= 10, got {num_it!r}.")
    if suggest not in RULES:
        raise ValueError(f"suggest must be one of {sorted(RULES)}, got "
                         f"{suggest!r}.")
    for name, value in (("step_rows", step_rows), ("epochs", epochs)):
        if value is not None and not (isinstance(value, numbers.Integral)
                                      and value >= 1):
            raise ValueError(f"{name} must be a positive integer or None, got "
                             f"{value!r}.")
    _check_has_rate(estimator)
    model, batch = _sweep_copy(estimator, batch_size)
    X, y = validate_data(model, X, y, accept_sparse="csr", reset=True,
                         dtype=[np.float64, np.float32], y_numeric=not
                         is_classifier(model), multi_output=not is_classifier(model))
    n = X.shape[0]
    batch = n if batch is None else min(batch, n)
    if step_rows is None:
        step_rows = max(batch, _STEP_ROWS) if batch < n else n
    step_rows = min(max(int(step_rows), batch), n)
    if epochs is None:
        epochs = model.max_iter if model.tol is None else min(model.max_iter, 20)
    model.set_params(batch_size=batch)
    fit_kwargs = {}
    if is_classifier(model):
        fit_kwargs["classes"] = np.unique(y) if classes is None else classes
    rng = check_random_state(random_state)
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_it) / (num_it - 1))
    order, position = rng.permutation(n), 0
    weights_all = None
    if sample_weight is not None:
        weights_all = np.asarray(sample_weight, dtype=np.float64)
        if weights_all.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got "
                             f"{weights_all.shape}.")
    raw, smooth, average, best, diverged = [], [], 0.0, np.inf, False
    for i, lr in enumerate(lrs):
        if position + step_rows > n:
            order, position = rng.permutation(n), 0
        rows = order[position: position + step_rows]
        position += step_rows
        model.eta0 = float(lr)
        if i:
            # The first update validated every parameter, and the rate is
            # valid (0 < start_lr < end_lr was checked): spare partial_fit a
            # full re-validation per update, 70% of a sweep's time.
            model._remember_valid_params()
        weights = None if weights_all is None else weights_all[rows]
        try:
            with warnings.catch_warnings():
                # Blowing up is how a sweep ends: no warning for it.
                warnings.simplefilter("ignore", DivergenceWarning)
                model.partial_fit(X[rows], y[rows], sample_weight=weights,
                                  **fit_kwargs)
        except DivergenceError:
            diverged = True
            break
        loss = model.loss_curve_[-1]
        average = beta * average + (1 - beta) * loss
        value = average / (1 - beta ** (i + 1))
        raw.append(loss)
        smooth.append(value)
        best = min(best, value)
        if stop_div and (not np.isfinite(value) or value > 4 * best):
            diverged = True
            break
    lrs = lrs[: len(smooth)]
    smooth = np.asarray(smooth)
    suggestions = {"refit": float(_bottom(lrs, smooth) / 10 * np.sqrt(
        num_it * step_rows / (epochs * n)))}
    suggestions.update((name, rule(lrs, smooth)) for name, rule in SUGGESTIONS.items())
    suggestion = suggestions[suggest]
    return LRFinderResult(lrs=lrs, losses=smooth, raw_losses=np.asarray(raw),
                          suggestion=suggestion, suggestions=suggestions,
                          method=suggest, diverged=diverged,
                          grid=suggestion * GRID_FACTORS)


_STEP_ROWS = 32
GRID_FACTORS = 10.0 ** np.array([-1, -0.5, 0, 0.5, 1])
"""``result.grid`` is the suggestion times these: a decade either side."""


def _check_has_rate(estimator):
    """A rule without a learning rate (COCOB) has none to find."""
    from sgdlearn._optim_table import OPTIMIZERS

    optimizer = getattr(estimator, "optimizer", None)
    if not isinstance(optimizer, str) and hasattr(optimizer, "_validated_rule"):
        optimizer = optimizer._validated_rule()[0]
    row = OPTIMIZERS.get(optimizer) if isinstance(optimizer, str) else None
    if row is not None and row.rate_free:
        raise ValueError(
            f"optimizer={optimizer!r} has no learning rate to find: it bets "
            f"on the gradients' signs instead (see sgdlearn.optim."
            f"{row.cls}); fit it with eta0 and learning_rate at their "
            f"defaults.")


def _sweep_copy(estimator, batch_size):
    """A copy to sweep (fitted models continue from their weights) and the
    rows per update: ``batch_size``, else the estimator's (None: all)."""
    try:
        check_is_fitted(estimator)
        model = copy.deepcopy(estimator)
    except Exception:  # NotFittedError, or not an estimator at all
        model = clone(estimator)
    if batch_size is None:
        batch_size = model.get_params().get("batch_size", 1)
        if batch_size == "full":
            batch_size = None
    # The rows of a step in the drawn order (a shuffle would only reorder
    # the step's rows, already drawn at random).
    model.set_params(learning_rate="constant", warmup_steps=0,
                     early_stopping=False, shuffle=False)
    return model, batch_size


def _trimmed(lrs, losses):
    """fastai drops the first tenth (warm-up noise) and the last five
    points (the blow-up) before looking for a rate."""
    if len(losses) < 20:  # a sweep cut short: keep everything
        return lrs, losses
    return lrs[len(losses) // 10: -5], losses[len(losses) // 10: -5]


def _valley(lrs, losses):
    lrs, losses = _trimmed(lrs, losses)
    n = len(losses)
    run = np.ones(n, dtype=int)  # longest decreasing subsequence ending at i
    for i in range(1, n):
        earlier = losses[:i] > losses[i]
        if earlier.any():
            run[i] = run[:i][earlier].max() + 1
    end = int(np.argmax(run))
    start = end - run[end] + 1
    third = (end - start) / 3
    return float(lrs[start + int(third) + int(third / 2)])


def _steep(lrs, losses):
    lrs, losses = _trimmed(lrs, losses)
    slope = np.gradient(losses, np.log(lrs))
    return float(lrs[int(np.argmin(slope))])


def _bottom(lrs, losses):
    """The geometric mean of the rates whose loss is within a fifth of the
    curve's descent from its minimum: the middle of the valley's floor,
    less noisy than the rate at the minimum alone (the spread across seeds
    of benchmarks/bench_lr_find.py's suggestions: at most 2.3 times,
    against 5.3 for the argmin)."""
    lrs, losses = _trimmed(lrs, losses)
    low = losses.min()
    floor = losses <= low + 0.2 * (losses[0] - low)
    return float(np.exp(np.mean(np.log(lrs[floor]))))


def _minimum(lrs, losses):
    lrs, losses = _trimmed(lrs, losses)
    return float(lrs[int(np.argmin(losses))] / 10)


SUGGESTIONS = {"valley": _valley, "steep": _steep, "minimum": _minimum}
RULES = ("refit", *SUGGESTIONS)
