"""Shared fixtures: small real datasets, dense and CSR, float32 and float64."""

import importlib.util
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.preprocessing import StandardScaler


def _scaled(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def digits():
    return _scaled(load_digits)


@pytest.fixture(scope="session")
def breast_cancer():
    return _scaled(load_breast_cancer)


@pytest.fixture(scope="session")
def diabetes():
    X, y = _scaled(load_diabetes)
    return X, (y - y.mean()) / y.std()


@pytest.fixture(scope="session")
def wine():
    return _scaled(load_wine)


@pytest.fixture(params=["dense", "csr"])
def layout(request):
    return request.param


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return request.param


def as_layout(X, layout, dtype=np.float64):
    X = np.asarray(X, dtype=dtype)
    return sp.csr_array(X) if layout == "csr" else X


# Loopback only, random ports: without these an in-process cluster serves
# its dashboards on 0.0.0.0 (and dashboard_address=None still binds 8787).
LOOPBACK = {"dashboard_address": "127.0.0.1:0",
            "worker_dashboard_address": "127.0.0.1:0"}


@pytest.fixture(scope="module")
def cluster():
    """A two-worker in-process dask LocalCluster on loopback, per module."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                  processes=False, memory_limit=0,
                                  **LOOPBACK) as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    """A client of ``cluster``, closed after each test."""
    distributed = pytest.importorskip("distributed")
    with distributed.Client(cluster, timeout="30s") as client:
        yield client


def snapshot(estimator):
    """Every attribute of a fitted estimator, deep-copied, for comparing
    bit for bit with the state after a failed call."""
    return pickle.loads(pickle.dumps(estimator.__dict__))


def assert_same_state(estimator, before):
    """The estimator's attributes equal ``before`` exactly (arrays bit for
    bit, NaNs included)."""
    after = estimator.__dict__
    assert set(after) == set(before), set(after) ^ set(before)
    for name, value in before.items():
        if name == "_skl_callbacks":
            continue  # the user's callback objects, not the model's state
        _assert_identical(after[name], value, name)


def _assert_identical(a, b, name):
    if isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray), name
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), name
    elif isinstance(b, dict):
        assert a.keys() == b.keys(), name
        for key in b:
            _assert_identical(a[key], b[key], f"{name}[{key!r}]")
    elif isinstance(b, list | tuple):
        assert len(a) == len(b), name
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_identical(x, y, f"{name}[{i}]")
    elif isinstance(b, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state, name
    else:
        assert a == b or (a != a and b != b), name


def load_test_module(stem):
    """tests/<stem>.py, loaded by path (the tests are not a package) once,
    as the module ``sgdlearn_test<stem>``."""
    name = f"sgdlearn_test{stem}"
    if name not in sys.modules:
        path = Path(__file__).with_name(f"{stem}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def load_reference():
    """tests/_reference.py, the NumPy transcription of docs/algorithm.rst."""
    return load_test_module("_reference")


# ----------------------------------------------------------------------------
# The optimizer table drives the tests' parametrization: a new optimizer is
# picked up everywhere without editing a test file.
from sgdlearn._optim_table import OPTIMIZERS as OPTIMIZER_TABLE  # noqa: E402
from sgdlearn.optim import FTRL, Adadelta, Adamax, NAdam, RAdam  # noqa: E402

OPTIMIZER_NAMES = tuple(OPTIMIZER_TABLE)
# The optimizers whose sparse updates equal their dense ones exactly (the
# others are "lazy" on untouched coordinates, see the table's ``sparse``).
EXACT_ON_CSR = tuple(name for name, row in OPTIMIZER_TABLE.items()
                     if row.sparse == "exact")
# The optimizers whose penalty is their own (FTRL's l1, l2): they take the
# estimator's penalty=None (or its defaults) and no intercept_decay.
OWN_PENALTY = tuple(name for name, row in OPTIMIZER_TABLE.items()
                    if row.own_penalty)
# The optimizers without a learning rate (COCOB): eta0, learning_rate and
# the schedule's parameters are errors for them (RATE_PARAMS); and those
# that take no L1 penalty (an error too).
RATE_FREE = tuple(name for name, row in OPTIMIZER_TABLE.items()
                  if row.rate_free)
NO_L1 = tuple(name for name, row in OPTIMIZER_TABLE.items()
              if not row.l1_truncation)
RATE_PARAMS = ("eta0", "learning_rate", "power_t", "decay_steps",
               "decay_rate", "eta_min", "warmup_steps", "intercept_decay")


def rule_of(optimizer):
    """The table's name of an optimizer string or object."""
    return optimizer if isinstance(optimizer, str) else (
        optimizer._validated_rule()[0])


def without_rate(params):
    """Estimator parameters ``params`` less the rate's (RATE_PARAMS) when
    their optimizer has no learning rate; unchanged otherwise."""
    if rule_of(params.get("optimizer", "sgd")) not in RATE_FREE:
        return params
    return {k: v for k, v in params.items() if k not in RATE_PARAMS}


# The optimizers that publish their own average of their iterates
# (schedule-free): no ``average``, no L1; tests/_reference.py's Model does
# not run them (tests/test_schedulefree.py has their NumPy rule).
OWN_AVERAGE = tuple(name for name, row in OPTIMIZER_TABLE.items()
                    if row.own_average)


def per_optimizer(cases, default=None):
    """A test module's per-optimizer cases, covering every optimizer of the
    table.  Keys are optimizer names, or case ids whose value names its
    optimizer (``{"optimizer": name, ...}``).  An optimizer the module did
    not list gets ``default(name)``, so a new optimizer is tested everywhere
    with its defaults until someone tunes its cases; without a default, a
    missing optimizer fails the collection (never a silent skip)."""
    def optimizer_of(key, value):
        if not isinstance(value, dict):
            return key
        optimizer = value.get("optimizer", key)
        if isinstance(optimizer, str):
            return optimizer
        return optimizer._validated_rule()[0]

    cases = dict(cases)
    covered = {optimizer_of(key, value) for key, value in cases.items()}
    for name in OPTIMIZER_TABLE:
        if name not in covered:
            if default is None:
                raise AssertionError(
                    f"per-optimizer test cases miss {name!r}: add it, or give "
                    "per_optimizer a default")
            cases[name] = default(name)
    return cases


def default_case(**params):
    """per_optimizer's default for cases of estimator parameters: the
    optimizer with its default hyperparameters, and ``params``."""
    return lambda name: {"optimizer": name, **params}


# Case id -> estimator parameters of each optimizer, with eta0 chosen to
# train visibly but stably on small standardized data (the kernel tests and
# the golden models use them).
OPTIMIZER_CASES = per_optimizer({
    "sgd": dict(optimizer="sgd", eta0=0.05),
    "momentum": dict(optimizer="momentum", eta0=0.02, momentum=0.8),
    "nesterov": dict(optimizer="nesterov", eta0=0.02, momentum=0.85),
    "adagrad": dict(optimizer="adagrad", eta0=0.1, eps=1e-6),
    "rmsprop": dict(optimizer="rmsprop", eta0=0.01, rho=0.9),
    "rmsprop_centered": dict(optimizer="rmsprop", eta0=0.01, rho=0.95,
                             centered=True),
    "adam": dict(optimizer="adam", eta0=0.05, beta_1=0.8, beta_2=0.99),
    "amsgrad": dict(optimizer="amsgrad", eta0=0.05, beta_2=0.95),
    "adamw": dict(optimizer="adamw", eta0=0.05),
    "nadam": dict(optimizer=NAdam(beta_1=0.85, beta_2=0.99), eta0=0.02),
    "nadam_decoupled": dict(optimizer=NAdam(decoupled_weight_decay=True,
                                            momentum_decay=0.01), eta0=0.02),
    "radam": dict(optimizer=RAdam(beta_2=0.99), eta0=0.02),
    "radam_decoupled": dict(optimizer=RAdam(decoupled_weight_decay=True),
                            eta0=0.02),
    "adamax": dict(optimizer=Adamax(beta_1=0.8, beta_2=0.99), eta0=0.02),
    # learning_rate: the regressor's default (invscaling) would resolve to
    # Adadelta's own (constant), see resolve_rate.
    "adadelta": dict(optimizer=Adadelta(rho=0.95), eta0=1.0,
                     learning_rate="constant"),
    # FTRL runs at a constant rate only, with its own penalty (penalty=None
    # or the estimator's default).
    "ftrl": dict(optimizer="ftrl", eta0=0.2, learning_rate="constant"),
    "ftrl_l1_l2": dict(optimizer=FTRL(beta=0.5, l1=0.05, l2=0.1), eta0=0.3,
                       learning_rate="constant"),
    # COCOB has no learning rate: no eta0, no schedule.
    "cocob": dict(optimizer="cocob"),
    # Vowpal Wabbit's rule at its own rate (-l 0.5, constant: the
    # regressor's default invscaling would resolve to it, as Adadelta's).
    "normalized": dict(optimizer="normalized", eta0=0.5,
                       learning_rate="constant"),
}, default=default_case(eta0=0.05))
