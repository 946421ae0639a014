"""The exceptions and warnings sgdlearn raises."""

from sklearn.exceptions import ConvergenceWarning


class DivergenceWarning(ConvergenceWarning):
    """Training ended with a loss far above that of an all-zero model.

    The weights are finite (gradients are clipped), but the model is
    useless: the learning rate is too large for the data, as with a
    :class:`DivergenceError`, only not yet catastrophically.
    """


class DivergenceError(ValueError):
    """Training produced a non-finite loss or non-finite weights.

    Raised instead of returning a model full of NaN.  The estimator is left
    exactly as it was before the call.  A subclass of ``ValueError``, which
    is what scikit-learn's SGD raises in the same situation.

    Parameters
    ----------
    message : str
        What happened and what to do about it.
    epoch : int
        See ``epoch`` below.
    update : int
        See ``update`` below.
    learning_rate : float
        See ``learning_rate`` below.

    Attributes
    ----------
    epoch : int
        The epoch (1-based) of the call in which training diverged.
    update : int
        The update number ``t`` (as in ``t_``) that produced the first
        non-finite value.
    learning_rate : float
        The learning rate in force at that update.
    """

    def __init__(self, message, *, epoch, update, learning_rate):
        super().__init__(message)
        self.epoch = epoch
        self.update = update
        self.learning_rate = learning_rate


class InconsistentVersionWarning(UserWarning):
    """A model is unpickled by another sgdlearn version than saved it.

    Its fitted state (weights, optimizer state, counters) may not mean the
    same to this version: predictions or continued training can be wrong.
    """
