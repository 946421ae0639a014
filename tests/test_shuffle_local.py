"""shuffle="local": blocks of rows in a random order, rows permuted within
windows of blocks (_kernels/_shuffle.pxd local_shuffle)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._data import kernel_rows
from sgdlearn._engine import LOCAL_BLOCK_BYTES, LOCAL_WINDOW, local_blocks
from sgdlearn._kernels._select import kernel

from .conftest import assert_same_state, snapshot

MASK = (1 << 64) - 1
py_shuffle = kernel.py_shuffle


class _Draws:
    """The kernel's bounded draws: splitmix64 and Lemire's method."""

    def __init__(self, seed):
        self.state = seed

    def next64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def bounded(self, bound):
        m = (self.next64() >> 32) * bound
        if (m & 0xFFFFFFFF) < bound:
            threshold = (-bound) % (1 << 32) % bound
            while (m & 0xFFFFFFFF) < threshold:
                m = (self.next64() >> 32) * bound
        return m >> 32

    def permute(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.bounded(i + 1)
            items[i], items[j] = items[j], items[i]
        return items


def _local_shuffle(order, seed, block, window):
    """Python transcription of local_shuffle."""
    draws = _Draws(seed)
    n = len(order)
    blocks = draws.permute(list(range(-(-n // block))))
    out = []
    for w in range(0, len(blocks), window):
        rows = [order[i] for b in blocks[w:w + window]
                for i in range(b * block, min(b * block + block, n))]
        out.extend(draws.permute(rows))
    return np.array(out)


@pytest.mark.parametrize("n, block, window", [(1000, 7, 5), (64, 8, 8),
                                              (10, 3, 100), (97, 1, 4)])
def test_local_shuffle_matches_its_transcription(n, block, window):
    base = np.random.default_rng(n).permutation(3 * n)[:n].astype(np.intc)
    for seed in (0, 99, 2**63 - 1):
        order = base.copy()
        py_shuffle(order, seed, block, window)
        assert_array_equal(order, _local_shuffle(list(base), seed, block,
                                                 window))
        assert_array_equal(np.sort(order), np.sort(base))  # a permutation


def test_local_shuffle_keeps_each_window_within_its_blocks():
    n, block, window = 10_000, 16, 8
    order = np.arange(n, dtype=np.intc)
    py_shuffle(order, 5, block, window)
    span = block * window
    mixed = 0
    for start in range(0, n, span):
        part = order[start:start + span]
        used = np.unique(part // block)
        # Whole blocks: each block's rows all land in one window.
        assert len(used) <= window
        assert sum(min(block, n - b * block) for b in used) == len(part)
        mixed += not np.all(np.diff(part) == 1)
    assert mixed == -(-n // span)  # rows permuted inside every window
    other = np.arange(n, dtype=np.intc)
    py_shuffle(other, 6, block, window)
    assert not np.array_equal(order, other)


def test_one_block_is_the_full_permutation():
    full = np.arange(500, dtype=np.intc)
    local = full.copy()
    py_shuffle(full, 17)
    py_shuffle(local, 17, 500, 1)
    assert_array_equal(local, full)


def test_local_shuffle_window_must_be_positive():
    with pytest.raises(ValueError, match="window of at least 1 block"):
        py_shuffle(np.arange(10, dtype=np.intc), 0, 3, 0)


def test_block_size_follows_the_bytes_of_a_row():
    class Settings:
        shuffle = "local"

    X = np.zeros((1000, 100))
    assert local_blocks(kernel_rows(X), Settings) == (
        LOCAL_BLOCK_BYTES // 800, LOCAL_WINDOW)
    Xs = sp.random(1000, 5000, density=0.01, format="csr", random_state=0)
    per_row = (Xs.data.nbytes + Xs.indices.astype(np.intc).nbytes) // 1000
    assert local_blocks(kernel_rows(Xs), Settings) == (
        LOCAL_BLOCK_BYTES // per_row, LOCAL_WINDOW)
    wide = np.zeros((10, 10_000))  # a row larger than a block
    assert local_blocks(kernel_rows(wide), Settings)[0] == 1
    Settings.shuffle = True
    assert local_blocks(kernel_rows(X), Settings) == (0, 0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_local_shuffle_trains_like_a_full_permutation(digits):
    X, y = digits
    scores = {}
    for mode in (True, "local", False):
        est = GDClassifier(shuffle=mode, max_iter=10, tol=None,
                           random_state=0).fit(X, y)
        scores[mode] = est.score(X, y)
    assert abs(scores["local"] - scores[True]) < 0.02
    again = GDClassifier(shuffle="local", max_iter=10, tol=None,
                         random_state=0).fit(X, y)
    assert again.score(X, y) == scores["local"]


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_local_fit_equals_repeated_partial_fit(digits, layout):
    """Each epoch's order depends only on its seed, as with shuffle=True."""
    X, y = digits
    X = sp.csr_array(X) if layout == "csr" else X
    y = (y - y.mean()) / y.std()
    params = dict(shuffle="local", learning_rate="constant", eta0=0.001,
                  random_state=3)
    fitted = GDRegressor(max_iter=3, tol=None, **params).fit(X, y)
    streamed = GDRegressor(**params)
    for _ in range(3):
        streamed.partial_fit(X, y)
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-12)
    full = GDRegressor(max_iter=3, tol=None, **{**params, "shuffle": True})
    assert not np.allclose(full.fit(X, y).coef_, fitted.coef_)


def test_bad_shuffle_value_is_refused_before_any_change(digits):
    X, y = digits
    est = GDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
    before = snapshot(est)
    est.set_params(shuffle="global")
    with pytest.raises(InvalidParameterError, match="'shuffle' parameter"):
        est.partial_fit(X, y)
    est.set_params(shuffle=True)
    assert_same_state(est, before)


def test_local_resume_after_pickle_equals_an_unbroken_stream(digits):
    """The row-order generator travels with the model: a stream pickled
    between calls continues with the orders an unbroken one draws."""
    import pickle

    X, y = digits
    params = dict(shuffle="local", loss="log_loss", random_state=7)
    unbroken = GDClassifier(**params)
    resumed = GDClassifier(**params)
    classes = np.unique(y)
    for call in range(4):
        unbroken.partial_fit(X, y, classes=classes)
        resumed.partial_fit(X, y, classes=classes)
        if call == 1:
            resumed = pickle.loads(pickle.dumps(resumed))
    assert_array_equal(resumed.coef_, unbroken.coef_)
    assert_array_equal(resumed.intercept_, unbroken.intercept_)
