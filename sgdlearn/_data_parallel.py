"""Data-parallel training of one problem in threads (``n_shards``).

The training rows are split into ``n_shards`` contiguous ranges of the row
order (no copy of X: each shard's trainer walks its own range through the
kernel's ``order`` argument).  Every problem (a binary, multinomial or
regression problem, or each one-vs-rest class) gets one copy of its state per
shard; the copies run ``local_epochs`` epochs each in the compiled kernel
without the GIL, on ``n_jobs`` threads shared by all (problem, shard) tasks,
and are then averaged into the problem's arrays by the mixture of
:mod:`sgdlearn._dask_mixing` (``leaf``/``reduce_pairwise``/``finalize``,
the same arrays-level code as :func:`sgdlearn.dask.fit_data_parallel`'s
tree): weights, averaged weights and optimizer state by the optimizer
table's rules, the clock carrying the updates of all shards, the loss curve
the shards' weighted mean.  Mixing weights are the shards' total sample
weights.

Each shard keeps its own row-order generator (shard 0 the problem's own, so
that one shard is today's training bit for bit) and its own schedule clock,
across rounds and ``partial_fit`` calls (``_shard_clocks``).  The mixture is
computed after every task of a round returned, in shard order: results do
not depend on thread timing.

Stopping (tol, early stopping on held-out rows, 'adaptive') is the
estimator's rule applied to the mixture after every round; callbacks see
one epoch event per round, after the mix.  With ``mixing='one_shot'`` (one
round of ``max_iter`` epochs) each shard stops by the training-objective
rule on its own, as in :func:`sgdlearn.dask.fit_data_parallel`.
"""

import dataclasses
from types import SimpleNamespace

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from sgdlearn._dask_mixing import (
    _context,
    finalize,
    leaf,
    mixing_weights,
    reduce_pairwise,
)
from sgdlearn._engine import (
    Problem,
    Trainer,
    _report,
    _Stopped,
    _Stopping,
    _Workers,
)
from sgdlearn._exceptions import DivergenceError
from sgdlearn._kernel_args import kernel_settings


def check_shards(estimator, n_train):
    """Validate ``n_shards`` against the rows that train (before anything
    trains); returns the number of shards."""
    n_shards = int(estimator.n_shards)
    if n_shards > n_train:
        raise ValueError(
            f"n_shards={n_shards} is more than the {n_train} training rows: "
            "every shard needs at least one row. Use fewer shards.")
    return n_shards


def shard_rngs(estimator, rngs, n_problems, n_shards):
    """The row-order generators of every (problem, shard): the problem's own
    for shard 0, then ``n_problems * (n_shards - 1)`` more drawn from
    ``random_state``, appended to the list (kept across ``partial_fit``
    calls as the problems' are).  Returns a new list."""
    from sklearn.utils import check_random_state

    need = n_problems * n_shards
    if len(rngs) >= need:
        return rngs
    seeds = check_random_state(estimator.random_state).randint(
        np.iinfo(np.int32).max, size=need)
    extra = [np.random.default_rng([int(seed), 1]) for seed in seeds[len(rngs):]]
    return list(rngs) + extra


def _copy(problem, rng):
    """A shard's own copy of a problem's arrays (same memory layout)."""
    return Problem(
        coef=problem.coef.copy(order="K"),
        intercept=problem.intercept.copy(),
        coef_state=problem.coef_state.copy(order="K"),
        intercept_state=problem.intercept_state.copy(),
        avg_coef=problem.avg_coef.copy(),
        avg_intercept=problem.avg_intercept.copy(),
        steps=problem.steps.copy(),
        counters=problem.counters.copy(),
        rng=rng,
        y=problem.y,
        y_stride=problem.y_stride,
        positive=problem.positive,
        sample_weight=problem.sample_weight,
    )


def _load(shard, problem):
    """Start a shard from the problem's (mixed) arrays."""
    for name in ("coef", "intercept", "coef_state", "intercept_state",
                 "avg_coef", "avg_intercept", "steps", "counters"):
        np.copyto(getattr(shard, name), getattr(problem, name))


def _as_model(problem, averaging, t_begin, t_end, curve):
    """The attributes ``leaf`` reads of a fitted copy, as views of a shard's
    arrays (the clock carries the shard's updates of this round)."""
    model = SimpleNamespace(
        _optimizer_steps=problem.steps,
        _coef_state=problem.coef_state,
        _intercept_state=problem.intercept_state,
        _optimizer_counters=problem.counters[None, :],
        t_=1.0 + (t_end - t_begin),
        loss_curve_=curve,
    )
    if averaging:
        model._standard_coef = problem.coef
        model._standard_intercept = problem.intercept
        model._average_coef = problem.avg_coef
        model._average_intercept = problem.avg_intercept
    else:
        model.coef_ = problem.coef
        model.intercept_ = problem.intercept
    return model


def _store(problem, state, averaging):
    """Write the mixture into the problem's arrays (in place)."""
    if averaging:
        pairs = (("coef", "_standard_coef"), ("intercept", "_standard_intercept"),
                 ("avg_coef", "_average_coef"),
                 ("avg_intercept", "_average_intercept"))
    else:
        pairs = (("coef", "coef_"), ("intercept", "intercept_"))
    pairs += (("coef_state", "_coef_state"),
              ("intercept_state", "_intercept_state"),
              ("steps", "_optimizer_steps"))
    for name, key in pairs:
        np.copyto(getattr(problem, name), state[key])
    np.copyto(problem.counters, state["_optimizer_counters"][0])


class _Shard:
    """One (problem, shard) task: its trainer and its rows."""

    def __init__(self, index, n_shards, trainer, lo, hi):
        self.index, self.n_shards = index, n_shards
        self.trainer = trainer
        self.lo, self.hi = lo, hi
        self.curve = []
        self.t_begin = trainer.t

    def run(self, n_epochs):
        self.curve = []
        self.t_begin = self.trainer.t
        start = len(self.trainer.problem.losses)
        try:
            for _ in range(n_epochs):
                if not self.trainer.running:  # its own rule ('one_shot')
                    break
                self.trainer.epoch()
        except DivergenceError as error:
            raise DivergenceError(
                f"Shard {self.index} of {self.n_shards} (training rows "
                f"{self.lo} to {self.hi - 1}) diverged: {error}",
                epoch=error.epoch, update=error.update,
                learning_rate=error.learning_rate) from error
        self.curve = self.trainer.problem.losses[start:]


def run_sharded(estimator, rows, order, problems, rngs, weights, settings,
                max_epochs, fit, t_start, callbacks):
    """Train ``problems`` data-parallel over ``estimator.n_shards`` shards;
    returns (t, the shards' trainers)."""
    n_shards = check_shards(estimator, order.shape[0])
    n_problems = len(problems)
    one_shot = estimator.mixing == "one_shot"
    per_round = max_epochs if one_shot else int(estimator.local_epochs)
    bounds = np.linspace(0, order.shape[0], n_shards + 1).astype(np.intp)
    orders = [np.ascontiguousarray(order[lo:hi])
              for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    if weights.shape[0]:
        totals = [float(np.sum(weights[o])) for o in orders]
    else:
        totals = [float(o.shape[0]) for o in orders]
    keep = [s for s in range(n_shards) if totals[s] > 0]
    mix_weights = mixing_weights([totals[s] for s in keep])
    clocks = getattr(estimator, "_shard_clocks", None)
    if fit or clocks is None or len(clocks) != n_shards:
        clocks = np.full(n_shards, float(t_start))
    # the shards' own settings: their number of rows (batch_size='full',
    # schedules spanning the fit), and no stopping rule of their own
    shard_settings = []
    for o in orders:
        own = kernel_settings(estimator, rows, o.shape[0], None,
                              fit_epochs=max_epochs if fit else None)
        if one_shot:  # each shard stops by the rule, as sgdlearn.dask
            shard_settings.append(dataclasses.replace(
                own, validation=None, verbose=0))
        else:
            shard_settings.append(dataclasses.replace(
                own, tol=-np.inf, validation=None, verbose=0, adaptive=False))
    context = _context(estimator)
    context["averaging"] = bool(estimator.average)
    tasks = []  # tasks[p][s]
    for p, problem in enumerate(problems):
        row = []
        for s in range(n_shards):
            rng = problem.rng if s == 0 else rngs[n_problems + p * (n_shards - 1)
                                                  + s - 1]
            trainer = Trainer(_copy(problem, rng), rows, orders[s],
                              shard_settings[s], float(clocks[s]))
            row.append(_Shard(s, n_shards, trainer, int(bounds[s]),
                              int(bounds[s + 1])))
        tasks.append(row)
    stopping = [_Stopping(settings) for _ in problems]
    running = [True] * n_problems
    mixed_t = [float(t_start)] * n_problems
    n_jobs = getattr(estimator, "n_jobs", None)
    threads = effective_n_jobs(n_jobs) > 1 and n_problems * n_shards > 1
    every = [task.trainer for row in tasks for task in row]
    workers = _Workers(every) if threads else None

    def run_round(parallel, active, n_epochs):
        for p in active:
            for task in tasks[p]:
                _load(task.trainer.problem, problems[p])
        jobs = [task for p in active for task in tasks[p]]
        if parallel is None:
            for task in jobs:
                task.run(n_epochs)
        else:
            parallel(delayed(workers.run)(task.run, n_epochs) for task in jobs)
            if workers.flag[0]:  # a task saw the stop flag
                raise _Stopped

    def mix_problem(p, n_epochs):
        problem, row = problems[p], tasks[p]
        partials = [leaf(_as_model(row[s].trainer.problem, context["averaging"],
                                   row[s].t_begin, row[s].trainer.t,
                                   row[s].curve), weight, context)
                    for s, weight in zip(keep, mix_weights, strict=True)]
        state = finalize(reduce_pairwise(partials))
        _store(problem, state, context["averaging"])
        mixed_t[p] += state["t_"] - 1.0
        curve = state["loss_curve_"]
        problem.losses.extend(curve)
        problem.n_iter += len(curve)  # the longest shard's epochs
        score = None
        if settings.validation is not None:
            score = settings.validation.score(problem)
            problem.scores.append(score)
        if settings.verbose:
            updates = sum(task.trainer.updates for task in row)
            _report(problem, updates, curve[-1], curve[-1], score,
                    row[0].trainer.start)
        values = curve[:-1] if score is None else []
        stop = any(stopping[p].no_improvement(v, None) for v in values)
        if not stop and stopping[p].no_improvement(curve[-1], score):
            stop = True
        if stop:
            if settings.adaptive and row[0].trainer.schedule["eta0"] > 1e-6:
                for task in row:
                    task.trainer.schedule["eta0"] /= 5
                stopping[p].count = 0
            else:
                running[p] = False

    def loop(parallel):
        done = 0
        while done < max_epochs:
            active = [p for p in range(n_problems) if running[p]]
            if not active:
                break
            n_epochs = min(per_round, max_epochs - done)
            if settings.verbose:
                print(f"-- Epochs {done + 1} to {done + n_epochs} "
                      f"on {n_shards} shards")
            if callbacks is not None:
                callbacks.begin_epoch(max(mixed_t))
            run_round(parallel, active, n_epochs)
            for p in active:
                mix_problem(p, n_epochs)
            done += n_epochs
            if callbacks is not None and callbacks.end_epoch(max(mixed_t)):
                break

    if not threads:
        loop(None)
    else:
        try:
            with Parallel(n_jobs=n_jobs, require="sharedmem") as parallel:
                loop(parallel)
        except BaseException:
            workers.stop()
            raise
    new_clocks = np.array([max(row[s].trainer.t for row in tasks)
                           for s in range(n_shards)])
    estimator._shard_clocks = new_clocks
    return max(mixed_t), every
