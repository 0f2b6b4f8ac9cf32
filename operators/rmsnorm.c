#include "operators/rmsnorm.h"

#include <stddef.h>

void rmsnorm_forward(real *y, real *rstd, const real *x, const real *w, long N, int C) {
#pragma omp parallel for schedule(static)
    for (long n = 0; n < N; n++) {
        const real *xr = x + n * C;
        real *yr = y + n * C;
        double ss = 0;
        for (int c = 0; c < C; c++) ss += (double)xr[c] * xr[c];
        real r = (real)(1.0 / sqrt(ss / C + RMSNORM_EPS));
        rstd[n] = r;
        for (int c = 0; c < C; c++) yr[c] = xr[c] * r * (w ? w[c] : (real)1);
    }
}

// With g = dy * w:  dx = r g - x r^3 / C * sum(g x)   (r = rstd).
void rmsnorm_backward(real *dx, real *dw, const real *dy, const real *x, const real *w, const real *rstd, long N,
                      int C) {
    if (dx) {
#pragma omp parallel for schedule(static)
        for (long n = 0; n < N; n++) {
            const real *xr = x + n * C, *dyr = dy + n * C;
            real *dxr = dx + n * C;
            real r = rstd[n];
            double dot = 0;
            for (int c = 0; c < C; c++) dot += (double)dyr[c] * (w ? w[c] : (real)1) * xr[c];
            real k = (real)(dot * r * r * r / C);
            for (int c = 0; c < C; c++) dxr[c] += r * dyr[c] * (w ? w[c] : (real)1) - k * xr[c];
        }
    }
    // dw sums over rows: split by channel so each sum runs in row order whatever the
    // number of threads.
    if (dw) {
#pragma omp parallel for schedule(static)
        for (int c = 0; c < C; c++) {
            real s = 0;
            for (long n = 0; n < N; n++) s += dy[n * C + c] * x[n * C + c] * rstd[n];
            dw[c] += s;
        }
    }
}

void head_rmsnorm_forward(real *y, real *rstd, const real *x, long N, int H, int hd) {
    rmsnorm_forward(y, rstd, x, NULL, N * H, hd);
}

void head_rmsnorm_backward(real *dx, const real *dy, const real *x, const real *rstd, long N, int H, int hd) {
    rmsnorm_backward(dx, NULL, dy, x, NULL, rstd, N * H, hd);
}
