// Finite-difference checks (double build) for the recurrence and convolution operators:
// short conv, long-conv filter + direct conv, linear attention (both feature maps; the
// loss uses the recurrent form, the gradient the chunked backward), SSD scan (the loss
// uses the recurrent scan, the gradient the checkpointed reverse scan).
#include <stdlib.h>
#include <string.h>

#include "operators/linear_attention.h"
#include "operators/long_conv.h"
#include "operators/short_conv.h"
#include "operators/ssd_scan.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

#define EPS 1e-5
#define TOL 1e-5
#define MAXC 400

static real *vec(long n, double scale, pcg32 *rng) {
    real *x = calloc((size_t)n, sizeof(real));
    if (scale > 0) fill_normal(x, n, scale, rng);
    return x;
}

// ---------------------------------------------------------------- short conv
typedef struct {
    int B, T, C, K;
    real *x, *w, *y, *wts;
} sc_ctx;

static double sc_loss(void *p) {
    sc_ctx *c = p;
    short_conv_forward(c->y, c->x, c->w, c->B, c->T, c->C, c->K);
    return dot_weights(c->y, c->wts, (long)c->B * c->T * c->C);
}

static void check_short_conv(pcg32 *rng) {
    sc_ctx c = {.B = 2, .T = 7, .C = 3, .K = 4};
    long n = (long)c.B * c.T * c.C;
    c.x = vec(n, 1, rng), c.w = vec(c.C * c.K, 1, rng), c.y = vec(n, 0, rng), c.wts = vec(n, 1, rng);
    real *dx = vec(n, 0, rng), *dw = vec(c.C * c.K, 0, rng);
    short_conv_backward(dx, dw, c.wts, c.x, c.w, c.B, c.T, c.C, c.K);
    CHECK(gradcheck("short_conv dx", c.x, dx, n, sc_loss, &c, EPS, TOL, MAXC) == 0);
    CHECK(gradcheck("short_conv dw", c.w, dw, c.C * c.K, sc_loss, &c, EPS, TOL, MAXC) == 0);
    free(c.x), free(c.w), free(c.y), free(c.wts), free(dx), free(dw);
}

// ---------------------------------------------------------------- long conv
typedef struct {
    int B, T, C, M;
    real *a, *b, *alpha, *skip, *x, *h, *y, *wts;
} lc_ctx;

static double lc_loss(void *p) {
    lc_ctx *c = p;
    star_error err;
    long_conv_filter_forward(c->h, c->a, c->b, c->alpha, c->C, c->T, c->M);
    if (long_conv_forward(c->y, c->x, c->h, c->skip, c->B, c->T, c->C, LONG_CONV_DIRECT, &err)) return NAN;
    return dot_weights(c->y, c->wts, (long)c->B * c->T * c->C);
}

// T = 70 spans more than T0 = 64 tokens, so the decay and every mode vary over the filter.
static void check_long_conv(int B, int T, int C, int M, pcg32 *rng) {
    lc_ctx c = {.B = B, .T = T, .C = C, .M = M};
    long n = (long)c.B * c.T * c.C, nm = (long)c.C * c.M;
    c.a = vec(nm, 1, rng), c.b = vec(nm, 1, rng), c.alpha = vec(c.C, 1, rng), c.skip = vec(c.C, 1, rng);
    c.x = vec(n, 1, rng), c.h = vec((long)c.C * c.T, 0, rng), c.y = vec(n, 0, rng), c.wts = vec(n, 1, rng);
    real *da = vec(nm, 0, rng), *db = vec(nm, 0, rng), *dalpha = vec(c.C, 0, rng), *dskip = vec(c.C, 0, rng);
    real *dx = vec(n, 0, rng), *dh = vec((long)c.C * c.T, 0, rng);
    star_error err;
    long_conv_filter_forward(c.h, c.a, c.b, c.alpha, c.C, c.T, c.M);
    CHECK(long_conv_backward(dx, dh, dskip, c.wts, c.x, c.h, c.skip, c.B, c.T, c.C, LONG_CONV_DIRECT, &err) == 0);
    long_conv_filter_backward(da, db, dalpha, dh, c.a, c.b, c.alpha, c.C, c.T, c.M);
    CHECK(gradcheck("long_conv dx", c.x, dx, n, lc_loss, &c, EPS, TOL, MAXC) == 0);
    CHECK(gradcheck("long_conv dskip", c.skip, dskip, c.C, lc_loss, &c, EPS, TOL, MAXC) == 0);
    CHECK(gradcheck("long_conv filter da", c.a, da, nm, lc_loss, &c, EPS, TOL, MAXC) == 0);
    CHECK(gradcheck("long_conv filter db", c.b, db, nm, lc_loss, &c, EPS, TOL, MAXC) == 0);
    CHECK(gradcheck("long_conv filter dalpha", c.alpha, dalpha, c.C, lc_loss, &c, EPS, TOL, MAXC) == 0);
    free(c.a), free(c.b), free(c.alpha), free(c.skip), free(c.x), free(c.h), free(c.y), free(c.wts);
    free(da), free(db), free(dalpha), free(dskip), free(dx), free(dh);
}

// ---------------------------------------------------------------- linear attention
typedef struct {
    int B, T, H, D;
    linatt_phi phi;
    real *q, *k, *v, *o, *wts;
} la_ctx;

static double la_loss(void *p) {
    la_ctx *c = p;
    star_error err;
    if (linear_attention_forward_recurrent(c->o, c->q, c->k, c->v, c->B, c->T, c->H, c->D, c->phi, &err)) return NAN;
    return dot_weights(c->o, c->wts, (long)c->B * c->T * c->H * c->D);
}

static void check_linear_attention(linatt_phi phi, int L, pcg32 *rng) {
    la_ctx c = {.B = 2, .T = 8, .H = 2, .D = 4, .phi = phi};
    long n = (long)c.B * c.T * c.H * c.D;
    c.q = vec(n, 1, rng), c.k = vec(n, 1, rng), c.v = vec(n, 1, rng), c.o = vec(n, 0, rng), c.wts = vec(n, 1, rng);
    real *dq = vec(n, 0, rng), *dk = vec(n, 0, rng), *dv = vec(n, 0, rng);
    star_error err;
    CHECK(linear_attention_backward(dq, dk, dv, c.wts, c.q, c.k, c.v, c.B, c.T, c.H, c.D, L, phi, &err) == 0);
    char name[64];
    snprintf(name, sizeof name, "linatt(phi=%d,L=%d) dq", (int)phi, L);
    CHECK(gradcheck(name, c.q, dq, n, la_loss, &c, EPS, TOL, MAXC) == 0);
    snprintf(name, sizeof name, "linatt(phi=%d,L=%d) dk", (int)phi, L);
    CHECK(gradcheck(name, c.k, dk, n, la_loss, &c, EPS, TOL, MAXC) == 0);
    snprintf(name, sizeof name, "linatt(phi=%d,L=%d) dv", (int)phi, L);
    CHECK(gradcheck(name, c.v, dv, n, la_loss, &c, EPS, TOL, MAXC) == 0);
    free(c.q), free(c.k), free(c.v), free(c.o), free(c.wts), free(dq), free(dk), free(dv);
}

// ---------------------------------------------------------------- ssd scan
typedef struct {
    ssd_shape s;
    ssd_inputs in;
    real *y, *wts;
} ssd_ctx;

static double ssd_loss(void *p) {
    ssd_ctx *c = p;
    star_error err;
    if (ssd_scan_forward_recurrent(c->y, &c->in, c->s, &err)) return NAN;
    return dot_weights(c->y, c->wts, (long)c->s.B * c->s.T * c->s.H * c->s.P);
}

static void check_ssd(int L, int with_optional, pcg32 *rng) {
    ssd_ctx c = {.s = {2, 9, 2, 3, 4}};
    ssd_shape s = c.s;
    long nx = (long)s.B * s.T * s.H * s.P, nb = (long)s.B * s.T * s.N, nd = (long)s.B * s.T * s.H;
    real *x = vec(nx, 1, rng), *Bm = vec(nb, 1, rng), *Cm = vec(nb, 1, rng), *dt = vec(nd, 0.7, rng);
    real *bias = vec(s.H, 0.5, rng), *A_log = vec(s.H, 0.5, rng), *D = vec(s.H, 1, rng);
    c.in = (ssd_inputs){x, Bm, Cm, dt, with_optional ? bias : NULL, A_log, with_optional ? D : NULL};
    c.y = vec(nx, 0, rng), c.wts = vec(nx, 1, rng);
    ssd_grads g = {vec(nx, 0, rng), vec(nb, 0, rng), vec(nb, 0, rng), vec(nd, 0, rng),
                   vec(s.H, 0, rng), vec(s.H, 0, rng), vec(s.H, 0, rng)};
    star_error err;
    CHECK(ssd_scan_backward(&g, c.wts, &c.in, s, L, &err) == 0);
    char name[64];
#define SSD_CHECK(label, param, grad, n)                                                   \
    snprintf(name, sizeof name, "ssd(L=%d,opt=%d) %s", L, with_optional, label);           \
    CHECK(gradcheck(name, param, grad, n, ssd_loss, &c, EPS, TOL, MAXC) == 0)
    SSD_CHECK("dx", x, g.dx, nx);
    SSD_CHECK("dB", Bm, g.dBm, nb);
    SSD_CHECK("dC", Cm, g.dCm, nb);
    SSD_CHECK("ddt", dt, g.ddt, nd);
    SSD_CHECK("dA_log", A_log, g.dA_log, s.H);
    if (with_optional) {
        SSD_CHECK("ddt_bias", bias, g.ddt_bias, s.H);
        SSD_CHECK("dD", D, g.dD, s.H);
    } else {
        CHECK(g.ddt_bias[0] == 0 && g.dD[0] == 0);  // absent parameters get no gradient
    }
#undef SSD_CHECK
    free(x), free(Bm), free(Cm), free(dt), free(bias), free(A_log), free(D), free(c.y), free(c.wts);
    free(g.dx), free(g.dBm), free(g.dCm), free(g.ddt), free(g.ddt_bias), free(g.dA_log), free(g.dD);
}

int main(void) {
    pcg32 rng;
    pcg32_seed(&rng, 42, 7);
    check_short_conv(&rng);
    check_long_conv(2, 9, 3, 3, &rng);
    check_long_conv(1, 70, 2, 4, &rng);
    check_linear_attention(LINATT_PHI_IDENTITY, 3, &rng);
    check_linear_attention(LINATT_PHI_ELU1, 3, &rng);
    check_linear_attention(LINATT_PHI_ELU1, 8, &rng);
    check_ssd(4, 1, &rng);
    check_ssd(1, 0, &rng);
    check_ssd(16, 1, &rng);
    TEST_END();
}
