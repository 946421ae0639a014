"""GDRegressor: linear regression trained by compiled gradient descent."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import ShuffleSplit

from sgdlearn._base import BaseGD, partial_fit_context, transactional
from sgdlearn._data import validation_split
from sgdlearn._docs import (
    ATTRIBUTES,
    REFERENCES,
    fill,
    indent,
    parameters,
)
from sgdlearn._params import REGRESSION_LOSSES
from sgdlearn._sklearn_compat import StrOptions, _fit_context

# The Parameters section, in the order of __init__ (a test checks it).
_PARAMETERS = [
    "loss", "penalty", "alpha", "l1_ratio", "fit_intercept", "max_iter", "tol",
    "shuffle", "verbose", "epsilon", "random_state", "learning_rate", "eta0",
    "power_t", "early_stopping", "validation_fraction", "n_iter_no_change",
    "warm_start", "average", "optimizer", "batch_size", "momentum", "beta_1",
    "beta_2", "eps", "rho", "centered", "decay_steps", "decay_rate", "eta_min",
    "warmup_steps", "intercept_decay", "n_jobs", "n_shards", "local_epochs",
    "mixing",
]
_TEXTS = {"loss": """loss : str, default='squared_error'
    'squared_error' (least squares), 'huber' (robust: linear beyond
    ``epsilon``), 'epsilon_insensitive' (linear SVR) or
    'squared_epsilon_insensitive'."""}


class GDRegressor(CallbackSupportMixin, RegressorMixin, BaseGD):
    __doc__ = f"""Linear regression trained by compiled gradient descent.

    A drop-in replacement for :class:`sklearn.linear_model.SGDRegressor`:
    the same parameters with the same names, defaults and meanings, the same
    methods and fitted attributes.  With the defaults it is scikit-learn's
    per-sample SGD (squared error, L2 penalty, 'invscaling' schedule),
    compiled.  On top of that it offers the optimizers of torch.optim,
    mini-batches, more schedules and warmup, with updates that cost
    O(non-zeros) on sparse input.

    The exact update rules are in :ref:`algorithm`.

    Parameters
    ----------
{indent(parameters(_PARAMETERS, _TEXTS, default="invscaling", power_t=0.25))}

    Attributes
    ----------
{indent(fill(ATTRIBUTES, coef_shape="(n_features,)", intercept_shape="(1,)"))}

    See Also
    --------
    sklearn.linear_model.SGDRegressor : The estimator this one replaces.
    GDClassifier : The same training for classification.

    References
    ----------
{indent(REFERENCES)}

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sgdlearn import GDRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(StandardScaler(), GDRegressor(
    ...     optimizer="momentum", learning_rate="constant", eta0=1e-3,
    ...     random_state=0))
    >>> reg.fit(X, y).score(X, y) > 0.45
    True
    """
    _loss_functions = REGRESSION_LOSSES
    _pa_loss = "epsilon_insensitive"
    _target_checks = {"y_numeric": True, "multi_output": True}

    _parameter_constraints: dict = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        random_state=None,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        warm_start=False,
        average=False,
        optimizer="sgd",
        batch_size=1,
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        eps=1e-8,
        rho=0.99,
        centered=False,
        decay_steps=1000,
        decay_rate=0.1,
        eta_min=0.0,
        warmup_steps=0,
        intercept_decay="auto",
        n_jobs=None,
        n_shards=None,
        local_epochs=1,
        mixing="iterative",
    ):
        self._init_params(locals())

    # ------------------------------------------------------------------
    def _n_rows(self):
        return self._n_outputs

    def _one_vs_rest(self, n_rows):
        return False

    def _coef_shape(self, n_rows, n_features):
        return (n_features,) if self._single_output else (n_rows, n_features)

    def _set_outputs(self, y):
        """Record the target shape: 1-D y gives coef_ of shape (n_features,)
        as scikit-learn's SGDRegressor, 2-D y one row per output."""
        self._single_output = y.ndim == 1
        self._n_outputs = 1 if y.ndim == 1 else y.shape[1]

    def _check_outputs(self, y):
        """y with the number of outputs of the fitted model (a column
        vector is accepted for a 1-D model, with scikit-learn's warning)."""
        if self._single_output and y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. "
                "Please change the shape of y to (n_samples,), for example using "
                "ravel().",
                DataConversionWarning,
                stacklevel=4,
            )
            y = y.ravel()
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if n_outputs != self._n_outputs or (y.ndim == 1) != self._single_output:
            raise ValueError(
                f"y has shape {y.shape}, but the model was fitted on "
                f"{'1-D y' if self._single_output else f'{self._n_outputs} outputs'}"
                ": every call must give the same number of outputs."
            )
        return y

    def _targets(self, targets, validation_mask):
        """One problem: every output's weight row, trained together."""
        y_val = None if validation_mask is None else targets[validation_mask]
        return [(slice(0, self._n_outputs), targets.reshape(-1), self._n_outputs,
                 -1, y_val)]

    @staticmethod
    def _labels(y, X):
        return np.ascontiguousarray(y, dtype=X.dtype)

    def _validation_kind(self):
        return "regression"

    @_fit_context(prefer_skip_nested_validation=True)
    @transactional
    @with_callbacks
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model for up to ``max_iter`` epochs.

        If training fails (bad input, divergence, an interrupt), the estimator is
        left exactly as it was before the call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 stays float32 (``coef_`` too); C-ordered float
            arrays and CSR matrices are used without a copy.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values; 2-D for several outputs (then ``coef_`` has one
            row per output).
        coef_init : ndarray of shape (n_features,), default=None
            Initial weights ((n_outputs, n_features) for several outputs).
        intercept_init : ndarray of shape (1,) (or (n_outputs,)), default=None
            Initial intercepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : GDRegressor
            The fitted estimator.
        """
        self._more_validate_params()
        self._remember_valid_params()
        X, y = self._validated(X, y, reset=True)
        if self.warm_start and hasattr(self, "coef_"):
            y = self._check_outputs(y)
        self._set_outputs(y)
        sample_weight = self._sample_weights(sample_weight, X,
                                             allow_all_zero=self.early_stopping)
        mask = validation_split(
            self, y, np.ones(len(y)) if sample_weight is None else sample_weight,
            ShuffleSplit,
        )
        state = self._initial_state(X, coef_init, intercept_init)
        self._train(X, y, self._labels(y, X), sample_weight, state, fresh=True,
                    max_epochs=self.max_iter, validation_mask=mask, t_start=1.0)
        self._warn_if_not_converged()
        return self

    @transactional
    @partial_fit_context
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on the given samples.

        The schedule, the optimizer state and the random row order continue from
        the previous call, so successive calls over the chunks of a dataset train
        like one ``fit`` over it.  If the call fails (bad input, divergence, an
        interrupt), the estimator is left exactly as it was before.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its target values, with the number of outputs of the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : GDRegressor
            The updated estimator.
        """
        first_call = not hasattr(self, "coef_")
        if first_call:
            self._more_validate_params(for_partial_fit=True)
            self._remember_valid_params()
            X, y = self._validated(X, y, reset=True)
            self._set_outputs(y)
        else:
            X, y = self._validated_chunk(X, y)
            y = self._check_outputs(y)
        sample_weight = self._sample_weights(sample_weight, X)
        if first_call:
            state = self._initial_state(X, None, None)
        else:
            state = self._continued_state(X)
        return self._train(X, y, self._labels(y, X), sample_weight, state,
                           fresh=False, max_epochs=1,
                           t_start=1.0 if first_call else None)

    def _decision_function(self, X):
        model = self._published()  # one model for the whole call
        scores = self._scores(X, model)
        return scores.ravel() if model.single_output else scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted target values.
        """
        return self._decision_function(X)
