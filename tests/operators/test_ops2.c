// Float-build checks of the recurrence and convolution operators: the two forms of each
// operator agree (chunked == recurrent for T not a multiple of the chunk, FFT == direct),
// decoding token by token equals the full forward, backward accumulates and does not
// depend on the chunk length or the thread count, and nothing overflows to NaN.
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "common/pcg32.h"
#include "operators/linear_attention.h"
#include "operators/long_conv.h"
#include "operators/short_conv.h"
#include "operators/ssd_scan.h"
#include "tests/test_util.h"

static real *vec(long n, double scale, pcg32 *rng) {
    real *x = calloc((size_t)n, sizeof(real));
    for (long i = 0; rng && i < n; i++) x[i] = (real)(scale * pcg32_normal(rng));
    return x;
}

static real *copy(const real *x, long n) {
    real *y = malloc(sizeof(real) * (size_t)n);
    memcpy(y, x, sizeof(real) * (size_t)n);
    return y;
}

// max |a - b| relative to max(1, max |b|)
static double rel_diff(const real *a, const real *b, long n) {
    double d = 0, m = 1;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (e > d || isnan(e)) d = isnan(e) ? INFINITY : e;
        if (fabs((double)b[i]) > m) m = fabs((double)b[i]);
    }
    return d / m;
}

static int all_finite(const real *x, long n) {
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static void set_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

// ---------------------------------------------------------------- short conv
static void test_short_conv(pcg32 *rng) {
    int B = 2, T = 13, C = 5;
    long n = (long)B * T * C;
    for (int K = 1; K <= 4; K += 3) {
        real *x = vec(n, 1, rng), *w = vec((long)C * K, 1, rng), *y = vec(n, 0, NULL);
        short_conv_forward(y, x, w, B, T, C, K);
        CHECK(all_finite(y, n));
        real *state = vec((long)B * (K > 1 ? K - 1 : 1) * C, 0, NULL), *yt = vec((long)B * C, 0, NULL);
        real *xt = vec((long)B * C, 0, NULL), *ys = vec(n, 0, NULL);
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) memcpy(xt + (long)b * C, x + ((long)b * T + t) * C, sizeof(real) * C);
            short_conv_step(yt, state, xt, w, B, C, K);
            for (int b = 0; b < B; b++) memcpy(ys + ((long)b * T + t) * C, yt + (long)b * C, sizeof(real) * C);
        }
        CHECK_MSG(rel_diff(ys, y, n) < 1e-5, "short_conv decode vs forward, K=%d: %g", K, rel_diff(ys, y, n));
        free(x), free(w), free(y), free(state), free(yt), free(xt), free(ys);
    }
    // an impulse at t=0 reads the filter out: tap k multiplies the input k steps back
    int K = 3;
    real w[3 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, x[6 * 3] = {0}, y[6 * 3];
    x[1] = 1;  // t=0, c=1
    short_conv_forward(y, x, w, 1, 6, 3, K);
    CHECK(y[0 * 3 + 1] == 4 && y[1 * 3 + 1] == 5 && y[2 * 3 + 1] == 6 && y[3 * 3 + 1] == 0 && y[0] == 0);
}

// ---------------------------------------------------------------- long conv
static void test_long_conv(pcg32 *rng) {
    star_error err;
    int B = 2, T = 100, C = 6, M = 4;
    long n = (long)B * T * C, nh = (long)C * T;
    real *a = vec((long)C * M, 1, rng), *b = vec((long)C * M, 1, rng), *alpha = vec(C, 1, rng);
    real *skip = vec(C, 1, rng), *x = vec(n, 1, rng), *dy = vec(n, 1, rng), *h = vec(nh, 0, NULL);
    long_conv_filter_forward(h, a, b, alpha, C, T, M);
    CHECK(all_finite(h, nh));
    double h00 = 0;
    for (int m = 0; m < M; m++) h00 += a[m];  // t = 0: no decay, cos = 1, sin = 0
    CHECK_NEAR(h[0], h00, 1e-5);

    real *yd = vec(n, 0, NULL), *yf = vec(n, 0, NULL);
    CHECK(long_conv_forward(yd, x, h, skip, B, T, C, LONG_CONV_DIRECT, &err) == 0);
    CHECK(long_conv_forward(yf, x, h, skip, B, T, C, LONG_CONV_FFT, &err) == 0);
    CHECK_MSG(rel_diff(yf, yd, n) < 1e-5, "long_conv FFT vs direct forward: %g", rel_diff(yf, yd, n));
    CHECK(all_finite(yf, n));

    // backward: FFT == direct, both accumulating onto the same non-zero start
    real *dx0 = vec(n, 1, rng), *dh0 = vec(nh, 1, rng), *ds0 = vec(C, 1, rng);
    real *dxd = copy(dx0, n), *dhd = copy(dh0, nh), *dsd = copy(ds0, C);
    real *dxf = copy(dx0, n), *dhf = copy(dh0, nh), *dsf = copy(ds0, C);
    CHECK(long_conv_backward(dxd, dhd, dsd, dy, x, h, skip, B, T, C, LONG_CONV_DIRECT, &err) == 0);
    CHECK(long_conv_backward(dxf, dhf, dsf, dy, x, h, skip, B, T, C, LONG_CONV_FFT, &err) == 0);
    CHECK_MSG(rel_diff(dxf, dxd, n) < 1e-5, "dx FFT vs direct: %g", rel_diff(dxf, dxd, n));
    CHECK_MSG(rel_diff(dhf, dhd, nh) < 1e-5, "dh FFT vs direct: %g", rel_diff(dhf, dhd, nh));
    CHECK(rel_diff(dsf, dsd, C) < 1e-6);
    CHECK(rel_diff(dxd, dx0, n) > 1e-3);  // the gradient was actually added

    // one thread or two: the same bits
    real *dx1 = copy(dx0, n), *dh1 = copy(dh0, nh);
    set_threads(1);
    CHECK(long_conv_backward(dx1, dh1, NULL, dy, x, h, skip, B, T, C, LONG_CONV_FFT, &err) == 0);
    set_threads(2);
    CHECK(memcmp(dx1, dxf, sizeof(real) * n) == 0 && memcmp(dh1, dhf, sizeof(real) * nh) == 0);

    // decode with the input history equals the full forward
    real *cache = vec((long)B * (T - 1) * C, 0, NULL), *xt = vec((long)B * C, 0, NULL), *yt = vec((long)B * C, 0, NULL);
    real *ys = vec(n, 0, NULL);
    int ok = 1;
    for (int t = 0; t < T; t++) {
        for (int bb = 0; bb < B; bb++) memcpy(xt + (long)bb * C, x + ((long)bb * T + t) * C, sizeof(real) * C);
        ok &= long_conv_step(yt, cache, xt, h, skip, B, C, T, t, &err) == 0;
        for (int bb = 0; bb < B; bb++) memcpy(ys + ((long)bb * T + t) * C, yt + (long)bb * C, sizeof(real) * C);
    }
    CHECK(ok);
    CHECK_MSG(rel_diff(ys, yd, n) < 1e-5, "long_conv decode vs forward: %g", rel_diff(ys, yd, n));
    CHECK(long_conv_step(yt, cache, xt, h, skip, B, C, T, T, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "decode position 100");
    CHECK(long_conv_forward(yd, x, h, skip, B, 0, C, LONG_CONV_FFT, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "bad shape");

    // a length-1 sequence: only tap 0 and the skip
    real x1[3] = {1, 2, 3}, h1[3] = {0.5f, -1, 2}, y1[3];
    CHECK(long_conv_forward(y1, x1, h1, NULL, 1, 1, 3, LONG_CONV_FFT, &err) == 0);
    CHECK_NEAR(y1[0], 0.5, 1e-6);
    CHECK_NEAR(y1[1], -2, 1e-6);
    CHECK_NEAR(y1[2], 6, 1e-6);

    free(a), free(b), free(alpha), free(skip), free(x), free(dy), free(h), free(yd), free(yf);
    free(dx0), free(dh0), free(ds0), free(dxd), free(dhd), free(dsd), free(dxf), free(dhf), free(dsf);
    free(dx1), free(dh1), free(cache), free(xt), free(yt), free(ys);
}

// ---------------------------------------------------------------- linear attention
static void test_linear_attention(linatt_phi phi, pcg32 *rng) {
    star_error err;
    int B = 2, T = 37, H = 3, D = 8;
    long n = (long)B * T * H * D;
    real *q = vec(n, 1, rng), *k = vec(n, 1, rng), *v = vec(n, 1, rng), *dout = vec(n, 1, rng);
    real *orec = vec(n, 0, NULL), *och = vec(n, 0, NULL);
    CHECK(linear_attention_forward_recurrent(orec, q, k, v, B, T, H, D, phi, &err) == 0);
    CHECK(all_finite(orec, n));
    int chunks[] = {1, 8, 16, 64};
    for (int i = 0; i < 4; i++) {
        CHECK(linear_attention_forward_chunked(och, q, k, v, B, T, H, D, chunks[i], phi, &err) == 0);
        CHECK_MSG(rel_diff(och, orec, n) < 1e-5, "linatt phi=%d chunk %d vs recurrent: %g", (int)phi, chunks[i],
                  rel_diff(och, orec, n));
    }

    // decode with the state equals the full forward
    long HD = (long)H * D;
    real *state = vec((long)B * H * D * D, 0, NULL), *qt = vec(B * HD, 0, NULL), *kt = vec(B * HD, 0, NULL);
    real *vt = vec(B * HD, 0, NULL), *ot = vec(B * HD, 0, NULL), *os = vec(n, 0, NULL);
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < B; b++) {
            long src = ((long)b * T + t) * HD;
            memcpy(qt + b * HD, q + src, sizeof(real) * HD);
            memcpy(kt + b * HD, k + src, sizeof(real) * HD);
            memcpy(vt + b * HD, v + src, sizeof(real) * HD);
        }
        linear_attention_step(ot, state, qt, kt, vt, B, H, D, phi);
        for (int b = 0; b < B; b++) memcpy(os + ((long)b * T + t) * HD, ot + b * HD, sizeof(real) * HD);
    }
    CHECK_MSG(rel_diff(os, orec, n) < 1e-5, "linatt decode vs forward: %g", rel_diff(os, orec, n));

    // backward: independent of the chunk length; accumulates; thread-count independent
    real *g5[3], *g16[3], *g1t[3];
    for (int i = 0; i < 3; i++) g5[i] = vec(n, 0, NULL), g16[i] = vec(n, 0, NULL), g1t[i] = vec(n, 0, NULL);
    CHECK(linear_attention_backward(g5[0], g5[1], g5[2], dout, q, k, v, B, T, H, D, 5, phi, &err) == 0);
    CHECK(linear_attention_backward(g16[0], g16[1], g16[2], dout, q, k, v, B, T, H, D, 16, phi, &err) == 0);
    for (int i = 0; i < 3; i++) {
        CHECK(all_finite(g5[i], n));
        CHECK_MSG(rel_diff(g16[i], g5[i], n) < 1e-5, "linatt grad %d chunk 16 vs 5: %g", i, rel_diff(g16[i], g5[i], n));
    }
    set_threads(1);
    CHECK(linear_attention_backward(g1t[0], g1t[1], g1t[2], dout, q, k, v, B, T, H, D, 16, phi, &err) == 0);
    set_threads(2);
    for (int i = 0; i < 3; i++) CHECK(memcmp(g1t[i], g16[i], sizeof(real) * n) == 0);
    CHECK(linear_attention_backward(g16[0], g16[1], g16[2], dout, q, k, v, B, T, H, D, 16, phi, &err) == 0);
    for (int i = 0; i < 3; i++) {
        for (long j = 0; j < n; j++) g1t[i][j] *= 2;
        CHECK(rel_diff(g16[i], g1t[i], n) < 1e-6);
    }
    CHECK(linear_attention_forward_chunked(och, q, k, v, B, T, H, D, 0, phi, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "chunk=0");

    for (int i = 0; i < 3; i++) free(g5[i]), free(g16[i]), free(g1t[i]);
    free(q), free(k), free(v), free(dout), free(orec), free(och), free(state), free(qt), free(kt), free(vt), free(ot),
        free(os);
}

// ---------------------------------------------------------------- ssd scan
typedef struct ssd_data {
    ssd_shape s;
    ssd_inputs in;
    real *x, *Bm, *Cm, *dt, *bias, *A_log, *D;
} ssd_data;

static ssd_data ssd_make(ssd_shape s, double dt_shift, double alog_shift, int optional, pcg32 *rng) {
    ssd_data d = {.s = s};
    d.x = vec((long)s.B * s.T * s.H * s.P, 1, rng);
    d.Bm = vec((long)s.B * s.T * s.N, 1, rng);
    d.Cm = vec((long)s.B * s.T * s.N, 1, rng);
    d.dt = vec((long)s.B * s.T * s.H, 1, rng);
    d.bias = vec(s.H, 0.5, rng), d.A_log = vec(s.H, 0.5, rng), d.D = vec(s.H, 1, rng);
    for (long i = 0; i < (long)s.B * s.T * s.H; i++) d.dt[i] += (real)dt_shift;
    for (int h = 0; h < s.H; h++) d.A_log[h] += (real)alog_shift;
    d.in = (ssd_inputs){d.x, d.Bm, d.Cm, d.dt, optional ? d.bias : NULL, d.A_log, optional ? d.D : NULL};
    return d;
}

static void ssd_free(ssd_data *d) { free(d->x), free(d->Bm), free(d->Cm), free(d->dt), free(d->bias), free(d->A_log), free(d->D); }

static ssd_grads grads_make(ssd_shape s) {
    long nx = (long)s.B * s.T * s.H * s.P, nb = (long)s.B * s.T * s.N, nd = (long)s.B * s.T * s.H;
    return (ssd_grads){vec(nx, 0, NULL), vec(nb, 0, NULL), vec(nb, 0, NULL), vec(nd, 0, NULL),
                       vec(s.H, 0, NULL), vec(s.H, 0, NULL), vec(s.H, 0, NULL)};
}

static void grads_free(ssd_grads *g) { free(g->dx), free(g->dBm), free(g->dCm), free(g->ddt), free(g->ddt_bias), free(g->dA_log), free(g->dD); }

// rel_diff over every gradient; bitwise: memcmp instead
static double grads_diff(const ssd_grads *a, const ssd_grads *b, ssd_shape s, int bitwise) {
    long nx = (long)s.B * s.T * s.H * s.P, nb = (long)s.B * s.T * s.N, nd = (long)s.B * s.T * s.H;
    const real *pa[7] = {a->dx, a->dBm, a->dCm, a->ddt, a->ddt_bias, a->dA_log, a->dD};
    const real *pb[7] = {b->dx, b->dBm, b->dCm, b->ddt, b->ddt_bias, b->dA_log, b->dD};
    long len[7] = {nx, nb, nb, nd, s.H, s.H, s.H};
    double worst = 0;
    for (int i = 0; i < 7; i++) {
        double d = bitwise ? (memcmp(pa[i], pb[i], sizeof(real) * len[i]) != 0) : rel_diff(pa[i], pb[i], len[i]);
        if (d > worst) worst = d;
    }
    return worst;
}

static void test_ssd(int optional, double dt_shift, double alog_shift, pcg32 *rng) {
    star_error err;
    ssd_shape s = {2, 37, 3, 5, 4};
    ssd_data d = ssd_make(s, dt_shift, alog_shift, optional, rng);
    long nx = (long)s.B * s.T * s.H * s.P;
    real *yrec = vec(nx, 0, NULL), *ych = vec(nx, 0, NULL), *dy = vec(nx, 1, rng);
    CHECK(ssd_scan_forward_recurrent(yrec, &d.in, s, &err) == 0);
    CHECK(all_finite(yrec, nx));
    int chunks[] = {1, 8, 16, 64};
    for (int i = 0; i < 4; i++) {
        CHECK(ssd_scan_forward_chunked(ych, &d.in, s, chunks[i], &err) == 0);
        CHECK_MSG(rel_diff(ych, yrec, nx) < 1e-5, "ssd chunk %d vs recurrent (opt=%d dt+%g): %g", chunks[i], optional,
                  dt_shift, rel_diff(ych, yrec, nx));
    }

    // decode with the state equals the full forward
    long HP = (long)s.H * s.P;
    real *state = vec((long)s.B * s.H * s.N * s.P, 0, NULL), *xt = vec(s.B * HP, 0, NULL), *yt = vec(s.B * HP, 0, NULL);
    real *Bt = vec((long)s.B * s.N, 0, NULL), *Ct = vec((long)s.B * s.N, 0, NULL), *dtt = vec((long)s.B * s.H, 0, NULL);
    real *ys = vec(nx, 0, NULL);
    ssd_inputs step = {xt, Bt, Ct, dtt, d.in.dt_bias, d.A_log, d.in.D};
    for (int t = 0; t < s.T; t++) {
        for (int b = 0; b < s.B; b++) {
            long bt = (long)b * s.T + t;
            memcpy(xt + b * HP, d.x + bt * HP, sizeof(real) * HP);
            memcpy(Bt + (long)b * s.N, d.Bm + bt * s.N, sizeof(real) * s.N);
            memcpy(Ct + (long)b * s.N, d.Cm + bt * s.N, sizeof(real) * s.N);
            memcpy(dtt + (long)b * s.H, d.dt + bt * s.H, sizeof(real) * s.H);
        }
        ssd_scan_step(yt, state, &step, s);
        for (int b = 0; b < s.B; b++) memcpy(ys + ((long)b * s.T + t) * HP, yt + b * HP, sizeof(real) * HP);
    }
    CHECK_MSG(rel_diff(ys, yrec, nx) < 1e-5, "ssd decode vs forward: %g", rel_diff(ys, yrec, nx));

    // backward: checkpoint length does not matter; thread count does not matter; finite
    ssd_grads g4 = grads_make(s), g37 = grads_make(s), g1t = grads_make(s);
    CHECK(ssd_scan_backward(&g4, dy, &d.in, s, 4, &err) == 0);
    CHECK(ssd_scan_backward(&g37, dy, &d.in, s, 37, &err) == 0);
    CHECK(all_finite(g4.dx, nx) && all_finite(g4.ddt, (long)s.B * s.T * s.H) && all_finite(g4.dA_log, s.H));
    CHECK_MSG(grads_diff(&g37, &g4, s, 0) < 1e-5, "ssd grads L=37 vs L=4: %g", grads_diff(&g37, &g4, s, 0));
    set_threads(1);
    CHECK(ssd_scan_backward(&g1t, dy, &d.in, s, 37, &err) == 0);
    set_threads(2);
    CHECK(grads_diff(&g1t, &g37, s, 1) == 0);

    free(yrec), free(ych), free(dy), free(state), free(xt), free(yt), free(Bt), free(Ct), free(dtt), free(ys);
    grads_free(&g4), grads_free(&g37), grads_free(&g1t);
    ssd_free(&d);
}

static void test_ssd_errors(void) {
    star_error err;
    ssd_shape s = {1, 4, 1, 2, 0};
    real y[8];
    ssd_inputs in = {0};
    CHECK(ssd_scan_forward_chunked(y, &in, s, 2, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "N=0");
}

int main(void) {
    pcg32 rng;
    pcg32_seed(&rng, 2024, 11);
    set_threads(2);
    test_short_conv(&rng);
    test_long_conv(&rng);
    test_linear_attention(LINATT_PHI_IDENTITY, &rng);
    test_linear_attention(LINATT_PHI_ELU1, &rng);
    test_ssd(1, 0, 0, &rng);
    test_ssd(0, -2, -1, &rng);  // slow decay: long memory
    test_ssd(1, 30, 2, &rng);   // huge steps: decays underflow to 0, still finite
    test_ssd_errors();
    TEST_END();
}
