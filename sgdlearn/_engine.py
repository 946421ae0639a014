"""The epoch driver: shuffling, kernel calls, stopping rules, verbose output.

A *problem* is what one kernel call trains: K weight rows updated together
(one row for a binary or one-vs-rest problem or a single-output regression,
K rows for multi-output regression or the multinomial loss).  Its arrays may
be views into the estimator's working copies; the kernel updates them in
place, so the estimator commits them only once training succeeded.
"""

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from joblib import delayed

from sgdlearn._diagnose import explain
from sgdlearn._exceptions import DivergenceError
from sgdlearn._kernels._schedule import py_eta
from sgdlearn._kernels._select import kernel


def _kernel_layout(coef_state):
    """The array the kernel takes for a (K, n_slots, d) state, and whether
    it is interleaved ((K, d, n_slots) in memory).  Never a copy: the kernel
    updates it in place (and rejects an array that is not C-contiguous)."""
    if coef_state.flags.c_contiguous:
        return coef_state, False
    return coef_state.transpose(0, 2, 1), True


@dataclass
class Problem:
    """The arrays of one kernel problem."""

    coef: np.ndarray  # (K, d), in the dtype of X; weights
    intercept: np.ndarray  # (K,) float64
    coef_state: np.ndarray  # (K, n_slots, d) optimizer state; sparse X: a
    #                         view of a (K, d, n_slots) array (interleaved)
    intercept_state: np.ndarray  # (K, n_slots) float64
    avg_coef: np.ndarray  # (K, d), or (0, d) without averaging
    avg_intercept: np.ndarray  # (K,), or (0,)
    steps: np.ndarray  # (1,) float64: optimizer updates applied to this
    #                    state so far; the kernel advances it in place
    counters: np.ndarray  # (n_counters,) float64: the optimizer's other
    #                       running scalars (the table's ``counters``)
    rng: np.random.Generator  # draws the row order of every epoch
    y: np.ndarray  # targets, flattened, in the dtype of X
    y_stride: int  # targets per row
    positive: int  # y holds class indices: the target is +1 for this one
    sample_weight: np.ndarray  # float64 (n,), or (0,) for unit weights
    y_val: np.ndarray = None  # targets of the validation rows (binary:
    #                           class indices shared by all, as y)
    n_iter: int = 0
    t: float = 1.0
    losses: list = field(default_factory=list)
    scores: list = field(default_factory=list)


@dataclass
class Settings:
    """What every epoch of a call needs besides the problem arrays."""

    optim: dict  # the kernel's Optim struct
    schedule: dict  # the kernel's Schedule struct
    task: dict  # the kernel's Task struct, without ``t`` and ``positive``
    alpha: float
    l1_ratio: float  # 0 for l2, 1 for l1, as used by the objective
    penalized: bool
    shuffle: bool | str  # True, False or "local"
    tol: float  # -inf disables the stopping test
    n_iter_no_change: int
    adaptive: bool
    verbose: int
    validation: object = None  # Validation, when early stopping


@dataclass
class Validation:
    """Held-out rows for early stopping, scored after every epoch."""

    X: object
    sample_weight: np.ndarray
    kind: str  # "binary", "multinomial" or "regression"

    def score(self, problem):
        scores = self.X @ problem.coef.T + problem.intercept
        y, w = problem.y_val, self.sample_weight
        if self.kind == "binary":
            return np.average((scores[:, 0] > 0) == (y == problem.positive),
                              weights=w)
        if self.kind == "multinomial":
            return np.average(np.argmax(scores, axis=1) == y, weights=w)
        y = y.reshape(scores.shape)
        residual = np.average((y - scores) ** 2, weights=w, axis=0)
        spread = np.average((y - np.average(y, weights=w, axis=0)) ** 2,
                            weights=w, axis=0)
        r2 = np.where(spread > 0, 1 - residual / np.where(spread > 0, spread, 1),
                      np.where(residual > 0, 0.0, 1.0))
        return float(np.mean(r2))


# shuffle="local": rows are taken in blocks of about LOCAL_BLOCK_BYTES of
# input, and each window of LOCAL_WINDOW blocks is permuted as a whole (see
# local_shuffle in _kernels/_shuffle.pxd, and the measurements behind these
# sizes in docs/guide/scale.rst).
LOCAL_BLOCK_BYTES = 4096
LOCAL_WINDOW = 256


def local_blocks(rows, settings):
    """(rows per block, blocks per window) for the kernel's shuffle: (0, 0)
    for a full permutation."""
    if settings.shuffle != "local":
        return 0, 0
    per_row = rows.data.nbytes + rows.indices.nbytes
    per_row = max(1, per_row // max(rows.n_samples, 1))
    return max(1, LOCAL_BLOCK_BYTES // per_row), LOCAL_WINDOW


def penalty(settings, sq_norm, l1_norm):
    """The objective's penalty, from the kernel's norms of coef."""
    if not settings.penalized:
        return 0.0
    l1 = settings.l1_ratio
    return settings.alpha * ((1 - l1) * 0.5 * sq_norm + l1 * l1_norm)


class Trainer:
    """Runs the epochs of one problem and applies its stopping rule."""

    def __init__(self, problem, rows, order, settings, t):
        self.problem = problem
        self.rows = rows
        self.order = order  # shared by every problem, never shuffled itself
        # The epoch's row order, shuffled in place by the kernel from a seed
        # the problem's Generator draws: a buffer only while an epoch runs, so
        # one-vs-rest holds one per running problem, not one per class.
        self.epoch_order = None
        self.settings = settings
        self.t = t
        self.schedule = dict(settings.schedule)  # 'adaptive' lowers eta0
        self.optim = dict(settings.optim)
        self.task = dict(settings.task)
        self.stopping = _Stopping(settings)
        self.block, self.window = local_blocks(rows, settings)
        # The cumulative L1 penalty (Tsuruoka et al.'s q and u) runs over the
        # epochs of one call, as in scikit-learn; a new call starts afresh.
        self.l1_applied = self.l1_accrued = None
        if settings.task["l1"] > 0:
            self.l1_applied = np.zeros_like(problem.coef)
            self.l1_accrued = np.zeros(1)
        self.running = True
        self.stop = _NEVER  # train() gives parallel trainers a shared flag
        self.loss_ratio = 0.0  # final loss / all-zero model's, last epoch
        self.updates = 0  # made by this call, scikit-learn's verbose "T"
        self.start = time.perf_counter()

    def epoch(self):
        """One epoch; afterwards ``running`` says whether to continue."""
        problem, settings, rows = self.problem, self.settings, self.rows
        number = problem.n_iter + 1
        if settings.verbose:
            print(f"-- Epoch {number}")
        seed = None
        self.epoch_order = self.order  # not written to without a seed
        if settings.shuffle:
            # From the rows' own order every epoch: an epoch's order then
            # depends only on its seed, so fit equals repeated partial_fit.
            self.epoch_order = self.order.copy()
            seed = int(problem.rng.integers(2**63, dtype=np.int64))
        self.task["t"] = self.t
        self.task["positive"] = float(problem.positive)
        coef_state, interleaved = _kernel_layout(problem.coef_state)
        result = kernel.fit_epoch(
            X_data=rows.data,
            X_indices=rows.indices,
            X_indptr=rows.indptr,
            n_features=rows.n_features,
            y=problem.y,
            y_stride=problem.y_stride,
            sample_weight=problem.sample_weight,
            order=self.epoch_order,
            shuffle_seed=seed,
            shuffle_block=self.block,
            shuffle_window=self.window,
            coef=problem.coef,
            intercept=problem.intercept,
            coef_state=coef_state,
            state_interleaved=interleaved,
            intercept_state=problem.intercept_state,
            avg_coef=problem.avg_coef,
            avg_intercept=problem.avg_intercept,
            step=problem.steps,
            counters=problem.counters,
            optim=self.optim,
            schedule=self.schedule,
            task=self.task,
            l1_applied=self.l1_applied,
            l1_accrued=self.l1_accrued,
            stop=self.stop,
            check_signals=threading.current_thread() is threading.main_thread(),
        )
        self.epoch_order = None
        n_updates, status = result["n_updates"], result["status"]
        if status == kernel.Status.INTERRUPTED:
            raise _Stopped
        if status != kernel.Status.OK:
            raise _divergence(self, number, status, result["failed_at"],
                              n_updates)
        self.t = result["t"]
        self.updates += n_updates
        problem.n_iter = number
        # Diverged yet finite (gradients are clipped): worth a warning.
        self.loss_ratio = result["final"] / max(result["reference"], 1.0)
        n_rows = max(self.order.shape[0], 1)
        sumloss = result["sumloss"]
        objective = sumloss / n_rows + penalty(settings, result["sq_norm"],
                                               result["l1_norm"])
        problem.losses.append(objective)
        score = None
        if settings.validation is not None:
            score = settings.validation.score(problem)
            problem.scores.append(score)
        if settings.verbose:
            _report(problem, self.updates, sumloss / n_rows, objective, score,
                    self.start)
        if self.stopping.no_improvement(objective, score):
            if settings.adaptive and self.schedule["eta0"] > 1e-6:
                self.schedule["eta0"] /= 5
                self.stopping.count = 0
            else:
                self.running = False
                if settings.verbose:
                    print(f"Convergence after {number} epochs took "
                          f"{time.perf_counter() - self.start:.2f} seconds")


def train(trainers, max_epochs, parallel=None, callbacks=None):
    """Run the trainers' epochs until each stops or ``max_epochs`` are done.

    Several problems (one-vs-rest) train in parallel threads (the kernel
    releases the GIL): each in one task for all its epochs, or, when
    callbacks must see the whole model after every epoch (and may stop
    training), all in lockstep, one task per problem and epoch.  Every
    problem keeps its own row order and stopping rule, so neither changes a
    result.

    Whatever interrupts the call (KeyboardInterrupt, which the kernel
    raises within 50 ms on the main thread, or an error in one task) stops
    the other tasks' kernels within a fraction of a millisecond of work,
    and they have all returned before it propagates."""
    if parallel is None or len(trainers) == 1:
        # One thread: nothing else to stop (Ctrl-C is the kernel's own check).
        return _train(trainers, max_epochs, None, callbacks, None)
    workers = _Workers(trainers)
    try:
        return _train(trainers, max_epochs, parallel, callbacks, workers.run)
    except BaseException:
        workers.stop()
        raise


def _train(trainers, max_epochs, parallel, callbacks, run):
    if callbacks is None and parallel is not None and len(trainers) > 1:
        parallel(delayed(run)(_run_all, trainer, max_epochs)
                 for trainer in trainers)
        return max(trainer.t for trainer in trainers)
    for _ in range(max_epochs):
        active = [trainer for trainer in trainers if trainer.running]
        if not active:
            break
        if callbacks is not None:
            callbacks.begin_epoch(max(trainer.t for trainer in trainers))
        if parallel is None or len(active) == 1:
            for trainer in active:
                trainer.epoch()
        else:
            parallel(delayed(run)(trainer.epoch) for trainer in active)
        if callbacks is not None and callbacks.end_epoch(
                max(trainer.t for trainer in trainers)):
            break
    return max(trainer.t for trainer in trainers)


class _Stopped(Exception):
    """An epoch returned early because train() asked its tasks to stop."""


# The stop flag of a trainer that runs alone: never set (read-only).
_NEVER = np.zeros(1, dtype=np.intc)
_NEVER.flags.writeable = False


class _Workers:
    """The parallel tasks of one train() call: a stop flag that their
    kernels read, and how many of them are running."""

    def __init__(self, trainers):
        self.flag = np.zeros(1, dtype=np.intc)
        for trainer in trainers:
            trainer.stop = self.flag
        self.changed = threading.Condition()
        self.running = 0

    def run(self, function, *args):
        """Run one task, unless the call is being stopped."""
        with self.changed:
            if self.flag[0]:
                return
            self.running += 1
        try:
            function(*args)
        except _Stopped:
            pass
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify_all()

    def stop(self):
        """Stop every task and wait until none is running."""
        with self.changed:
            self.flag[0] = 1
            while self.running:
                self.changed.wait()


def _run_all(trainer, max_epochs):
    for _ in range(max_epochs):
        if not trainer.running:
            break
        trainer.epoch()


class _Stopping:
    """scikit-learn's rule: stop after ``n_iter_no_change`` epochs in a row
    without an improvement of at least ``tol`` in the training objective, or
    in the validation score when early stopping."""

    def __init__(self, settings):
        self.tol = settings.tol
        self.patience = settings.n_iter_no_change
        self.count = 0
        self.best_objective = np.inf
        self.best_score = -np.inf

    def no_improvement(self, objective, score):
        if score is not None:
            worse = self.tol > -np.inf and score < self.best_score + self.tol
            self.best_score = max(self.best_score, score)
        else:
            worse = self.tol > -np.inf and objective > self.best_objective - self.tol
            self.best_objective = min(self.best_objective, objective)
        self.count = self.count + 1 if worse else 0
        return self.count >= self.patience


def _report(problem, n_updates, avg_loss, objective, score, start):
    coef = problem.coef
    line = (
        f"Norm: {np.linalg.norm(coef):.2f}, NNZs: {np.count_nonzero(coef)}, "
        f"Bias: {problem.intercept[0]:.6f}, T: {n_updates}, "
        f"Avg. loss: {avg_loss:.6f}, Objective: {objective:.6f}"
    )
    if score is not None:
        line += f", Validation score: {score:.6f}"
    print(line)
    print(f"Total training time: {time.perf_counter() - start:.2f} seconds.")


def _divergence(trainer, epoch, status, failed_at, n_updates):
    update = trainer.t + failed_at
    eta = py_eta(trainer.schedule, float(update))
    if status == kernel.Status.OVERFLOWED:
        message = (
            f"Floating-point overflow occurred at epoch #{epoch}: the gradients "
            "are so large (over about 1e154 in float64, 1e19 in float32) that "
            "the adaptive optimizer's squared-gradient state overflowed to "
            "infinity, which makes its steps zero: the model would stay "
            "untrained. Scale the input data with StandardScaler or "
            "MaxAbsScaler, or scale the sample weights down. The estimator was "
            "left as it was before this call."
        )
        return DivergenceError(message, epoch=epoch, update=int(update),
                               learning_rate=eta)
    if status == kernel.Status.EXPLODED:
        what = ("the loss exploded (to over 1e30 times the loss of an all-zero "
                "model)")
    elif failed_at >= n_updates > 0:
        what = "the weights became non-finite"
    else:
        what = "the loss became non-finite"
    message = (
        f"Floating-point under-/overflow occurred at epoch #{epoch}: training "
        f"diverged, {what} at update t={update:.0f} (learning rate {eta:.4g}). "
        f"{explain(trainer, trainer.t, update)} "
        "The estimator was left as it was before this call."
    )
    return DivergenceError(message, epoch=epoch, update=int(update),
                           learning_rate=eta)
