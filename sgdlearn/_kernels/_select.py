"""Which build of the epoch kernel this machine runs.

The kernel is compiled twice from one source: ``_epoch`` for any CPU of the
platform, and on x86-64 ``_epoch_avx2`` with AVX2 and FMA, about 30-55%
faster for the adaptive optimizers.  The environment variable
``SGDLEARN_KERNEL`` ("auto", "baseline" or "avx2") overrides the choice.
"""

import os

from sgdlearn._kernels import _epoch as baseline

try:
    from sgdlearn._kernels import _epoch_avx2 as avx2
except ImportError:  # not built: another architecture
    avx2 = None


def cpu_has_avx2():
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # pragma: no cover - older or exotic numpy
        return False
    return bool(__cpu_features__.get("AVX2") and __cpu_features__.get("FMA3"))


def select(choice=None):
    """The kernel module for ``choice`` (default: $SGDLEARN_KERNEL or auto)."""
    choice = choice or os.environ.get("SGDLEARN_KERNEL", "auto")
    if choice not in ("auto", "baseline", "avx2"):
        raise ValueError(f"SGDLEARN_KERNEL must be 'auto', 'baseline' or 'avx2', "
                         f"got {choice!r}.")
    if choice == "avx2" and (avx2 is None or not cpu_has_avx2()):
        raise ValueError("SGDLEARN_KERNEL='avx2', but this build or CPU has no "
                         "AVX2/FMA kernel; use 'auto' or 'baseline'.")
    if choice == "baseline" or avx2 is None:
        return baseline
    return avx2 if choice == "avx2" or cpu_has_avx2() else baseline


kernel = select()
