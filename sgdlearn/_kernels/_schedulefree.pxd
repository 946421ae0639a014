# Schedule-free SGD and AdamW (Defazio et al. 2024, "The Road Less
# Scheduled"; the ``schedulefree`` package 1.4.1's SGDScheduleFree and
# AdamWScheduleFree), called by apply_update in _optim.pxd and by catch_up
# in _lazy.pxd.
#
# Three sequences per coordinate: z (the base iterate, state slot 0), x (the
# average of the z's, the point to predict with) and y = (1 - beta) z +
# beta x, where the gradients are taken.  During an epoch the kernel's
# weights hold y; x is formed at the end of the epoch (sf_x) and the
# weights then hold x, y being kept in the last state slot (_sf_epoch.pxi).
# Per update, with the global step count k (from 1), rate lr_k and
# lr_max = max(lr_max, lr_k), weight = k**r * lr_max**power, weight_sum +=
# weight, c = weight / weight_sum:
#   SGD:   g += wd y;  y = lerp(y, z, c) + lr (beta (1 - c) - 1) g;  z -= lr g
#   AdamW: v = b2 v + (1 - b2) g**2;  g = g / (sqrt(v / (1 - b2**k)) + eps)
#          + wd y;  then y and z as SGD's.
# torch's lerp(a, b, w): a + w (b - a) if |w| < 0.5, else b - (b - a)(1 - w).
#
# Sparse rows: an untouched coordinate (zero gradient, no decay) keeps z, and
# y - z shrinks by 1 - c_j = S_{j-1} / S_j per skipped update j (S the weight
# sum), so over a gap y = z + (S_last / S_now)(y - z); AdamW's v decays by
# b2 per skipped update (sf_catch_up).
#
# Dense rows: idx == NULL and unit state stride (apply_update passes literal
# NULL / 1, so the inlined dense copy has a unit stride and vectorizes).
from cython cimport floating
from libc.math cimport fabs, pow

from sgdlearn._kernels._fmath cimport fsqrt


cdef inline double sf_advance(double step, double eta, double r,
                              double power, double* lr_max, double* lr_pow,
                              double* weight_sum) noexcept nogil:
    """The global scalars of update number ``step`` (from 1) at rate eta:
    advances lr_max, its power (recomputed only when lr_max changes: two pow
    calls per update would cost a tenth of a per-sample epoch) and the
    weight sum; returns c = weight / weight_sum (0 for a zero sum)."""
    cdef double weight
    if eta > lr_max[0]:
        lr_max[0] = eta
        lr_pow[0] = (lr_max[0] * lr_max[0] if power == 2.0
                     else pow(lr_max[0], power))
    weight = lr_pow[0] if r == 0.0 else pow(step, r) * lr_pow[0]
    weight_sum[0] += weight
    return weight / weight_sum[0] if weight_sum[0] != 0.0 else 0.0


cdef inline void sf_sgd_coords(floating* y, floating* z, floating* mark,
                               Py_ssize_t ss, const floating* g, floating gs,
                               floating l2, const int* idx, Py_ssize_t n,
                               floating c, floating a, floating lr,
                               floating wsum) noexcept nogil:
    """SGDScheduleFree on coordinates j = idx[jj] (jj when idx is NULL):
    g_j = gs g[jj] + l2 y_j (the decay at y); y_j = lerp(y_j, z_j, c) +
    a g_j with a = lr (beta (1 - c) - 1); z_j -= lr g_j.  Sparse rows also
    record the weight sum wsum in the coordinate's y slot (mark), for
    sf_catch_up."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj, yj, zj
    cdef floating omc = 1 - c
    if fabs(c) < 0.5:
        for jj in range(n):
            j = jj if idx == NULL else idx[jj]
            s = j * ss
            yj = y[j]
            zj = z[s]
            gj = gs * g[jj] + l2 * yj
            y[j] = (yj + c * (zj - yj)) + a * gj
            z[s] = zj - lr * gj
            if idx != NULL:
                mark[s] = wsum
    else:
        for jj in range(n):
            j = jj if idx == NULL else idx[jj]
            s = j * ss
            yj = y[j]
            zj = z[s]
            gj = gs * g[jj] + l2 * yj
            y[j] = (zj - (zj - yj) * omc) + a * gj
            z[s] = zj - lr * gj
            if idx != NULL:
                mark[s] = wsum


cdef inline void sf_adamw_coords(floating* y, floating* z, floating* v,
                                 floating* mark, Py_ssize_t ss,
                                 const floating* g, floating gs, floating l2,
                                 const int* idx, Py_ssize_t n, floating c,
                                 floating a, floating lr, floating b2,
                                 floating b2c, floating inv_bc2, floating eps,
                                 floating wsum) noexcept nogil:
    """AdamWScheduleFree on coordinates j = idx[jj] (jj when idx is NULL):
    v_j = b2 v_j + (1 - b2) g_j**2; n_j = g_j / (sqrt(v_j / (1 - b2**k)) +
    eps) + l2 y_j (the decay at y, after the normalization); then y and z
    as sf_sgd_coords with n_j for g_j."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj, yj, zj, vj
    cdef floating omc = 1 - c
    if fabs(c) < 0.5:
        for jj in range(n):
            j = jj if idx == NULL else idx[jj]
            s = j * ss
            yj = y[j]
            zj = z[s]
            gj = gs * g[jj]
            vj = b2 * v[s] + b2c * gj * gj
            v[s] = vj
            gj = gj / (fsqrt(vj * inv_bc2) + eps) + l2 * yj
            y[j] = (yj + c * (zj - yj)) + a * gj
            z[s] = zj - lr * gj
            if idx != NULL:
                mark[s] = wsum
    else:
        for jj in range(n):
            j = jj if idx == NULL else idx[jj]
            s = j * ss
            yj = y[j]
            zj = z[s]
            gj = gs * g[jj]
            vj = b2 * v[s] + b2c * gj * gj
            v[s] = vj
            gj = gj / (fsqrt(vj * inv_bc2) + eps) + l2 * yj
            y[j] = (zj - (zj - yj) * omc) + a * gj
            z[s] = zj - lr * gj
            if idx != NULL:
                mark[s] = wsum


# Coordinates per chunk of a sparse AdamW update: the square roots and
# divisions run over a contiguous buffer, where they vectorize (as
# sparse_adaptive's in _optim.pxd).
cdef enum:
    SF_CHUNK = 64


cdef inline void sf_adamw_sparse(floating* y, floating* z, floating* v,
                                 floating* mark, Py_ssize_t ss,
                                 const floating* g, floating gs, floating l2,
                                 const int* idx, Py_ssize_t n, floating c,
                                 floating a, floating lr, floating b2,
                                 floating b2c, floating inv_bc2, floating eps,
                                 floating wsum) noexcept nogil:
    """sf_adamw_coords on sparse rows, in three passes per chunk: gather
    and update v (scalar), the normalized gradients (vector), then y, z and
    the mark (scalar).  The same operations per coordinate, so the same
    result (a sparse update's indices are distinct)."""
    cdef floating num[SF_CHUNK]
    cdef floating den[SF_CHUNK]
    cdef Py_ssize_t start, q, cn, j, s
    cdef floating gj, yj, zj, vj
    cdef floating omc = 1 - c
    cdef bint low = fabs(c) < 0.5
    start = 0
    while start < n:
        cn = min(<Py_ssize_t> SF_CHUNK, n - start)
        for q in range(cn):
            s = idx[start + q] * ss
            gj = gs * g[start + q]
            vj = b2 * v[s] + b2c * gj * gj
            v[s] = vj
            num[q] = gj
            den[q] = vj * inv_bc2
        for q in range(cn):
            num[q] = num[q] / (fsqrt(den[q]) + eps)
        for q in range(cn):
            j = idx[start + q]
            s = j * ss
            yj = y[j]
            zj = z[s]
            gj = num[q] + l2 * yj
            if low:
                y[j] = (yj + c * (zj - yj)) + a * gj
            else:
                y[j] = (zj - (zj - yj) * omc) + a * gj
            z[s] = zj - lr * gj
            mark[s] = wsum
        start += cn


cdef inline void sf_catch_up(floating* W, floating* S, int* last,
                             double ws, const double* pow_lo,
                             const double* pow_hi, bint adamw, int K,
                             Py_ssize_t d, Py_ssize_t srow, Py_ssize_t slot,
                             Py_ssize_t sstep, Py_ssize_t ys, const int* idx,
                             Py_ssize_t n, Py_ssize_t T) noexcept nogil:
    """Bring coordinates idx[:n] (all when NULL) of the training point y (in
    W) up to the weight sum ws (that after update T of the epoch), as if
    each skipped update had a zero gradient: y = z + (S_last / ws)(y - z),
    S_last the weight sum after the coordinate's last update, kept during
    the epoch in its y slot ``ys`` (unused then: y is in W), in the cache
    line of its z; AdamW's v *= b2**(T - L), L its last update (``last``;
    pow_lo, pow_hi: powers of b2)."""
    cdef Py_ssize_t jj, j, k = 0, r, s
    cdef int kk
    cdef double pk = 1.0, inv = 1.0 / ws
    cdef floating zj, sl
    cdef floating now = ws
    for jj in range(n):
        j = jj if idx == NULL else idx[jj]
        if adamw:
            k = T - last[j]
            if k > 0:
                last[j] = <int> T
                pk = pow_hi[k >> 10] * pow_lo[k & 1023]
        for kk in range(K):
            r = kk * d + j
            s = kk * srow + j * sstep
            if adamw and k > 0:
                S[s + slot] *= pk
            sl = S[s + ys * slot]
            if sl == now:
                continue
            S[s + ys * slot] = now
            zj = S[s]
            W[r] = zj + (sl * inv) * (W[r] - zj)


cdef inline floating sf_x(floating y, floating z, double w) noexcept nogil:
    """The point to predict with, x = lerp(y, z, w), w = 1 - 1/beta
    (schedulefree's ``eval()``)."""
    if fabs(w) < 0.5:
        return y + w * (z - y)
    return z - (z - y) * (1 - w)
