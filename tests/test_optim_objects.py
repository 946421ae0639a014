"""Optimizer and schedule objects, their precedence over the flat
parameters, and which state a changed optimizer continues from."""

import pickle
from dataclasses import replace

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sgdlearn import (
    DivergenceError,
    GDClassifier,
    GDRegressor,
    _optim_table,
    optim,
    schedules,
)
from sgdlearn._dask_mixing import mix
from sgdlearn._optim_table import Slot

from .conftest import (
    OPTIMIZER_NAMES,
    RATE_PARAMS,
    as_layout,
    assert_same_state,
    per_optimizer,
    snapshot,
    without_rate,
)


def _default_object(name):
    """The sgdlearn.optim object whose defaults are table row ``name``."""
    for cls in vars(optim).values():
        if (isinstance(cls, type) and issubclass(cls, optim.Optimizer)
                and cls is not optim.Optimizer and cls()._rule()[0] == name):
            return cls()
    raise AssertionError(f"no sgdlearn.optim class gives {name!r} by default")


# Each optimizer's string form with flat parameters, and its object form.
FORMS = per_optimizer({
    "sgd": (dict(optimizer="sgd"), optim.SGD()),
    "momentum": (dict(optimizer="momentum", momentum=0.8), optim.SGD(momentum=0.8)),
    "nesterov": (dict(optimizer="nesterov", momentum=0.7),
                 optim.SGD(momentum=0.7, nesterov=True)),
    "adagrad": (dict(optimizer="adagrad", eps=1e-6), optim.Adagrad(eps=1e-6)),
    "rmsprop": (dict(optimizer="rmsprop", rho=0.9), optim.RMSprop(rho=0.9)),
    "rmsprop_centered": (dict(optimizer="rmsprop", rho=0.95, centered=True),
                         optim.RMSprop(rho=0.95, centered=True)),
    "adam": (dict(optimizer="adam", beta_1=0.8, beta_2=0.99),
             optim.Adam(beta_1=0.8, beta_2=0.99)),
    "amsgrad": (dict(optimizer="amsgrad", beta_2=0.95, eps=1e-7),
                optim.Adam(beta_2=0.95, eps=1e-7, amsgrad=True)),
    "adamw": (dict(optimizer="adamw", beta_1=0.85), optim.AdamW(beta_1=0.85)),
}, default=lambda name: ({"optimizer": name}, _default_object(name)))

SCHEDULE_FORMS = {
    "constant": ({}, schedules.Constant()),
    "optimal": ({}, schedules.Optimal()),
    "invscaling": (dict(power_t=0.3), schedules.InvScaling(power_t=0.3)),
    "adaptive": ({}, schedules.Adaptive()),
    "step": (dict(decay_steps=7, decay_rate=0.5),
             schedules.Step(decay_steps=7, decay_rate=0.5)),
    "exponential": (dict(decay_steps=9, decay_rate=0.3),
                    schedules.Exponential(decay_steps=9, decay_rate=0.3)),
    "cosine": (dict(decay_steps=11, eta_min=1e-4),
               schedules.Cosine(decay_steps=11, eta_min=1e-4)),
}


def _state(model):
    arrays = {"coef": model.coef_, "intercept": model.intercept_}
    arrays.update({k: np.asarray(v) for k, v in model.optimizer_state_.items()})
    return arrays


def _assert_same_model(a, b):
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for name in sa:
        np.testing.assert_array_equal(sa[name], sb[name], err_msg=name)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("case", sorted(FORMS))
def test_object_form_is_the_string_form(breast_cancer, case, layout):
    X, y = breast_cancer
    X = as_layout(X[:200], layout)
    y = y[:200]
    flat, obj = FORMS[case]
    common = dict(loss="log_loss", eta0=0.01, max_iter=3, tol=None, batch_size=4,
                  random_state=0, learning_rate="constant")
    by_string = GDClassifier(**without_rate({**common, **flat})).fit(
        X, y).partial_fit(X[:50], y[:50])
    by_object = GDClassifier(**without_rate({**common, "optimizer": obj}))
    by_object.fit(X, y)
    by_object.partial_fit(X[:50], y[:50])
    _assert_same_model(by_string, by_object)


@pytest.mark.parametrize("name", sorted(SCHEDULE_FORMS))
def test_schedule_object_is_the_string_form(diabetes, name):
    X, y = diabetes
    flat, obj = SCHEDULE_FORMS[name]
    common = dict(optimizer="momentum", eta0=0.01, max_iter=4, tol=None,
                  random_state=0, warmup_steps=5)
    by_string = GDRegressor(**common, learning_rate=name, **flat).fit(X, y)
    by_object = GDRegressor(**common, learning_rate=obj).fit(X, y)
    _assert_same_model(by_string, by_object)


def test_every_table_row_has_an_object():
    reached = {obj._rule()[0] for _, obj in FORMS.values()}
    assert reached == set(OPTIMIZER_NAMES)


def test_grid_search_tunes_the_objects_parameters(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), GDClassifier(
        loss="log_loss", optimizer=optim.Adam(), learning_rate="constant",
        max_iter=3, tol=None, random_state=0))
    assert "gdclassifier__optimizer__beta_2" in pipe.get_params()
    search = GridSearchCV(pipe, {"gdclassifier__optimizer__beta_2": [0.9, 0.999],
                                 "gdclassifier__eta0": [1e-3, 1e-2]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["gdclassifier__optimizer__beta_2"] in (0.9, 0.999)
    search = GridSearchCV(pipe, {"gdclassifier__optimizer": [
        optim.Adam(), optim.SGD(momentum=0.9)]}, cv=2).fit(X, y)
    chosen = search.best_estimator_[-1].optimizer
    assert isinstance(chosen, optim.Adam | optim.SGD)
    # clone copies the object, never shares it
    model = GDClassifier(optimizer=optim.Adam(beta_2=0.99))
    twin = clone(model)
    assert twin.optimizer is not model.optimizer
    assert twin.optimizer == model.optimizer


def test_objects_pickle_and_resume(digits):
    X, y = digits
    model = GDClassifier(loss="log_loss", optimizer=optim.RMSprop(centered=True),
                         learning_rate=schedules.Step(decay_steps=50),
                         eta0=0.01, random_state=0).partial_fit(X, y, np.unique(y))
    twin = pickle.loads(pickle.dumps(model))
    model.partial_fit(X, y)
    twin.partial_fit(X, y)
    _assert_same_model(model, twin)


@pytest.mark.parametrize(("params", "message"), [
    (dict(optimizer=optim.Adam(), beta_1=0.8),
     r"beta_1=0.8 is set on GDClassifier, but optimizer=Adam\(\) is an object"),
    (dict(optimizer=optim.SGD(momentum=0.5), momentum=0.5),
     "momentum=0.5 is set on GDClassifier"),
    (dict(learning_rate=schedules.Step(), decay_rate=0.5),
     "decay_rate=0.5 is set on GDClassifier, but learning_rate=Step"),
    (dict(optimizer=optim.Adam(beta_2=1.5)),
     r"The .beta_2. parameter of Adam must be a float in the range \[0.0, 1.0\)"),
    (dict(optimizer=optim.SGD(nesterov=True)), "needs a momentum > 0"),
    (dict(optimizer=optim.RMSprop(centered="yes")),
     "The 'centered' parameter of RMSprop must be"),
    (dict(learning_rate=schedules.Cosine(decay_steps=0)),
     "The 'decay_steps' parameter of Cosine must be"),
    (dict(optimizer=optim.Adam, eta0=0.1), "The 'optimizer' parameter"),
])
def test_bad_objects_raise_before_any_change(breast_cancer, params, message):
    X, y = breast_cancer
    model = GDClassifier(random_state=0, max_iter=2, tol=None).fit(X, y)
    model.set_params(**params)
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X, y)
    assert_same_state(model, before)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert_same_state(model, before)


def test_set_params_on_the_object_is_seen_by_partial_fit(breast_cancer):
    X, y = breast_cancer
    model = GDClassifier(optimizer=optim.Adam(), random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    model.set_params(optimizer__beta_2=2.0)  # in place, on the same object
    with pytest.raises(ValueError, match="'beta_2' parameter of Adam"):
        model.partial_fit(X, y)


# ----------------------------------------------------------------------------
# A changed optimizer starts its state afresh from the current weights.
def _switch(model, first, second):
    """set_params from the first form to the second, the first's flat
    parameters back at their defaults."""
    defaults = GDClassifier().get_params()
    model.set_params(**{name: defaults[name] for name in FORMS[first][0]})
    model.set_params(**FORMS[second][0])


PAIRS = [(a, b) for a in sorted(FORMS) for b in sorted(FORMS) if a != b]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_changed_optimizer_starts_afresh(breast_cancer, first, second):
    X, y = breast_cancer
    common = dict(loss="log_loss", eta0=0.01, learning_rate="constant",
                  max_iter=2, tol=None, random_state=0, warm_start=True)
    model = GDClassifier(**without_rate({**common, **FORMS[first][0]}))
    model.fit(X, y)
    coef, intercept = model.coef_.copy(), model.intercept_.copy()
    _switch(model, first, second)
    # The rate's parameters as the second optimizer takes them (none for
    # COCOB).
    defaults = GDClassifier().get_params()
    second_params = without_rate({**common, **FORMS[second][0]})
    model.set_params(**{k: second_params.get(k, defaults[k])
                        for k in RATE_PARAMS})
    model.fit(X, y)
    cold = GDClassifier(**{**second_params, "warm_start": False})
    cold.fit(X, y, coef_init=coef, intercept_init=intercept)
    _assert_same_model(model, cold)


@pytest.mark.parametrize("second", sorted(FORMS))
def test_partial_fit_after_a_change_restarts_the_step_count(breast_cancer, second):
    X, y = breast_cancer
    model = GDClassifier(loss="log_loss", optimizer="adam", eta0=0.01,
                         random_state=0).partial_fit(X, y, classes=[0, 1])
    model.set_params(**FORMS[second][0])
    model.partial_fit(X, y)  # no DivergenceError from a misread state
    expected = 2 * len(y) if second == "adam" else len(y)
    assert model.optimizer_state_["step"] == expected
    assert np.all(np.isfinite(model.coef_))


def test_same_optimizer_with_other_betas_continues(breast_cancer):
    X, y = breast_cancer
    model = GDClassifier(loss="log_loss", optimizer=optim.Adam(), eta0=0.01,
                         random_state=0).partial_fit(X, y, classes=[0, 1])
    model.set_params(optimizer__beta_2=0.99).partial_fit(X, y)
    assert model.optimizer_state_["step"] == 2 * len(y)


def test_every_pair_keeps_training_after_the_change(breast_cancer):
    """The issue's failure: momentum -> adagrad read the momentum buffer as
    a sum of squares and raised DivergenceError on every later call."""
    X, y = breast_cancer
    for first, second in [("momentum", "adagrad"), ("momentum", "rmsprop"),
                          ("adam", "rmsprop_centered")]:
        model = GDClassifier(loss="log_loss", eta0=0.01, random_state=0,
                             **FORMS[first][0]).partial_fit(X, y, classes=[0, 1])
        _switch(model, first, second)
        try:
            model.partial_fit(X, y).partial_fit(X, y)
        except DivergenceError as error:  # pragma: no cover - the old bug
            pytest.fail(f"{first} -> {second}: {error}")


# ----------------------------------------------------------------------------
# Mixing reads each slot's rule from the table.
@pytest.mark.parametrize("mixing", ["max", "sum"])
def test_mixing_follows_the_table(breast_cancer, monkeypatch, mixing):
    X, y = breast_cancer
    row = _optim_table.OPTIMIZERS["adagrad"]
    monkeypatch.setitem(_optim_table.OPTIMIZERS, "adagrad",
                        replace(row, slots=(Slot("sum", mixing=mixing),)))
    models = [GDClassifier(optimizer="adagrad", random_state=seed).partial_fit(
        X[part], y[part], classes=[0, 1])
        for seed, part in enumerate((slice(0, 300), slice(300, None)))]
    mixed = mix(models, [0.5, 0.5])
    reduce = np.maximum if mixing == "max" else np.add
    np.testing.assert_array_equal(
        mixed._coef_state, reduce(models[0]._coef_state, models[1]._coef_state))


def test_the_docs_table_lists_every_optimizer():
    """docs/guide/optimizers.rst's table is the one other place that names
    every optimizer: it must not fall behind the table."""
    import re
    from pathlib import Path

    page = Path(__file__).parents[1] / "docs" / "guide" / "optimizers.rst"
    text = page.read_text()
    table = text[text.index(".. _optimizer_table:"):text.index(
        ".. _optimizer_objects:")]
    listed = re.findall(r'^   \* - ``"(\w+)"``$', table, flags=re.M)
    assert listed == list(OPTIMIZER_NAMES)


def test_a_rows_default_rate_applies_only_to_defaults(breast_cancer, monkeypatch):
    """A table row may give its own eta0 and schedule for users who leave
    the estimator's (plain-SGD) defaults; a value the user sets wins."""
    X, y = breast_cancer
    row = _optim_table.OPTIMIZERS["adagrad"]
    params = dict(loss="log_loss", optimizer="adagrad", max_iter=3, tol=None,
                  random_state=0)
    explicit = GDClassifier(**params, eta0=0.5, learning_rate="constant").fit(X, y)
    monkeypatch.setitem(_optim_table.OPTIMIZERS, "adagrad", replace(
        row, default_eta0=0.5, default_schedule="constant"))
    by_default = GDClassifier(**params).fit(X, y)
    _assert_same_model(by_default, explicit)
    chosen = GDClassifier(**params, eta0=0.05, learning_rate="constant").fit(X, y)
    other = GDClassifier(**params, eta0=0.05, learning_rate="invscaling").fit(X, y)
    assert not np.array_equal(chosen.coef_, by_default.coef_)
    assert not np.array_equal(other.coef_, chosen.coef_)


def test_per_optimizer_never_skips_an_optimizer(monkeypatch):
    from . import conftest

    monkeypatch.setitem(conftest.OPTIMIZER_TABLE, "newrule",
                        _optim_table.OPTIMIZERS["adam"])
    with pytest.raises(AssertionError, match="miss 'newrule'"):
        per_optimizer({name: 1 for name in OPTIMIZER_NAMES})
    cases = per_optimizer({"sgd": {"optimizer": "sgd", "eta0": 1}},
                          default=conftest.default_case(eta0=0.5))
    assert cases["newrule"] == {"optimizer": "newrule", "eta0": 0.5}
    assert set(cases) == set(conftest.OPTIMIZER_TABLE)


@pytest.mark.parametrize(("name", "flat"), [
    ("nadam", dict(beta_1=0.8)), ("radam", dict(eps=1e-6)),
    ("adamax", dict(beta_2=0.99)), ("adadelta", dict(rho=0.95))])
def test_torch_rules_do_not_read_flat_parameters(breast_cancer, name, flat):
    """NAdam, RAdam, Adamax and Adadelta have their hyperparameters on their
    objects only: a flat one set beside the string is an error naming the
    object to use, raised before the model changes."""
    X, y = breast_cancer
    model = GDClassifier(optimizer=name, random_state=0).partial_fit(
        X, y, classes=[0, 1])
    ((key, value),) = flat.items()
    cls = type(_default_object(name)).__name__
    model.set_params(**flat)
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"optimizer={cls}\({key}={value!r}\)"):
        model.partial_fit(X, y)
    assert_same_state(model, before)
    obj = _default_object(name).set_params(**flat)
    model.set_params(optimizer=obj, **{key: GDClassifier().get_params()[key]})
    model.partial_fit(X, y)  # the object form is accepted


def test_adadelta_defaults_are_torchs(breast_cancer):
    """Left at the estimator's defaults, Adadelta runs at torch's lr=1.0,
    constant; its rho and eps are torch's 0.9 and 1e-6."""
    from sgdlearn._kernel_args import optim_params, schedule_params
    from sgdlearn._resolve import resolve_optimizer

    for Est in (GDClassifier, GDRegressor):
        model = Est(optimizer="adadelta")
        resolved = resolve_optimizer(model)
        schedule, name = schedule_params(model, resolved)
        assert (schedule["eta0"], name) == (1.0, "constant")
        params = optim_params(resolved, 0.0)
        assert (params["rho"], params["eps"]) == (0.9, 1e-6)
        schedule, name = schedule_params(model.set_params(
            eta0=0.5, learning_rate="step"), resolved)
        assert (schedule["eta0"], name) == (0.5, "step")
    X, y = breast_cancer
    assert GDClassifier(optimizer="adadelta", random_state=0).fit(X, y).score(
        X, y) > 0.95
