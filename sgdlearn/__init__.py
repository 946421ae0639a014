"""sgdlearn: scikit-learn linear models trained by compiled gradient descent."""

from sgdlearn._classifier import GDClassifier
from sgdlearn._exceptions import (
    DivergenceError,
    DivergenceWarning,
    InconsistentVersionWarning,
)
from sgdlearn._lr_finder import LRFinderResult, lr_find
from sgdlearn._regressor import GDRegressor
from sgdlearn._version import __version__

__all__ = [
    "DivergenceError",
    "DivergenceWarning",
    "GDClassifier",
    "GDRegressor",
    "InconsistentVersionWarning",
    "LRFinderResult",
    "__version__",
    "lr_find",
]
