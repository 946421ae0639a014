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
