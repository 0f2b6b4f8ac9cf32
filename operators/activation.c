#include "operators/activation.h"

void activation_forward(real *y, const real *x, long n, act_kind k) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) y[i] = act_value(k, x[i]);
}

void activation_backward(real *dx, const real *dy, const real *x, long n, act_kind k) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) dx[i] += dy[i] * act_derivative(k, x[i]);
}
