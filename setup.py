"""Build the Cython kernels.

Environment switches:
  SGDLEARN_DEBUG_CYTHON=1  bounds/initialization checks on, -O0 -g
  SGDLEARN_ANNOTATE=1      write Cython's HTML annotation next to each .pyx
"""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("SGDLEARN_DEBUG_CYTHON", "0") != "0"
DIRECTIVES = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "nonecheck": False,
    "cdivision": True,
    "cpow": True,
    "embedsignature": True,
}
# -fno-math-errno lets gcc vectorize sqrt (Adam, RMSProp, AdaGrad loops).
CFLAGS = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-math-errno"]
MODULES = ["_epoch", "_loss", "_optim", "_schedule"]

extensions = [
    Extension(
        f"sgdlearn._kernels.{name}",
        [f"sgdlearn/_kernels/{name}.pyx"],
        extra_compile_args=CFLAGS,
    )
    for name in MODULES
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=DIRECTIVES,
        annotate=os.environ.get("SGDLEARN_ANNOTATE", "0") != "0",
    )
)
