# ruff: noqa: E501  (one case per line reads best as a table)
"""Bad input: every case either gives a correct result or raises a clear
error (type and message), and in both cases leaves a fitted estimator's
state bit for bit as it was when it raised.

Each row of CASES is (id, estimator state, method, arguments, expectation).
The estimator state is "unfitted", or "fitted" (a classifier fitted on
three classes / a regressor fitted on the regression data).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.utils._param_validation import InvalidParameterError

from sgdlearn import GDClassifier, GDRegressor, lr_find

from .conftest import assert_same_state, snapshot

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 5))
Y_CLF = np.repeat([0, 1, 2], 20)
Y_REG = X @ RNG.standard_normal(5) + 0.1 * RNG.standard_normal(60)


def _with(value, index=(3, 2), array=X):
    out = array.copy()
    out[index] = value
    return out


def _big_endian(a):
    return a.astype(a.dtype.newbyteorder(">"))


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _csr_int64(a):
    m = sp.csr_array(a)
    m.indices = m.indices.astype(np.int64)
    m.indptr = m.indptr.astype(np.int64)
    return m


def _csr_unsorted(a):
    m = sp.csr_array(a)
    for i in range(m.shape[0]):
        lo, hi = m.indptr[i], m.indptr[i + 1]
        m.indices[lo:hi] = m.indices[lo:hi][::-1].copy()
        m.data[lo:hi] = m.data[lo:hi][::-1].copy()
    m.has_sorted_indices = False
    return m


def _csr_out_of_range(a, which):
    """A CSR scipy accepts until checked: an index past the last column, or
    an indptr running backwards."""
    m = sp.csr_array(a)
    if which == "indices":
        m.indices = m.indices.copy()
        m.indices[7] = a.shape[1]
    else:
        m.indptr = m.indptr.copy()
        m.indptr[5] = m.indptr[7]
    return m


def _csr_explicit_zeros(a):
    m = sp.csr_array(a)
    m.data[::4] = 0.0  # stored, but zero
    return m


def err(exc, match):
    return ("error", exc, match)


# Inputs that must be accepted and give the model the clean input gives.
OK = ("ok", None, None)

V = ValueError
P = InvalidParameterError

CASES = [
    # --- X: non-finite values
    ("X_nan_fit", "unfitted", "fit", dict(X=_with(np.nan)), err(V, "Input X contains NaN")),
    ("X_inf_fit", "unfitted", "fit", dict(X=_with(np.inf)), err(V, "Input X contains infinity")),
    ("X_nan_partial_fit", "fitted", "partial_fit", dict(X=_with(np.nan)), err(V, "contains NaN")),
    ("X_-inf_partial_fit", "fitted", "partial_fit", dict(X=_with(-np.inf)), err(V, "infinity")),
    ("X_nan_predict", "fitted", "predict", dict(X=_with(np.nan)), err(V, "contains NaN")),
    ("X_inf_decision", "fitted", "decision_function", dict(X=_with(np.inf)), err(V, "infinity")),
    ("X_nan_proba", "fitted", "predict_proba", dict(X=_with(np.nan)), err(V, "contains NaN")),
    ("X_nan_score", "fitted", "score", dict(X=_with(np.nan)), err(V, "contains NaN")),
    ("X_nan_sparse_fit", "unfitted", "fit", dict(X=sp.csr_array(_with(np.nan))), err(V, "contains NaN")),
    # partial_fit takes CSR of the model's dtype without scikit-learn's
    # validation when its values are finite: the rest must still be caught.
    ("X_nan_sparse_partial_fit", "fitted", "partial_fit", dict(X=sp.csr_array(_with(np.nan))), err(V, "Input X contains NaN")),
    ("X_inf_sparse_partial_fit", "fitted", "partial_fit", dict(X=sp.csr_matrix(_with(np.inf))), err(V, "Input X contains infinity")),
    ("X_csr_index_past_end_fit", "unfitted", "fit", dict(X=_csr_out_of_range(X, "indices")), err(V, "malformed CSR")),
    ("X_csr_index_past_end_partial_fit", "fitted", "partial_fit", dict(X=_csr_out_of_range(X, "indices")), err(V, "malformed CSR")),
    ("X_csr_indptr_backwards_fit", "unfitted", "fit", dict(X=_csr_out_of_range(X, "indptr")), err(V, "malformed CSR")),
    ("X_csr_indptr_backwards_partial_fit", "fitted", "partial_fit", dict(X=_csr_out_of_range(X, "indptr")), err(V, "malformed CSR")),
    # --- X: shapes
    ("X_empty_fit", "unfitted", "fit", dict(X=X[:0], y=Y_CLF[:0]), err(V, "0 sample")),
    ("X_empty_partial_fit", "fitted", "partial_fit", dict(X=X[:0], y=Y_CLF[:0]), err(V, "0 sample")),
    ("X_no_features_fit", "unfitted", "fit", dict(X=X[:, :0]), err(V, "0 feature")),
    ("X_1d_fit", "unfitted", "fit", dict(X=X[:, 0]), err(V, "Expected 2D array, got 1D array instead")),
    ("X_1d_predict", "fitted", "predict", dict(X=X[0]), err(V, "Expected 2D array, got 1D array instead")),
    ("X_3d_fit", "unfitted", "fit", dict(X=X[:, :, None]), err(V, "dim 3")),
    ("X_3d_partial_fit", "fitted", "partial_fit", dict(X=X[:, :, None]), err(V, "dim 3")),
    ("X_features_predict", "fitted", "predict", dict(X=X[:, :4]), err(V, "X has 4 features, but .* is expecting 5")),
    ("X_features_partial_fit", "fitted", "partial_fit", dict(X=X[:, :4]), err(V, "X has 4 features, but .* is expecting 5")),
    ("X_features_decision", "fitted", "decision_function", dict(X=np.hstack([X, X])), err(V, "X has 10 features")),
    ("X_features_score", "fitted", "score", dict(X=X[:, :3]), err(V, "X has 3 features")),
    ("X_features_sparse", "fitted", "partial_fit", dict(X=sp.csr_array(X[:, :4])), err(V, "X has 4 features")),
    # --- X: dtypes
    ("X_strings", "unfitted", "fit", dict(X=np.array([["a"] * 5] * 60, dtype=object)), err(V, "could not convert string to float")),
    ("X_complex", "unfitted", "fit", dict(X=X + 1j), err(V, "Complex data not supported")),
    ("X_complex_predict", "fitted", "predict", dict(X=X + 1j), err(V, "Complex data not supported")),
    ("X_object_numbers", "unfitted", "fit", dict(X=X.astype(object)), OK),
    ("X_bool", "unfitted", "fit", dict(X=X > 0), OK),
    ("X_int", "unfitted", "fit", dict(X=np.round(X * 10).astype(np.int64)), OK),
    ("X_int_partial_fit", "fitted", "partial_fit", dict(X=np.round(X).astype(np.int32)), OK),
    ("X_float16", "unfitted", "fit", dict(X=X.astype(np.float16)), OK),
    ("X_big_endian", "unfitted", "fit", dict(X=_big_endian(X)), OK),
    ("X_big_endian_partial_fit", "fitted", "partial_fit", dict(X=_big_endian(X)), OK),
    ("X_fortran", "unfitted", "fit", dict(X=np.asfortranarray(X)), OK),
    ("X_strided", "unfitted", "fit", dict(X=np.repeat(X, 2, axis=1)[:, ::2]), OK),
    ("X_readonly", "fitted", "partial_fit", dict(X=_readonly(X)), OK),
    ("X_list", "unfitted", "fit", dict(X=X.tolist()), OK),
    ("X_csr_int64_indices", "fitted", "partial_fit", dict(X=_csr_int64(X)), OK),
    ("X_csr_unsorted", "fitted", "partial_fit", dict(X=_csr_unsorted(X)), OK),
    ("X_csr_float32_partial_fit", "fitted", "partial_fit", dict(X=sp.csr_array(X.astype(np.float32))), OK),
    ("X_csr_matrix_partial_fit", "fitted", "partial_fit", dict(X=sp.csr_matrix(X)), OK),
    ("X_csr_explicit_zeros", "unfitted", "fit", dict(X=_csr_explicit_zeros(X)), OK),
    ("X_coo", "fitted", "partial_fit", dict(X=sp.coo_array(X)), OK),
    # --- y
    ("y_nan_reg_fit", "unfitted", "fit_reg", dict(y=_with(np.nan, 3, Y_REG)), err(V, "Input y contains NaN")),
    ("y_inf_reg_partial_fit", "fitted", "partial_fit_reg", dict(y=_with(np.inf, 3, Y_REG)), err(V, "Input y contains infinity")),
    ("y_nan_clf", "unfitted", "fit", dict(y=_with(np.nan, 3, Y_CLF.astype(float))), err(V, "Input y contains NaN")),
    ("y_length_fit", "unfitted", "fit", dict(y=Y_CLF[:-1]), err(V, "inconsistent numbers of samples")),
    ("y_length_partial_fit", "fitted", "partial_fit", dict(y=Y_CLF[:-5]), err(V, "inconsistent numbers of samples")),
    ("y_length_score", "fitted", "score", dict(y=Y_CLF[:-5]), err(V, "inconsistent numbers of samples")),
    ("y_2d_two_columns", "unfitted", "fit", dict(y=np.c_[Y_CLF, Y_CLF]), err(V, "y should be a 1d array")),
    ("y_continuous_clf", "unfitted", "fit", dict(y=Y_REG), err(V, "Unknown label type")),
    ("y_strings_reg", "unfitted", "fit_reg", dict(y=np.array(["a"] * 60)), err(V, "could not convert")),
    ("one_class_fit", "unfitted", "fit", dict(y=np.zeros(60)), err(V, "has to be greater than one; got 1 class")),
    ("one_class_warm_fit", "fitted", "fit", dict(y=np.zeros(60)), err(V, "got 1 class")),
    ("classes_missing", "unfitted", "partial_fit", dict(classes=None), err(V, "classes must be passed on the first call")),
    ("classes_changed", "fitted", "partial_fit", dict(classes=[0, 1, 2, 3]), err(V, "is not the same as on last call to partial_fit")),
    ("label_outside_classes", "fitted", "partial_fit", dict(y=np.where(Y_CLF == 2, 7, Y_CLF)), err(V, r"y contains labels \[7\] that are not in classes_")),
    ("label_outside_first_call", "unfitted", "partial_fit", dict(classes=[0, 1]), err(V, r"labels \[2\] that are not in classes_")),
    ("one_class_partial_fit", "unfitted", "partial_fit", dict(classes=[0]), err(V, "got 1 class")),
    # --- sample_weight
    ("sw_negative", "unfitted", "fit", dict(sample_weight=_with(-1.0, 4, np.ones(60))), err(V, "Negative values in data passed to `sample_weight`")),
    ("sw_negative_partial_fit", "fitted", "partial_fit", dict(sample_weight=-np.ones(60)), err(V, "Negative values")),
    ("sw_nan", "fitted", "partial_fit", dict(sample_weight=_with(np.nan, 4, np.ones(60))), err(V, "sample_weight contains NaN")),
    ("sw_inf", "unfitted", "fit", dict(sample_weight=_with(np.inf, 4, np.ones(60))), err(V, "infinity")),
    ("sw_length", "unfitted", "fit", dict(sample_weight=np.ones(59)), err(V, r"sample_weight.shape == \(59,\), expected \(60,\)")),
    ("sw_length_partial_fit", "fitted", "partial_fit", dict(sample_weight=np.ones(61)), err(V, "expected")),
    ("sw_2d", "unfitted", "fit", dict(sample_weight=np.ones((60, 1))), err(V, "Sample weights must be 1D array or scalar")),
    ("sw_all_zero", "unfitted", "fit", dict(sample_weight=np.zeros(60)), err(V, "Sample weights must contain at least one non-zero number")),
    ("sw_score_negative", "fitted", "score", dict(sample_weight=-np.ones(60)), OK),
    # --- initial weights
    ("coef_init_shape", "unfitted", "fit", dict(coef_init=np.zeros((2, 5))), err(V, "Provided coef_init does not match dataset")),
    ("intercept_init_shape", "unfitted", "fit", dict(intercept_init=np.zeros(2)), err(V, "Provided intercept_init does not match dataset")),
    ("coef_init_reg_shape", "unfitted", "fit_reg", dict(coef_init=np.zeros(4)), err(V, "Provided coef_init does not match")),
    # --- the learning-rate finder (never touches the estimator it is given)
    ("finder_X_nan", "fitted", "lr_find", dict(X=_with(np.nan)), err(V, "Input X contains NaN")),
    ("finder_X_1d", "unfitted", "lr_find", dict(X=X[:, 0]), err(V, "Expected 2D array")),
    ("finder_y_length", "fitted", "lr_find", dict(y=Y_CLF[:-3]), err(V, "inconsistent numbers of samples")),
    ("finder_y_nan_reg", "unfitted", "lr_find_reg", dict(y=_with(np.nan, 3, Y_REG)), err(V, "Input y contains NaN")),
    ("finder_one_class", "unfitted", "lr_find", dict(y=np.zeros(60)), err(V, "got 1 class")),
    ("finder_range", "fitted", "lr_find", dict(start_lr=1.0, end_lr=1e-3), err(V, "0 < start_lr < end_lr")),
    ("finder_sw_negative", "unfitted", "lr_find", dict(sample_weight=-np.ones(60)), err(V, "Negative values")),
    ("finder_sparse_ok", "fitted", "lr_find", dict(X=sp.csr_array(X)), ("finder", None, None)),
]

PARAMETER_CASES = [
    # (id, params, method, expected)
    ("alpha_negative", dict(alpha=-1.0), "fit", err(P, "'alpha' parameter")),
    ("loss_unknown", dict(loss="foo"), "fit", err(P, "'loss' parameter")),
    ("loss_regression_only", dict(loss="hinge"), "fit_reg", err(P, "'loss' parameter")),
    ("optimizer_unknown", dict(optimizer="adamaxx"), "fit", err(P, "'optimizer' parameter")),
    ("batch_size_zero", dict(batch_size=0), "fit", err(P, "'batch_size' parameter")),
    ("batch_size_string", dict(batch_size="half"), "partial_fit", err(P, "'batch_size' parameter")),
    ("batch_size_float", dict(batch_size=2.5), "fit", err(P, "'batch_size' parameter")),
    ("eta0_zero", dict(eta0=0.0), "fit", err(P, "'eta0' parameter")),
    ("momentum_one", dict(momentum=1.0), "fit", err(P, "'momentum' parameter")),
    ("beta_1_one", dict(beta_1=1.0), "fit", err(P, "'beta_1' parameter")),
    ("beta_2_negative", dict(beta_2=-0.1), "fit", err(P, "'beta_2' parameter")),
    ("eps_negative", dict(eps=-1e-8), "fit", err(P, "'eps' parameter")),
    ("rho_one", dict(rho=1.0), "fit", err(P, "'rho' parameter")),
    ("l1_ratio_two", dict(l1_ratio=2.0), "fit", err(P, "'l1_ratio' parameter")),
    ("max_iter_zero", dict(max_iter=0), "fit", err(P, "'max_iter' parameter")),
    ("tol_negative", dict(tol=-1.0), "fit", err(P, "'tol' parameter")),
    ("learning_rate_unknown", dict(learning_rate="fast"), "fit", err(P, "'learning_rate' parameter")),
    ("penalty_unknown", dict(penalty="l3"), "fit", err(P, "'penalty' parameter")),
    ("validation_fraction_one", dict(validation_fraction=1.0), "fit", err(P, "'validation_fraction' parameter")),
    ("n_iter_no_change_zero", dict(n_iter_no_change=0), "fit", err(P, "'n_iter_no_change' parameter")),
    ("class_weight_unknown", dict(class_weight="even"), "fit", err(P, "'class_weight' parameter")),
    ("decay_steps_zero", dict(decay_steps=0), "fit", err(P, "'decay_steps' parameter")),
    ("decay_rate_zero", dict(decay_rate=0.0), "fit", err(P, "'decay_rate' parameter")),
    ("warmup_negative", dict(warmup_steps=-1), "fit", err(P, "'warmup_steps' parameter")),
    ("intercept_decay_zero", dict(intercept_decay=0.0), "fit", err(P, "'intercept_decay' parameter")),
    ("average_negative", dict(average=-1), "fit", err(P, "'average' parameter")),
    ("early_stopping_partial_fit", dict(early_stopping=True), "partial_fit_unfitted", err(V, "early_stopping should be False with partial_fit")),
    ("optimal_without_alpha", dict(alpha=0.0, learning_rate="optimal"), "fit", err(V, "alpha must be > 0 since learning_rate is 'optimal'")),
    ("elasticnet_without_ratio", dict(penalty="elasticnet", l1_ratio=None), "fit", err(V, "l1_ratio must be set when penalty is 'elasticnet'")),
    ("pa_with_log_loss", dict(learning_rate="pa1", loss="log_loss"), "fit", err(V, "only works with loss 'hinge'")),
    ("pa_with_adam", dict(learning_rate="pa2", optimizer="adam", loss="hinge"), "fit", err(V, "needs optimizer='sgd' and batch_size=1")),
    ("invalid_param_after_fit", dict(momentum=2.0), "partial_fit", err(P, "'momentum' parameter")),
]


# A well-conditioned rate: scikit-learn's default 'optimal' schedule starts
# at eta = 10, where round-off differences (e.g. from explicit zeros, which
# shift the dot product's summation order) grow over epochs.
CLF_PARAMS = dict(random_state=0, loss="log_loss", learning_rate="constant",
                  eta0=0.05)


def _fitted(kind):
    if kind.endswith("reg"):
        return GDRegressor(random_state=0, max_iter=3, tol=None).fit(X, Y_REG)
    return GDClassifier(max_iter=3, tol=None, **CLF_PARAMS).fit(X, Y_CLF)


def _call(estimator, method, kwargs):
    regression = isinstance(estimator, GDRegressor)
    args = dict(X=X, y=Y_REG if regression else Y_CLF)
    args.update(kwargs)
    Xa, ya = args.pop("X"), args.pop("y")
    if method == "lr_find":
        return lr_find(estimator, Xa, ya, num_it=20, random_state=0, **args)
    if method in ("predict", "decision_function", "predict_proba"):
        return getattr(estimator, method)(Xa)
    if method == "partial_fit" and not regression:
        args.setdefault("classes", [0, 1, 2])
    return getattr(estimator, method)(Xa, ya, **args)


def _make(state, method):
    regression = method.endswith("_reg")
    method = method.removesuffix("_reg")
    if state == "fitted":
        return _fitted("reg" if regression else "clf"), method
    return (GDRegressor(random_state=0) if regression
            else GDClassifier(**CLF_PARAMS)), method


@pytest.mark.parametrize(("state", "method", "kwargs", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(state, method, kwargs, expected):
    estimator, method = _make(state, method)
    before = snapshot(estimator)
    outcome, exc, match = expected
    if outcome == "finder":  # accepted; the estimator is untouched
        assert _call(estimator, method, kwargs).lrs.shape[0] > 0
        assert_same_state(estimator, before)
        return
    if outcome == "error":
        with pytest.raises(exc, match=match):
            _call(estimator, method, kwargs)
        assert_same_state(estimator, before)
        return
    # Accepted: same result as the clean float64 input.
    clean, _ = _make(state, method)
    result = _call(estimator, method, kwargs)
    reference = _call(clean, method, {k: v for k, v in kwargs.items() if k != "X"}
                      | {"X": _as_clean(kwargs.get("X", X))})
    if method in ("fit", "partial_fit"):
        assert_allclose(estimator.coef_, clean.coef_, rtol=1e-6, atol=1e-8)
        assert_allclose(estimator.intercept_, clean.intercept_, rtol=1e-6, atol=1e-8)
    else:
        assert_allclose(result, reference)


def _as_clean(Xa):
    """The canonical input an accepted one stands for: float64 C-ordered
    dense, or canonical int32 CSR (sparse input is a different problem by
    default: its intercept steps are damped)."""
    if sp.issparse(Xa):
        dense = np.asarray(sp.csr_array(Xa).toarray(), dtype=np.float64)
        return sp.csr_array(dense)
    return np.ascontiguousarray(np.asarray(Xa, dtype=np.float64))


@pytest.mark.parametrize(("params", "method", "expected"),
                         [c[1:] for c in PARAMETER_CASES],
                         ids=[c[0] for c in PARAMETER_CASES])
def test_bad_parameters(params, method, expected):
    if method == "partial_fit_unfitted":
        estimator, method = GDClassifier(**(CLF_PARAMS | params)), "partial_fit"
    elif method == "partial_fit":
        estimator = _fitted("clf").set_params(**params)
    else:
        estimator, method = _make("unfitted", method)
        estimator.set_params(**params)
    before = snapshot(estimator)
    _, exc, match = expected
    with pytest.raises(exc, match=match):
        _call(estimator, method, {})
    assert_same_state(estimator, before)


def test_number_of_cases():
    assert len(CASES) + len(PARAMETER_CASES) >= 40
