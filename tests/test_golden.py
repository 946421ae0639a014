"""Golden models: refactors must not change a single bit of what is trained.

``tests/golden.npz`` holds, for every optimizer x batch mode x dense/CSR x
float32/float64 x problem, the fitted weights, intercepts and optimizer state
after ``fit`` (3 epochs) and one ``partial_fit``.  It was recorded on the
portable kernel build (``SGDLEARN_KERNEL=baseline``), where the test demands
bit-identical arrays; the AVX2 + FMA build is held to FMA rounding.

A change that alters results on purpose (a fixed rule) re-records them, in
a commit that says which cases changed and why::

    SGDLEARN_KERNEL=baseline SGDLEARN_RECORD_GOLDEN=1 \
        python -m pytest tests/test_golden.py -k record

A new optimizer's cases alone are added, leaving every recorded array as it
is, with ``SGDLEARN_RECORD_GOLDEN=missing``.
"""

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from sgdlearn import GDClassifier, GDRegressor
from sgdlearn._kernels._select import baseline, kernel

from .conftest import NO_L1, OPTIMIZER_CASES, OWN_AVERAGE, OWN_PENALTY, without_rate

GOLDEN = Path(__file__).with_name("golden.npz")

OPTIMIZERS = OPTIMIZER_CASES
BATCHES = {"per_sample": 1, "batch4": 4, "full": "full"}
LAYOUTS = ("dense", "csr")
DTYPES = {"float64": np.float64, "float32": np.float32}
# problem id -> (estimator, parameters, target kind)
PROBLEMS = {
    "binary_log": (GDClassifier, dict(loss="log_loss"), "binary"),
    "ovr_hinge": (GDClassifier, dict(loss="hinge"), "three"),
    "multinomial": (GDClassifier, dict(loss="log_loss", multi_class="multinomial"),
                    "three"),
    "multioutput_huber": (GDRegressor, dict(loss="huber", epsilon=0.5), "two"),
    "elasticnet_avg": (GDClassifier,
                       dict(loss="modified_huber", penalty="elasticnet",
                            l1_ratio=0.4, alpha=0.01, average=5,
                            learning_rate="invscaling", power_t=0.3,
                            warmup_steps=7), "binary"),
    "step_schedule": (GDRegressor,
                      dict(loss="squared_error", learning_rate="step",
                           decay_steps=9, decay_rate=0.7, sample_weight=True),
                      "one"),
}



def _data(kind, layout, dtype):
    rng = np.random.default_rng(42)
    n, d = 48, 10
    X = rng.normal(0.0, 0.8, (n, d))
    X[rng.random((n, d)) < 0.6] = 0.0
    coef = rng.normal(size=(d, 2))
    scores = X @ coef + 0.2 * rng.normal(size=(n, 2))
    y = {"binary": (scores[:, 0] > 0).astype(int),
         "three": np.digitize(scores[:, 0], [-0.5, 0.5]),
         "two": scores,
         "one": scores[:, 0]}[kind]
    X = X.astype(dtype)
    return (sp.csr_array(X) if layout == "csr" else X), y, rng.uniform(0.5, 2, n)


def _cases():
    for opt in OPTIMIZERS:
        for batch in BATCHES:
            for layout in LAYOUTS:
                for dtype in DTYPES:
                    for problem in PROBLEMS:
                        yield f"{problem}-{opt}-{batch}-{layout}-{dtype}"


_PENALTY_AND_SCHEDULE = ("alpha", "penalty", "l1_ratio", "learning_rate",
                         "power_t", "warmup_steps", "decay_steps", "decay_rate")


def _rule(case):
    optimizer = case["optimizer"]
    return optimizer if isinstance(optimizer, str) else (
        optimizer._validated_rule()[0])


def _train(case):
    problem, opt, batch, layout, dtype = case.split("-")
    Estimator, params, kind = PROBLEMS[problem]
    params = {"alpha": 1e-3, **params}
    weighted = params.pop("sample_weight", False)
    X, y, sw = _data(kind, layout, DTYPES[dtype])
    if _rule(OPTIMIZERS[opt]) in OWN_PENALTY:
        # FTRL: its own penalty, at a constant rate: the problem's penalty
        # and schedule do not apply (its averaging does).
        params = {key: value for key, value in params.items()
                  if key not in _PENALTY_AND_SCHEDULE}
    if _rule(OPTIMIZERS[opt]) in NO_L1 and params.get("penalty") == "elasticnet":
        params = {**params, "penalty": "l2"}  # COCOB: no L1 (an error)
        params.pop("l1_ratio")
    if _rule(OPTIMIZERS[opt]) in OWN_AVERAGE:
        # Schedule-free: its own average, L2 only (elasticnet_avg keeps its
        # alpha, loss and schedule).
        params = {key: value for key, value in params.items()
                  if key not in ("average", "penalty", "l1_ratio")}
    # The problem's schedule (step_schedule) wins over an optimizer case's;
    # COCOB has none (without_rate).
    model = Estimator(**without_rate({**OPTIMIZERS[opt], **params}),
                      batch_size=BATCHES[batch], max_iter=3, tol=None,
                      random_state=0)
    model.fit(X, y, sample_weight=sw if weighted else None)
    model.partial_fit(X[:20], y[:20])
    arrays = {"coef": model.coef_, "intercept": model.intercept_}
    for name, value in model.optimizer_state_.items():
        arrays[name] = np.asarray(value)
    return arrays


def record(missing_only=False):
    """Train every case and save its arrays; with ``missing_only``, keep the
    recorded arrays and add only the cases that have none (a new
    optimizer's), so that nothing recorded before can change."""
    arrays = {}
    if missing_only and GOLDEN.exists():
        with np.load(GOLDEN) as data:
            arrays = {key: data[key] for key in data.files}
    have = {key.split("/", 1)[0] for key in arrays}
    new = [case for case in _cases() if case not in have]
    for case in new:
        for name, value in _train(case).items():
            arrays[f"{case}/{name}"] = value
    np.savez_compressed(GOLDEN, **arrays)
    print(f"recorded {len(new)} cases, {len(arrays)} arrays in {GOLDEN}")


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize("case", list(_cases()))
def test_golden(case, golden):
    trained = _train(case)
    expected = {key.split("/", 1)[1]: value for key, value in golden.items()
                if key.split("/", 1)[0] == case}
    assert expected, f"no golden arrays for {case}: re-record"
    assert set(trained) == set(expected)
    for name, value in expected.items():
        got = trained[name]
        assert got.dtype == value.dtype and got.shape == value.shape, name
        if kernel is baseline:
            np.testing.assert_array_equal(got, value, err_msg=name)
        else:  # FMA contracts a*b+c with one rounding: a few ulps per update
            # float64 intercepts of a float32 model inherit float32 rounding
            rtol = 1e-4 if case.endswith("float32") else 1e-9
            scale = max(np.abs(value).max(initial=0.0), 1e-300)
            np.testing.assert_allclose(got, value, rtol=rtol, atol=rtol * scale,
                                       err_msg=name)


@pytest.mark.skipif(not os.environ.get("SGDLEARN_RECORD_GOLDEN"),
                    reason="records golden.npz only when asked to")
def test_record():
    if kernel is not baseline:
        pytest.fail("record on the portable build: SGDLEARN_KERNEL=baseline")
    record(missing_only=os.environ["SGDLEARN_RECORD_GOLDEN"] == "missing")
