"""Ctrl-C: a SIGINT during training raises KeyboardInterrupt at once (the
compiled epochs run the signal handlers every 50 ms on the main thread),
leaves the estimator bit for bit as it was, and stops every worker thread
before it propagates.  ``benchmarks/bench_interrupt.py`` measures the
latency; the bounds here are generous for loaded CI machines."""

import signal
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

from sgdlearn import GDClassifier, GDRegressor

from .conftest import assert_same_state, snapshot

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")

# Each call below would run for seconds; the signal comes after DELAY.
DELAY = 0.15
BOUND = 1.0
K = 100


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150_000, 50))
    return X, rng.integers(K, size=X.shape[0])


@contextmanager
def sigint_after(delay, raise_it=True):
    """Send SIGINT to the main thread ``delay`` s into the block.  The
    handler raises KeyboardInterrupt (or only counts, without
    ``raise_it``) while the block runs, and ignores a late signal, which
    must never reach the rest of the test session."""
    sent, received = [], []
    armed = [True]

    def handler(signum, frame):
        received.append(time.perf_counter())
        if armed[0] and raise_it:
            raise KeyboardInterrupt

    def fire():
        sent.append(time.perf_counter())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, handler)
    timer = threading.Timer(delay, fire)
    try:
        timer.start()
        yield sent, received
    finally:
        armed[0] = False
        timer.cancel()
        timer.join()
        time.sleep(0.01)  # a signal sent just now is handled here
        signal.signal(signal.SIGINT, previous)


def assert_interrupted(estimator, call):
    """``call`` raises KeyboardInterrupt within BOUND of the signal and
    leaves ``estimator`` unchanged; returns the latency."""
    before = snapshot(estimator)
    with sigint_after(DELAY) as (sent, received):
        start = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            call()
        caught = time.perf_counter()
    assert sent, f"the call ended before the signal ({caught - start:.2f} s)"
    latency = caught - sent[0]
    assert latency < BOUND, latency
    assert_same_state(estimator, before)
    return latency


def test_partial_fit_multinomial_stops_mid_epoch(data):
    # One kernel call of ~1-2 s: only the kernel's own check can stop it.
    X, y = data
    clf = GDClassifier(loss="log_loss", multi_class="multinomial",
                       optimizer="adam", random_state=0)
    clf.partial_fit(X[:500], y[:500], classes=np.arange(K))
    assert_interrupted(clf, lambda: clf.partial_fit(X, y))


def test_fit_multioutput_per_sample(data):
    X, _ = data
    Y = np.random.default_rng(1).standard_normal((X.shape[0], K))
    reg = GDRegressor(max_iter=1000, tol=None, random_state=0)
    assert_interrupted(reg, lambda: reg.fit(X, Y))


@pytest.mark.parametrize("batch_size", [16, None])
def test_fit_multinomial_mini_batch(data, batch_size):
    X, y = data
    clf = GDClassifier(loss="log_loss", multi_class="multinomial",
                       optimizer="adam", batch_size=batch_size, max_iter=1000,
                       tol=None, random_state=0)
    assert_interrupted(clf, lambda: clf.fit(X, y))


def test_one_vs_rest_threads_stop(data):
    X, y = data
    clf = GDClassifier(optimizer="adam", n_jobs=2, max_iter=1000, tol=None,
                       random_state=0)
    clf.partial_fit(X[:500], y[:500] % 10, classes=np.arange(10))
    threads = threading.active_count()
    assert_interrupted(clf, lambda: clf.fit(X, y % 10))
    # The workers were told to stop and have returned: no CPU burnt after.
    cpu = time.process_time()
    time.sleep(0.3)
    assert time.process_time() - cpu < 0.1
    deadline = time.perf_counter() + 2
    while threading.active_count() > threads and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= threads


def test_handler_that_does_not_raise_does_not_stop(data):
    # The kernel runs the handler; training goes on and ends as usual.
    X, y = data[0][:20_000], data[1][:20_000]

    def make():
        return GDClassifier(loss="log_loss", multi_class="multinomial",
                            optimizer="adam", random_state=0)

    expected = make().partial_fit(X, y, classes=np.arange(K))
    clf = make()
    with sigint_after(0.02, raise_it=False) as (sent, received):
        clf.partial_fit(X, y, classes=np.arange(K))
        if sent:
            time.sleep(0.01)
            assert received
    np.testing.assert_array_equal(clf.coef_, expected.coef_)
    np.testing.assert_array_equal(clf.intercept_, expected.intercept_)
