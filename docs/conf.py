"""Sphinx configuration for sgdlearn's documentation."""

import sgdlearn

project = "sgdlearn"
author = "The sgdlearn developers"
copyright = "2026, The sgdlearn developers"
release = sgdlearn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False
numpydoc_show_inherited_class_members = {
    "sgdlearn.GDClassifier": True,
    "sgdlearn.GDRegressor": True,
}
# Public API docstrings are checked at build time (-W turns these into errors).
numpydoc_validation_checks = {"GL08", "PR01", "PR02", "RT01", "SS01"}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.set_.*_request$",
    r"\.get_metadata_routing$",
    r"\.__sklearn_tags__$",
    r"\.densify$",
    r"\.sparsify$",
    r"\.set_params$",
    r"\.get_params$",
    r"\.score$",
    r"\.decision_function$",
    r"\.predict$",
}
# No intersphinx: the documentation must build offline, without warnings.
# Methods inherited from scikit-learn's mixins (score) keep their docstrings,
# whose references to scikit-learn's user guide then render as plain text.
nitpicky = False
suppress_warnings = ["ref.ref"]

templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
