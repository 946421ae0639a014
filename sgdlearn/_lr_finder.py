"""The learning-rate range test (Smith, 2015), as fastai's ``lr_find``."""

import copy
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from sgdlearn._exceptions import DivergenceError


@dataclass
class LRFinderResult:
    """What :func:`lr_find` measured (each parameter is also an attribute).

    Parameters
    ----------
    lrs : ndarray
        The learning rate of every update of the sweep.
    losses : ndarray
        The smoothed training loss after each update (an exponential moving
        average with bias correction, as fastai's).
    raw_losses : ndarray
        The loss of each update's mini-batch, before the update.
    suggestion : float
        The suggested learning rate (``suggestions[method]``).
    suggestions : dict
        The learning rate suggested by each rule: ``"valley"``, ``"steep"``
        and ``"minimum"`` (see :func:`lr_find`).
    method : str
        The rule that gave ``suggestion``.
    diverged : bool
        Whether the sweep stopped because the loss blew up.
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    suggestions: dict = field(default_factory=dict)
    method: str = "valley"
    diverged: bool = False

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
            batch_size=None, suggest="valley", stop_div=True, beta=0.98,
            classes=None, sample_weight=None, random_state=None):
    """Learning-rate range test: sweep the rate up exponentially, watch the
    loss, suggest a rate.

    Trains a copy of ``estimator`` (a clone, or a deep copy when it is
    already fitted, so a fitted model is swept from where it is) for
    ``num_it`` updates on random mini-batches of X, the learning rate of
    update i being ``start_lr * (end_lr / start_lr) ** (i / (num_it - 1))``
    with the estimator's own optimizer and penalty (its schedule is replaced
    by the sweep).  The loss of each batch, taken before its update, is
    smoothed by a bias-corrected moving average; the sweep stops early when
    the smoothed loss exceeds four times its minimum or training diverges
    (Smith, 2017; fastai's ``lr_find``).  ``estimator`` is never modified.

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
        train at rates around 1e-2 to 1 (the gradient of a mini-batch is a
        mean), well above neural networks' (fastai sweeps 1e-7 to 10); the
        range must reach the rates where the loss blows up, or the valley
        has no far end.
    num_it : int, default=100
        Number of updates (one mini-batch each).
    batch_size : int, default=None
        Rows per update; None uses the estimator's ``batch_size`` when it is
        larger than 1, else 32 (single-sample losses are too noisy to read).
    suggest : {'valley', 'steep', 'minimum'}, default='valley'
        The rule for ``suggestion``: 'valley' (fastai's default) takes the
        longest run over which the loss keeps decreasing and returns a rate
        about halfway down it: a conservative, reliable choice, often up to
        ten times below the best constant rate, which is why the workflow is
        the finder first, then a small grid search from the suggestion
        upward.  'steep' is the rate where the loss falls fastest per unit of
        log rate (noisy on regression); 'minimum' a tenth of the rate at the
        lowest loss.  All three are in ``suggestions``.
    stop_div : bool, default=True
        Stop once the loss blows up.
    beta : float, default=0.98
        Smoothing factor of the loss.
    classes : array-like, default=None
        Classifiers: every class label; default ``np.unique(y)``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    random_state : int, RandomState instance or None, default=None
        Draws the mini-batches.

    Returns
    -------
    result : LRFinderResult
        The rates, the losses, the suggestion; ``result.plot()`` draws them.

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
    """
    if not (0 < start_lr < end_lr):
        raise ValueError(f"lr_find needs 0 < start_lr < end_lr, got "
                         f"start_lr={start_lr!r}, end_lr={end_lr!r}.")
    if num_it < 10:
        raise ValueError(f"lr_find needs num_it >= 10, got {num_it!r}.")
    if suggest not in SUGGESTIONS:
        raise ValueError(f"suggest must be one of {sorted(SUGGESTIONS)}, got "
                         f"{suggest!r}.")
    _check_has_rate(estimator)
    model = _sweep_copy(estimator)
    X, y = validate_data(model, X, y, accept_sparse="csr", reset=True,
                         dtype=[np.float64, np.float32], y_numeric=not
                         is_classifier(model), multi_output=not is_classifier(model))
    fit_kwargs = {}
    if is_classifier(model):
        fit_kwargs["classes"] = np.unique(y) if classes is None else classes
    batch = batch_size or (model.batch_size if isinstance(model.batch_size, int)
                           and model.batch_size > 1 else 32)
    batch = min(batch, X.shape[0])
    rng = check_random_state(random_state)
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_it) / (num_it - 1))
    raw, smooth, average, best, diverged = [], [], 0.0, np.inf, False
    for i, lr in enumerate(lrs):
        rows = rng.choice(X.shape[0], size=batch, replace=False)
        model.eta0 = float(lr)
        if i:
            # The first update validated every parameter, and the rate is
            # valid (0 < start_lr < end_lr was checked): spare partial_fit a
            # full re-validation per update, 70% of a sweep's time.
            model._remember_valid_params()
        weights = None if sample_weight is None else np.asarray(sample_weight)[rows]
        try:
            model.partial_fit(X[rows], y[rows], sample_weight=weights, **fit_kwargs)
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
    suggestions = {name: rule(lrs, smooth) for name, rule in SUGGESTIONS.items()}
    return LRFinderResult(lrs=lrs, losses=smooth, raw_losses=np.asarray(raw),
                          suggestion=suggestions[suggest], suggestions=suggestions,
                          method=suggest, diverged=diverged)


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


def _sweep_copy(estimator):
    """A copy to sweep: fitted models continue from their weights."""
    try:
        check_is_fitted(estimator)
        model = copy.deepcopy(estimator)
    except Exception:  # NotFittedError, or not an estimator at all
        model = clone(estimator)
    # One full-batch update per sampled mini-batch, in a fixed row order
    # (its shuffle would only change the summation order).
    return model.set_params(learning_rate="constant", warmup_steps=0,
                            early_stopping=False, batch_size=None, shuffle=False)


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


def _minimum(lrs, losses):
    lrs, losses = _trimmed(lrs, losses)
    return float(lrs[int(np.argmin(losses))] / 10)


SUGGESTIONS = {"valley": _valley, "steep": _steep, "minimum": _minimum}
