#include "operators/rope.h"

#include <stdlib.h>

#include "common/error.h"

// Angles in double so the float and double builds rotate by the same amounts.
static void rope_angle(int pos, int i, int hd, real *c, real *s) {
    double ang = pos * pow(ROPE_BASE, -2.0 * i / hd);
    *c = (real)cos(ang);
    *s = (real)sin(ang);
}

// cos and sin of every (position, pair) of one call, [T][hd / 2][2], computed once for
// the whole batch (per element, pow, cos and sin were a tenth of a small CPU search).
static real *rope_table(int T, int hd, int pos0) {
    int half = hd / 2;
    real *tab = star_malloc(sizeof(real) * 2 * (size_t)T * (size_t)(half > 0 ? half : 1));
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            real *cs = &tab[2 * ((size_t)t * half + i)];
            rope_angle(pos0 + t, i, hd, &cs[0], &cs[1]);
        }
    return tab;
}

void rope_forward(real *out, const real *x, int B, int T, int H, int hd, int pos0) {
    int half = hd / 2;
    real *tab = rope_table(T, hd, pos0);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int i = 0; i < half; i++) {
                real c = tab[2 * (t * half + i)], s = tab[2 * (t * half + i) + 1];
                for (int h = 0; h < H; h++) {
                    long o = (((long)b * T + t) * H + h) * hd;
                    real a = x[o + i], z = x[o + i + half];
                    out[o + i] = a * c - z * s;
                    out[o + i + half] = a * s + z * c;
                }
            }
    free(tab);
}

void rope_backward(real *dx, const real *dout, int B, int T, int H, int hd, int pos0) {
    int half = hd / 2;
    real *tab = rope_table(T, hd, pos0);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int i = 0; i < half; i++) {
                real c = tab[2 * (t * half + i)], s = tab[2 * (t * half + i) + 1];
                for (int h = 0; h < H; h++) {
                    long o = (((long)b * T + t) * H + h) * hd;
                    real a = dout[o + i], z = dout[o + i + half];
                    dx[o + i] += a * c + z * s;
                    dx[o + i + half] += -a * s + z * c;
                }
            }
    free(tab);
}
