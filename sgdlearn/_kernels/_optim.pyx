# Exposes OptimKind to Python and wraps one optimizer update for tests.
from cython cimport floating


def py_apply_update(Optim optim, double eta, floating[::1] w,
                    floating[:, ::1] state, const floating[::1] g,
                    double gscale, double l2, double vscale,
                    const int[::1] idx):
    """Apply one update in place to w and state (3, len(w)); returns the
    optimizer's step count after it.  An empty ``idx`` means dense."""
    cdef const int* ip = &idx[0] if idx.shape[0] else NULL
    cdef Py_ssize_t n = idx.shape[0] if idx.shape[0] else w.shape[0]
    optim.beta1_pow = optim.beta1 ** optim.step
    optim.beta2_pow = optim.beta2 ** optim.step
    begin_update(&optim, eta)
    apply_update(&optim, l2, vscale, &w[0], &state[0, 0], &state[1, 0],
                 &state[2, 0], &g[0], gscale, ip, n)
    return optim.step
