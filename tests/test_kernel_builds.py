"""The two builds of the epoch kernel (baseline and AVX2/FMA) compute the
same models, up to the rounding of fused multiply-adds."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import sgdlearn._engine
from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._kernels import _select

from .conftest import without_rate

pytestmark = pytest.mark.skipif(
    _select.avx2 is None or not _select.cpu_has_avx2(),
    reason="no AVX2/FMA build or CPU here")


def _fit_with(monkeypatch, kernel, make, X, y):
    monkeypatch.setattr(sgdlearn._engine, "kernel", kernel)
    return make().fit(X, y)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop",
                                       "adam", "amsgrad", "adamw", "ftrl",
                                       "cocob"])
@pytest.mark.parametrize("batch_size", [1, 16])
def test_builds_agree(monkeypatch, digits, diabetes, layout, dtype, optimizer,
                      batch_size):
    tol = dict(rtol=1e-7, atol=1e-9) if dtype == np.float64 else dict(
        rtol=1e-3, atol=1e-4)
    for Model, (X, y) in ((GDClassifier, digits), (GDRegressor, diabetes)):
        X = X.astype(dtype)
        X = sp.csr_array(X) if layout == "csr" else X

        # A smooth loss: at the hinge's kink a rounding difference can flip
        # one update, and the trajectories part.
        loss = {"loss": "log_loss"} if Model is GDClassifier else {}

        def make(Model=Model, loss=loss):
            return Model(**without_rate(dict(
                optimizer=optimizer, batch_size=batch_size, penalty="l2",
                **loss, learning_rate="constant", eta0=0.01, max_iter=2,
                tol=None, random_state=0)))

        base = _fit_with(monkeypatch, _select.baseline, make, X, y)
        fast = _fit_with(monkeypatch, _select.avx2, make, X, y)
        assert_allclose(fast.coef_, base.coef_, **tol)
        assert_allclose(fast.intercept_, base.intercept_, **tol)


def test_selection(monkeypatch):
    assert _select.select("baseline") is _select.baseline
    assert _select.select("avx2") is _select.avx2
    assert _select.select("auto") is _select.avx2
    monkeypatch.setenv("SGDLEARN_KERNEL", "baseline")
    assert _select.select() is _select.baseline
    with pytest.raises(ValueError, match="SGDLEARN_KERNEL must be"):
        _select.select("sse")
