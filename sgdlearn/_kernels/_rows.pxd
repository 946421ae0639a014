# One row abstraction for dense and CSR input.  A dense row has
# ``indices == NULL`` and nnz == n_features, which lets the coordinate loops
# run contiguously (and vectorize) instead of gathering through an index.
from cython cimport floating


cdef extern from *:
    """
    /* An asm volatile prefetch: gcc 12 deletes __builtin_prefetch loops as
       dead code once they are inlined into the epoch loop.  _L2 asks for
       the line in L2 only, which has more miss buffers than L1. */
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    #define SGDL_PREFETCH(p) \\
        __asm__ __volatile__("prefetcht0 %0" : : "m"(*(const char*)(p)))
    #define SGDL_PREFETCH_L2(p) \\
        __asm__ __volatile__("prefetcht1 %0" : : "m"(*(const char*)(p)))
    #elif defined(__GNUC__) && defined(__aarch64__)
    #define SGDL_PREFETCH(p) \\
        __asm__ __volatile__("prfm pldl1keep, %a0" : : "p"(p))
    #define SGDL_PREFETCH_L2(p) \\
        __asm__ __volatile__("prfm pldl2keep, %a0" : : "p"(p))
    #elif defined(__GNUC__) || defined(__clang__)
    #define SGDL_PREFETCH(p) __builtin_prefetch((const void*)(p), 0, 3)
    #define SGDL_PREFETCH_L2(p) __builtin_prefetch((const void*)(p), 0, 2)
    #else
    #define SGDL_PREFETCH(p) ((void)0)
    #define SGDL_PREFETCH_L2(p) ((void)0)
    #endif
    """
    void SGDL_PREFETCH(const void* p) noexcept nogil
    void SGDL_PREFETCH_L2(const void* p) noexcept nogil


cdef extern from *:
    """
    /* The sparse dot product as a scalar loop with four accumulators: gcc
       -O3 otherwise vectorizes it into index shuffles and emulated gathers,
       which cost more than they save on rows of tens of non-zeros. */
    #if defined(__GNUC__) && !defined(__clang__)
    #define SGDL_SCALAR __attribute__((optimize("no-tree-vectorize")))
    #else
    #define SGDL_SCALAR
    #endif
    #define SGDL_SPARSE_DOT(NAME, T) \\
    static SGDL_SCALAR double NAME(const T* w, const T* x, const int* idx, \\
                                   int nnz) { \\
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0; \\
        int j = 0; \\
        for (; j + 4 <= nnz; j += 4) { \\
            a0 += (double) w[idx[j]] * x[j]; \\
            a1 += (double) w[idx[j + 1]] * x[j + 1]; \\
            a2 += (double) w[idx[j + 2]] * x[j + 2]; \\
            a3 += (double) w[idx[j + 3]] * x[j + 3]; \\
        } \\
        for (; j < nnz; j++) a0 += (double) w[idx[j]] * x[j]; \\
        return (a0 + a1) + (a2 + a3); \\
    }
    SGDL_SPARSE_DOT(sgdl_sparse_dot_d, double)
    SGDL_SPARSE_DOT(sgdl_sparse_dot_f, float)
    """
    double sgdl_sparse_dot_d(const double* w, const double* x, const int* idx,
                             int nnz) noexcept nogil
    double sgdl_sparse_dot_f(const float* w, const float* x, const int* idx,
                             int nnz) noexcept nogil


cdef struct Rows:
    const void* data        # float32 or float64, as the kernel's fused type
    const int* indices      # NULL for dense input
    const int* indptr       # NULL for dense input
    Py_ssize_t n_features


cdef inline int get_row(const Rows* R, Py_ssize_t i, const floating** values,
                        const int** indices) noexcept nogil:
    """Point ``values``/``indices`` at row i and return its nnz."""
    cdef const floating* data = <const floating*> R.data
    cdef Py_ssize_t start
    if R.indptr == NULL:
        values[0] = data + i * R.n_features
        indices[0] = NULL
        return <int> R.n_features
    start = R.indptr[i]
    values[0] = data + start
    indices[0] = R.indices + start
    return R.indptr[i + 1] - R.indptr[i]


cdef inline void prefetch_row(const Rows* R, Py_ssize_t i,
                              const floating* like,
                              bint into_l2=False) noexcept nogil:
    """Ask for row i's cache lines before they are needed: shuffled rows
    defeat the hardware prefetcher."""
    cdef const floating* data = <const floating*> R.data
    cdef const char* values
    cdef const char* indices
    cdef Py_ssize_t n_values, n_indices, off
    if R.indptr == NULL:
        values = <const char*> (data + i * R.n_features)
        n_values = R.n_features * sizeof(floating)
        indices = values
        n_indices = 0
    else:
        values = <const char*> (data + R.indptr[i])
        n_values = (R.indptr[i + 1] - R.indptr[i]) * sizeof(floating)
        indices = <const char*> (R.indices + R.indptr[i])
        n_indices = (R.indptr[i + 1] - R.indptr[i]) * sizeof(int)
    if into_l2:
        for off in range(0, n_values, 64):
            SGDL_PREFETCH_L2(values + off)
        for off in range(0, n_indices, 64):
            SGDL_PREFETCH_L2(indices + off)
        return
    for off in range(0, n_values, 64):
        SGDL_PREFETCH(values + off)
    for off in range(0, n_indices, 64):
        SGDL_PREFETCH(indices + off)


cdef inline double dot(const floating* w, const floating* x, const int* idx,
                       int nnz) noexcept nogil:
    """w . x in double, with four accumulators so the compiler can keep
    several additions in flight (it may not reassociate a float sum)."""
    cdef double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    cdef int j = 0
    if idx == NULL:
        while j + 4 <= nnz:
            a0 += <double> w[j] * x[j]
            a1 += <double> w[j + 1] * x[j + 1]
            a2 += <double> w[j + 2] * x[j + 2]
            a3 += <double> w[j + 3] * x[j + 3]
            j += 4
        while j < nnz:
            a0 += <double> w[j] * x[j]
            j += 1
    elif floating is double:
        return sgdl_sparse_dot_d(w, x, idx, nnz)
    else:
        return sgdl_sparse_dot_f(w, x, idx, nnz)
    return (a0 + a1) + (a2 + a3)


cdef inline double sq_norm(const floating* x, int nnz) noexcept nogil:
    cdef double total = 0.0
    cdef int j
    for j in range(nnz):
        total += <double> x[j] * x[j]
    return total
