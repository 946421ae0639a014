"""Shared estimator logic: parameters, kernel settings, state, training.

Every training call works on copies of the fitted arrays and commits them
only when training succeeded, and any attribute the call rebinds is put back
if it raises: a failed ``fit`` or ``partial_fit`` leaves the estimator
exactly as it was.
"""

import functools
import operator
import sys
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, effective_n_jobs
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import validate_data

from sgdlearn._callbacks import EpochCallbacks, wants_callbacks
from sgdlearn._data import check_weights, kernel_rows, quick_array, quick_targets
from sgdlearn._diagnose import explain
from sgdlearn._engine import (
    Problem,
    Trainer,
    Validation,
    train,
)
from sgdlearn._exceptions import DivergenceWarning, InconsistentVersionWarning
from sgdlearn._kernel_args import kernel_settings, torch_schedule_fields
from sgdlearn._objects import Hyperparameters
from sgdlearn._optim_table import HYPERS, OPTIMIZERS
from sgdlearn._params import SCHEDULES
from sgdlearn._resolve import resolve_optimizer, resolve_schedule
from sgdlearn._sklearn_compat import (
    Interval,
    SparseCoefMixin,
    StrOptions,
    _fit_context,
)
from sgdlearn._state import _FIELDS, ModelState
from sgdlearn._version import __version__
from sgdlearn.optim import Optimizer
from sgdlearn.schedules import Schedule, spans_fit

MAX_INT = np.iinfo(np.int32).max
_PLAIN = frozenset({str, int, float, bool, type(None)})
# A final loss this many times the all-zero model's warns (predicting zero
# would be a thousand times better): scikit-learn's SGD returns such models
# silently (e.g. eta0=10 on load_diabetes).
WARN_FACTOR = 1e3


def transactional(method):
    """Restore the estimator's attributes if ``method`` raises.

    Training never writes into an array the estimator already holds (it
    works on copies), so restoring the attribute bindings (with the state
    of the row-order generators and the length of loss_curve_) restores the
    estimator bit for bit, whatever was raised (KeyboardInterrupt included).
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        # Two things change in place: the row-order generators advance, and
        # partial_fit appends to loss_curve_ (copying it every call would
        # make a long stream quadratic).
        generators = saved.get("_row_rngs") or []
        states = [generator.bit_generator.state for generator in generators]
        curve = saved.get("loss_curve_")
        length = None if curve is None else len(curve)
        # While training, assignments to the fitted attributes are staged
        # until _commit publishes the model (see _state.py).
        self.__dict__["_training"] = True
        try:
            result = method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            for generator, state in zip(generators, states, strict=True):
                generator.bit_generator.state = state
            if curve is not None:
                del curve[length:]
            raise
        if "_training" not in saved:
            self.__dict__.pop("_training", None)
        return result

    return wrapper


def _caller_stacklevel():
    """The stacklevel that points a warning at the first frame outside
    sgdlearn and scikit-learn's fit wrappers (they vary with the call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
            ("sgdlearn.", "sklearn.base", "sklearn.callback", "functools")):
        frame, level = frame.f_back, level + 1
    return level


def _epoch_means(per_problem):
    """Mean over problems, epoch by epoch, padding each with its last value."""
    per_problem = [values for values in per_problem if values]
    if not per_problem:
        return []
    # Plain Python: partial_fit calls this twice per call on a few values,
    # where np.mean's ~10 us would be a tenth of the call.  The sum runs in
    # the order np.mean(axis=0) would use, so the values are the same.
    n, n_epochs = len(per_problem), max(map(len, per_problem))
    return [float(sum(values[min(e, len(values) - 1)] for values in per_problem) / n)
            for e in range(n_epochs)]


def partial_fit_context(method):
    """scikit-learn's ``_fit_context`` for the first call; afterwards only a
    cheap check that the parameters did not change since they were last
    validated (scikit-learn skips parameter validation altogether then)."""
    first_call = _fit_context(prefer_skip_nested_validation=True)(method)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if "_validated_params" not in self.__dict__:
            return first_call(self, *args, **kwargs)
        self._revalidate_params()
        return method(self, *args, **kwargs)

    return wrapper


class BaseGD(ModelState, SparseCoefMixin, BaseEstimator):
    """Parameters, settings and the training loop shared by both estimators."""

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean", StrOptions({"local"})],
        "verbose": ["verbose"],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "learning_rate": [StrOptions(set(SCHEDULES)), Schedule],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "optimizer": [StrOptions(set(OPTIMIZERS)), Optimizer],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"full"}),
            None,
        ],
        **{name: hyper.constraint for name, hyper in HYPERS.items()},
        "decay_steps": [Interval(Integral, 1, None, closed="left")],
        "decay_rate": [Interval(Real, 0, None, closed="neither")],
        "eta_min": [Interval(Real, 0, None, closed="left")],
        "warmup_steps": [Interval(Integral, 0, None, closed="left")],
        "intercept_decay": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "n_shards": [Interval(Integral, 1, None, closed="left"), None],
        "local_epochs": [Interval(Integral, 1, None, closed="left")],
        "mixing": [StrOptions({"iterative", "one_shot"})],
    }

    def _init_params(self, params):
        for name, value in params.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # ------------------------------------------------------------------
    # Cheap checks for partial_fit on a fitted model
    def _params_fingerprint(self):
        getter = type(self).__dict__.get("_param_getter")
        if getter is None:
            getter = operator.attrgetter(*self._get_param_names())
            type(self)._param_getter = getter
        # Copies of dicts and of optimizer/schedule objects' parameters, so
        # that editing them in place (set_params(optimizer__beta_2=...)) counts.
        # Strings, numbers and None go as they are (the common case, cheap).
        return [v if type(v) in _PLAIN else dict(v) if type(v) is dict
                else (type(v), v.get_params()) if isinstance(v, Hyperparameters)
                else v for v in getter(self)]

    def _remember_valid_params(self):
        self._validated_params = self._params_fingerprint()

    def _revalidate_params(self):
        """scikit-learn skips parameter validation in partial_fit once fitted;
        validate again whenever a parameter changed since the last check."""
        fingerprint = self._params_fingerprint()
        if fingerprint != self._validated_params:
            self._validate_params()
            self._more_validate_params(for_partial_fit=True)
            self._validated_params = fingerprint

    # What validate_data checks of y beyond the defaults (the regressor's
    # targets are numbers, possibly several per row).
    _target_checks = {}

    def _validated(self, X, y, reset, dtype=(np.float64, np.float32)):
        """X, y through scikit-learn's validation: C-ordered float64 or
        float32 (kept), or CSR (any index width: narrowed later)."""
        return validate_data(self, X, y, accept_sparse="csr", dtype=list(dtype),
                             order="C", accept_large_sparse=True, reset=reset,
                             **self._target_checks)

    def _validated_chunk(self, X, y):
        """X, y of a partial_fit call on a fitted model: as given when they
        plainly are valid (C-ordered finite floats of the model's dtype),
        else through scikit-learn's validation and its error messages."""
        if not hasattr(self, "feature_names_in_"):
            X_ok = quick_array(X, self.n_features_in_, self.coef_.dtype)
            if X_ok is not None:
                numeric = bool(self._target_checks)
                y_ok = quick_targets(y, X_ok.shape[0], numeric)
                if y_ok is not None:
                    return X_ok, y_ok
        return self._validated(X, y, reset=False, dtype=(self.coef_.dtype,))

    def _prediction_input(self, X, model):
        """X for the prediction methods, checked against ``model`` (the
        published model the call reads): as given when it plainly is valid
        (C-ordered float32/float64 ndarray or CSR, finite, the model's
        number of columns, no feature names to compare), else through
        scikit-learn's validation and its messages.  On a 10-row chunk that
        validation is most of a ``predict`` call."""
        if (
            model.feature_names_in is None
            and getattr(X, "dtype", None) in (np.float32, np.float64)
        ):
            X_ok = quick_array(X, model.n_features_in, X.dtype)
            if X_ok is not None:
                return X_ok
        # validate_data reads n_features_in_ and feature_names_in_: from a
        # view of this estimator holding ``model``, not from whatever model
        # another thread may have published since.
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.__dict__["_model"] = model
        return validate_data(view, X, accept_sparse="csr", reset=False)

    def _scores(self, X, model):
        """``X @ coef.T + intercept`` of ``model``, shaped (n_samples,
        n_rows) (or (n_samples,) for a 1-D coef)."""
        X = self._prediction_input(X, model)
        scores = safe_sparse_dot(X, model.coef.T, dense_output=True)
        return scores + model.intercept

    @staticmethod
    def _sample_weights(sample_weight, X, allow_all_zero=False):
        """Validated float64 weights, or None for unit weights."""
        if sample_weight is None:
            return None
        return check_weights(sample_weight, X, allow_all_zero=allow_all_zero)

    # ------------------------------------------------------------------
    # Parameters -> kernel settings
    def _more_validate_params(self, for_partial_fit=False):
        if self.early_stopping and for_partial_fit:
            raise ValueError("early_stopping should be False with partial_fit")
        optimizer = resolve_optimizer(self)  # validates an object's values
        schedule, _ = resolve_schedule(self)
        # Before any state changes: a schedule the call cannot run.
        # (fit checks a schedule that spans it once it knows its length.)
        if for_partial_fit or not spans_fit(self.learning_rate):
            torch_schedule_fields(self, optimizer, None)
        phases = getattr(self.learning_rate, "schedules", ())
        if self.alpha == 0 and (schedule == "optimal" or any(
                getattr(p, "_name", None) == "optimal" for p in phases)):
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is "
                "used to compute the optimal learning rate."
            )
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        if schedule in ("pa1", "pa2"):
            expected = self._pa_loss
            if self.loss != expected:
                raise ValueError(
                    f"Learning rate '{schedule}' only works with loss "
                    f"'{expected}'."
                )
            if optimizer.name != "sgd" or self.batch_size != 1:
                raise ValueError(
                    f"Learning rate '{schedule}' (passive-aggressive) "
                    "sets the step of each sample itself: it needs "
                    "optimizer='sgd' and batch_size=1, got "
                    f"optimizer={self.optimizer!r}, batch_size={self.batch_size!r}."
                )


    def _warn_if_not_converged(self):
        if (self.tol is not None and self.n_iter_ == self.max_iter
                and not spans_fit(self.learning_rate)):
            warnings.warn(
                "Maximum number of iteration reached before convergence. "
                "Consider increasing max_iter to improve the fit.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if self.power_t < 0:
            warnings.warn(
                "Negative values for `power_t` are deprecated in scikit-learn "
                "1.8 and will raise an error in 1.10. Use values in the range "
                "[0.0, inf) instead.",
                FutureWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------------
    # Training
    def _epoch_callbacks(self, fresh, max_epochs, X, y, sample_weight, state):
        """The callback bridge for this call, or None without callbacks."""
        if not wants_callbacks(self):
            return None
        shape = self._coef_shape(*state["coef"].shape)
        dtype = X.dtype

        def snapshot(t):
            """The model as fit would return it with the next update t:
            the averaged weights once averaging has started."""
            averaged = self.average and self.average <= t - 1
            coef = state["avg_coef" if averaged else "coef"]
            intercept = state["avg_intercept" if averaged else "intercept"]
            return {"coef_": coef.reshape(shape).copy(),
                    "intercept_": intercept.astype(dtype)}

        return EpochCallbacks(self, "fit" if fresh else "partial_fit", max_epochs,
                              X, y, sample_weight, snapshot)

    def _record_history(self, problems, fresh):
        """loss_curve_ and friends, as scikit-learn's MLP: one value per
        epoch, the mean over one-vs-rest problems (a problem that stopped
        early keeps its last value).  partial_fit extends the lists in
        place: O(epochs of the call), however long the stream."""
        losses = _epoch_means([p.losses for p in problems])
        scores = _epoch_means([p.scores for p in problems])
        if fresh or "loss_curve_" not in self.__dict__:
            self.loss_curve_, self.best_loss_ = [], None
            self.validation_scores_ = self.best_validation_score_ = None
        self.loss_curve_ += losses  # in place; transactional() truncates it
        if scores:
            self.validation_scores_ = (self.validation_scores_ or []) + scores
            self.best_validation_score_ = max(self.validation_scores_)
            self.best_loss_ = None
        elif losses:
            best = self.best_loss_ if self.best_loss_ is not None else np.inf
            self.best_loss_ = min(best, min(losses))

    def _rngs(self, n_problems, reset):
        """One generator per problem; kept across partial_fit calls so that a
        stream of calls sees fresh permutations, as one fit would."""
        if not reset and getattr(self, "_row_rngs", None) is not None:
            return self._row_rngs
        seeds = check_random_state(self.random_state).randint(
            MAX_INT, size=n_problems
        )
        return [np.random.default_rng(seed) for seed in seeds]

    def _train(self, X, y, labels, sample_weight, state, *, fresh, max_epochs,
               validation_mask=None, t_start=None):
        """Train the problems of ``labels`` (the targets in the dtype of X;
        class indices for a classifier) and publish the model.  ``fresh``:
        a ``fit`` (new row-order generators, a new training record)."""
        targets = self._targets(labels, validation_mask)
        rngs = self._rngs(len(targets), reset=fresh)
        if getattr(self, "n_shards", None) is not None:
            from sgdlearn._data_parallel import shard_rngs

            rngs = shard_rngs(self, rngs, len(targets), self.n_shards)
        callbacks = self._epoch_callbacks(fresh, max_epochs, X, y, sample_weight,
                                          state)
        t, n_iter, problems = self._run(
            X, targets, sample_weight, state, rngs, max_epochs=max_epochs,
            validation_mask=validation_mask,
            validation_kind=self._validation_kind(), callbacks=callbacks,
            t_start=t_start, fit=fresh)
        self._row_rngs = rngs
        self._commit(state, X.dtype, t, n_iter, problems, fresh)
        if callbacks is not None:
            callbacks.finish()
        return self

    def _run(self, X, targets, sample_weight, state, rngs, *, max_epochs,
             validation_mask=None, validation_kind=None, callbacks=None,
             t_start=None, fit=False):
        """Train every problem of ``targets`` on X for up to ``max_epochs``.

        ``targets`` is a list of (row slice, y, y stride, positive class or
        -1, validation targets): one entry per problem, each owning rows
        ``row slice`` of the state.  ``t_start``: the first update's t (1
        for a new model; default: continue from ``t_``).
        Returns (t, n_iter, problems).
        """
        rows = kernel_rows(X)
        n = rows.n_samples
        weights = np.empty(0) if sample_weight is None else sample_weight
        if validation_mask is not None and validation_mask.any():
            if sample_weight is None:
                sample_weight = np.ones(n)
            order = np.flatnonzero(~validation_mask).astype(np.intc)
            validation = Validation(
                X=rows.X[validation_mask],
                sample_weight=sample_weight[validation_mask],
                kind=validation_kind,
            )
        else:
            order = np.arange(n, dtype=np.intc)
            validation = None
        settings = kernel_settings(self, rows, order.shape[0], validation,
                                   fit_epochs=max_epochs if fit else None)
        problems = []
        for index, (rows_slice, y, y_stride, positive, y_val) in enumerate(targets):
            problems.append(
                Problem(
                    coef=state["coef"][rows_slice],
                    intercept=state["intercept"][rows_slice],
                    coef_state=state["coef_state"][rows_slice],
                    intercept_state=state["intercept_state"][rows_slice],
                    avg_coef=state["avg_coef"][rows_slice]
                    if self.average
                    else state["avg_coef"],
                    avg_intercept=state["avg_intercept"][rows_slice]
                    if self.average
                    else state["avg_intercept"],
                    steps=state["steps"][index:index + 1],
                    counters=state["counters"][index],
                    rng=rngs[index],
                    y=y,
                    y_stride=y_stride,
                    positive=positive,
                    sample_weight=weights,
                    y_val=y_val,
                )
            )
        if t_start is None:
            t_start = getattr(self, "t_", 1.0)
        n_jobs = getattr(self, "n_jobs", None)
        if getattr(self, "n_shards", None) is not None:
            from sgdlearn._data_parallel import run_sharded

            t, trainers = run_sharded(self, rows, order, problems, rngs, weights,
                                      settings, max_epochs, fit, t_start,
                                      callbacks)
        else:
            self.__dict__.pop("_shard_clocks", None)  # of an n_shards call
            trainers = [Trainer(problem, rows, order, settings, t_start)
                        for problem in problems]
            if len(trainers) == 1 or effective_n_jobs(n_jobs) == 1:
                t = train(trainers, max_epochs, callbacks=callbacks)
            else:
                with Parallel(n_jobs=n_jobs, require="sharedmem") as parallel:
                    t = train(trainers, max_epochs, parallel, callbacks)
        worst = max(trainers, key=lambda trainer: trainer.loss_ratio)
        ratio = worst.loss_ratio
        if ratio > WARN_FACTOR:
            warnings.warn(
                f"Training diverged: the final loss is {ratio:.3g} times that of "
                "an all-zero model. The weights are finite only because "
                f"gradients are clipped. {explain(worst, t_start, worst.t - 1)}",
                DivergenceWarning,
                stacklevel=_caller_stacklevel(),
            )
        return t, max(p.n_iter for p in problems), problems

    def __getstate__(self):
        # A copy: for classes outside sklearn, BaseEstimator.__getstate__
        # returns the live __dict__.
        state = dict(super().__getstate__())
        # A copy made while this estimator trains (a callback's, another
        # thread's) is not itself training.
        state.pop("_training", None)
        state["_sgdlearn_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_sgdlearn_version", "unknown (before 0.1.0)")
        if version != __version__:
            warnings.warn(
                f"This {type(self).__name__} was pickled by sgdlearn {version} "
                f"and is unpickled by sgdlearn {__version__}: its fitted state "
                "may not mean the same to this version, and predictions or "
                "continued training can be wrong. Refit it with this version, "
                f"or load it with sgdlearn {version}.",
                InconsistentVersionWarning,
                stacklevel=2,
            )
        state = dict(state)
        # Fitted attributes as plain values (models pickled before they were
        # published as one bundle): publish them as one.
        plain = {field: state.pop(name) for name, field in _FIELDS.items()
                 if name in state}
        super().__setstate__(state)
        if plain:
            self._staged = {**self.__dict__.get("_staged", {}), **plain}
            self._publish()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
