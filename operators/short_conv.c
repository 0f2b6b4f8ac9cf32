#include "operators/short_conv.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

// w [C][K] as [K][C], so the loops over channels read it contiguously.
static real *weights_by_tap(const real *w, int C, int K) {
    real *wt = star_malloc(sizeof(real) * (size_t)K * (size_t)(C > 0 ? C : 1));
    for (int c = 0; c < C; c++)
        for (int k = 0; k < K; k++) wt[(long)k * C + c] = w[(long)c * K + k];
    return wt;
}

void short_conv_forward(real *y, const real *x, const real *w, int B, int T, int C, int K) {
    real *wt = weights_by_tap(w, C, K);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            real *yt = y + ((long)b * T + t) * C;
            for (int c = 0; c < C; c++) yt[c] = 0;
            for (int k = 0; k < K && k <= t; k++) {
                const real *xs = x + ((long)b * T + t - k) * C, *wk = wt + (long)k * C;
#pragma omp simd
                for (int c = 0; c < C; c++) yt[c] += wk[c] * xs[c];
            }
        }
    }
    free(wt);
}

// Channels per task of the dw sums.
#define SHORT_CONV_DW_CHANNELS 16

void short_conv_backward(real *dx, real *dw, const real *dy, const real *x, const real *w, int B, int T, int C,
                         int K) {
    // dx[s] = sum_k w[k] dy[s+k]: sequences are independent.
    if (dx) {
        real *wt = weights_by_tap(w, C, K);
#pragma omp parallel for schedule(static)
        for (int b = 0; b < B; b++) {
            for (int s = 0; s < T; s++) {
                real *dxs = dx + ((long)b * T + s) * C;
                for (int k = 0; k < K && s + k < T; k++) {
                    const real *dyt = dy + ((long)b * T + s + k) * C, *wk = wt + (long)k * C;
#pragma omp simd
                    for (int c = 0; c < C; c++) dxs[c] += wk[c] * dyt[c];
                }
            }
        }
        free(wt);
    }
    // dw[c][k] = sum_{b,t} dy[b,t,c] x[b,t-k,c]: one task owns a block of channels and
    // walks the rows in order, so each sum runs over b, then t, whatever the thread count.
    if (dw) {
        int nblk = (C + SHORT_CONV_DW_CHANNELS - 1) / SHORT_CONV_DW_CHANNELS;
#pragma omp parallel for schedule(static)
        for (int blk = 0; blk < nblk; blk++) {
            int c0 = blk * SHORT_CONV_DW_CHANNELS;
            int nc = C - c0 < SHORT_CONV_DW_CHANNELS ? C - c0 : SHORT_CONV_DW_CHANNELS;
            real *acc = star_calloc((size_t)K * SHORT_CONV_DW_CHANNELS, sizeof(real));  // [k][c - c0]
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++) {
                    const real *dyt = dy + ((long)b * T + t) * C + c0;
                    for (int k = 0; k < K && k <= t; k++) {
                        const real *xs = x + ((long)b * T + t - k) * C + c0;
                        real *ak = acc + (long)k * SHORT_CONV_DW_CHANNELS;
#pragma omp simd
                        for (int c = 0; c < nc; c++) ak[c] += dyt[c] * xs[c];
                    }
                }
            for (int c = 0; c < nc; c++)
                for (int k = 0; k < K; k++) dw[(long)(c0 + c) * K + k] += acc[(long)k * SHORT_CONV_DW_CHANNELS + c];
            free(acc);
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
