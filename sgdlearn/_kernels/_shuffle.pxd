# Fisher-Yates shuffle of the row order, in place and without the GIL.
#
# Cheaper than numpy's Generator.permutation, which also allocates a fresh
# array every epoch.  The randomness still comes from the estimator's numpy
# Generator: it draws the 64-bit seed of every epoch.
from libc.stdint cimport uint32_t, uint64_t


cdef inline uint64_t splitmix64(uint64_t* state) noexcept nogil:
    """Steele, Lea and Flood (2014): a fast, well-mixed 64-bit generator."""
    cdef uint64_t z
    state[0] += 0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline uint32_t bounded(uint64_t* state, uint32_t bound) noexcept nogil:
    """Uniform in [0, bound), without bias (Lemire, 2019)."""
    cdef uint64_t m = (splitmix64(state) >> 32) * <uint64_t> bound
    cdef uint32_t low = <uint32_t> m, threshold
    if low < bound:
        threshold = (-bound) % bound
        while low < threshold:
            m = (splitmix64(state) >> 32) * <uint64_t> bound
            low = <uint32_t> m
    return <uint32_t> (m >> 32)


cdef inline void shuffle(int* order, Py_ssize_t n, uint64_t seed) noexcept nogil:
    cdef uint64_t state = seed
    cdef Py_ssize_t i, j
    cdef int swap
    for i in range(n - 1, 0, -1):
        j = bounded(&state, <uint32_t> (i + 1))
        swap = order[i]
        order[i] = order[j]
        order[j] = swap


cdef inline void local_shuffle(int* order, int* out, int* blocks,
                               Py_ssize_t n, Py_ssize_t block,
                               Py_ssize_t window, uint64_t seed) noexcept nogil:
    """``shuffle="local"``: the rows of ``order`` cut into blocks of
    ``block`` consecutive entries, the blocks in a random order, and the rows
    of each run of ``window`` consecutive blocks of that order permuted
    together.  Every epoch draws a new order, as a full permutation does,
    but an epoch's reads stay within ``window`` blocks of rows at a time:
    memory pages and TLB entries are reused instead of each row being a
    miss of its own on data far larger than the caches.  ``out`` (n ints)
    and ``blocks`` (ceil(n / block) ints) are scratch; the result is
    written back into ``order``."""
    cdef uint64_t state = seed
    cdef Py_ssize_t nb = (n + block - 1) // block, b, i, j, q = 0, start
    cdef Py_ssize_t first, last, w
    cdef int swap
    for b in range(nb):
        blocks[b] = <int> b
    for i in range(nb - 1, 0, -1):
        j = bounded(&state, <uint32_t> (i + 1))
        swap = blocks[i]
        blocks[i] = blocks[j]
        blocks[j] = swap
    w = 0
    while w < nb:
        start = q
        for b in range(w, min(w + window, nb)):
            first = blocks[b] * block
            last = min(first + block, n)
            for i in range(first, last):
                out[q] = order[i]
                q += 1
        for i in range(q - 1, start, -1):
            j = start + bounded(&state, <uint32_t> (i - start + 1))
            swap = out[i]
            out[i] = out[j]
            out[j] = swap
        w += window
    for i in range(n):
        order[i] = out[i]
