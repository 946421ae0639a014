"""sgdlearn: scikit-learn linear models trained by compiled gradient descent."""

from sgdlearn._classifier import GDClassifier
from sgdlearn._engine import DivergenceError, DivergenceWarning
from sgdlearn._lr_finder import LRFinderResult, lr_find
from sgdlearn._regressor import GDRegressor

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "DivergenceWarning",
    "GDClassifier",
    "GDRegressor",
    "LRFinderResult",
    "__version__",
    "lr_find",
]
