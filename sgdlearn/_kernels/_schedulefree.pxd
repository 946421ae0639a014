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


cdef inline void sf_sgd_coords(floating* y, floating* z, Py_ssize_t ss,
                               const floating* g, floating gs, floating l2,
                               const int* idx, Py_ssize_t n, floating c,
                               floating a, floating lr) noexcept nogil:
    """SGDScheduleFree on coordinates j = idx[jj] (jj when idx is NULL):
    g_j = gs g[jj] + l2 y_j (the decay at y); y_j = lerp(y_j, z_j, c) +
    a g_j with a = lr (beta (1 - c) - 1); z_j -= lr g_j."""
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
    else:
        for jj in range(n):
            j = jj if idx == NULL else idx[jj]
            s = j * ss
            yj = y[j]
            zj = z[s]
            gj = gs * g[jj] + l2 * yj
            y[j] = (zj - (zj - yj) * omc) + a * gj
            z[s] = zj - lr * gj


cdef inline void sf_adamw_coords(floating* y, floating* z, floating* v,
                                 Py_ssize_t ss, const floating* g,
                                 floating gs, floating l2, const int* idx,
                                 Py_ssize_t n, floating c, floating a,
                                 floating lr, floating b2, floating b2c,
                                 floating inv_bc2, floating eps) noexcept nogil:
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


cdef inline void sf_catch_up(floating* W, floating* S, int* last,
                             const double* ws, const double* pow_lo,
                             const double* pow_hi, bint adamw, int K,
                             Py_ssize_t d, Py_ssize_t srow, Py_ssize_t slot,
                             Py_ssize_t sstep, const int* idx, Py_ssize_t n,
                             Py_ssize_t T) noexcept nogil:
    """Bring coordinates idx[:n] (all when NULL) of the training point y (in
    W) through update T of the epoch, as if each skipped update had a zero
    gradient: y = z + (ws[L] / ws[T]) (y - z), L the coordinate's last
    update (ws: the weight sums after each update of the epoch, ws[0] the
    one before it); AdamW's v *= b2**(T - L) (pow_lo, pow_hi: powers of
    b2)."""
    cdef Py_ssize_t jj, j, k, L, r, s
    cdef int kk
    cdef double ratio, pk = 1.0
    cdef floating zj
    for jj in range(n):
        j = jj if idx == NULL else idx[jj]
        L = last[j]
        k = T - L
        if k <= 0:
            continue
        last[j] = <int> T
        ratio = ws[L] / ws[T]
        if adamw:
            pk = pow_hi[k >> 10] * pow_lo[k & 1023]
        for kk in range(K):
            r = kk * d + j
            s = kk * srow + j * sstep
            zj = S[s]
            W[r] = zj + ratio * (W[r] - zj)
            if adamw:
                S[s + slot] *= pk


cdef inline floating sf_x(floating y, floating z, double w) noexcept nogil:
    """The point to predict with, x = lerp(y, z, w), w = 1 - 1/beta
    (schedulefree's ``eval()``)."""
    if fabs(w) < 0.5:
        return y + w * (z - y)
    return z - (z - y) * (1 - w)
