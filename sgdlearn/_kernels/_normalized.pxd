# Vowpal Wabbit's default update (gd.cc: adaptive + normalized + invariant;
# Ross, Mineiro & Langford 2013; Karampatziakis & Langford 2011): the scalar
# and per-coordinate pieces, in VW's operation order in the kernel's float
# type (float32: VW 9.11.9's results, given the same prediction).  The
# row-level rule that calls them is _normalized_epoch.pxi.
#
# State per coordinate: G (sum of h dl^2 x^2, adaptive) and N (max |x| seen,
# normalized); per problem: S (sum of h ||x / N||^2) and W (sum of h).
# Losses are sgdlearn's: squared_error is (p - y)^2 / 2, VW's (p - y)^2.
# With the adaptive rate the factor 2 cancels exactly (it is a power of
# two: G is 4 times smaller, its root 2 times, and so is every product), so
# the float32 results are VW's bit for bit; the squared loss's safe update
# below is the one of (p - y)^2 / 2 (VW's of (p - y)^2, halved).
from cython cimport floating
from libc.float cimport FLT_MIN
from libc.math cimport exp, expf, log, pow, powf, sqrt, sqrtf


cdef inline floating floor_x2(floating x2) noexcept nogil:
    """VW floors x^2 at 1.084202e-19^2 (FLT_MIN)."""
    return x2 if x2 > FLT_MIN else <floating> FLT_MIN


cdef inline floating fexp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating fpow(floating x, floating y) noexcept nogil:
    if floating is float:
        return powf(x, y)
    else:
        return pow(x, y)


cdef inline floating froot(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline double wexpmx(double x) noexcept nogil:
    """VW's approximation of LambertW(exp(x)) - x (|error| < 9e-5): it
    defines VW's importance-invariant logistic update, so it is transcribed
    verbatim (loss_functions.cc)."""
    cdef double w, r, t, u
    if x >= 1.0:
        w = 0.86 * x + 0.01
        r = x - log(w) - w
    else:
        w = exp(0.8 * x - 0.65)
        r = 0.2 * x + 0.65 - w
    t = 1.0 + w
    u = 2.0 * t * (t + 2.0 * r / 3.0)
    return w * (1.0 + r / t * (u - r) / (u - 2.0 * r)) - x


cdef inline floating coord_rate(floating G, floating N, bint adaptive,
                                bint normalized, bint sqrt_rate,
                                floating power, floating nnp) noexcept nogil:
    """The per-coordinate rate r = G^-power * N^(2 (power - 1)) (adaptive
    and normalized), G^-power, or 1 / N^2 (normalized only); VW's sqrt path
    (1 / sqrt, 1 / N) when power is 0.5, powf otherwise."""
    cdef floating one = 1  # typed: Cython writes a bare 1 as a double 1.0
    cdef floating r = one, inv_n
    if adaptive:
        if sqrt_rate:
            r = one / froot(G)
        else:
            r = fpow(G, -power)
    if normalized:
        if sqrt_rate:
            inv_n = one / N
            if adaptive:
                r = r * inv_n
            else:
                r = r * (inv_n * inv_n)
        else:
            r = r * fpow(N * N, nnp)
    return r


cdef inline floating rescale_factor(floating N, floating ax, bint adaptive,
                                    bint sqrt_rate,
                                    floating nnp) noexcept nogil:
    """What a weight is multiplied by when |x| = ax > N > 0 is seen: the
    weight the new scale would have learned (N / ax, or its square without
    the adaptive rate; ((ax / N)^2)^nnp on the powf path)."""
    cdef floating rs
    if sqrt_rate:
        rs = N / ax
        return rs if adaptive else rs * rs
    rs = ax / N
    return fpow(rs * rs, nnp)


cdef inline floating squared_update(floating residual, floating s,
                                    floating ppu,
                                    bint invariant) noexcept nogil:
    """The step u (the prediction moves by ppu * u) of loss (p - y)^2 / 2 for
    the residual y - p and time s = eta h: the importance-invariant
    residual (1 - exp(-s ppu)) / ppu, which never passes y, or its Taylor
    form residual * s where s ppu is tiny (VW's s ppu < 1e-6 on its loss
    (p - y)^2, whose ppu is half this one)."""
    cdef floating one = 1
    if not invariant or <double> (s * ppu) < 2e-6:
        return residual * s
    return residual * (one - fexp(-s * ppu)) / ppu


cdef inline floating logistic_update(floating p, floating y, floating d,
                                     floating s, floating ppu,
                                     bint invariant) noexcept nogil:
    """The step u of log(1 + exp(-y p)) (y = +-1, d = exp(y p)): VW's
    importance-invariant update through its Lambert-W approximation, or
    y s / (1 + d)."""
    cdef floating yp = y * p
    cdef floating arg
    cdef floating one = 1
    if not invariant or <double> (s * ppu) < 1e-6:
        return y * s / (one + d)
    arg = s * ppu + yp + d
    return -(y * <floating> wexpmx(<double> arg) + p) / ppu


cdef inline void normalized_coords(floating* w, floating* G, floating* N,
                                   Py_ssize_t ss, const floating* g,
                                   floating gs, const int* idx, Py_ssize_t n,
                                   floating step, floating inv_h,
                                   bint adaptive, bint normalized,
                                   floating power) noexcept nogil:
    """The mini-batch form: one step of the batch's mean gradient gs * g[jj]
    through the per-coordinate rates, as one example of importance weight
    H = 1 / inv_h (G += g^2 / H: h dl^2 x^2 for a batch of one row), with
    the plain (not importance-invariant) step w -= step * g * r, step =
    eta * mult.  N was updated from the batch's rows before (the kernel's
    batch loop), so N > 0 wherever g != 0."""
    cdef Py_ssize_t jj, j, s
    cdef floating gj, r
    cdef bint sqrt_rate = power == 0.5
    cdef floating nnp = power - 1 if adaptive else -1
    for jj in range(n):
        j = jj if idx == NULL else idx[jj]
        s = j * ss
        gj = gs * g[jj]
        if gj == 0:
            continue
        if adaptive:
            G[s] += gj * gj * inv_h
        r = coord_rate(G[s], N[s], adaptive, normalized, sqrt_rate, power,
                       nnp)
        w[j] -= step * gj * r


cdef extern from *:
    """
    #include <float.h>
    #include <math.h>
    /* The float64 default rule's pass over a dense row (fused_pass in
       _normalized_epoch.pxi), as plain C with restrict pointers, so that
       gcc vectorizes it (the Cython loop did not): G += g2 x^2 (when
       update_G), r = 1 / (N sqrt(G)) and x r into R, the sums of x^2 / N^2
       and x^2 r into nx and ppu; returns whether some |x_j| > N_j (then
       the caller rescales and calls it again without update_G).  Where
       N_j = 0, x_j = 0 (after a rescale) and the DBL_MIN floor makes every
       term 0. */
    static int sgdl_norm_dense(const double* restrict x, double* restrict G,
                               const double* restrict N, double* restrict R,
                               double g2, int n, int update_G,
                               double* nx_out, double* ppu_out) {
        double nx = 0.0, ppu = 0.0;
        int grow = 0;
        for (int j = 0; j < n; j++) {
            double xv = x[j], x2 = xv * xv, nj = N[j];
            double gj = update_G ? G[j] + g2 * x2 : G[j];
            double sg, t, r;
            G[j] = gj;
            grow |= fabs(xv) > nj;
            sg = sqrt(gj);
            t = nj * nj * sg;  /* not fmax: gcc does not vectorize it */
            t = 1.0 / (t > DBL_MIN ? t : DBL_MIN);
            r = t * nj;
            nx += x2 * (t * sg);
            ppu += x2 * r;
            R[j] = xv * r;
        }
        *nx_out = nx;
        *ppu_out = ppu;
        return grow;
    }
    """
    bint sgdl_norm_dense(const double* x, double* G, const double* N,
                         double* R, double g2, int n, bint update_G,
                         double* nx_out, double* ppu_out) noexcept nogil
