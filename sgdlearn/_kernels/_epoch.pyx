# The epoch kernel, compiled for any CPU of the platform.
include "_epoch_impl.pxi"
