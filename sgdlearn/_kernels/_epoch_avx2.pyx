# The epoch kernel, compiled with AVX2 and FMA (see setup.py).
include "_epoch_impl.pxi"
