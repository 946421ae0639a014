# Per-sample loss functions, called once per sample (or once per row of a
# mini-batch).  Scalars are always double, so these are dtype-free.
#
# Sign convention follows scikit-learn: classification targets are in
# {-1, +1} and ``dloss`` is the derivative with respect to the prediction p.
from libc.math cimport exp, log, log1p, fabs

cpdef enum LossKind:
    HINGE = 0            # param: threshold (1 for hinge, 0 for perceptron)
    SQUARED_HINGE = 1    # param: threshold
    MODIFIED_HUBER = 2
    LOG = 3
    SQUARED = 4
    HUBER = 5            # param: epsilon
    EPSILON_INSENSITIVE = 6
    SQUARED_EPSILON_INSENSITIVE = 7
    MULTINOMIAL = 8      # softmax cross-entropy over K outputs


cdef inline double loss_grad(int kind, double p, double y, double param,
                             double* dloss) noexcept nogil:
    """Return loss(p, y) and store d loss / d p in ``dloss``."""
    cdef double z, r, e
    if kind == HINGE:
        z = p * y
        if z <= param:
            dloss[0] = -y
            return param - z
        dloss[0] = 0.0
        return 0.0
    if kind == SQUARED_HINGE:
        z = param - p * y
        if z > 0:
            dloss[0] = -2.0 * y * z
            return z * z
        dloss[0] = 0.0
        return 0.0
    if kind == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            dloss[0] = 0.0
            return 0.0
        if z >= -1.0:
            dloss[0] = -2.0 * (1.0 - z) * y
            return (1.0 - z) * (1.0 - z)
        dloss[0] = -4.0 * y
        return -4.0 * z
    if kind == LOG:
        # log(1 + exp(-z)) and its derivative, sharing one exp; the
        # asymptotic branches keep both finite for any z.
        z = p * y
        if z > 18.0:
            e = exp(-z)
            dloss[0] = -y * e
            return e
        if z < -18.0:
            dloss[0] = -y
            return -z
        e = exp(-z)
        dloss[0] = -y * e / (1.0 + e)
        return log1p(e)
    if kind == SQUARED:
        r = p - y
        dloss[0] = r
        return 0.5 * r * r
    if kind == HUBER:
        r = p - y
        if fabs(r) <= param:
            dloss[0] = r
            return 0.5 * r * r
        dloss[0] = param if r > 0 else -param
        return param * (fabs(r) - 0.5 * param)
    if kind == EPSILON_INSENSITIVE:
        r = y - p
        if r > param:
            dloss[0] = -1.0
            return r - param
        if r < -param:
            dloss[0] = 1.0
            return -r - param
        dloss[0] = 0.0
        return 0.0
    if kind == SQUARED_EPSILON_INSENSITIVE:
        r = y - p
        if r > param:
            dloss[0] = -2.0 * (r - param)
            return (r - param) * (r - param)
        if r < -param:
            dloss[0] = 2.0 * (-r - param)
            return (-r - param) * (-r - param)
        dloss[0] = 0.0
        return 0.0
    dloss[0] = 0.0
    return 0.0


cdef inline double softmax_grad(const double* p, int n_out, int label,
                                double* dloss) noexcept nogil:
    """Multinomial cross-entropy of the scores ``p`` for class ``label``.

    Stores softmax(p) - onehot(label) in ``dloss`` and returns
    logsumexp(p) - p[label]; the max is subtracted for stability.
    """
    cdef int k
    cdef double pmax = p[0]
    cdef double total = 0.0
    for k in range(1, n_out):
        if p[k] > pmax:
            pmax = p[k]
    for k in range(n_out):
        dloss[k] = exp(p[k] - pmax)
        total += dloss[k]
    for k in range(n_out):
        dloss[k] /= total
    dloss[label] -= 1.0
    return pmax + log(total) - p[label]
