"""The model's arrays: allocating them for a call, continuing a fitted
model's, and publishing them as fitted attributes.

Training works on these working arrays (copies), which ``_commit``
publishes only once training succeeded.

What prediction reads is one immutable ``Published`` bundle (coef,
intercept, classes, feature count and names), replaced as a whole by one
attribute assignment: a thread predicting while another refits the same
estimator sees the old model or the new one, never a mix.  ``coef_``,
``intercept_``, ``classes_``, ``n_features_in_`` and ``feature_names_in_``
are views of it (properties).  While a ``fit``/``partial_fit`` runs, what
it assigns to them (scikit-learn's ``validate_data`` sets the feature count
and names, ``_check_partial_fit_first_call`` the classes) is staged, not
published, until ``_commit``; outside training, assigning one of them (by
hand, ``sparsify()``, ``densify()``) publishes a new bundle with it.
"""

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sgdlearn._resolve import resolve_optimizer, resolve_rate


class Published(NamedTuple):
    """The fitted model as prediction reads it, published as a whole."""

    coef: Any  # ndarray, or a sparse matrix after sparsify()
    intercept: Any
    n_features_in: int
    feature_names_in: Any  # ndarray of str, or None
    classes: Any  # the classifier's labels; None for the regressor
    single_output: bool  # the regressor's 1-D predictions for 1-D coef_


# Public attribute -> bundle field.
_FIELDS = {
    "coef_": "coef",
    "intercept_": "intercept",
    "n_features_in_": "n_features_in",
    "feature_names_in_": "feature_names_in",
    "classes_": "classes",
}


def _fitted_attribute(name, doc):
    """A property reading ``name`` from the published bundle (an
    AttributeError when unfitted or None, so ``hasattr`` works as for a
    plain attribute); assigning or deleting it goes through ``_assign``."""
    field = _FIELDS[name]

    def get(self):
        model = self.__dict__.get("_model")
        value = None if model is None else getattr(model, field)
        if value is None:
            staged = self.__dict__.get("_staged", {})
            if model is None and field in staged and "_training" not in self.__dict__:
                # Set by hand on an unfitted estimator, not yet publishable.
                value = staged[field]
            if value is None:
                raise AttributeError(
                    f"{type(self).__name__!r} object has no attribute {name!r}")
        return value

    def set(self, value):
        self._assign(field, value)

    def delete(self):
        self._assign(field, None)

    return property(get, set, delete, doc=doc)


def _state_array(shape, dtype, sparse, source=None):
    """An optimizer state array indexed (row, slot, feature): zeros, or a
    copy of ``source`` (any layout and dtype).  For sparse X it is a view of
    a (row, feature, slot) array: a sparse update then finds a coordinate's
    whole state in one cache line.  A source already in the wanted layout
    is copied in one contiguous pass."""
    if sparse:
        shape = (shape[0], shape[2], shape[1])
        source = None if source is None else source.transpose(0, 2, 1)
    if source is None:
        out = np.zeros(shape, dtype=dtype)
    elif source.flags.c_contiguous and source.dtype == dtype:
        out = source.copy()
    else:
        out = np.empty(shape, dtype=dtype)
        out[...] = source
    return out.transpose(0, 2, 1) if sparse else out


def _state_from_weights(estimator, optimizer, state):
    """A fresh state of a rule whose weights are a function of it (FTRL,
    COCOB) that gives the starting weights (zeros, coef_init, or another
    optimizer's fit on a warm start): without it the first update of a
    coordinate would replace its weight with the zero state's."""
    coef, intercept = state["coef"], state["intercept"]
    if optimizer.row.zero_start and not (coef.any() or intercept.any()):
        return
    rate = resolve_rate(estimator, optimizer)[0]
    for values, target, penalized in (
            (coef, state["coef_state"], True),
            (intercept, state["intercept_state"], False)):
        slots = optimizer.row.state_of(optimizer.hp, rate, values, penalized)
        for index, slot in enumerate(slots):
            target[:, index] = slot
    # The weights of that state (equal to the starting ones up to rounding).
    state["coef"][...] = optimizer.row.weights(
        optimizer.hp, rate, tuple(state["coef_state"][:, i]
                                  for i in range(len(slots))))
    state["intercept"][...] = optimizer.row.weights(
        optimizer.hp, rate, tuple(state["intercept_state"][:, i]
                                  for i in range(len(slots))), False)


class ModelState:
    """State allocation and publication, mixed into ``BaseGD``."""

    coef_ = _fitted_attribute("coef_", "Weights assigned to the features.")
    intercept_ = _fitted_attribute("intercept_", "Constants in decision function.")
    n_features_in_ = _fitted_attribute(
        "n_features_in_", "Number of features seen during fit.")
    feature_names_in_ = _fitted_attribute(
        "feature_names_in_",
        "Names of features seen during fit (only when X had string column names).")

    def __sklearn_is_fitted__(self):
        return self.__dict__.get("_model") is not None

    def _published(self):
        """The published model, read once per prediction call: everything a
        prediction uses comes from this one object."""
        model = self.__dict__.get("_model")
        if model is None:
            check_is_fitted(self)  # scikit-learn's NotFittedError message
            raise NotFittedError(f"This {type(self).__name__} instance is not "
                                 "fitted yet.")
        return model

    def _staged_value(self, field):
        """The value training works with: staged by this call, else the
        published one (None if neither)."""
        staged = self.__dict__.get("_staged", {})
        if field in staged:
            return staged[field]
        model = self.__dict__.get("_model")
        return None if model is None else getattr(model, field)

    def _assign(self, field, value):
        """An assignment to a fitted attribute: staged during training (and
        while the model cannot be published yet), else published."""
        # A new dict, never an update in place: transactional() restores
        # the estimator by rebinding the attributes it saved.
        self._staged = {**self.__dict__.get("_staged", {}), field: value}
        if "_training" not in self.__dict__:
            self._publish()

    def _publish(self, **fields):
        """Publish a new bundle: ``fields``, else the staged values, else the
        published ones.  Nothing is published (the values stay staged)
        while coef or intercept is unknown, or a classifier's classes."""
        model = self.__dict__.get("_model")
        if (model is not None and not self.__dict__.get("_staged")
                and fields.keys() <= {"coef", "intercept"}):
            # partial_fit on a fitted model: new weights, nothing else new.
            self._model = model._replace(**fields)
            return
        values = dict(self.__dict__.get("_model", None)._asdict()
                      if self.__dict__.get("_model") is not None else {})
        values.update(self.__dict__.get("_staged", {}))
        values.update(fields)
        coef, intercept = values.get("coef"), values.get("intercept")
        if coef is None or intercept is None or (
                self._publishes_classes and values.get("classes") is None):
            return
        if values.get("n_features_in") is None:
            values["n_features_in"] = coef.shape[-1]
        values["feature_names_in"] = values.get("feature_names_in")
        values["classes"] = values.get("classes")
        values["single_output"] = bool(self.__dict__.get(
            "_single_output", np.ndim(coef) == 1))
        model = Published(**values)
        self.__dict__.pop("_staged", None)
        self._model = model  # the one assignment that publishes

    _publishes_classes = False

    def _fresh_state(self, n_rows, n_features, dtype, coef, intercept, sparse,
                     reuse=False):
        """Working arrays for a model starting at ``coef``/``intercept``.
        ``coef`` is taken over, not copied: callers pass a fresh array (the
        weights can be 2 MB for hashed features, and partial_fit runs this
        on every call).  ``reuse``: start from copies of the fitted
        optimizer state if it belongs to the same optimizer: a changed
        ``optimizer``, or a changed hyperparameter that changes what its
        state means (the table's ``identity``), starts afresh."""
        optimizer = resolve_optimizer(self)
        averaging = bool(self.average)
        shape = (n_rows, len(optimizer.slot_names), n_features)
        reuse = (reuse and self._coef_state.shape == shape
                 and getattr(self, "_state_identity", None) == optimizer.identity)
        state = {
            "coef": np.asarray(coef, dtype=dtype, order="C"),
            "intercept": np.array(intercept, dtype=np.float64),
            "coef_state": _state_array(shape, dtype, sparse,
                                       self._coef_state if reuse else None),
            "intercept_state": np.zeros(shape[:2]),
            "avg_coef": np.zeros(
                (n_rows if averaging else 0, n_features), dtype=dtype
            ),
            "avg_intercept": np.zeros(n_rows if averaging else 0),
            "steps": np.zeros(n_rows if self._one_vs_rest(n_rows) else 1),
        }
        state["counters"] = np.tile(
            [c.initial for c in optimizer.row.counters],
            (state["steps"].shape[0], 1))
        if reuse:
            state["intercept_state"] = self._intercept_state.copy()
            state["steps"] = self._optimizer_steps.copy()
            counters = getattr(self, "_optimizer_counters", None)
            if counters is not None and counters.shape == state["counters"].shape:
                state["counters"] = counters.copy()
        elif optimizer.row.state_of is not None:
            _state_from_weights(self, optimizer, state)
        return state

    def _initial_state(self, X, coef_init, intercept_init):
        """Working arrays for training on ``X`` from zeros,
        ``coef_init``/``intercept_init``, or with ``warm_start`` the fitted
        weights and optimizer state."""
        n_rows = self._n_rows()
        n_features, dtype = X.shape[1], X.dtype
        warm = self.warm_start and hasattr(self, "coef_")
        # A rule whose weights are a function of its state (FTRL's, the
        # schedule-free x) starts its state from weights given beside a warm
        # start: continuing the fitted state would ignore them.
        reuse = warm and not (
            (coef_init is not None or intercept_init is not None)
            and resolve_optimizer(self).row.weights is not None)
        if warm:
            coef_init = self.coef_ if coef_init is None else coef_init
            if intercept_init is None:
                intercept_init = self.intercept_
        coef = np.zeros((n_rows, n_features), dtype=dtype)
        intercept = np.zeros(n_rows)
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=dtype)
            allowed = [(n_rows, n_features)] + [(n_features,)] * (n_rows == 1)
            if coef_init.shape not in allowed:
                raise ValueError("Provided coef_init does not match dataset.")
            coef[:] = coef_init.reshape(n_rows, n_features)
        if intercept_init is not None:
            intercept_init = np.asarray(intercept_init, dtype=np.float64)
            if intercept_init.size != n_rows or intercept_init.ndim > 1:
                raise ValueError("Provided intercept_init does not match dataset.")
            intercept[:] = intercept_init.ravel()
        state = self._fresh_state(n_rows, n_features, dtype, coef, intercept,
                                  sp.issparse(X), reuse=reuse)
        return state

    def _continued_state(self, X):
        """Copies of the fitted arrays, to continue training on ``X`` from.
        Changing ``optimizer`` between calls starts its state afresh;
        turning ``average`` on starts a fresh average."""
        n_rows, dtype = self._n_rows(), X.dtype
        has_average = getattr(self, "_average_coef", None) is not None
        coef = self._standard_coef if has_average else self.coef_
        intercept = self._standard_intercept if has_average else self.intercept_
        coef = np.array(coef, dtype=dtype, order="C").reshape(n_rows, -1)
        state = self._fresh_state(n_rows, coef.shape[1], dtype, coef,
                                  np.asarray(intercept).reshape(n_rows),
                                  sp.issparse(X), reuse=True)
        if self.average and has_average:
            state["avg_coef"] = np.array(
                self._average_coef, dtype=dtype, order="C"
            ).reshape(n_rows, -1)
            state["avg_intercept"] = np.array(
                self._average_intercept, dtype=np.float64
            ).reshape(n_rows)
        return state

    def _commit(self, state, dtype, t, n_iter, problems, fresh):
        """Publish the trained arrays as the fitted attributes; ``fresh``
        (fit) restarts the training record, partial_fit extends it."""
        n_rows = state["coef"].shape[0]
        shape = self._coef_shape(n_rows, state["coef"].shape[1])
        coef = state["coef"].reshape(shape)
        intercept = state["intercept"].astype(dtype)
        self._coef_state = state["coef_state"]
        self._intercept_state = state["intercept_state"]
        self._optimizer_steps = state["steps"]
        self._optimizer_counters = state["counters"]
        self.t_ = float(t)
        self.n_iter_ = int(n_iter)
        self._record_history(problems, fresh)
        optimizer = resolve_optimizer(self)
        self._state_names = optimizer.slot_names
        self._state_identity = optimizer.identity
        for name in ("_standard_coef", "_standard_intercept", "_average_coef",
                     "_average_intercept"):
            self.__dict__.pop(name, None)
        if self.average:
            self._standard_coef = coef
            self._standard_intercept = intercept
            self._average_coef = state["avg_coef"].reshape(shape)
            self._average_intercept = state["avg_intercept"].astype(dtype)
            if self.average <= self.t_ - 1:
                coef = self._average_coef
                intercept = self._average_intercept
        self._publish(coef=coef, intercept=intercept)

    @property
    def optimizer_state_(self):
        """The optimizer's fitted state, as read-only arrays.

        A dict: each state array of the optimizer under torch's name (e.g.
        ``exp_avg``, ``exp_avg_sq``), shaped like ``coef_``; the intercept's
        under ``"intercept_" + name``; and ``step``, the number of updates
        this state has seen; and the optimizer's running scalars (NAdam's
        ``mu_product``; with one-vs-rest, the most advanced problem's).
        Only ``step`` for ``optimizer='sgd'``.
        """
        check_is_fitted(self)
        shape = self.coef_.shape
        state = {"step": int(self._optimizer_steps.max())}
        latest = int(np.argmax(self._optimizer_steps))
        counters = resolve_optimizer(self).row.counters
        if self._optimizer_counters.shape[1] == len(counters):
            for index, counter in enumerate(counters):
                state[counter.name] = float(
                    self._optimizer_counters[latest, index])
        for slot, name in enumerate(self._state_names):
            coef = self._coef_state[:, slot, :].reshape(shape)
            intercept = self._intercept_state[:, slot]
            for key, value in ((name, coef), ("intercept_" + name, intercept)):
                value = value.view()
                value.flags.writeable = False
                state[key] = value
        return state
