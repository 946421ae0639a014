"""Multinomial vs one-vs-rest, the divergence check, the learning-rate finder.

1. Seconds per epoch of GDClassifier(multi_class="multinomial") against
   one-vs-rest (n_jobs=1), log_loss, per-sample Adam, on load_digits
   (standardized) and on a 100k x 100 10-class synthetic set, with the test
   accuracy and log loss of both.
2. The cost of the kernel's divergence check: the same epochs with the
   exploding-loss check off (the kernel's task field ``explode=0``; the
   two non-finite tests, a handful of comparisons per row, always run).
   Target: <= 3% of an epoch.
3. lr_find's run time relative to one epoch of the same estimator.

An epoch is (fit(max_iter=1 + span) - fit(max_iter=1)) / span, best of the
repeats (span 40 on digits, 15 on the synthetic set).
"""

import numpy as np
from _common import SEED, best_of, footer, header, parse_args, verdict
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sgdlearn._kernel_args
from sgdlearn import GDClassifier, lr_find

N_CLASSES = 10
CHECK_ON = sgdlearn._kernel_args.EXPLODE_FACTOR


def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=SEED, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def synthetic(n):
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n + 10_000, 100))
    W = rng.standard_normal((100, N_CLASSES)) / 10
    y = np.argmax(X @ W + 0.3 * rng.standard_normal((len(X), N_CLASSES)), axis=1)
    return X[:n], X[n:], y[:n], y[n:]


def epochs(make, X, y, repeats, span):
    """Seconds per epoch, and the model after 1 + span epochs."""
    last = 1 + span
    best, models = best_of(
        {e: (lambda e=e: make(e).fit(X, y)) for e in (1, last)}, repeats)
    return (best[last] - best[1]) / span, models[last]


def model(multi_class, max_iter, **extra):
    return GDClassifier(loss="log_loss", optimizer="adam", eta0=1e-3,
                        learning_rate="constant", multi_class=multi_class,
                        max_iter=max_iter, tol=None, random_state=SEED, **extra)


def multinomial_vs_ovr(name, data, repeats, span):
    X_train, X_test, y_train, y_test = data
    for multi_class in ("ovr", "multinomial"):
        seconds, fitted = epochs(lambda e, m=multi_class: model(m, e), X_train,
                                 y_train, repeats, span)
        loss = log_loss(y_test, fitted.predict_proba(X_test))
        print(f"{name:<22} {multi_class:<12} epoch {seconds * 1e3:8.2f} ms | "
              f"test acc {fitted.score(X_test, y_test):.4f}  log loss {loss:.4f}",
              flush=True)


def divergence_overhead(name, data, repeats, batch_size, span):
    """The check on and off, interleaved in one best_of: on a shared machine
    a few percent is below the drift between two separate timing runs."""
    X_train, _, y_train, _ = data
    last = 1 + span

    def fit(factor, max_iter):
        sgdlearn._kernel_args.EXPLODE_FACTOR = factor
        try:
            return model("ovr", max_iter, batch_size=batch_size).fit(X_train, y_train)
        finally:
            sgdlearn._kernel_args.EXPLODE_FACTOR = CHECK_ON

    runs = {(label, e): (lambda f=factor, e=e: fit(f, e))
            for label, factor in (("on", CHECK_ON), ("off", 0.0))
            for e in (1, last)}
    best, _ = best_of(runs, repeats)
    on, off = ((best[label, last] - best[label, 1]) / span for label in ("on", "off"))
    overhead = on / off - 1
    print(f"{name:<22} batch {batch_size:<4} epoch check on {on * 1e3:7.3f} ms, "
          f"off {off * 1e3:7.3f} ms, overhead {overhead:+.1%} | "
          f"{verdict(overhead, 0.03)}", flush=True)


def finder_cost(name, data, repeats, span):
    X_train, _, y_train, _ = data
    epoch, _ = epochs(lambda e: model("multinomial", e, batch_size=32), X_train,
                      y_train, repeats, span)
    best, results = best_of({"finder": lambda: lr_find(
        model("multinomial", 1), X_train, y_train, random_state=SEED)}, repeats)
    result = results["finder"]
    print(f"{name:<22} lr_find {best['finder'] * 1e3:8.1f} ms = "
          f"{best['finder'] / epoch:5.1f} epochs (batch 32 multinomial Adam, "
          f"{len(result.lrs)} updates of 32 rows; suggestion "
          f"{result.suggestion:.3g})", flush=True)


def main():
    args = parse_args(__doc__)
    n = 20_000 if args.quick else 100_000
    header(f"bench_training_extras: multinomial, divergence check, lr_find "
           f"(digits, synthetic {n} x 100, {N_CLASSES} classes)", args)
    # Epochs timed per set: digits' take ~1 ms, so many, to rise above the
    # noise of a fit call.
    sets = {"digits": (digits(), 40),
            f"synthetic {n // 1000}k x 100": (synthetic(n), 15)}
    print(f"# an epoch is (fit(max_iter=1 + span) - fit(max_iter=1)) / span, "
          f"span {', '.join(f'{k}: {v[1]}' for k, v in sets.items())}")
    print("# 1. multinomial vs one-vs-rest, per-sample Adam, log_loss")
    for name, (data, span) in sets.items():
        multinomial_vs_ovr(name, data, args.repeats, span)
    print("# 2. the divergence check (one-vs-rest Adam)")
    for name, (data, span) in sets.items():
        for batch_size in (1, 256):
            divergence_overhead(name, data, args.repeats, batch_size, span)
    print("# 3. lr_find relative to one epoch")
    for name, (data, span) in sets.items():
        finder_cost(name, data, args.repeats, span)
    footer()


if __name__ == "__main__":
    main()
