# The per-coordinate loops of torch.optim's NAdam, RAdam, Adamax and
# Adadelta (single-tensor code path, torch 2.13), called by apply_update in
# _optim.pxd with the update's scalars (derived there by begin_update).
#
# Each loop serves dense rows (idx == NULL, state stride ss == 1) and sparse
# rows (coordinates idx[:n], state of coordinate j at s0[j * ss]).
# apply_update calls them with literal NULL / 1 for dense rows, so the
# inlined dense copy has a unit stride and vectorizes.
#
# On sparse rows only the touched coordinates move ("lazy", as torch's
# SparseAdam): their moments and weights are updated with the global step
# count; the others keep theirs until touched.  Adadelta is the exception:
# an absent coordinate does not move in a dense run either, and its decaying
# averages are caught up in closed form (catch_up in _lazy.pxd).
from cython cimport floating
from libc.math cimport fabs

from sgdlearn._kernels._fmath cimport fsqrt


cdef inline void nadam_coords(floating* w, floating* m, floating* v,
                              Py_ssize_t ss, const floating* g, floating gs,
                              floating l2, const int* idx, Py_ssize_t n,
                              floating b1c, floating b2, floating b2c,
                              floating inv_bc2, floating cg, floating cm,
                              floating eps) noexcept nogil:
    """w -= (cg g + cm m) / (sqrt(v / (1 - b2^t)) + eps), with m and v
    Adam's moments; cg and cm carry the rate, NAdam's momentum schedule and
    mu_product."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj, d
    for jj in range(n):
        j = jj if idx == NULL else idx[jj]
        s = j * ss
        gj = gs * g[jj] + l2 * w[j]
        m[s] += b1c * (gj - m[s])
        v[s] = b2 * v[s] + b2c * gj * gj
        d = fsqrt(v[s] * inv_bc2) + eps
        w[j] -= (cg * gj + cm * m[s]) / d


cdef inline void radam_coords(floating* w, floating* m, floating* v,
                              Py_ssize_t ss, const floating* g, floating gs,
                              floating l2, const int* idx, Py_ssize_t n,
                              floating b1c, floating b2, floating b2c,
                              bint rectified, floating step,
                              floating eps) noexcept nogil:
    """Rectified: w -= step m / (sqrt(v) + eps), step = lr rect
    sqrt(1 - b2^t) / (1 - b1^t) (eps on the uncorrected root, as torch);
    otherwise w -= step m, step = lr / (1 - b1^t) (momentum SGD)."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj
    if rectified:
        for jj in range(n):
            j = jj if idx == NULL else idx[jj]
            s = j * ss
            gj = gs * g[jj] + l2 * w[j]
            m[s] += b1c * (gj - m[s])
            v[s] = b2 * v[s] + b2c * gj * gj
            w[j] -= step * m[s] / (fsqrt(v[s]) + eps)
    else:
        for jj in range(n):
            j = jj if idx == NULL else idx[jj]
            s = j * ss
            gj = gs * g[jj] + l2 * w[j]
            m[s] += b1c * (gj - m[s])
            v[s] = b2 * v[s] + b2c * gj * gj
            w[j] -= step * m[s]


cdef inline void adamax_coords(floating* w, floating* m, floating* u,
                               Py_ssize_t ss, const floating* g, floating gs,
                               floating l2, const int* idx, Py_ssize_t n,
                               floating b1c, floating b2, floating step,
                               floating eps) noexcept nogil:
    """u = max(b2 u, |g| + eps) (eps inside the max, as torch);
    w -= step m / u, step = lr / (1 - b1^t)."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj, a
    for jj in range(n):
        j = jj if idx == NULL else idx[jj]
        s = j * ss
        gj = gs * g[jj] + l2 * w[j]
        m[s] += b1c * (gj - m[s])
        a = fabs(gj) + eps
        u[s] = max(b2 * u[s], a)
        w[j] -= step * m[s] / u[s]


cdef inline void adadelta_coords(floating* w, floating* v, floating* a,
                                 Py_ssize_t ss, const floating* g, floating gs,
                                 floating l2, const int* idx, Py_ssize_t n,
                                 floating rho, floating lr,
                                 floating eps) noexcept nogil:
    """v = rho v + (1 - rho) g^2; dx = sqrt(a + eps) / sqrt(v + eps) g;
    a = rho a + (1 - rho) dx^2; w -= lr dx."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj, dx
    cdef floating rc = 1 - rho
    for jj in range(n):
        j = jj if idx == NULL else idx[jj]
        s = j * ss
        gj = gs * g[jj] + l2 * w[j]
        v[s] = rho * v[s] + rc * gj * gj
        # One root of the ratio (torch takes two roots): within an ulp, and
        # a root costs as much as a division.
        dx = fsqrt((a[s] + eps) / (v[s] + eps)) * gj
        a[s] = rho * a[s] + rc * dx * dx
        w[j] -= lr * dx


# Coordinates per chunk of a sparse Adadelta update (as sparse_adaptive in
# _optim.pxd): the roots and divisions run over a contiguous buffer, where
# they vectorize, instead of one latency-bound pair per coordinate.
cdef enum:
    ADADELTA_CHUNK = 64


cdef inline void sparse_adadelta(floating* w, floating* v, floating* a,
                                 Py_ssize_t ss, const floating* g,
                                 floating gs, floating l2, const int* idx,
                                 Py_ssize_t n, floating rho, floating lr,
                                 floating eps) noexcept nogil:
    """adadelta_coords on sparse rows, in three passes per chunk: gather
    and update v (scalar), the roots of the ratios (vector), the steps and
    a (scalar).  The same arithmetic as adadelta_coords, so the same
    result."""
    cdef floating num[ADADELTA_CHUNK]
    cdef floating den[ADADELTA_CHUNK]
    cdef floating gg[ADADELTA_CHUNK]
    cdef Py_ssize_t start, q, cn, j
    cdef floating gj, dx
    cdef floating rc = 1 - rho
    start = 0
    while start < n:
        cn = min(<Py_ssize_t> ADADELTA_CHUNK, n - start)
        for q in range(cn):
            j = idx[start + q]
            gj = gs * g[start + q] + l2 * w[j]
            v[j * ss] = rho * v[j * ss] + rc * gj * gj
            gg[q] = gj
            num[q] = a[j * ss] + eps
            den[q] = v[j * ss] + eps
        for q in range(cn):
            num[q] = fsqrt(num[q] / den[q])
        for q in range(cn):
            j = idx[start + q]
            dx = num[q] * gg[q]
            a[j * ss] = rho * a[j * ss] + rc * dx * dx
            w[j] -= lr * dx
        start += cn
