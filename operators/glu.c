#include "operators/glu.h"

void glu_forward(real *y, const real *g, const real *u, long n, act_kind k) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) y[i] = act_value(k, g[i]) * u[i];
}

void glu_backward(real *dg, real *du, const real *dy, const real *g, const real *u, long n, act_kind k) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        real d, v = act_value_derivative(k, g[i], &d);
        if (dg) dg[i] += dy[i] * u[i] * d;
        if (du) du[i] += dy[i] * v;
    }
}
