"""Parameter and attribute documentation: one text per parameter, and each
estimator's Parameters section from one explicit list of names."""

from sgdlearn._optim_table import OPTIMIZERS


def _optimizer_text():
    names = ", ".join(f"'{name}'" for name in OPTIMIZERS)
    rows = "\n".join(
        f"    - '{name}': {row.summary} ("
        + (f"torch's ``{row.torch}``" if not row.cls else
           f"``sgdlearn.optim.{row.cls}()``; {row.torch}") + ");"
        for name, row in OPTIMIZERS.items())
    return f"""optimizer : {{{names}}} or Optimizer, default='sgd'
    The update rule, following torch.optim exactly (see :ref:`algorithm`):

{rows}

    or an object of :mod:`sgdlearn.optim` (``Adam(beta_2=0.99)``,
    ``SGD(momentum=0.9, nesterov=True)``), which carries its own
    hyperparameters: with an object, the flat ``momentum``, ``beta_1``,
    ``beta_2``, ``eps``, ``rho`` and ``centered`` must stay at their
    defaults.  The learning rate of every optimizer is the schedule's
    ``eta_t`` (``lr`` in torch).  Changing the optimizer between calls (or
    ``centered``) starts its state afresh from the current weights."""


OPTIMIZER_TEXT = _optimizer_text()

PARAMETERS = {
    "penalty": """penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
    The regularization term. 'l2' is the squared norm (plain SGD and AdamW
    apply it as a multiplicative decay, the other optimizers add its
    gradient, as torch's ``weight_decay``); 'l1' and 'elasticnet' use
    cumulative truncation (Tsuruoka et al., 2009), which gives exact zeros.
    ``optimizer='ftrl'`` does not read it: FTRL's penalty is its own
    ``l1`` and ``l2`` (:class:`sgdlearn.optim.FTRL`), and ``penalty``,
    ``alpha`` and ``l1_ratio`` must stay at their defaults.
    ``optimizer='cocob'`` takes 'l2' (added to the gradient) or None: an
    L1 share is an error.  The schedule-free optimizers take 'l2'
    (schedulefree's ``weight_decay``, at y) or None only.""",
    "alpha": """alpha : float, default=0.0001
    Regularization strength. Also sets the 'optimal' learning rate.""",
    "l1_ratio": """l1_ratio : float in [0, 1] or None, default=0.15
    Elastic-net mixing: 0 is pure L2, 1 pure L1. Used only with
    ``penalty='elasticnet'``.""",
    "fit_intercept": """fit_intercept : bool, default=True
    Whether to fit an intercept. It is never penalized.""",
    "max_iter": """max_iter : int, default=1000
    Maximum number of epochs (passes over the training data) of ``fit``.
    ``partial_fit`` always makes one epoch.""",
    "tol": """tol : float or None, default=1e-3
    Stopping criterion: training stops after ``n_iter_no_change`` epochs in
    a row whose objective is not at least ``tol`` below the best so far (or,
    with ``early_stopping``, whose validation score is not ``tol`` above the
    best). None disables it: ``fit`` runs ``max_iter`` epochs.""",
    "shuffle": """shuffle : bool or 'local', default=True
    Whether to visit the rows in a fresh random order every epoch. Unlike
    scikit-learn, which reuses one seed and so visits epoch k in order P^k,
    a new permutation is drawn each epoch. 'local' draws a new order every
    epoch too, but keeps the reads close in memory: blocks of about 4 KB of
    consecutive rows in a random order, the rows of each window of 256
    blocks (about 1 MB) permuted together. On data far larger than the
    caches (millions of rows) a full permutation makes every row a cache
    and TLB miss and costs up to twice as much per row; 'local' costs what
    row order costs, with the same objective after a few epochs even on
    rows sorted by label (``benchmarks/bench_shuffle.py``). On data that
    fits in the caches it changes nothing but the order.""",
    "verbose": """verbose : int, default=0
    Print the objective and the weights' norm after every epoch.""",
    "epsilon": """epsilon : float, default=0.1
    The margin of the 'huber', 'epsilon_insensitive' and
    'squared_epsilon_insensitive' losses. (The optimizers' stabilizer is
    ``eps``.)""",
    "n_jobs": """n_jobs : int, default=None
    Threads for one-vs-rest on more than two classes (one binary problem per
    class) and for the shards of ``n_shards``; every epoch of every problem
    or shard runs without the GIL. With both, the threads are shared by all
    (class, shard) tasks. None means 1 unless in a
    :func:`joblib.parallel_backend` context; -1 uses all processors.""",
    "n_shards": """n_shards : int or None, default=None
    Data-parallel training of one model in threads (see
    :ref:`scale-all-cores`): the training rows are split into ``n_shards``
    contiguous ranges (X is not copied), a copy of the model trains on each
    (on ``n_jobs`` threads, without the GIL) and the copies are averaged
    every ``local_epochs`` epochs (weights, averaged weights, optimizer
    state), as :func:`sgdlearn.dask.fit_data_parallel` averages them. The
    same ``random_state``, data and ``n_shards`` give the same model
    whatever ``n_jobs``. Stopping rules and callbacks apply to the average;
    ``partial_fit`` averages at the end of every call. None (the default)
    trains on all rows in one thread per problem; 1 gives the same model.""",
    "local_epochs": """local_epochs : int, default=1
    With ``n_shards``: epochs each shard runs between two averages.""",
    "mixing": """mixing : {'iterative', 'one_shot'}, default='iterative'
    With ``n_shards``: 'iterative' averages every ``local_epochs`` epochs
    (iterative parameter mixing); 'one_shot' trains every shard up to
    ``max_iter`` epochs (each stopping by ``tol`` on its own) and averages
    once at the end.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
    Seeds the row order of every epoch and the early-stopping split. Pass an
    int for reproducible results.""",
    "eta0": """eta0 : float, default=0.01
    The base learning rate: the rate of the 'constant', 'invscaling',
    'adaptive', 'step', 'exponential' and 'cosine' schedules, the cap of
    'pa1' and the scale of 'pa2'. It is the ``lr`` of every optimizer:
    with ``optimizer='adam'`` and no ``eta0`` a user gets 0.01, ten times
    torch's default of 1e-3, which suits linear models on standardized
    features.  ``optimizer='cocob'`` has no learning rate: ``eta0``, the
    schedule and its parameters must stay at their defaults.""",
    "power_t": """power_t : float, default={power_t}
    The exponent of the 'invscaling' schedule (string schedules only).""",
    "early_stopping": """early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the training data and stop when its
    score (accuracy or R^2) stops improving. Not available in
    ``partial_fit``.""",
    "validation_fraction": """validation_fraction : float in (0, 1), default=0.1
    The share of the training data held out for early stopping.""",
    "n_iter_no_change": """n_iter_no_change : int, default=5
    Epochs without improvement to wait before stopping (or, with
    ``learning_rate='adaptive'``, before dividing the rate by 5).""",
    "warm_start": """warm_start : bool, default=False
    Start ``fit`` from the previous solution: its weights and its optimizer
    state (moments, step count). The schedule restarts (``t_`` is reset to
    1), as in scikit-learn. ``coef_init``/``intercept_init`` take
    precedence over the previous weights.""",
    "average": """average : bool or int, default=False
    Averaged SGD (Polyak-Ruppert, with Bottou's O(non-zeros) updates): when
    True, ``coef_`` is the average of the weights of every update; an int k
    starts averaging at update k. Works with every optimizer but the
    schedule-free ones, whose ``coef_`` already is an average (an error).""",
    "optimizer": OPTIMIZER_TEXT,
    "batch_size": """batch_size : int, 'full' or None, default=1
    Rows per update. 1 is per-sample SGD (scikit-learn's behaviour); k
    averages the gradient over k rows (the last batch of an epoch may be
    shorter); 'full' or None makes the whole training set one batch (batch
    gradient descent). The penalty is applied once per update.""",
    "momentum": """momentum : float in [0, 1), default=0.9
    Momentum factor of 'momentum' and 'nesterov' (torch's ``momentum``).
    String optimizers only: an object carries its own.""",
    "beta_1": """beta_1 : float in [0, 1), default=0.9
    Decay of the first-moment estimate of 'adam', 'amsgrad' and 'adamw'.
    String optimizers only: an object carries its own.""",
    "beta_2": """beta_2 : float in [0, 1), default=0.999
    Decay of the second-moment estimate of 'adam', 'amsgrad' and 'adamw'.
    String optimizers only: an object carries its own.""",
    "eps": """eps : float, default=1e-8
    Stabilizer added to the denominator of 'adagrad' (torch uses 1e-10
    there), 'rmsprop', 'adam', 'amsgrad' and 'adamw', after the square root
    and, for Adam, after bias correction, as in torch. String optimizers
    only: an object carries its own.""",
    "rho": """rho : float in [0, 1), default=0.99
    Smoothing constant of 'rmsprop' (torch's ``alpha``; ``alpha`` here is the
    regularization strength). String optimizers only.""",
    "centered": """centered : bool, default=False
    'rmsprop' only: normalize by the estimated variance of the gradient
    rather than its second moment (Graves, 2013). String optimizers only;
    changing it restarts the optimizer state on a warm start.""",
    "decay_steps": """decay_steps : int, default=1000
    Updates per decay period: 'step' multiplies the rate by ``decay_rate``
    every ``decay_steps`` updates, 'exponential' by ``decay_rate`` per
    ``decay_steps`` updates continuously, 'cosine' anneals from ``eta0`` to
    ``eta_min`` over ``decay_steps`` updates and restarts. String
    schedules only: a schedule object carries its own.""",
    "decay_rate": """decay_rate : float, default=0.1
    The factor of the 'step' and 'exponential' schedules (string schedules
    only).""",
    "eta_min": """eta_min : float, default=0.0
    The lowest rate of the 'cosine' schedule (string schedules only).""",
    "warmup_steps": """warmup_steps : int, default=0
    Linear warmup: the rate of update t is multiplied by t / warmup_steps
    while t < warmup_steps. Combines with every schedule.""",
    "intercept_decay": """intercept_decay : float or 'auto', default='auto'
    Multiplies every step of the intercept. 'auto' is scikit-learn's
    choice: 0.01 on sparse input (where each coefficient is updated rarely
    but the intercept at every sample) and 1 on dense input. Set 1.0 to
    make sparse and dense input give the same model.""",
}

LEARNING_RATE = """learning_rate : str or Schedule, default='{default}'
    The schedule of the learning rate ``eta_t`` of update t, a name or an
    object of :mod:`sgdlearn.schedules` (``Step(decay_steps=500)``: its
    parameters then come from the object, not from ``power_t``,
    ``decay_steps``, ``decay_rate`` or ``eta_min``):

    - 'constant': ``eta0``;
    - 'optimal': ``1 / (alpha * (t0 + t - 1))`` with Bottou's ``t0``, for
      ``optimizer='sgd'`` (as scikit-learn). For every other optimizer
      'optimal' keeps this 1/t shape but starts at ``eta0``:
      ``eta0 * t0 / (t0 + t - 1)``, since an adaptive optimizer's step is
      not the gradient's scale;
    - 'invscaling': ``eta0 / t ** power_t``;
    - 'adaptive': ``eta0``, divided by 5 each time ``n_iter_no_change``
      epochs fail to improve by ``tol``;
    - 'pa1', 'pa2': passive-aggressive steps (plain SGD, ``batch_size=1``);
    - 'step', 'exponential', 'cosine': decay ``eta0`` every update (see
      ``decay_steps``), as torch's StepLR, ExponentialLR and
      CosineAnnealingWarmRestarts.

    torch's LinearLR, PolynomialLR, OneCycleLR, CyclicLR,
    CosineAnnealingWarmRestarts and SequentialLR are objects only, with
    ``eta0`` as their base (or maximum) rate; ``OneCycleLR()`` spans the
    whole ``fit`` (then ``tol`` does not stop it early), and OneCycleLR and
    CyclicLR cycle the optimizer's momentum or ``beta_1`` as torch's do.
    ``warmup_steps`` multiplies any of them during the first updates.
    Schedules count updates across ``partial_fit`` calls."""

ATTRIBUTES = """coef_ : ndarray of shape {coef_shape}
    Weights assigned to the features (the averaged weights once averaging
    has started).

intercept_ : ndarray of shape {intercept_shape}
    The intercept term.

n_iter_ : int
    Epochs run by the last ``fit`` (the maximum over one-vs-rest problems),
    or 1 after ``partial_fit``.

t_ : float
    Number of weight updates made since the last ``fit`` reset, plus one;
    the schedule's clock. With ``batch_size=1`` it is scikit-learn's
    ``n_iter_ * n_samples + 1``; with mini-batches it counts batches.

n_features_in_ : int
    Number of features seen during ``fit``.

feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during ``fit``, when X has string column names.

loss_curve_ : list of float
    The training objective of every epoch (mean loss plus penalty, see
    :ref:`algorithm`), the mean over one-vs-rest problems; ``partial_fit``
    appends one value per call, ``fit`` starts a new list.

best_loss_ : float or None
    The lowest value of ``loss_curve_``; None with ``early_stopping``.

validation_scores_ : list of float or None
    The score (accuracy or R^2) on the held-out data after every epoch
    with ``early_stopping``, else None.

best_validation_score_ : float or None
    The best of ``validation_scores_``, or None.

optimizer_state_ : dict
    The optimizer's per-coordinate state (torch's names, e.g. ``exp_avg``
    and ``exp_avg_sq`` for Adam) as arrays shaped like ``coef_``, those of
    the intercept under ``"intercept_" + name``, and ``step``, the number of
    updates this state has seen. Read-only views; empty names for 'sgd'."""

REFERENCES = """Bottou, L. (2012). Stochastic Gradient Descent Tricks. Neural Networks:
Tricks of the Trade, LNCS 7700, 421-436.

Kingma, D. P. and Ba, J. (2015). Adam: A Method for Stochastic
Optimization. ICLR. https://arxiv.org/abs/1412.6980

Loshchilov, I. and Hutter, F. (2019). Decoupled Weight Decay
Regularization. ICLR. https://arxiv.org/abs/1711.05101

Reddi, S. J., Kale, S. and Kumar, S. (2018). On the Convergence of Adam and
Beyond. ICLR.

Duchi, J., Hazan, E. and Singer, Y. (2011). Adaptive Subgradient Methods
for Online Learning and Stochastic Optimization. JMLR 12, 2121-2159.

Sutskever, I., Martens, J., Dahl, G. and Hinton, G. (2013). On the
importance of initialization and momentum in deep learning. ICML.

Tsuruoka, Y., Tsujii, J. and Ananiadou, S. (2009). Stochastic Gradient
Descent Training for L1-regularized Log-linear Models with Cumulative
Penalty. ACL."""


def fill(text, **values):
    """Substitute ``{name}`` placeholders (str.format would trip on the
    braces of set-valued parameter types)."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def indent(text, prefix="    "):
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def parameters(names, texts, **formats):
    """The Parameters section for ``names``, in that order: each text from
    ``texts`` (the estimator's own) or the shared table."""
    blocks = [texts.get(name) or (LEARNING_RATE if name == "learning_rate"
                                  else PARAMETERS[name]) for name in names]
    return fill("\n\n".join(blocks), **formats)
