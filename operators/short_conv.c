#include "operators/short_conv.h"

#include <string.h>

void short_conv_forward(real *y, const real *x, const real *w, int B, int T, int C, int K) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            real *yt = y + ((long)b * T + t) * C;
            for (int c = 0; c < C; c++) yt[c] = 0;
            for (int k = 0; k < K && k <= t; k++) {
                const real *xs = x + ((long)b * T + t - k) * C;
                for (int c = 0; c < C; c++) yt[c] += w[(long)c * K + k] * xs[c];
            }
        }
    }
}

void short_conv_backward(real *dx, real *dw, const real *dy, const real *x, const real *w, int B, int T, int C,
                         int K) {
    // dx[s] = sum_k w[k] dy[s+k]: sequences are independent.
    if (dx) {
#pragma omp parallel for schedule(static)
        for (int b = 0; b < B; b++) {
            for (int s = 0; s < T; s++) {
                real *dxs = dx + ((long)b * T + s) * C;
                for (int k = 0; k < K && s + k < T; k++) {
                    const real *dyt = dy + ((long)b * T + s + k) * C;
                    for (int c = 0; c < C; c++) dxs[c] += w[(long)c * K + k] * dyt[c];
                }
            }
        }
    }
    // dw[c][k] = sum_{b,t} dy[b,t,c] x[b,t-k,c]: one thread owns each channel, so the
    // summation order is fixed whatever the thread count.
    if (dw) {
#pragma omp parallel for schedule(static)
        for (int c = 0; c < C; c++) {
            for (int k = 0; k < K; k++) {
                real acc = 0;
                for (int b = 0; b < B; b++)
                    for (int t = k; t < T; t++) acc += dy[((long)b * T + t) * C + c] * x[((long)b * T + t - k) * C + c];
                dw[(long)c * K + k] += acc;
            }
        }
    }
}

void short_conv_step(real *y, real *state, const real *x, const real *w, int B, int C, int K) {
    for (int b = 0; b < B; b++) {
        real *st = state + (long)b * (K - 1) * C;  // row r holds the input of time t-(K-1)+r
        const real *xb = x + (long)b * C;
        real *yb = y + (long)b * C;
        for (int c = 0; c < C; c++) {
            real acc = w[(long)c * K] * xb[c];
            for (int k = 1; k < K; k++) acc += w[(long)c * K + k] * st[(long)(K - 1 - k) * C + c];
            yb[c] = acc;
        }
        if (K > 1) {
            memmove(st, st + C, sizeof(real) * (size_t)(K - 2) * C);
            memcpy(st + (long)(K - 2) * C, xb, sizeof(real) * C);
        }
    }
}
