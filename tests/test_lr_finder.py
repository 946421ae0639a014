"""The learning-rate range test."""

import numpy as np
import pytest
import scipy.sparse as sp

from sgdlearn import GDClassifier, GDRegressor, LRFinderResult, lr_find

from .conftest import OPTIMIZER_NAMES, RATE_FREE, assert_same_state, snapshot

# COCOB has no rate to find (tests/test_cocob.py).
OPTIMIZERS = tuple(name for name in OPTIMIZER_NAMES if name not in RATE_FREE)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("dataset", ["digits", "breast_cancer", "diabetes"])
def test_suggestion_is_sensible_on_real_data(request, dataset, optimizer):
    """On standardized data the suggestion lies in [1e-4, 1], trains a good
    model, and the documented workflow works: a small grid from the
    suggestion upward reaches the best score of a wide grid."""
    X, y = request.getfixturevalue(dataset)
    Model = GDRegressor if dataset == "diabetes" else GDClassifier
    loss = {} if dataset == "diabetes" else {"loss": "log_loss"}
    suggestion = lr_find(Model(optimizer=optimizer, **loss), X, y,
                         random_state=0).suggestion
    assert 1e-4 <= suggestion <= 1.0

    def score(eta0):
        model = Model(optimizer=optimizer, learning_rate="constant", eta0=eta0,
                      batch_size=32, max_iter=10, tol=None, random_state=0, **loss)
        try:
            return model.fit(X, y).score(X, y)
        except ValueError:  # diverged
            return -np.inf

    assert score(suggestion) > (0.9 if Model is GDClassifier else 0.45)
    narrow = max(score(suggestion * f) for f in (1, 3, 10, 30, 100))
    wide = max(score(eta0) for eta0 in np.logspace(-4, 1, 11))
    assert narrow >= wide - 0.01


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_and_estimator_unchanged(breast_cancer, optimizer):
    X, y = breast_cancer
    unfitted = GDClassifier(optimizer=optimizer, learning_rate="optimal", eta0=0.3)
    before = snapshot(unfitted)
    result = lr_find(unfitted, X, y, num_it=50, random_state=0)
    assert_same_state(unfitted, before)
    assert isinstance(result, LRFinderResult)
    assert len(result.lrs) == len(result.losses) == len(result.raw_losses) <= 50
    assert np.all(np.diff(result.lrs) > 0) and result.lrs[0] == pytest.approx(1e-5)
    assert set(result.suggestions) == {"valley", "steep", "minimum"}
    assert result.suggestion == result.suggestions["valley"]
    fitted = GDClassifier(optimizer=optimizer, random_state=0).fit(X, y)
    before = snapshot(fitted)
    lr_find(fitted, X, y, num_it=30, random_state=0)
    assert_same_state(fitted, before)


def test_sweep_stops_when_the_loss_blows_up(diabetes):
    X, y = diabetes
    result = lr_find(GDRegressor(), X, y * 10, end_lr=1e3, random_state=0)
    assert result.diverged
    assert len(result.lrs) < 100
    assert result.lrs[-1] < 1e3
    kept = lr_find(GDRegressor(), X, y, end_lr=1e-2, stop_div=False,
                   random_state=0)
    assert not kept.diverged and len(kept.lrs) == 100


def test_sparse_input_batch_size_and_weights(breast_cancer):
    X, y = breast_cancer
    result = lr_find(GDClassifier(loss="log_loss", batch_size=64), sp.csr_array(X),
                     y, sample_weight=np.ones(len(y)), random_state=0)
    assert 1e-5 < result.suggestion < 10
    a = lr_find(GDClassifier(), X, y, random_state=1, num_it=20)
    b = lr_find(GDClassifier(), X, y, random_state=1, num_it=20)
    np.testing.assert_array_equal(a.losses, b.losses)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(start_lr=1.0, end_lr=0.1), "0 < start_lr < end_lr"),
    (dict(start_lr=0.0), "0 < start_lr < end_lr"),
    (dict(num_it=3), "num_it >= 10"),
    (dict(suggest="middle"), "suggest must be one of"),
])
def test_bad_arguments(breast_cancer, kwargs, message):
    with pytest.raises(ValueError, match=message):
        lr_find(GDClassifier(), *breast_cancer, **kwargs)


def test_invalid_parameter_set_after_fit_is_caught(breast_cancer):
    # The sweep re-validates parameters only on its first update: one made
    # invalid after fitting must still be caught there.
    X, y = breast_cancer
    fitted = GDClassifier(random_state=0).fit(X, y)
    fitted.alpha = -1.0
    before = snapshot(fitted)
    with pytest.raises(ValueError, match="'alpha' parameter"):
        lr_find(fitted, X, y, num_it=20, random_state=0)
    assert_same_state(fitted, before)


def test_plot_marks_the_suggestion(breast_cancer):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    result = lr_find(GDClassifier(loss="log_loss"), *breast_cancer, random_state=0)
    ax = result.plot()
    assert ax.get_xscale() == "log"
    assert len(ax.lines) == 2  # the curve and the suggestion
    assert "valley" in ax.get_legend().get_texts()[0].get_text()
