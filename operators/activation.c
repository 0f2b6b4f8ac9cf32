#include "operators/activation.h"

#define GELU_C 0.7978845608028654  // sqrt(2 / pi)

// Never exponentiates a large positive number, so it stays finite for any x.
static real sigmoid(real x) {
    if (x >= 0) return 1 / (1 + R_EXP(-x));
    real e = R_EXP(x);
    return e / (1 + e);
}

real act_value(act_kind k, real x) {
    switch (k) {
    case ACT_IDENTITY: return x;
    case ACT_SIGMOID: return sigmoid(x);
    case ACT_SILU: return x * sigmoid(x);
    case ACT_GELU: return (real)0.5 * x * (1 + R_TANH((real)GELU_C * (x + (real)0.044715 * x * x * x)));
    case ACT_ELU1: return x > 0 ? x + 1 : R_EXP(x);
    }
    return x;
}

real act_derivative(act_kind k, real x) {
    switch (k) {
    case ACT_IDENTITY: return 1;
    case ACT_SIGMOID: {
        real s = sigmoid(x);
        return s * (1 - s);
    }
    case ACT_SILU: {
        real s = sigmoid(x);
        return s * (1 + x * (1 - s));
    }
    case ACT_GELU: {
        real u = (real)GELU_C * (x + (real)0.044715 * x * x * x);
        real th = R_TANH(u);
        real du = (real)GELU_C * (1 + 3 * (real)0.044715 * x * x);
        return (real)0.5 * (1 + th) + (real)0.5 * x * (1 - th * th) * du;
    }
    case ACT_ELU1: return x > 0 ? 1 : R_EXP(x);
    }
    return 1;
}

void activation_forward(real *y, const real *x, long n, act_kind k) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) y[i] = act_value(k, x[i]);
}

void activation_backward(real *dx, const real *dy, const real *x, long n, act_kind k) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) dx[i] += dy[i] * act_derivative(k, x[i]);
}
