"""GDClassifier: linear classifiers trained by compiled gradient descent."""

from numbers import Integral

import numpy as np
from scipy.special import expit, softmax
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from sgdlearn._base import BaseGD, partial_fit_context, transactional
from sgdlearn._data import validation_split
from sgdlearn._docs import (
    ATTRIBUTES,
    REFERENCES,
    fill,
    indent,
    parameters,
)
from sgdlearn._params import CLASSIFICATION_LOSSES
from sgdlearn._sklearn_compat import (
    LinearClassifierMixin,
    StrOptions,
    _check_partial_fit_first_call,
    _fit_context,
)
from sgdlearn._state import _fitted_attribute

# The Parameters section, in the order of __init__ (a test checks it).
_PARAMETERS = [
    "loss", "penalty", "alpha", "l1_ratio", "fit_intercept", "max_iter", "tol",
    "shuffle", "verbose", "epsilon", "n_jobs", "random_state", "learning_rate",
    "eta0", "power_t", "early_stopping", "validation_fraction",
    "n_iter_no_change", "class_weight", "warm_start", "average", "optimizer",
    "batch_size", "momentum", "beta_1", "beta_2", "eps", "rho", "centered",
    "decay_steps", "decay_rate", "eta_min", "warmup_steps", "intercept_decay",
    "multi_class", "n_shards", "local_epochs", "mixing",
]
_TEXTS = {
    "loss": """loss : str, default='hinge'
    'hinge' (linear SVM), 'log_loss' (logistic regression, gives
    probabilities), 'modified_huber' (smooth hinge, gives
    probabilities), 'squared_hinge', 'perceptron', or a regression loss
    ('squared_error', 'huber', 'epsilon_insensitive',
    'squared_epsilon_insensitive') fit to targets in {-1, +1}.""",
    "class_weight": """class_weight : dict, 'balanced' or None, default=None
    Weights {class_label: weight} multiplying the sample weights of
    each class. 'balanced' uses ``n_samples / (n_classes *
    np.bincount(y))``; in ``partial_fit`` it uses the class counts of
    all the samples seen so far (scikit-learn refuses it there). Every
    sample keeps its class's weight in every one-vs-rest problem.""",
    "multi_class": """multi_class : {'ovr', 'multinomial'}, default='ovr'
    How more than two classes are trained. 'ovr' (scikit-learn's SGD):
    one binary problem per class, in parallel threads with ``n_jobs``.
    'multinomial': one weight matrix trained jointly on the softmax
    cross-entropy (needs ``loss='log_loss'``); ``predict_proba`` is then
    the softmax of ``decision_function``. Two classes are always one
    binary logistic problem, which the two-class softmax equals.""",
}

_COEF_SHAPE = "(1, n_features) if n_classes == 2 else (n_classes, n_features)"
_B_SHAPE = "(1,) if n_classes == 2 else (n_classes,)"


class GDClassifier(CallbackSupportMixin, LinearClassifierMixin, BaseGD):
    __doc__ = f"""Linear classifiers trained by compiled gradient descent.

    A drop-in replacement for :class:`sklearn.linear_model.SGDClassifier`:
    the same parameters with the same names, defaults and meanings, the same
    methods and fitted attributes.  With the defaults it is scikit-learn's
    per-sample SGD (hinge loss, L2 penalty, 'optimal' schedule), compiled
    and about three times faster.  On top of that it offers the optimizers
    of torch.optim, mini-batches, more schedules and warmup, with updates
    that cost O(non-zeros) on sparse input.

    Two classes make one binary problem; more are trained one-vs-rest, one
    binary problem per class, in parallel threads with ``n_jobs``.

    The exact update rules are in :ref:`algorithm`.

    Parameters
    ----------
{indent(parameters(_PARAMETERS, _TEXTS, default="optimal", power_t=0.5))}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.

{indent(fill(ATTRIBUTES, coef_shape=_COEF_SHAPE, intercept_shape=_B_SHAPE))}

    See Also
    --------
    sklearn.linear_model.SGDClassifier : The estimator this one replaces.
    GDRegressor : The same training for regression.

    References
    ----------
{indent(REFERENCES)}

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sgdlearn import GDClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDClassifier(
    ...     loss="log_loss", optimizer="adam", batch_size=32, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf[-1].optimizer_state_["exp_avg"].shape
    (1, 30)
    """
    _loss_functions = CLASSIFICATION_LOSSES
    _pa_loss = "hinge"
    _publishes_classes = True
    classes_ = _fitted_attribute("classes_", "The class labels.")

    _parameter_constraints: dict = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
        "n_jobs": [Integral, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "multi_class": [StrOptions({"ovr", "multinomial"})],
    }

    def __init__(
        self,
        loss="hinge",
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
        n_jobs=None,
        random_state=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
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
        multi_class="ovr",
        n_shards=None,
        local_epochs=1,
        mixing="iterative",
    ):
        self._init_params(locals())

    # ------------------------------------------------------------------
    @property
    def _classes(self):
        """The classes training works with: those of this call (published
        as ``classes_`` only when it succeeds), else the fitted ones."""
        return self._staged_value("classes")

    def _multinomial(self, classes=None):
        classes = self._classes if classes is None else classes
        return self.multi_class == "multinomial" and len(classes) > 2

    def _n_rows(self):
        return 1 if len(self._classes) == 2 else len(self._classes)

    def _one_vs_rest(self, n_rows):
        return n_rows > 1 and not self._multinomial()

    def _coef_shape(self, n_rows, n_features):
        return (n_rows, n_features)

    def _more_validate_params(self, for_partial_fit=False):
        super()._more_validate_params(for_partial_fit)
        if self.multi_class == "multinomial" and self.loss != "log_loss":
            raise ValueError(
                "multi_class='multinomial' trains the softmax cross-entropy, "
                f"which is the log loss: set loss='log_loss' (got {self.loss!r})."
            )

    def _same_classes(self, classes):
        """Cheap check for the common case, ``classes`` passed again on every
        partial_fit call exactly as classes_ (scikit-learn's full check,
        unique_labels, cost 110 us per call)."""
        classes, fitted = np.asarray(classes), self._classes
        return (classes.shape == fitted.shape
                and classes.dtype.kind == fitted.dtype.kind
                and np.array_equal(classes, fitted))

    def _class_weights(self, y_index, partial):
        """Per-sample class weights, or None without ``class_weight``.
        'balanced' in partial_fit uses the class counts of every sample seen
        so far; a dict's table is computed once per value."""
        class_weight = self.class_weight
        if class_weight is None:
            return None
        classes = self._classes
        n_classes = len(classes)
        if class_weight == "balanced" and partial:
            counts = getattr(self, "_seen_class_counts", None)
            if counts is None:
                counts = np.zeros(n_classes)
            counts = counts + np.bincount(y_index, minlength=n_classes)
            self._seen_class_counts = counts
            seen = counts > 0
            table = np.ones(n_classes)
            table[seen] = counts.sum() / (seen.sum() * counts[seen])
            return table[y_index]
        if class_weight == "balanced":
            return compute_class_weight("balanced", classes=classes,
                                        y=classes[y_index])[y_index]
        key = (sorted(class_weight.items(), key=repr), classes.tolist())
        cached = self.__dict__.get("_class_weight_table")
        if cached is None or cached[0] != key:
            table = compute_class_weight(class_weight, classes=classes,
                                         y=classes)
            self._class_weight_table = cached = (key, table)
        return cached[1][y_index]

    def _weights(self, sample_weight, y_index, partial):
        """Sample times class weights; None when all are 1."""
        class_weights = self._class_weights(y_index, partial)
        if class_weights is None:
            return sample_weight
        if sample_weight is None:
            return class_weights
        return sample_weight * class_weights

    def _targets(self, labels, validation_mask):
        """One problem per binary split (one for two classes), or one
        multinomial problem over every class.  All share ``labels``, the
        class indices in the dtype of X, and their validation rows: a binary
        problem's target is +1 for its positive class and -1 otherwise (no
        array per class: memory O(n + n_classes), not O(n * n_classes))."""
        y_val = None if validation_mask is None else labels[validation_mask]
        n_classes = len(self._classes)
        if self._multinomial():
            return [(slice(0, n_classes), labels, 1, -1, y_val)]
        positives = [1] if n_classes == 2 else range(n_classes)
        return [(slice(row, row + 1), labels, 1, positive, y_val)
                for row, positive in enumerate(positives)]

    def _validation_kind(self):
        return "multinomial" if self._multinomial() else "binary"

    # ------------------------------------------------------------------
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
        y : array-like of shape (n_samples,)
            Class labels.
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Initial weights ((n_features,) is accepted for two classes).
        intercept_init : ndarray of shape (n_classes,), default=None
            Initial intercepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples, multiplied by the class weights.

        Returns
        -------
        self : GDClassifier
            The fitted estimator.
        """
        self._more_validate_params()
        self._remember_valid_params()
        X, y = self._validated(X, y, reset=True)
        if not (y.ndim == 1 and y.dtype.kind in "iub"):
            # 1-D integer labels are always binary or multiclass; checking
            # them would hash y once more (1.6 ms per 100k labels).
            check_classification_targets(y)
        classes = np.unique(y)
        y_index = np.searchsorted(classes, y)
        if len(classes) < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got "
                f"{len(classes)} class"
            )
        sample_weight = self._sample_weights(sample_weight, X,
                                             allow_all_zero=self.early_stopping)
        self.classes_ = classes
        self._seen_class_counts = np.bincount(y_index, minlength=len(classes))
        weights = self._weights(sample_weight, y_index, partial=False)
        mask = validation_split(
            self, y_index,
            np.ones(len(y)) if sample_weight is None else sample_weight,
            StratifiedShuffleSplit,
        )
        state = self._initial_state(X, coef_init, intercept_init)
        labels = y_index.astype(X.dtype)
        del y_index  # one label array per row is enough during training
        self._train(X, y, labels, weights, state, fresh=True,
                    max_epochs=self.max_iter, validation_mask=mask, t_start=1.0)
        self._warn_if_not_converged()
        return self

    @transactional
    @partial_fit_context
    @with_callbacks
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on the given samples.

        The schedule, the optimizer state and the random row order continue from
        the previous call, so successive calls over the chunks of a dataset train
        like one ``fit`` over it.  If the call fails (bad input, divergence, an
        interrupt), the estimator is left exactly as it was before.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole stream. Required on the first call; later
            calls may omit it (or must pass the same classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : GDClassifier
            The updated estimator.
        """
        first_call = not hasattr(self, "classes_")
        if first_call:
            self._more_validate_params(for_partial_fit=True)
            self._remember_valid_params()
            X, y = self._validated(X, y, reset=True)
        else:
            X, y = self._validated_chunk(X, y)
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to "
                             "partial_fit.")
        if first_call or (classes is not None and not self._same_classes(classes)):
            _check_partial_fit_first_call(self, classes)
        classes = self._classes
        if len(classes) < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got "
                f"{len(classes)} class"
            )
        y_index = np.searchsorted(classes, y)
        y_index = np.minimum(y_index, len(classes) - 1)
        unknown = classes[y_index] != y
        if np.any(unknown):
            raise ValueError(
                f"y contains labels {np.unique(y[unknown]).tolist()} that are not "
                f"in classes_ {classes.tolist()}: pass every label in "
                "`classes` on the first call to partial_fit."
            )
        sample_weight = self._sample_weights(sample_weight, X)
        weights = self._weights(sample_weight, y_index, partial=True)
        if first_call:
            state = self._initial_state(X, None, None)
        else:
            state = self._continued_state(X)
        return self._train(X, y, y_index.astype(X.dtype), weights, state,
                           fresh=False, max_epochs=1,
                           t_start=1.0 if first_call else None)

    # ------------------------------------------------------------------
    def decision_function(self, X):
        """Signed distance of the samples to each class's hyperplane.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``X @ coef_.T + intercept_``: for two classes, positive values
            predict ``classes_[1]``.
        """
        return self._decision(X, self._published())

    def _decision(self, X, model):
        scores = self._scores(X, model)
        return scores.ravel() if scores.ndim == 2 and scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,)
            The class of each sample: ``classes_[1]`` where the decision
            function is positive for two classes, else the class of the
            largest score.
        """
        model = self._published()  # one model for the whole call
        scores = self._decision(X, model)
        if scores.ndim == 1:
            indices = (scores > 0).astype(np.intp)
        else:
            indices = scores.argmax(axis=1)
        return model.classes[indices]

    def _check_proba(self):
        if self.loss not in ("log_loss", "modified_huber"):
            raise AttributeError(
                f"probability estimates are not available for loss={self.loss!r}"
            )
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Probability estimates, for ``loss='log_loss'`` and
        ``loss='modified_huber'``.

        For log loss, the binary probabilities are the logistic function of
        the decision function, multinomial ones its softmax, and one-vs-rest
        probabilities are normalized (Zadrozny and Elkan, 2002).  For
        modified Huber they are ``(clip(decision_function(X), -1, 1) + 1) /
        2``, normalized, as in scikit-learn.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        model = self._published()  # one model for the whole call
        scores = self._decision(X, model)
        n_classes = len(model.classes)
        if self.loss == "log_loss" and self._multinomial(model.classes):
            return softmax(scores, axis=1)
        if self.loss == "log_loss":
            # scikit-learn's _predict_proba_lr: one-vs-rest normalized.
            prob = expit(scores)
            if prob.ndim == 1:
                return np.vstack([1 - prob, prob]).T
            return prob / prob.sum(axis=1).reshape((prob.shape[0], -1))
        if n_classes == 2:
            prob = (np.clip(scores, -1, 1) + 1) / 2
            return np.column_stack([1 - prob, prob])
        prob = (np.clip(scores, -1, 1) + 1) / 2
        prob_sum = prob.sum(axis=1)
        all_zero = prob_sum == 0
        prob[all_zero] = 1
        prob_sum[all_zero] = n_classes
        return prob / prob_sum[:, np.newaxis]

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        return np.log(self.predict_proba(X))
