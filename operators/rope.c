#include "operators/rope.h"

// Angles in double so the float and double builds rotate by the same amounts.
static void rope_angle(int pos, int i, int hd, real *c, real *s) {
    double ang = pos * pow(ROPE_BASE, -2.0 * i / hd);
    *c = (real)cos(ang);
    *s = (real)sin(ang);
}

void rope_forward(real *out, const real *x, int B, int T, int H, int hd, int pos0) {
    int half = hd / 2;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int i = 0; i < half; i++) {
                real c, s;
                rope_angle(pos0 + t, i, hd, &c, &s);
                for (int h = 0; h < H; h++) {
                    long o = (((long)b * T + t) * H + h) * hd;
                    real a = x[o + i], z = x[o + i + half];
                    out[o + i] = a * c - z * s;
                    out[o + i + half] = a * s + z * c;
                }
            }
}

void rope_backward(real *dx, const real *dout, int B, int T, int H, int hd, int pos0) {
    int half = hd / 2;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int i = 0; i < half; i++) {
                real c, s;
                rope_angle(pos0 + t, i, hd, &c, &s);
                for (int h = 0; h < H; h++) {
                    long o = (((long)b * T + t) * H + h) * hd;
                    real a = dout[o + i], z = dout[o + i + half];
                    dx[o + i] += a * c + z * s;
                    dx[o + i + half] += -a * s + z * c;
                }
            }
}
