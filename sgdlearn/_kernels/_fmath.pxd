# Math on the fused float type, shared by the optimizer loops.
from cython cimport floating
from libc.math cimport sqrt, sqrtf


cdef inline floating fsqrt(floating x) noexcept nogil:
    """The square root in x's own precision (sqrtf for float: no round trip
    through double)."""
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)
