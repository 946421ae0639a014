"""The base of the optimizer and schedule objects: small parameter holders.

They are scikit-learn ``BaseEstimator`` s for ``get_params``/``set_params``,
``clone`` and the repr, so an estimator's ``get_params(deep=True)`` exposes
``optimizer__beta_2`` to ``GridSearchCV``.  They hold no fitted state: what
an optimizer has learned lives on the estimator (``optimizer_state_``).
"""

from sklearn.base import BaseEstimator

from sgdlearn._sklearn_compat import validate_parameter_constraints


class Hyperparameters(BaseEstimator):
    """get_params/set_params, and validation against
    ``_parameter_constraints`` before ``_rule()`` (each subclass's: the
    table name and the values the kernel reads)."""

    _parameter_constraints: dict = {}

    def _validated_rule(self):
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False),
            caller_name=type(self).__name__)
        return self._rule()

    def __eq__(self, other):
        return (type(self) is type(other)
                and self.get_params(deep=False) == other.get_params(deep=False))

    def __hash__(self):
        return hash((type(self), tuple(sorted(self.get_params(deep=False).items()))))
