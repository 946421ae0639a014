"""partial_fit overhead: microseconds per call on small batches.

A stream of calls on consecutive batches of 1, 10 and 100 rows of dense
float64 data with 50 features, binary GDClassifier vs SGDClassifier and
GDRegressor vs SGDRegressor, each with its defaults (random_state=0).  The
classifiers get ``classes`` on every call (as in scikit-learn's out-of-core
example) and, in the "classes once" lines, on the first call only.  The
time per call is the time of the whole stream (first call included)
divided by its length.  The "after N calls" lines time 1000 calls made
after N earlier ones: the cost per call should not grow with the stream.
Quality: training objective and accuracy (R^2) on all the rows after the
stream.  Target: ratio <= 0.25 on 10-row batches.

The "hashed" lines stream 10-row batches of CSR rows with 2**18 columns (50
non-zeros per row, as hashed text features): there every call pays passes
over the 2 MB weight vector (and the optimizer state), in both libraries.

The "predict" lines time ``predict`` on the same 10-row batches with models
fitted on the first 50 (a stream evaluated before each update calls it as
often as ``partial_fit``); the predictions of both libraries agree on
most rows, which the line shows.
"""

import functools

import numpy as np
from _common import (
    SEED,
    best_of,
    compare,
    dense_data,
    footer,
    header,
    parse_args,
    qualities,
    quality,
    sparse_data,
    timed,
    verdict,
    wait_quiet,
)
from sklearn.linear_model import SGDClassifier, SGDRegressor

from sgdlearn import GDClassifier, GDRegressor

TARGET = 0.25
TARGET_BATCH = 10
CLASSES = np.array([0, 1])


def stream(cls, batches, classes="every", est=None):
    """partial_fit on every batch; ``classes`` "every", "once" or None."""
    est = cls(random_state=SEED) if est is None else est
    for call, (X, y) in enumerate(batches):
        if classes == "every" or (classes == "once" and call == 0):
            est.partial_fit(X, y, classes=CLASSES)
        else:
            est.partial_fit(X, y)
    return est


def make_batches(data, y, batch_size, n_calls):
    n = data.X.shape[0]
    starts = [(call * batch_size) % (n - batch_size + 1) for call in range(n_calls)]
    return [(data.X[s:s + batch_size], y[s:s + batch_size]) for s in starts]


def estimators(kind, data):
    if kind == "classifier":
        return GDClassifier, SGDClassifier, data.y_class, "hinge", "acc"
    return GDRegressor, SGDRegressor, data.y_reg, "squared_error", "R2"


def bench(kind, data, batch_size, n_calls, repeats, classes="every",
          ours_params=None, label=None):
    ours, peer, y, loss, score_name = estimators(kind, data)
    if ours_params:
        ours = functools.partial(ours, **ours_params)
    classes = classes if kind == "classifier" else None
    batches = make_batches(data, y, batch_size, n_calls)
    best, models = best_of(
        {"ours": lambda: stream(ours, batches, classes),
         "peer": lambda: stream(peer, batches, classes)},
        repeats,
    )
    per_call = {who: best[who] / n_calls for who in best}
    q = [quality(models[who], data.X, y, loss) for who in ("ours", "peer")]
    note = " classes once" if classes == "once" else ""
    line = (f"{label or kind + note:<23} {batch_size:>3} rows/call  "
            f"{compare(per_call['ours'], per_call['peer'])} per call | "
            f"{qualities(*q, score_name)}")
    if batch_size == TARGET_BATCH and classes != "once" and label is None:
        line += f" | {verdict(per_call['ours'] / per_call['peer'], TARGET)}"
    print(line, flush=True)


def bench_predict(kind, data, n_calls, repeats, label=None, batch_size=10):
    ours, peer, y, _, _ = estimators(kind, data)
    classes = "every" if kind == "classifier" else None
    batches = make_batches(data, y, batch_size, n_calls)
    fitted = {who: stream(cls, batches[:50], classes)
              for who, cls in (("ours", ours), ("peer", peer))}
    best, predictions = best_of(
        {who: (lambda e=est: [e.predict(X) for X, _ in batches])
         for who, est in fitted.items()},
        repeats,
    )
    ours_pred, peer_pred = (np.concatenate(predictions[who])
                            for who in ("ours", "peer"))
    if kind == "classifier":
        agree = f"same label on {np.mean(ours_pred == peer_pred):.1%} of rows"
    else:
        agree = f"correlation {np.corrcoef(ours_pred, peer_pred)[0, 1]:.4f}"
    per_call = {who: best[who] / n_calls for who in best}
    print(f"{label or 'predict ' + kind:<23} {batch_size:>3} rows/call  "
          f"{compare(per_call['ours'], per_call['peer'])} per call | {agree}",
          flush=True)


def after_many(kind, data, n_before, repeats, n_calls=1000, batch_size=10):
    """Per-call time of ``n_calls`` calls made after ``n_before`` others."""
    ours, peer, y, _, _ = estimators(kind, data)
    classes = "every" if kind == "classifier" else None
    batches = make_batches(data, y, batch_size, n_before + n_calls)
    best = {"ours": np.inf, "peer": np.inf}
    for _ in range(repeats):
        wait_quiet()
        for who, cls in (("ours", ours), ("peer", peer)):
            est = stream(cls, batches[:n_before], classes)
            seconds, _ = timed(lambda c=cls, e=est: stream(
                c, batches[n_before:], classes, est=e))
            best[who] = min(best[who], seconds / n_calls)
    print(f"{kind:<23} {batch_size:>3} rows/call  {compare(best['ours'], best['peer'])}"
          f" per call after {n_before} calls", flush=True)


def main():
    args = parse_args(__doc__)
    n_calls = 500 if args.quick else 2000
    header(f"bench_partial_fit: {n_calls} partial_fit calls, 50 dense features",
           args)
    data = dense_data(n_calls * 100, 50)
    for kind in ("classifier", "regressor"):
        for batch_size in (1, 10, 100):
            bench(kind, data, batch_size, n_calls, args.repeats)
    bench("classifier", data, 10, n_calls, args.repeats, classes="once")
    hashed = sparse_data(n_calls * 10, 2**18, 50)
    bench("classifier", hashed, 10, n_calls // 2, args.repeats,
          label="hashed 2**18 sgd")
    bench("classifier", hashed, 10, n_calls // 2, args.repeats,
          ours_params=dict(optimizer="adam", learning_rate="constant",
                           eta0=1e-3), label="hashed 2**18 adam")
    for kind in ("classifier", "regressor"):
        bench_predict(kind, data, n_calls, args.repeats)
    bench_predict("classifier", hashed, n_calls // 2, args.repeats,
                  label="predict hashed 2**18")
    n_before = 2_000 if args.quick else 20_000
    for kind in ("classifier", "regressor"):
        after_many(kind, data, n_before, min(args.repeats, 2))
    footer()


if __name__ == "__main__":
    main()
