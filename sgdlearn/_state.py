"""The model's arrays: allocating them for a call, continuing a fitted
model's, and publishing them as fitted attributes.

Training works on these working arrays (copies), which ``_commit``
publishes only once training succeeded.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from sgdlearn._resolve import resolve_optimizer


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


class ModelState:
    """State allocation and publication, mixed into ``BaseGD``."""

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
        if reuse:
            state["intercept_state"] = self._intercept_state.copy()
            state["steps"] = self._optimizer_steps.copy()
        return state

    def _initial_state(self, X, coef_init, intercept_init):
        """Working arrays for training on ``X`` from zeros,
        ``coef_init``/``intercept_init``, or with ``warm_start`` the fitted
        weights and optimizer state."""
        n_rows = self._n_rows()
        n_features, dtype = X.shape[1], X.dtype
        warm = self.warm_start and hasattr(self, "coef_")
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
                                  sp.issparse(X), reuse=warm)
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
        self.coef_ = coef
        self.intercept_ = intercept

    @property
    def optimizer_state_(self):
        """The optimizer's fitted state, as read-only arrays.

        A dict: each state array of the optimizer under torch's name (e.g.
        ``exp_avg``, ``exp_avg_sq``), shaped like ``coef_``; the intercept's
        under ``"intercept_" + name``; and ``step``, the number of updates
        this state has seen.  Only ``step`` for ``optimizer='sgd'``.
        """
        check_is_fitted(self)
        shape = self.coef_.shape
        state = {"step": int(self._optimizer_steps.max())}
        for slot, name in enumerate(self._state_names):
            coef = self._coef_state[:, slot, :].reshape(shape)
            intercept = self._intercept_state[:, slot]
            for key, value in ((name, coef), ("intercept_" + name, intercept)):
                value = value.view()
                value.flags.writeable = False
                state[key] = value
        return state
