// Finite-difference checks (double build) for the core operators: RMS norm (gain and
// per-head), embedding, rope, every activation, the gated product, softmax attention
// (MHA, GQA 4->2 and 4->1, sliding window), differential attention (lambda included),
// cross-entropy, and the dense and grouped matrix products.
#include <stdlib.h>
#include <string.h>

#include "operators/activation.h"
#include "operators/attention.h"
#include "operators/crossentropy.h"
#include "operators/embedding.h"
#include "operators/glu.h"
#include "operators/matmul.h"
#include "operators/rmsnorm.h"
#include "operators/rope.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

#define EPS 1e-6
#define TOL 1e-5
#define MAXC 400

static real *vec(long n, double scale, pcg32 *rng) {
    real *x = calloc((size_t)(n > 0 ? n : 1), sizeof(real));
    if (scale > 0) fill_normal(x, n, scale, rng);
    return x;
}

// ---------------------------------------------------------------- rmsnorm
typedef struct {
    long N;
    int H, C;  // H > 0: per-head variant on [N,H,C]
    real *x, *w, *y, *rstd, *wts;
} rn_ctx;

static double rn_loss(void *p) {
    rn_ctx *c = p;
    if (c->H) head_rmsnorm_forward(c->y, c->rstd, c->x, c->N, c->H, c->C);
    else rmsnorm_forward(c->y, c->rstd, c->x, c->w, c->N, c->C);
    return dot_weights(c->y, c->wts, c->N * (c->H ? c->H : 1) * c->C);
}

static void check_rmsnorm(int per_head, pcg32 *rng) {
    rn_ctx c = {.N = 10, .H = per_head ? 3 : 0, .C = per_head ? 4 : 6};
    long n = c.N * (c.H ? c.H : 1) * c.C;
    c.x = vec(n, 1, rng), c.w = vec(c.C, 1, rng), c.y = vec(n, 0, rng), c.rstd = vec(n / c.C, 0, rng);
    c.wts = vec(n, 1, rng);
    real *dx = vec(n, 0, rng), *dw = vec(c.C, 0, rng);
    rn_loss(&c);
    if (per_head) {
        head_rmsnorm_backward(dx, c.wts, c.x, c.rstd, c.N, c.H, c.C);
        CHECK(gradcheck("head_rmsnorm dx", c.x, dx, n, rn_loss, &c, EPS, TOL, MAXC) == 0);
    } else {
        rmsnorm_backward(dx, dw, c.wts, c.x, c.w, c.rstd, c.N, c.C);
        CHECK(gradcheck("rmsnorm dx", c.x, dx, n, rn_loss, &c, EPS, TOL, MAXC) == 0);
        CHECK(gradcheck("rmsnorm dw", c.w, dw, c.C, rn_loss, &c, EPS, TOL, MAXC) == 0);
    }
    free(c.x), free(c.w), free(c.y), free(c.rstd), free(c.wts), free(dx), free(dw);
}

// ---------------------------------------------------------------- embedding
typedef struct {
    int N, V, C;
    int32_t *tok;
    real *table, *out, *wts;
} emb_ctx;

static double emb_loss(void *p) {
    emb_ctx *c = p;
    star_error err;
    if (embedding_forward(c->out, c->tok, c->table, c->N, c->V, c->C, &err)) return NAN;
    return dot_weights(c->out, c->wts, (long)c->N * c->C);
}

static void check_embedding(pcg32 *rng) {
    int32_t tok[12] = {3, 0, 5, 3, 3, 1, 6, 0, 2, 5, 4, 3};  // repeats: their gradients add
    emb_ctx c = {.N = 12, .V = 7, .C = 5, .tok = tok};
    c.table = vec((long)c.V * c.C, 1, rng), c.out = vec((long)c.N * c.C, 0, rng), c.wts = vec((long)c.N * c.C, 1, rng);
    real *dt = vec((long)c.V * c.C, 0, rng);
    embedding_backward(dt, c.wts, tok, c.N, c.C);
    CHECK(gradcheck("embedding dtable", c.table, dt, (long)c.V * c.C, emb_loss, &c, EPS, TOL, MAXC) == 0);
    free(c.table), free(c.out), free(c.wts), free(dt);
}

// ---------------------------------------------------------------- rope
typedef struct {
    int B, T, H, hd, pos0;
    real *x, *y, *wts;
} rope_ctx;

static double rope_loss(void *p) {
    rope_ctx *c = p;
    rope_forward(c->y, c->x, c->B, c->T, c->H, c->hd, c->pos0);
    return dot_weights(c->y, c->wts, (long)c->B * c->T * c->H * c->hd);
}

static void check_rope(pcg32 *rng) {
    rope_ctx c = {.B = 2, .T = 7, .H = 3, .hd = 8, .pos0 = 5};
    long n = (long)c.B * c.T * c.H * c.hd;
    c.x = vec(n, 1, rng), c.y = vec(n, 0, rng), c.wts = vec(n, 1, rng);
    real *dx = vec(n, 0, rng);
    rope_backward(dx, c.wts, c.B, c.T, c.H, c.hd, c.pos0);
    CHECK(gradcheck("rope dx", c.x, dx, n, rope_loss, &c, EPS, TOL, MAXC) == 0);
    free(c.x), free(c.y), free(c.wts), free(dx);
}

// ---------------------------------------------------------------- activation, glu
typedef struct {
    long n;
    act_kind k;
    real *g, *u, *y, *wts;  // u == NULL: plain activation of g
} act_ctx;

static double act_loss(void *p) {
    act_ctx *c = p;
    if (c->u) glu_forward(c->y, c->g, c->u, c->n, c->k);
    else activation_forward(c->y, c->g, c->n, c->k);
    return dot_weights(c->y, c->wts, c->n);
}

static void check_activation(act_kind k, int gated, pcg32 *rng) {
    act_ctx c = {.n = 60, .k = k};
    c.g = vec(c.n, 2, rng), c.u = gated ? vec(c.n, 1, rng) : NULL, c.y = vec(c.n, 0, rng), c.wts = vec(c.n, 1, rng);
    real *dg = vec(c.n, 0, rng), *du = vec(c.n, 0, rng);
    char name[64];
    if (gated) {
        glu_backward(dg, du, c.wts, c.g, c.u, c.n, k);
        snprintf(name, sizeof name, "glu(act=%d) dg", (int)k);
        CHECK(gradcheck(name, c.g, dg, c.n, act_loss, &c, EPS, TOL, MAXC) == 0);
        snprintf(name, sizeof name, "glu(act=%d) du", (int)k);
        CHECK(gradcheck(name, c.u, du, c.n, act_loss, &c, EPS, TOL, MAXC) == 0);
    } else {
        activation_backward(dg, c.wts, c.g, c.n, k);
        snprintf(name, sizeof name, "activation(%d) dx", (int)k);
        CHECK(gradcheck(name, c.g, dg, c.n, act_loss, &c, EPS, TOL, MAXC) == 0);
    }
    free(c.g), free(c.u), free(c.y), free(c.wts), free(dg), free(du);
}

// ---------------------------------------------------------------- attention
typedef struct {
    attn_shape s;
    int diff;
    real *q, *k, *v, *lambda, *out, *lse, *wts;
    diff_attn_saved sv;
} at_ctx;

static double at_loss(void *p) {
    at_ctx *c = p;
    star_error err;
    int rc = c->diff ? diff_attention_forward(c->out, &c->sv, c->q, c->k, c->v, c->lambda, c->s, &err)
                     : attention_forward(c->out, c->lse, c->q, c->k, c->v, c->s, &err);
    if (rc) return NAN;
    return dot_weights(c->out, c->wts, (long)c->s.B * c->s.T * c->s.H * c->s.hd);
}

static void check_attention(attn_shape s, int diff, pcg32 *rng) {
    at_ctx c = {.s = s, .diff = diff};
    long nq = (long)s.B * s.T * s.H * s.hd, nk = (long)s.B * s.T * s.Hkv * s.hd, nl = (long)s.B * s.H * s.T;
    c.q = vec(nq, 1, rng), c.k = vec(nk, 1, rng), c.v = vec(nk, 1, rng), c.out = vec(nq, 0, rng);
    c.lse = vec(nl, 0, rng), c.wts = vec(nq, 1, rng), c.lambda = vec(s.H, 0.2, rng);
    for (int h = 0; h < s.H; h++) c.lambda[h] += (real)DIFF_ATTN_LAMBDA_INIT;
    c.sv = (diff_attn_saved){vec(nq, 0, rng), vec(nq, 0, rng), vec(2 * nl, 0, rng), vec(nl, 0, rng)};
    real *dq = vec(nq, 0, rng), *dk = vec(nk, 0, rng), *dv = vec(nk, 0, rng), *dl = vec(s.H, 0, rng);
    real *scratch = vec(nq, 0, rng);
    star_error err;
    CHECK(!isnan(at_loss(&c)));  // the forward ran (it returns NaN on failure)
    if (diff)
        CHECK(diff_attention_backward(dq, dk, dv, dl, scratch, c.wts, &c.sv, c.q, c.k, c.v, c.lambda, s, &err) == 0);
    else
        CHECK(attention_backward(dq, dk, dv, c.wts, c.out, c.lse, c.q, c.k, c.v, s, &err) == 0);
    char name[64];
#define AT_CHECK(label, param, grad, n)                                                                       \
    snprintf(name, sizeof name, "%s(H=%d,Hkv=%d,w=%d) %s", diff ? "diffattn" : "attn", s.H, s.Hkv, s.window, \
             label);                                                                                          \
    CHECK(gradcheck(name, param, grad, n, at_loss, &c, EPS, TOL, MAXC) == 0)
    AT_CHECK("dq", c.q, dq, nq);
    AT_CHECK("dk", c.k, dk, nk);
    AT_CHECK("dv", c.v, dv, nk);
    if (diff) {
        AT_CHECK("dlambda", c.lambda, dl, s.H);
    }
#undef AT_CHECK
    free(c.q), free(c.k), free(c.v), free(c.out), free(c.lse), free(c.wts), free(c.lambda);
    free(c.sv.o1), free(c.sv.o2), free(c.sv.lse), free(c.sv.rstd);
    free(dq), free(dk), free(dv), free(dl), free(scratch);
}

// ---------------------------------------------------------------- cross-entropy
typedef struct {
    int N, V;
    const int32_t *tgt;
    real *logits, *probs;
} ce_ctx;

static double ce_loss(void *p) {
    ce_ctx *c = p;
    star_error err;
    double loss;
    long n;
    if (crossentropy_forward(&loss, &n, c->probs, NULL, c->logits, c->tgt, c->N, c->V, &err)) return NAN;
    return loss;
}

static void check_crossentropy(pcg32 *rng) {
    int32_t tgt[9] = {2, -1, 0, 6, 6, -1, 1, 3, 5};  // -1: not scored, no gradient
    ce_ctx c = {.N = 9, .V = 7, .tgt = tgt};
    long n = (long)c.N * c.V;
    c.logits = vec(n, 2, rng), c.probs = vec(n, 0, rng);
    real *dl = vec(n, 0, rng);
    ce_loss(&c);
    crossentropy_backward(dl, c.probs, tgt, c.N, c.V, 1);
    CHECK(gradcheck("crossentropy dlogits", c.logits, dl, n, ce_loss, &c, EPS, TOL, MAXC) == 0);
    CHECK(dl[1 * c.V + 3] == 0 && dl[5 * c.V] == 0);
    free(c.logits), free(c.probs), free(dl);
}

// ---------------------------------------------------------------- matmul
typedef struct {
    int N, C, OC, G;  // G = 0: dense
    real *inp, *w, *out, *wts;
} mm_ctx;

static double mm_loss(void *p) {
    mm_ctx *c = p;
    if (c->G) matmul_grouped_forward(c->out, c->inp, c->w, c->N, c->C, c->OC, c->G);
    else matmul_forward(c->out, c->inp, c->w, c->N, c->C, c->OC);
    return dot_weights(c->out, c->wts, (long)c->N * c->OC);
}

static void check_matmul(int G, pcg32 *rng) {
    mm_ctx c = {.N = 10, .C = 8, .OC = 6, .G = G};
    long ni = (long)c.N * c.C, nw = G ? (long)c.OC * c.C / G : (long)c.OC * c.C, no = (long)c.N * c.OC;
    c.inp = vec(ni, 1, rng), c.w = vec(nw, 1, rng), c.out = vec(no, 0, rng), c.wts = vec(no, 1, rng);
    real *di = vec(ni, 0, rng), *dw = vec(nw, 0, rng);
    if (G) matmul_grouped_backward(di, dw, c.wts, c.inp, c.w, c.N, c.C, c.OC, G);
    else matmul_backward(di, dw, c.wts, c.inp, c.w, c.N, c.C, c.OC);
    CHECK(gradcheck(G ? "matmul_grouped dinp" : "matmul dinp", c.inp, di, ni, mm_loss, &c, EPS, TOL, MAXC) == 0);
    CHECK(gradcheck(G ? "matmul_grouped dw" : "matmul dw", c.w, dw, nw, mm_loss, &c, EPS, TOL, MAXC) == 0);
    free(c.inp), free(c.w), free(c.out), free(c.wts), free(di), free(dw);
}

int main(void) {
    pcg32 rng;
    pcg32_seed(&rng, 2024, 11);
    check_rmsnorm(0, &rng);
    check_rmsnorm(1, &rng);
    check_embedding(&rng);
    check_rope(&rng);
    for (int k = ACT_IDENTITY; k <= ACT_ELU1; k++) check_activation((act_kind)k, 0, &rng);
    check_activation(ACT_SILU, 1, &rng);
    check_activation(ACT_GELU, 1, &rng);
    check_activation(ACT_SIGMOID, 1, &rng);
    check_attention((attn_shape){.B = 2, .T = 7, .H = 4, .Hkv = 4, .hd = 4}, 0, &rng);  // MHA
    check_attention((attn_shape){.B = 2, .T = 6, .H = 4, .Hkv = 2, .hd = 6}, 0, &rng);  // GQA 4->2
    check_attention((attn_shape){.B = 2, .T = 5, .H = 4, .Hkv = 1, .hd = 8}, 0, &rng);  // GQA 4->1
    check_attention((attn_shape){.B = 2, .T = 9, .H = 2, .Hkv = 1, .hd = 4, .window = 3}, 0, &rng);
    check_attention((attn_shape){.B = 2, .T = 7, .H = 2, .Hkv = 2, .hd = 8}, 1, &rng);  // differential
    check_attention((attn_shape){.B = 2, .T = 8, .H = 4, .Hkv = 2, .hd = 4, .window = 3}, 1, &rng);
    check_crossentropy(&rng);
    check_matmul(0, &rng);
    check_matmul(2, &rng);
    TEST_END();
}
