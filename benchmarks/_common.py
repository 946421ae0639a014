"""What every benchmark shares: data, timing, objectives, output lines.

The scripts import this module as ``_common`` (``python benchmarks/x.py``
puts ``benchmarks/`` on ``sys.path``) and run against the working tree's
``sgdlearn`` when it is not installed.
"""

import argparse
import datetime
import gc
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import sgdlearn  # noqa: F401
except ImportError:
    sys.path.insert(0, REPO)

# max_iter=1 and friends are what we want to time, not a mistake.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

SEED = 0


# ----------------------------------------------------------------------
# Command line and header
# What ``timed`` reads: wall time, or with ``--clock cpu`` the process's CPU
# time (which leaves out the time other tenants of a shared machine hold
# the core; their cache and memory traffic still counts).
CLOCK = {"now": time.perf_counter}


def parse_args(doc, repeats=5, quick_repeats=3, add_arguments=None,
               clock="wall"):
    """``--quick`` (smaller data, fewer repeats), ``--repeats`` and
    ``--clock`` (default ``clock``)."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller data and fewer repeats (a smoke test)")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"timed repeats, best kept (default {repeats}, "
                             f"{quick_repeats} with --quick)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default=clock,
                        help=f"what the timings measure (default {clock})")
    parser.add_argument("--no-wait", action="store_true",
                        help="do not wait for an idle machine before each "
                             "round of repeats")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = quick_repeats if args.quick else repeats
    QUIET["enabled"] = not args.no_wait
    CLOCK["now"] = time.process_time if args.clock == "cpu" else time.perf_counter
    return args


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(title, args, timing=True):
    """Print what was run, where and when."""
    import sklearn

    import sgdlearn

    versions = (f"python {platform.python_version()}, numpy {np.__version__}, "
                f"scipy {scipy.__version__}, "
                f"scikit-learn {sklearn.__version__}, "
                f"sgdlearn {sgdlearn.__version__}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# {title}")
    print(f"# {datetime.datetime.now().isoformat(timespec='minutes')}, "
          f"{cpu_model()}, {os.cpu_count()} cores, load average {load}")
    print(f"# {versions}")
    blas = ", ".join(f"{p['internal_api']} {p['num_threads']} threads"
                     for p in threadpool_info())
    print(f"# {source_state()}; {blas or 'no BLAS/OpenMP pool found'}")
    if timing:
        wait = ("each round waits (up to 30 s) for the other processes to "
                "leave the CPUs idle" if QUIET["enabled"] else "no waiting")
        print(f"# best of {args.repeats} interleaved repeats"
              f"{', --quick' if args.quick else ''}, {wait}; ratio = "
              "sgdlearn / peer (< 1: sgdlearn faster)")
    elif args.quick:
        print("# --quick")


def source_state():
    """The commit of the working tree, whether sgdlearn/ has uncommitted
    changes, and whether a compiled kernel is older than its sources."""
    import glob
    import subprocess

    def git(*cmd):
        try:
            return subprocess.run(["git", "-C", REPO, *cmd], capture_output=True,
                                  text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = " + uncommitted changes in sgdlearn/" if git(
        "status", "--porcelain", "--", "sgdlearn") else ""
    kernels = os.path.join(REPO, "sgdlearn", "_kernels")
    stale = [os.path.basename(pyx)[:-4]
             for pyx in glob.glob(os.path.join(kernels, "*.pyx"))
             if _newest_source(pyx) > _mtime(glob.glob(pyx[:-4] + ".*.so"))]
    stale = (f", WARNING: stale build of {', '.join(sorted(stale))} (a source is "
             "newer than the .so; run python setup.py build_ext --inplace)"
             if stale else "")
    return f"sgdlearn at commit {commit}{dirty}{stale}"


def _mtime(paths):
    return min((os.path.getmtime(p) for p in paths), default=0.0)


def _newest_source(path, seen=None):
    """Latest modification time of a .pyx/.pxd and the kernel .pxd files it
    cimports, recursively."""
    import re

    seen = set() if seen is None else seen
    seen.add(path)
    newest = os.path.getmtime(path)
    with open(path) as f:
        names = re.findall(r"sgdlearn\._kernels\.(\w+)\s+cimport", f.read())
    stem = path.rsplit(".", 1)[0]
    for dep in [stem + ".pxd"] + [os.path.join(os.path.dirname(path), n + ".pxd")
                                  for n in names]:
        if os.path.exists(dep) and dep not in seen:
            newest = max(newest, _newest_source(dep, seen))
    return newest


def footer():
    """The load average at the end, and how many rounds of repeats started
    on a busy machine: a run on a busy machine is suspect."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    busy = ""
    if QUIET["rounds"]:
        busy = (f", {QUIET['busy']} of {QUIET['rounds']} rounds started with "
                "the CPUs busy")
    print(f"# done {datetime.datetime.now().isoformat(timespec='minutes')}, "
          f"load average {load}{busy}")


# ----------------------------------------------------------------------
# Data (made once per script, fixed seed)
@dataclass
class Data:
    X: object  # ndarray or CSR matrix
    y_class: np.ndarray  # 0/1 labels
    y_reg: np.ndarray  # real targets

    def astype(self, dtype):
        return Data(self.X.astype(dtype), self.y_class, self.y_reg)

    @property
    def nbytes(self):
        X = self.X
        if sp.issparse(X):
            return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
        return X.nbytes


def _targets(score, rng, noise=0.3):
    noisy = score + noise * rng.standard_normal(score.shape[0])
    return (noisy > 0).astype(np.int64), noisy


def dense_data(n, d, seed=SEED):
    """Standard normal X (float64), linear targets with unit-variance scores."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / np.sqrt(d)
    return Data(X, *_targets(X @ w, rng))


def sparse_data(n, d, nnz, seed=SEED):
    """CSR (float64, int32 indices) with exactly ``nnz`` distinct sorted
    columns per row, drawn with Zipf-like frequencies (p_j ~ 1 / (rank_j +
    10), ranks randomly spread over the columns, as hashed text features),
    values N(0, 1/nnz) so rows have unit norm on average."""
    rng = np.random.default_rng(seed)
    p = 1.0 / (np.arange(d) + 10.0)
    p = p[rng.permutation(d)] / p.sum()
    X = csr_rows(rng, n, nnz, p)
    w = rng.standard_normal(d)
    return Data(X, *_targets(X @ w, rng))


def csr_rows(rng, n, nnz, p):
    """CSR (float64, int32 indices) of n rows with exactly ``nnz`` distinct
    sorted columns each, column j drawn with probability p[j], values
    N(0, 1/nnz)."""
    d = len(p)
    cols = np.sort(rng.choice(d, size=(n, nnz), p=p), axis=1)
    while True:
        dup = np.zeros(cols.shape, dtype=bool)
        dup[:, 1:] = cols[:, 1:] == cols[:, :-1]
        if not dup.any():
            break
        cols[dup] = rng.choice(d, size=int(dup.sum()), p=p)
        cols.sort(axis=1)
    values = rng.standard_normal(n * nnz) / np.sqrt(nnz)
    indptr = np.arange(0, n * nnz + 1, nnz, dtype=np.int32)
    return sp.csr_matrix((values, cols.ravel().astype(np.int32), indptr),
                         shape=(n, d))


# ----------------------------------------------------------------------
# Timing
QUIET = {"enabled": False, "rounds": 0, "busy": 0}


def cpu_busy(window=0.25):
    """Fraction of the machine's CPU time spent busy over ``window`` seconds
    (Linux /proc/stat; 0 elsewhere)."""
    def snapshot():
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait

    try:
        total0, idle0 = snapshot()
        time.sleep(window)
        total1, idle1 = snapshot()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 1.0 - (idle1 - idle0) / max(total1 - total0, 1)


def wait_quiet(max_wait=30.0, threshold=0.1):
    """Before a round of timed runs: wait until the other processes leave
    the CPUs (nearly) idle, for at most ``max_wait`` seconds."""
    if not QUIET["enabled"]:
        return
    QUIET["rounds"] += 1
    deadline = time.monotonic() + max_wait
    while cpu_busy() > threshold:
        if time.monotonic() > deadline:
            QUIET["busy"] += 1
            return


def timed(fn):
    """(seconds, result) of one call, with the garbage collector off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = CLOCK["now"]()
        result = fn()
        return CLOCK["now"]() - start, result
    finally:
        if was_enabled:
            gc.enable()


def best_of(runs, repeats):
    """Best time of each callable of the dict ``runs``, interleaved: every
    repeat runs each once (in reversed order every other repeat, so no run
    always follows the same one).  Returns ({name: seconds}, {name: result
    of the last call})."""
    best = dict.fromkeys(runs, np.inf)
    results = {}
    names = list(runs)
    for repeat in range(repeats):
        gc.collect()
        wait_quiet()
        for name in names if repeat % 2 == 0 else names[::-1]:
            seconds, results[name] = timed(runs[name])
            best[name] = min(best[name], seconds)
    return best, results


def epochs_against_sgd(ours, X, y, repeats, epochs=6):
    """Seconds per epoch of ``ours(max_iter)`` (a factory of unfitted
    estimators) and of scikit-learn's plain ``SGDClassifier(loss="log_loss")``
    on the same data, interleaved in the same run: (fit(max_iter=epochs) -
    fit(max_iter=1)) / (epochs - 1), the best of ``repeats``.  Returns (the
    best time of each of the four fits, the fitted models, {"ours", "peer"}:
    seconds per epoch); the keys are "ours", "peer", "ours_long" and
    "peer_long"."""
    from sklearn.linear_model import SGDClassifier

    def peer(max_iter):
        return SGDClassifier(loss="log_loss", max_iter=max_iter, tol=None,
                             shuffle=True, random_state=SEED)

    def fit(make, max_iter):
        return lambda: make(max_iter).fit(X, y)

    best, models = best_of({"ours": fit(ours, 1), "peer": fit(peer, 1),
                            "ours_long": fit(ours, epochs),
                            "peer_long": fit(peer, epochs)}, repeats)
    epoch = {who: (best[f"{who}_long"] - best[who]) / (epochs - 1)
             for who in ("ours", "peer")}
    return best, models, epoch


# ----------------------------------------------------------------------
# Quality
def objective(est, X, y, loss, alpha=1e-4):
    """The L2-penalized training objective of algorithm.rst:
    mean loss + alpha / 2 ||w||^2 (classification targets as +-1)."""
    p = np.asarray(est.decision_function(X) if hasattr(est, "classes_")
                   else est.predict(X), dtype=np.float64).ravel()
    if hasattr(est, "classes_"):
        y = np.where(y == est.classes_[1], 1.0, -1.0)
    if loss == "hinge":
        losses = np.maximum(0.0, 1.0 - y * p)
    elif loss == "log_loss":
        losses = np.logaddexp(0.0, -y * p)
    elif loss == "squared_error":
        losses = 0.5 * (p - y) ** 2
    else:
        raise ValueError(loss)
    coef = np.asarray(est.coef_, dtype=np.float64).ravel()
    return float(losses.mean() + 0.5 * alpha * coef @ coef)


def log_loss_accuracy(scores, y):
    """Mean log loss and accuracy of decision values for 0/1 labels."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    signs = np.where(y == 1, 1.0, -1.0)
    return (float(np.logaddexp(0.0, -signs * scores).mean()),
            float(np.mean((scores > 0) == (y == 1))))


def quality(est, X, y, loss, alpha=1e-4):
    """(objective, accuracy or R^2) of a fitted estimator.  BLAS is kept to
    one thread so that no OpenBLAS worker is left spinning into the next
    timed run."""
    with threadpool_limits(1):
        return objective(est, X, y, loss, alpha), float(est.score(X, y))


# ----------------------------------------------------------------------
# Output
def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:7.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:7.2f} ms"
    return f"{seconds:7.3f} s "


def compare(ours, peer, peer_name="sklearn"):
    """'sgdlearn T  peer T  ratio R' for two times in seconds."""
    return (f"sgdlearn {fmt_time(ours)}  {peer_name} {fmt_time(peer)}  "
            f"ratio {ours / peer:5.2f}")


def qualities(ours, peer, score_name="acc"):
    """'obj a / b  acc c / d' for two (objective, score) pairs."""
    return (f"obj {ours[0]:.4f} / {peer[0]:.4f}  "
            f"{score_name} {ours[1]:.4f} / {peer[1]:.4f}")


def verdict(ratio, target, higher_is_better=False):
    ok = ratio >= target if higher_is_better else ratio <= target
    sign = ">=" if higher_is_better else "<="
    return f"target {sign} {target:g}: {'met' if ok else 'MISSED'}"
