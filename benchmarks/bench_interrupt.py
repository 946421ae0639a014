"""Ctrl-C latency: seconds from SIGINT to the KeyboardInterrupt, and the
process CPU time burnt in the 0.5 s after it (worker threads still
training would show here), for fit, partial_fit, one-vs-rest n_jobs=2 and
multinomial.  Also checks that the model is unchanged.

    python benchmarks/bench_interrupt.py [--delay 0.5] [--repeats 3]
"""

import argparse
import os
import pickle
import signal
import threading
import time

import numpy as np

from sgdlearn import GDClassifier


def data(n, d, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(n_classes, size=n)
    return X, y


def interrupt_after(delay):
    """SIGINT to this process after ``delay`` s; returns a list that gets
    the time it was sent."""
    sent = []

    def fire():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Timer(delay, fire).start()
    return sent


CASES = {
    "fit (binary SGD, 1M x 20)": (
        lambda: GDClassifier(max_iter=1000, tol=None, random_state=0),
        (1_000_000, 20, 2), "fit"),
    "partial_fit (multinomial Adam, 3M x 10, 10 classes)": (
        lambda: GDClassifier(loss="log_loss", multi_class="multinomial",
                             optimizer="adam", random_state=0),
        (3_000_000, 10, 10), "partial_fit"),
    "fit OvR n_jobs=2 (Adam, 300k x 20, 10 classes)": (
        lambda: GDClassifier(optimizer="adam", n_jobs=2, max_iter=1000,
                             tol=None, random_state=0),
        (300_000, 20, 10), "fit"),
    "fit multinomial (Adam mini-batch 32, 300k x 20, 10 classes)": (
        lambda: GDClassifier(loss="log_loss", multi_class="multinomial",
                             optimizer="adam", batch_size=32, max_iter=1000,
                             tol=None, random_state=0),
        (300_000, 20, 10), "fit"),
}


def run(name, make, shape, method, delay):
    X, y = data(*shape)
    est = make()
    classes = np.unique(y)
    est.partial_fit(X[:1000], y[:1000], classes=classes)
    before = pickle.dumps(est.__dict__)
    threads = threading.active_count()
    sent = interrupt_after(delay)
    try:
        if method == "fit":
            est.fit(X, y)
        else:
            est.partial_fit(X, y)
    except KeyboardInterrupt:
        caught = time.perf_counter()
    else:
        print(f"{name}: finished before the signal; raise --delay")
        return
    cpu0 = time.process_time()
    time.sleep(0.5)
    cpu = time.process_time() - cpu0
    same = pickle.dumps(est.__dict__) == before
    print(f"{name}: SIGINT -> KeyboardInterrupt {caught - sent[0]:.4f} s; "
          f"CPU in the next 0.5 s {cpu:.3f} s; threads {threads} -> "
          f"{threading.active_count()}; model unchanged: {same}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name, (make, shape, method) in CASES.items():
        for _ in range(args.repeats):
            run(name, make, shape, method, args.delay)


if __name__ == "__main__":
    main()
