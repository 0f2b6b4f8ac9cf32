#include "operators/long_conv.h"

#include <stdlib.h>
#include <string.h>

#if !defined(STAR_REAL_DOUBLE)
#include <fftw3.h>
#define LC_HAVE_FFT 1
#define FFTW(name) fftwf_##name
#elif defined(STAR_HAVE_FFTW3_DOUBLE)
#include <fftw3.h>
#define LC_HAVE_FFT 1
#define FFTW(name) fftw_##name
#else
#define LC_HAVE_FFT 0
#endif

#define LC_PI 3.14159265358979323846

static real softplus(real a) { return a > 20 ? a : R_LOG1P(R_EXP(a)); }
static real sigmoid(real a) { return 1 / (1 + R_EXP(-a)); }

// ---------------------------------------------------------------------------------
// implicit filter

void long_conv_filter_forward(real *h, const real *a, const real *b, const real *alpha, int C, int T, int M) {
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        for (int c = 0; c < C; c++) h[(long)c * T + t] = 0;
        for (int m = 0; m < M; m++) {
            real wt = (real)(LC_PI * (m + 1) / LONG_CONV_T0) * t;
            real cs = R_COS(wt), sn = R_SIN(wt);
            for (int c = 0; c < C; c++) h[(long)c * T + t] += a[(long)c * M + m] * cs + b[(long)c * M + m] * sn;
        }
        for (int c = 0; c < C; c++) h[(long)c * T + t] *= R_EXP(-softplus(alpha[c]) * t / LONG_CONV_T0);
    }
}

void long_conv_filter_backward(real *da, real *db, real *dalpha, const real *dh, const real *a, const real *b,
                               const real *alpha, int C, int T, int M) {
    // d h / d a[c][m] = decay_c(t) cos(w_m t): each thread owns one mode m.
    if (da || db) {
#pragma omp parallel for schedule(static)
        for (int m = 0; m < M; m++) {
            for (int c = 0; c < C; c++) {
                real rate = softplus(alpha[c]) / LONG_CONV_T0, ga = 0, gb = 0;
                for (int t = 0; t < T; t++) {
                    real wt = (real)(LC_PI * (m + 1) / LONG_CONV_T0) * t;
                    real g = dh[(long)c * T + t] * R_EXP(-rate * t);
                    ga += g * R_COS(wt);
                    gb += g * R_SIN(wt);
                }
                if (da) da[(long)c * M + m] += ga;
                if (db) db[(long)c * M + m] += gb;
            }
        }
    }
    // d h[c][t] / d alpha_c = h[c][t] * (-t / T0) * sigmoid(alpha_c)
    if (dalpha) {
#pragma omp parallel for schedule(static)
        for (int c = 0; c < C; c++) {
            real rate = softplus(alpha[c]) / LONG_CONV_T0, g = 0;
            for (int t = 0; t < T; t++) {
                real s = 0;
                for (int m = 0; m < M; m++) {
                    real wt = (real)(LC_PI * (m + 1) / LONG_CONV_T0) * t;
                    s += a[(long)c * M + m] * R_COS(wt) + b[(long)c * M + m] * R_SIN(wt);
                }
                g += dh[(long)c * T + t] * s * R_EXP(-rate * t) * (-(real)t / LONG_CONV_T0);
            }
            dalpha[c] += g * sigmoid(alpha[c]);
        }
    }
}

// ---------------------------------------------------------------------------------
// direct causal convolution: O(T^2 C) per sequence, on a transposed filter [T][C] so the
// innermost loop runs over contiguous channels.

static real *transpose_filter(const real *h, int C, int T, star_error *err) {
    real *hT = malloc(sizeof(real) * (size_t)T * C);
    if (!hT) {
        STAR_FAIL(err, "long_conv: cannot allocate %zu bytes for the filter", sizeof(real) * (size_t)T * C);
        return NULL;
    }
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++) hT[(long)t * C + c] = h[(long)c * T + t];
    return hT;
}

static int direct_forward(real *y, const real *x, const real *h, int B, int T, int C, star_error *err) {
    real *hT = transpose_filter(h, C, T, err);
    if (!hT) return -1;
#pragma omp parallel for schedule(dynamic, 4)
    for (long bt = 0; bt < (long)B * T; bt++) {
        int b = (int)(bt / T), t = (int)(bt % T);
        real *yt = y + bt * C;
        for (int c = 0; c < C; c++) yt[c] = 0;
        for (int s = 0; s <= t; s++) {
            const real *hs = hT + (long)s * C, *xs = x + ((long)b * T + t - s) * C;
            for (int c = 0; c < C; c++) yt[c] += hs[c] * xs[c];
        }
    }
    free(hT);
    return 0;
}

static int direct_backward(real *dx, real *dh, const real *dy, const real *x, const real *h, int B, int T, int C,
                           star_error *err) {
    real *hT = transpose_filter(h, C, T, err);
    if (!hT) return -1;
    if (dx) {
        // dx[s] = sum_{u} h[u] dy[s+u]
#pragma omp parallel for schedule(dynamic, 4)
        for (long bs = 0; bs < (long)B * T; bs++) {
            int b = (int)(bs / T), s = (int)(bs % T);
            real *dxs = dx + bs * C;
            for (int u = 0; s + u < T; u++) {
                const real *hu = hT + (long)u * C, *dyt = dy + ((long)b * T + s + u) * C;
                for (int c = 0; c < C; c++) dxs[c] += hu[c] * dyt[c];
            }
        }
    }
    if (dh) {
        // dh[k] = sum_{b,t} dy[t] x[t-k], accumulated in hT (reused as [T][C] scratch)
#pragma omp parallel for schedule(dynamic, 4)
        for (int k = 0; k < T; k++) {
            real *g = hT + (long)k * C;
            for (int c = 0; c < C; c++) g[c] = 0;
            for (int b = 0; b < B; b++)
                for (int t = k; t < T; t++) {
                    const real *dyt = dy + ((long)b * T + t) * C, *xs = x + ((long)b * T + t - k) * C;
                    for (int c = 0; c < C; c++) g[c] += dyt[c] * xs[c];
                }
        }
        for (int c = 0; c < C; c++)
            for (int k = 0; k < T; k++) dh[(long)c * T + k] += hT[(long)k * C + c];
    }
    free(hT);
    return 0;
}

// ---------------------------------------------------------------------------------
// FFT causal convolution: per channel, zero-padded to n = 2^k >= 2T.

#if LC_HAVE_FFT
typedef struct fft_plans {
    int n;
    FFTW(plan) r2c, c2r;
} fft_plans;

// The FFTW planner is not thread-safe; every planner and allocator call goes through
// one named critical section (execution of a plan is thread-safe).
static void *fft_alloc(size_t bytes) {
    void *p;
#pragma omp critical(star_fftw)
    p = FFTW(malloc)(bytes);
    return p;
}
static void fft_free(void *p) {
#pragma omp critical(star_fftw)
    FFTW(free)(p);
}

static int fft_plans_make(fft_plans *p, int T, star_error *err) {
    int n = 1;
    while (n < 2 * T) n *= 2;
    p->n = n;
    p->r2c = p->c2r = NULL;
    real *r = fft_alloc(sizeof(real) * n);
    FFTW(complex) *z = fft_alloc(sizeof(FFTW(complex)) * (n / 2 + 1));
    if (r && z) {
#pragma omp critical(star_fftw)
        {
            p->r2c = FFTW(plan_dft_r2c_1d)(n, r, z, FFTW_ESTIMATE);
            p->c2r = FFTW(plan_dft_c2r_1d)(n, z, r, FFTW_ESTIMATE);
        }
    }
    fft_free(r);
    fft_free(z);
    if (!p->r2c || !p->c2r) return STAR_FAIL(err, "long_conv: cannot plan an FFT of length %d", n);
    return 0;
}

static void fft_plans_free(fft_plans *p) {
#pragma omp critical(star_fftw)
    {
        if (p->r2c) FFTW(destroy_plan)(p->r2c);
        if (p->c2r) FFTW(destroy_plan)(p->c2r);
    }
}

// Zero-padded real transform of one channel of a [.,T,C] array (stride C).
static void fft_channel(const fft_plans *p, real *r, FFTW(complex) *out, const real *src, int T, int C) {
    for (int t = 0; t < T; t++) r[t] = src[(long)t * C];
    memset(r + T, 0, sizeof(real) * (p->n - T));
    FFTW(execute_dft_r2c)(p->r2c, r, out);
}

static void fft_filter(const fft_plans *p, real *r, FFTW(complex) *out, const real *hc, int T) {
    memcpy(r, hc, sizeof(real) * T);
    memset(r + T, 0, sizeof(real) * (p->n - T));
    FFTW(execute_dft_r2c)(p->r2c, r, out);
}

// z = u * v (conj_v: u * conj(v))
static void cmul(FFTW(complex) *z, const FFTW(complex) *u, const FFTW(complex) *v, int nc, int conj_v) {
    real sg = conj_v ? -1 : 1;
    for (int i = 0; i < nc; i++) {
        real ur = u[i][0], ui = u[i][1], vr = v[i][0], vi = sg * v[i][1];
        z[i][0] = ur * vr - ui * vi;
        z[i][1] = ur * vi + ui * vr;
    }
}

static int fft_forward(real *y, const real *x, const real *h, int B, int T, int C, star_error *err) {
    fft_plans p;
    if (fft_plans_make(&p, T, err)) return -1;
    int n = p.n, nc = n / 2 + 1, failed = 0;
#pragma omp parallel
    {
        real *r = fft_alloc(sizeof(real) * n);
        FFTW(complex) *H = fft_alloc(sizeof(FFTW(complex)) * nc), *X = fft_alloc(sizeof(FFTW(complex)) * nc);
        int ok = r && H && X;
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int c = 0; c < C; c++) {
            if (!ok) continue;
            fft_filter(&p, r, H, h + (long)c * T, T);
            for (int b = 0; b < B; b++) {
                fft_channel(&p, r, X, x + (long)b * T * C + c, T, C);
                cmul(X, X, H, nc, 0);
                FFTW(execute_dft_c2r)(p.c2r, X, r);
                for (int t = 0; t < T; t++) y[((long)b * T + t) * C + c] = r[t] / n;
            }
        }
        fft_free(r);
        fft_free(H);
        fft_free(X);
    }
    fft_plans_free(&p);
    if (failed) return STAR_FAIL(err, "long_conv: cannot allocate FFT buffers of length %d", n);
    return 0;
}

static int fft_backward(real *dx, real *dh, const real *dy, const real *x, const real *h, int B, int T, int C,
                        star_error *err) {
    fft_plans p;
    if (fft_plans_make(&p, T, err)) return -1;
    int n = p.n, nc = n / 2 + 1, failed = 0;
#pragma omp parallel
    {
        size_t zb = sizeof(FFTW(complex)) * nc;
        real *r = fft_alloc(sizeof(real) * n);
        FFTW(complex) *H = fft_alloc(zb), *DY = fft_alloc(zb), *X = fft_alloc(zb), *Z = fft_alloc(zb),
                      *DH = fft_alloc(zb);
        int ok = r && H && DY && X && Z && DH;
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int c = 0; c < C; c++) {
            if (!ok) continue;
            if (dx) fft_filter(&p, r, H, h + (long)c * T, T);
            memset(DH, 0, zb);
            for (int b = 0; b < B; b++) {
                fft_channel(&p, r, DY, dy + (long)b * T * C + c, T, C);
                if (dx) {  // correlation: DX = DY conj(H)
                    cmul(Z, DY, H, nc, 1);
                    FFTW(execute_dft_c2r)(p.c2r, Z, r);
                    for (int s = 0; s < T; s++) dx[((long)b * T + s) * C + c] += r[s] / n;
                }
                if (dh) {  // DH += DY conj(X)
                    fft_channel(&p, r, X, x + (long)b * T * C + c, T, C);
                    cmul(Z, DY, X, nc, 1);
                    for (int i = 0; i < nc; i++) {
                        DH[i][0] += Z[i][0];
                        DH[i][1] += Z[i][1];
                    }
                }
            }
            if (dh) {
                FFTW(execute_dft_c2r)(p.c2r, DH, r);
                for (int k = 0; k < T; k++) dh[(long)c * T + k] += r[k] / n;
            }
        }
        fft_free(r);
        fft_free(H);
        fft_free(DY);
        fft_free(X);
        fft_free(Z);
        fft_free(DH);
    }
    fft_plans_free(&p);
    if (failed) return STAR_FAIL(err, "long_conv: cannot allocate FFT buffers of length %d", n);
    return 0;
}
#endif

// ---------------------------------------------------------------------------------

int long_conv_forward(real *y, const real *x, const real *h, const real *skip, int B, int T, int C,
                      long_conv_method method, star_error *err) {
    if (B <= 0 || T <= 0 || C <= 0) return STAR_FAIL(err, "long_conv: bad shape B=%d T=%d C=%d", B, T, C);
    int rc;
#if LC_HAVE_FFT
    if (method == LONG_CONV_FFT)
        rc = fft_forward(y, x, h, B, T, C, err);
    else
#endif
        rc = direct_forward(y, x, h, B, T, C, err);
    if (rc) return rc;
    if (skip)
        for (long i = 0; i < (long)B * T; i++)
            for (int c = 0; c < C; c++) y[i * C + c] += skip[c] * x[i * C + c];
    return 0;
}

int long_conv_backward(real *dx, real *dh, real *dskip, const real *dy, const real *x, const real *h,
                       const real *skip, int B, int T, int C, long_conv_method method, star_error *err) {
    if (B <= 0 || T <= 0 || C <= 0) return STAR_FAIL(err, "long_conv: bad shape B=%d T=%d C=%d", B, T, C);
    if (dx || dh) {
        int rc;
#if LC_HAVE_FFT
        if (method == LONG_CONV_FFT)
            rc = fft_backward(dx, dh, dy, x, h, B, T, C, err);
        else
#endif
            rc = direct_backward(dx, dh, dy, x, h, B, T, C, err);
        if (rc) return rc;
    }
    if (dx && skip)
        for (long i = 0; i < (long)B * T; i++)
            for (int c = 0; c < C; c++) dx[i * C + c] += skip[c] * dy[i * C + c];
    if (dskip)
        for (long i = 0; i < (long)B * T; i++)
            for (int c = 0; c < C; c++) dskip[c] += dy[i * C + c] * x[i * C + c];
    return 0;
}

int long_conv_step(real *y, real *cache, const real *x, const real *h, const real *skip, int B, int C, int T, int t,
                   star_error *err) {
    if (t < 0 || t >= T) return STAR_FAIL(err, "long_conv: decode position %d outside the filter length %d", t, T);
    for (int b = 0; b < B; b++) {
        real *hist = cache + (long)b * (T - 1) * C;  // row s = input of position s
        const real *xb = x + (long)b * C;
        real *yb = y + (long)b * C;
        for (int c = 0; c < C; c++) {
            const real *hc = h + (long)c * T;
            real acc = (hc[0] + (skip ? skip[c] : 0)) * xb[c];
            for (int s = 1; s <= t; s++) acc += hc[s] * hist[(long)(t - s) * C + c];
            yb[c] = acc;
        }
        if (t < T - 1) memcpy(hist + (long)t * C, xb, sizeof(real) * C);
    }
    return 0;
}
