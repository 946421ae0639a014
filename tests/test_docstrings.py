"""The Examples sections of the public docstrings run and print what they
show (the API reference renders them; a stale example misleads users)."""

import doctest
import importlib

import pytest

MODULES = ["sgdlearn._classifier", "sgdlearn._regressor", "sgdlearn._lr_finder",
           "sgdlearn.dask"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    if name == "sgdlearn.dask":
        pytest.importorskip("distributed")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def _documented_parameters(doc):
    """(name, default) of each entry of a numpydoc Parameters section."""
    import inspect
    import re

    doc = inspect.cleandoc(doc)
    section = doc.split("Parameters\n----------\n", 1)[1]
    section = re.split(r"\n[A-Z][a-z]+\n-+\n", section, maxsplit=1)[0]
    entries = re.findall(r"^(\w+) : ([^\n]*)$", section, flags=re.M)
    return [(name, re.search(r"default=(.+)$", spec).group(1) if "default="
             in spec else None) for name, spec in entries]


def _same_default(documented, default):
    import ast

    try:
        return ast.literal_eval(documented) == default
    except (ValueError, SyntaxError):
        return False


@pytest.mark.parametrize("name", ["GDClassifier", "GDRegressor"])
def test_parameters_section_matches_the_signature(name):
    """Every parameter of __init__ is documented, in order, with its default
    (a parameter added to the signature but not to the estimator's list of
    names, or a changed default, fails here)."""
    import inspect

    import sgdlearn

    estimator = getattr(sgdlearn, name)
    signature = inspect.signature(estimator.__init__).parameters
    expected = [(p.name, p.default) for p in signature.values()
                if p.name != "self"]
    documented = _documented_parameters(estimator.__doc__)
    assert [n for n, _ in documented] == [n for n, _ in expected]
    for (doc_name, doc_default), (_, default) in zip(documented, expected,
                                                     strict=True):
        assert doc_default is not None, doc_name
        assert _same_default(doc_default, default), (doc_name, doc_default,
                                                     default)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("name", ["GDClassifier", "GDRegressor"])
def test_fit_docstrings_match_their_signatures(name, method):
    import inspect

    import sgdlearn

    function = getattr(getattr(sgdlearn, name), method)
    expected = [p for p in inspect.signature(function).parameters.values()
                if p.name != "self"]
    documented = _documented_parameters(function.__doc__)
    assert [n for n, _ in documented] == [p.name for p in expected]
    for (doc_name, doc_default), parameter in zip(documented, expected,
                                                  strict=True):
        if parameter.default is not inspect.Parameter.empty:
            assert _same_default(doc_default, parameter.default), doc_name
