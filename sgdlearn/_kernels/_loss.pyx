# Exposes LossKind to Python and wraps the inline loss helpers for tests.
import numpy as np


def py_loss_grad(int kind, double p, double y, double param=0.0):
    """Return (loss, dloss/dp) of one sample."""
    cdef double dloss = 0.0
    cdef double loss = loss_grad(kind, p, y, param, &dloss)
    return loss, dloss


def py_softmax_grad(double[::1] p, int label):
    """Return (loss, gradient) of the multinomial loss of one sample."""
    grad = np.zeros(p.shape[0])
    cdef double[::1] g = grad
    cdef double loss = softmax_grad(&p[0], <int> p.shape[0], label, &g[0])
    return loss, grad
