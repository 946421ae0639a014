"""Input preparation: what the kernel receives, made once per call."""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sgdlearn._sklearn_compat import _check_sample_weight

_CSR_TYPES = (sp.csr_matrix, sp.csr_array)

_EMPTY_INDEX = np.empty(0, dtype=np.intc)
_INT32_MAX = np.iinfo(np.int32).max


@dataclass
class Rows:
    """X as the kernel reads it: flattened dense values, or CSR arrays."""

    X: object  # the validated matrix (for scoring validation rows)
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    n_samples: int
    n_features: int

    @property
    def sparse(self):
        return self.indptr.shape[0] > 0

    @property
    def dtype(self):
        return self.data.dtype


def kernel_rows(X):
    """Wrap validated X (C-ordered float ndarray or CSR) without copying it,
    except for int64 CSR indices (narrowed) or duplicate entries (summed)."""
    n_samples, n_features = X.shape
    if not sp.issparse(X):
        return Rows(X, X.reshape(-1), _EMPTY_INDEX, _EMPTY_INDEX,
                    n_samples, n_features)
    # First: scipy's own routines (sum_duplicates) trust the structure, and
    # a backwards indptr made them fail with "vector::_M_default_append".
    _check_csr_structure(X.indices, X.indptr, X.data.shape[0], n_samples,
                         n_features)
    if not X.has_canonical_format:
        # A duplicate index would be updated twice by one per-sample step.
        X = X.copy()
        X.sum_duplicates()
    if X.nnz > _INT32_MAX or n_features > _INT32_MAX:
        raise ValueError(
            f"X has {X.nnz} stored values and {n_features} features; sgdlearn's "
            f"kernels index sparse input with 32-bit integers (at most "
            f"{_INT32_MAX}). Split X into smaller chunks and use partial_fit."
        )
    indices = X.indices.astype(np.intc, copy=False)
    indptr = X.indptr.astype(np.intc, copy=False)
    # Explicit zeros are kept: on dense input every coordinate is present.
    return Rows(X, X.data, indices, indptr, n_samples, n_features)


def _check_csr_structure(indices, indptr, nnz, n_samples, n_features):
    """The kernel follows these indices without bounds checks."""
    if (
        indptr.shape[0] != n_samples + 1
        or indptr[0] != 0
        or indptr[-1] != nnz
        or np.any(np.diff(indptr) < 0)
        or (nnz and (indices.min() < 0 or indices.max() >= n_features))
    ):
        raise ValueError(
            "X is a malformed CSR matrix: its indptr/indices are inconsistent "
            f"with its shape {(n_samples, n_features)}. Rebuild it with scipy "
            "(e.g. scipy.sparse.csr_array((data, indices, indptr), shape=...)) "
            "and check it with X.check_format()."
        )


def quick_array(X, n_features, dtype):
    """X itself when it is already what validation would return: a finite,
    C-ordered 2-D ndarray, or a CSR matrix/array with finite values, of
    ``dtype`` with ``n_features`` columns and at least one row.  None
    otherwise (the caller then runs scikit-learn's full validation, which
    raises the usual errors).  This keeps the overhead of small
    ``partial_fit`` calls low (scikit-learn's validation of a 10-row CSR
    batch: ~65 us).  A CSR's indices are checked by ``kernel_rows``."""
    if not (
        (type(X) is np.ndarray and X.flags.c_contiguous or type(X) in _CSR_TYPES)
        and X.ndim == 2
        and X.dtype == dtype
        and X.shape[0] > 0
        and X.shape[1] == n_features
    ):
        return None
    # One pass; inf/NaN (or overflow) -> the full check and its message.
    values = X.data if type(X) in _CSR_TYPES else X
    return X if np.isfinite(values.sum()) else None


def quick_targets(y, n_samples, numeric):
    """y as given when it plainly is valid: a 1-D ndarray (2-D for numeric
    multi-output targets) of integer labels, or of finite numbers if
    ``numeric``; else None."""
    if (
        type(y) is not np.ndarray
        or y.ndim not in ((1, 2) if numeric else (1,))
        or y.shape[0] != n_samples
    ):
        return None
    if numeric and not (y.dtype.kind in "fiu" and np.isfinite(y.sum())):
        return None
    if not numeric and y.dtype.kind not in "iub":
        return None
    return y


def check_weights(sample_weight, X, allow_all_zero=False):
    """Float64 sample weights: finite, non-negative, one per row of X."""
    return _check_sample_weight(
        sample_weight,
        X,
        dtype=np.float64,
        ensure_non_negative=True,
        allow_all_zero_weights=allow_all_zero,
    )


def validation_split(estimator, y, sample_weight, splitter):
    """scikit-learn's held-out split for early stopping (same rows)."""
    n_samples = y.shape[0]
    mask = np.zeros(n_samples, dtype=bool)
    if not estimator.early_stopping:
        return mask
    cv = splitter(
        test_size=estimator.validation_fraction,
        random_state=estimator.random_state,
    )
    idx_train, idx_val = next(cv.split(np.zeros((n_samples, 1)), y))
    if not np.any(sample_weight[idx_val] > 0):
        raise ValueError(
            "The sample weights for validation set are all zero, consider using a"
            " different random state."
        )
    if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
        raise ValueError(
            f"Splitting {n_samples} samples into a train set and a validation set "
            f"with validation_fraction={estimator.validation_fraction!r} led to an "
            f"empty set ({idx_train.shape[0]} and {idx_val.shape[0]} samples). "
            "Please either change validation_fraction, increase number of "
            "samples, or disable early_stopping."
        )
    mask[idx_val] = True
    return mask
