# FTRL-Proximal's per-coordinate loop (McMahan et al. 2013, Algorithm 1),
# called by apply_update in _optim.pxd.
#
# State per coordinate: z (s0) and n (s1).  The weight is a function of
# them, w = 0 if |z| <= l1, else -(z - sgn(z) l1) / ((beta + sqrt(n)) / alpha
# + l2); the kernel stores it in coef and recomputes it right after each
# update of a touched coordinate (Vowpal Wabbit's order, ftrl.cc
# inner_update_proximal: the value Algorithm 1 computes at the next touch),
# so coef always holds the current weights.  An untouched coordinate does
# not change (zero gradient: sigma = 0, z and n unchanged), so a sparse
# update is O(non-zeros) with nothing to catch up.
#
# Dense rows: idx == NULL and unit state stride (apply_update passes literal
# NULL / 1, so the inlined dense copy has a unit stride); sparse rows: the
# coordinates idx[:n], state of coordinate j at z[j * ss], n[j * ss].
from cython cimport floating
from libc.math cimport fabs

from sgdlearn._kernels._fmath cimport fsqrt


cdef inline void ftrl_coords(floating* w, floating* z, floating* nsq,
                             Py_ssize_t ss, const floating* g, floating gs,
                             const int* idx, Py_ssize_t n, floating alpha,
                             floating beta, floating l1,
                             floating l2) noexcept nogil:
    """One FTRL-Proximal update of coordinates j = idx[jj] (jj when idx is
    NULL), jj < n, for the loss gradient gs * g[jj]; alpha is the rate,
    l1 and l2 the paper's lambda_1 and lambda_2.  Operations in VW's order
    (float32: VW's results)."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj, ng, root, sigma, zj, az, step
    cdef floating inv_alpha = 1 / alpha
    for jj in range(n):
        j = jj if idx == NULL else idx[jj]
        s = j * ss
        gj = gs * g[jj]
        ng = nsq[s] + gj * gj
        root = fsqrt(ng)
        if floating is float:  # VW's operations: its float32 results
            sigma = (root - fsqrt(nsq[s])) / alpha
        else:  # a multiplication (within an ulp of the division)
            sigma = (root - fsqrt(nsq[s])) * inv_alpha
        zj = z[s] + (gj - sigma * w[j])
        z[s] = zj
        nsq[s] = ng
        az = fabs(zj)
        if az <= l1:
            w[j] = 0
        elif floating is float:
            step = 1 / (l2 + (beta + root) / alpha)
            w[j] = step * (l1 - az) if zj > 0 else step * (az - l1)
        else:
            step = (l1 - az) / (l2 + (beta + root) * inv_alpha)
            w[j] = step if zj > 0 else -step


# Coordinates per chunk of a sparse update: the square roots and divisions
# run over contiguous buffers of this many, so they vectorize (as
# sparse_adaptive's in _optim.pxd).
cdef enum:
    FTRL_CHUNK = 64


cdef inline void ftrl_sparse(floating* w, floating* z, floating* nsq,
                             Py_ssize_t ss, const floating* g, floating gs,
                             const int* idx, Py_ssize_t n, floating alpha,
                             floating beta, floating l1,
                             floating l2) noexcept nogil:
    """ftrl_coords for sparse rows, in three passes per chunk: gather the
    coordinates' gradient, state and weight; the update over the chunk
    (contiguous, branch-free: vector square roots and divisions); scatter.
    The same operations in the same order per coordinate as ftrl_coords
    (a sparse update's indices are distinct)."""
    cdef floating gq[FTRL_CHUNK]
    cdef floating nq[FTRL_CHUNK]
    cdef floating zq[FTRL_CHUNK]
    cdef floating wq[FTRL_CHUNK]
    cdef Py_ssize_t start, q, cn, s
    cdef floating gj, ng, root, sigma, zj, az, step
    cdef floating inv_alpha = 1 / alpha
    start = 0
    while start < n:
        cn = min(<Py_ssize_t> FTRL_CHUNK, n - start)
        for q in range(cn):
            s = idx[start + q] * ss
            gq[q] = gs * g[start + q]
            nq[q] = nsq[s]
            zq[q] = z[s]
            wq[q] = w[idx[start + q]]
        for q in range(cn):
            gj = gq[q]
            ng = nq[q] + gj * gj
            root = fsqrt(ng)
            if floating is float:  # VW's operations: its float32 results
                sigma = (root - fsqrt(nq[q])) / alpha
                zj = zq[q] + (gj - sigma * wq[q])
                az = fabs(zj)
                step = 1 / (l2 + (beta + root) / alpha)
                step = step * (l1 - az)
            else:  # one division, not three (within an ulp of them)
                sigma = (root - fsqrt(nq[q])) * inv_alpha
                zj = zq[q] + (gj - sigma * wq[q])
                az = fabs(zj)
                step = (l1 - az) / (l2 + (beta + root) * inv_alpha)
            step = step if zj > 0 else -step
            wq[q] = 0 if az <= l1 else step
            zq[q] = zj
            nq[q] = ng
        for q in range(cn):
            s = idx[start + q] * ss
            z[s] = zq[q]
            nsq[s] = nq[q]
            w[idx[start + q]] = wq[q]
        start += cn
