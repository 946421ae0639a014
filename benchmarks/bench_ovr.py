"""One-vs-rest scaling: 10 classes trained with n_jobs=1 and n_jobs=2.

Dense 100k x 100 float64, 10 classes (the argmax of 10 random linear
scores plus noise), max_iter=5, tol=None, random_state=0, otherwise the
defaults (hinge, per-sample plain SGD).  Speed-up = time(n_jobs=1) /
time(n_jobs=2); scikit-learn's SGDClassifier is measured the same way for
reference.  Target: sgdlearn speed-up >= 1.7 (the machine has 2 cores).
"""

import numpy as np
from _common import (
    SEED,
    best_of,
    compare,
    fmt_time,
    footer,
    header,
    parse_args,
    verdict,
)
from sklearn.linear_model import SGDClassifier

from sgdlearn import GDClassifier

N_CLASSES = 10
TARGET = 1.7


def multiclass_data(n, d, seed=SEED):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, N_CLASSES)) / np.sqrt(d)
    scores = X @ W + 0.3 * rng.standard_normal((n, N_CLASSES))
    return X, np.argmax(scores, axis=1)


def main():
    args = parse_args(__doc__)
    n = 20_000 if args.quick else 100_000
    header(f"bench_ovr: one-vs-rest, {N_CLASSES} classes, dense {n} x 100 float64, "
           "max_iter=5", args)
    X, y = multiclass_data(n, 100)
    params = dict(max_iter=5, tol=None, random_state=SEED)
    runs = {}
    for name, cls in (("sgdlearn", GDClassifier), ("sklearn", SGDClassifier)):
        for jobs in (1, 2):
            runs[name, jobs] = (
                lambda cls=cls, jobs=jobs: cls(n_jobs=jobs, **params).fit(X, y))
    best, models = best_of(runs, args.repeats)
    for jobs in (1, 2):
        acc = [models[name, jobs].score(X, y) for name in ("sgdlearn", "sklearn")]
        print(f"n_jobs={jobs}  {compare(best['sgdlearn', jobs], best['sklearn', jobs])}"
              f" | acc {acc[0]:.4f} / {acc[1]:.4f}")
    for name in ("sgdlearn", "sklearn"):
        speedup = best[name, 1] / best[name, 2]
        line = (f"{name:<9} n_jobs=1 {fmt_time(best[name, 1])}  n_jobs=2 "
                f"{fmt_time(best[name, 2])}  speed-up {speedup:.2f}x")
        if name == "sgdlearn":
            line += f" | {verdict(speedup, TARGET, higher_is_better=True)}"
        print(line, flush=True)
    footer()


if __name__ == "__main__":
    main()
