// Float-build checks of the core operators: attention decoded token by token equals the
// full causal forward (MHA, GQA, a sliding window through a ring buffer, differential);
// backward accumulates and does not depend on the thread count; cross-entropy of
// uniform logits is log V; AdamW matches a hand-computed update; rope preserves norms
// and depends on relative position only; nothing turns NaN for large inputs; bad input
// is refused with a message naming where.
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "common/pcg32.h"
#include "operators/activation.h"
#include "operators/adamw.h"
#include "operators/attention.h"
#include "operators/crossentropy.h"
#include "operators/embedding.h"
#include "operators/rmsnorm.h"
#include "operators/rope.h"
#include "tests/test_util.h"

static real *vec(long n, double scale, pcg32 *rng) {
    real *x = calloc((size_t)(n > 0 ? n : 1), sizeof(real));
    for (long i = 0; rng && i < n; i++) x[i] = (real)(scale * pcg32_normal(rng));
    return x;
}

static double max_abs_diff(const real *a, const real *b, long n) {
    double d = 0;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (e > d || isnan(e)) d = isnan(e) ? INFINITY : e;
    }
    return d;
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

// Copies token t of x [B,T,Hx,hd] into row [B,Hx,hd].
static void take_token(real *row, const real *x, int B, int T, int Hx, int hd, int t) {
    long n = (long)Hx * hd;
    for (int b = 0; b < B; b++) memcpy(row + b * n, x + ((long)b * T + t) * n, sizeof(real) * (size_t)n);
}

// ---------------------------------------------------------------- decode == forward
static void test_decode(attn_shape s, int diff, pcg32 *rng) {
    long nq = (long)s.B * s.T * s.H * s.hd, nk = (long)s.B * s.T * s.Hkv * s.hd, nl = (long)s.B * s.H * s.T;
    real *q = vec(nq, 1, rng), *k = vec(nk, 1, rng), *v = vec(nk, 1, rng), *lambda = vec(s.H, 0.1, rng);
    for (int h = 0; h < s.H; h++) lambda[h] += (real)DIFF_ATTN_LAMBDA_INIT;
    real *full = vec(nq, 0, NULL), *lse = vec(nl, 0, NULL);
    diff_attn_saved sv = {vec(nq, 0, NULL), vec(nq, 0, NULL), vec(2 * nl, 0, NULL), vec(nl, 0, NULL)};
    star_error err;
    if (diff) CHECK(diff_attention_forward(full, &sv, q, k, v, lambda, s, &err) == 0);
    else CHECK(attention_forward(full, lse, q, k, v, s, &err) == 0);

    int cap = s.window > 0 ? s.window : s.T;  // a window decodes through a ring of w slots
    long kvrow = (long)s.Hkv * s.hd, qrow = (long)s.H * s.hd;
    real *kc = vec((long)s.B * cap * kvrow, 0, NULL), *vc = vec((long)s.B * cap * kvrow, 0, NULL);
    real *qt = vec(s.B * qrow, 0, NULL), *kt = vec(s.B * kvrow, 0, NULL), *vt = vec(s.B * kvrow, 0, NULL);
    real *ot = vec(s.B * qrow, 0, NULL), *dec = vec(nq, 0, NULL);
    attn_cache c;
    CHECK(attn_cache_init(&c, kc, vc, s.B, cap, s.Hkv, s.hd, s.window, &err) == 0);
    for (int t = 0; t < s.T; t++) {
        take_token(qt, q, s.B, s.T, s.H, s.hd, t);
        take_token(kt, k, s.B, s.T, s.Hkv, s.hd, t);
        take_token(vt, v, s.B, s.T, s.Hkv, s.hd, t);
        int rc = diff ? diff_attention_decode_step(ot, &c, qt, kt, vt, lambda, s.H, &err)
                      : attention_decode_step(ot, &c, qt, kt, vt, s.H, &err);
        CHECK(rc == 0);
        for (int b = 0; b < s.B; b++)
            memcpy(dec + ((long)b * s.T + t) * qrow, ot + b * qrow, sizeof(real) * (size_t)qrow);
    }
    CHECK(c.pos == s.T);
    double d = max_abs_diff(dec, full, nq);
    CHECK_MSG(d < 1e-5, "%s H=%d Hkv=%d w=%d: decode differs from the forward by %g", diff ? "diff" : "attn", s.H,
              s.Hkv, s.window, d);
    if (s.window == 0) {  // a full-context cache refuses a token beyond its capacity
        int rc = attention_decode_step(ot, &c, qt, kt, vt, s.H, &err);
        CHECK(rc == -1);
        if (rc) CHECK_STR_CONTAINS(err.msg, "full");
    }
    free(q), free(k), free(v), free(lambda), free(full), free(lse), free(sv.o1), free(sv.o2), free(sv.lse);
    free(sv.rstd), free(kc), free(vc), free(qt), free(kt), free(vt), free(ot), free(dec);
}

// ---------------------------------------------------------------- backward: += and threads
static void attention_grads(real *dq, real *dk, real *dv, attn_shape s, const real *q, const real *k,
                            const real *v, const real *dout, int passes) {
    long nq = (long)s.B * s.T * s.H * s.hd;
    real *out = vec(nq, 0, NULL), *lse = vec((long)s.B * s.H * s.T, 0, NULL);
    star_error err;
    CHECK(attention_forward(out, lse, q, k, v, s, &err) == 0);
    for (int p = 0; p < passes; p++)
        CHECK(attention_backward(dq, dk, dv, dout, out, lse, q, k, v, s, &err) == 0);
    free(out), free(lse);
}

static void test_backward_accumulates(pcg32 *rng) {
    attn_shape s = {.B = 2, .T = 11, .H = 4, .Hkv = 2, .hd = 8, .window = 5};
    long nq = (long)s.B * s.T * s.H * s.hd, nk = (long)s.B * s.T * s.Hkv * s.hd;
    real *q = vec(nq, 1, rng), *k = vec(nk, 1, rng), *v = vec(nk, 1, rng), *dout = vec(nq, 1, rng);
    real *g1[3] = {vec(nq, 0, NULL), vec(nk, 0, NULL), vec(nk, 0, NULL)};
    real *g2[3] = {vec(nq, 0, NULL), vec(nk, 0, NULL), vec(nk, 0, NULL)};
    real *g4[3] = {vec(nq, 0, NULL), vec(nk, 0, NULL), vec(nk, 0, NULL)};
    long n[3] = {nq, nk, nk};
    set_threads(1);
    attention_grads(g1[0], g1[1], g1[2], s, q, k, v, dout, 1);
    attention_grads(g2[0], g2[1], g2[2], s, q, k, v, dout, 2);
    set_threads(4);
    attention_grads(g4[0], g4[1], g4[2], s, q, k, v, dout, 1);
    for (int i = 0; i < 3; i++) {
        double nonzero = 0, twice = 0;
        for (long j = 0; j < n[i]; j++) {
            nonzero += fabs(g1[i][j]);
            twice = fmax(twice, fabs(g2[i][j] - 2 * g1[i][j]));
        }
        CHECK(nonzero > 0);
        CHECK_MSG(twice < 1e-5, "attention gradient %d: two backward passes are not twice one (%g)", i, twice);
        CHECK_MSG(memcmp(g1[i], g4[i], sizeof(real) * (size_t)n[i]) == 0,
                  "attention gradient %d differs between 1 and 4 threads", i);
    }
    // rmsnorm dw: the same with 1 and 4 threads, and two passes give twice one.
    long N = 37;
    int C = 16;
    real *x = vec(N * C, 1, rng), *w = vec(C, 1, rng), *y = vec(N * C, 0, NULL), *rstd = vec(N, 0, NULL);
    real *dy = vec(N * C, 1, rng), *dwa = vec(C, 0, NULL), *dwb = vec(C, 0, NULL);
    rmsnorm_forward(y, rstd, x, w, N, C);
    set_threads(1);
    rmsnorm_backward(NULL, dwa, dy, x, w, rstd, N, C);
    set_threads(4);
    rmsnorm_backward(NULL, dwb, dy, x, w, rstd, N, C);
    CHECK(memcmp(dwa, dwb, sizeof(real) * (size_t)C) == 0);
    rmsnorm_backward(NULL, dwb, dy, x, w, rstd, N, C);
    double twice = 0;
    for (int c = 0; c < C; c++) twice = fmax(twice, fabs(dwb[c] - 2 * dwa[c]));
    CHECK(twice < 1e-5 && dwa[0] != 0);
    set_threads(2);
    free(q), free(k), free(v), free(dout), free(x), free(w), free(y), free(rstd), free(dy), free(dwa), free(dwb);
    for (int i = 0; i < 3; i++) free(g1[i]), free(g2[i]), free(g4[i]);
}

// ---------------------------------------------------------------- cross-entropy
static void test_crossentropy(pcg32 *rng) {
    enum { N = 6, V = 50 };
    real logits[N * V], probs[N * V], dl[N * V], losses[N];
    int32_t tgt[N] = {4, -1, 49, 0, -1, 17};
    for (int i = 0; i < N * V; i++) logits[i] = 3.25f;  // uniform: every position costs log V
    double loss;
    long scored;
    star_error err;
    CHECK(crossentropy_forward(&loss, &scored, probs, losses, logits, tgt, N, V, &err) == 0);
    CHECK(scored == 4);
    CHECK_NEAR(loss, log((double)V), 1e-6);
    CHECK_NEAR(probs[7], 1.0 / V, 1e-7);
    CHECK(losses[1] == 0 && losses[4] == 0);
    crossentropy_backward(dl, probs, tgt, N, V, 1);
    for (int n = 0; n < N; n++) {  // softmax gradient rows sum to zero
        double s = 0;
        for (int i = 0; i < V; i++) s += dl[n * V + i];
        CHECK_NEAR(s, 0, 1e-6);
    }
    CHECK_NEAR(dl[0 * V + 4], (1.0 / V - 1) / 4, 1e-7);
    CHECK(dl[1 * V + 4] == 0);

    // Huge logits: finite loss, probabilities and gradient; the loss of a confident
    // wrong answer is the logit gap.
    for (int i = 0; i < N * V; i++) logits[i] = (real)(1e30 * pcg32_normal(rng));
    for (int n = 0; n < N; n++) logits[n * V + 10] = 3e30f;
    int32_t wrong[N] = {0, 1, 2, 3, 4, 5};
    CHECK(crossentropy_forward(&loss, &scored, probs, losses, logits, wrong, N, V, &err) == 0);
    CHECK(isfinite(loss) && all_finite(probs, N * V) && all_finite(losses, N));
    CHECK_NEAR(losses[0] / (3e30 - logits[0]), 1.0, 1e-6);
    crossentropy_backward(dl, probs, wrong, N, V, 1);
    CHECK(all_finite(dl, N * V));
    // in place (probs over the logits) gives the same loss
    double loss2;
    CHECK(crossentropy_forward(&loss2, &scored, logits, NULL, logits, wrong, N, V, &err) == 0);
    CHECK_NEAR(loss2 / loss, 1.0, 1e-6);

    // accuracy: argmax of row n is position 10, so only targets equal to 10 count
    for (int i = 0; i < N * V; i++) logits[i] = (real)pcg32_normal(rng);
    for (int n = 0; n < N; n++) logits[n * V + 10] = 9;
    int32_t acc_t[N] = {10, 3, -1, 10, 10, 0};
    int8_t ok[N];
    CHECK(crossentropy_correct(ok, logits, acc_t, N, V) == 3);
    CHECK(ok[0] == 1 && ok[1] == 0 && ok[2] == -1 && ok[5] == 0);

    int32_t bad[N] = {1, 2, 50, 0, 0, 0};
    CHECK(crossentropy_forward(&loss, &scored, probs, NULL, logits, bad, N, V, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "position 2");
}

// ---------------------------------------------------------------- AdamW
static void test_adamw(void) {
    // p = 1, two steps with g = 0.5 then -0.25; lr 0.1, betas (0.9, 0.999), eps 1e-8,
    // weight decay 0.1. Step 1: m = 0.05, v = 2.5e-4, m^ = 0.5, v^ = 0.25, so the Adam
    // step is 0.5 / 0.5 = 1 and p = 1 - 0.1 (1 + 0.1 * 1) = 0.89 (0.9 without decay).
    // Step 2: m = 0.02, v = 3.1225e-4, m^ = 0.02 / 0.19, v^ = 3.1225e-4 / 0.001999,
    // step 0.266331..., p = 0.89 - 0.1 (0.266331 + 0.089) = 0.854466.
    adamw_hparams hp = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1};
    real p[2] = {1, 1}, m[2] = {0, 0}, v[2] = {0, 0}, g1[2] = {0.5f, 0.5f}, g2[2] = {-0.25f, -0.25f};
    adamw_update(p, g1, m, v, 1, 1, hp, 1, 1.0);
    adamw_update(p + 1, g1 + 1, m + 1, v + 1, 1, 1, hp, 0, 1.0);
    CHECK_NEAR(p[0], 0.89, 1e-6);
    CHECK_NEAR(p[1], 0.9, 1e-6);
    CHECK_NEAR(m[0], 0.05, 1e-7);
    CHECK_NEAR(v[0], 2.5e-4, 1e-9);
    adamw_update(p, g2, m, v, 1, 2, hp, 1, 1.0);
    CHECK_NEAR(p[0], 0.8544663, 2e-6);
    // grad_scale halves the gradient: the moments see g/2.
    real q = 1, mq = 0, vq = 0, gq = 0.5f;
    adamw_update(&q, &gq, &mq, &vq, 1, 1, hp, 0, 0.5);
    CHECK_NEAR(mq, 0.025, 1e-7);

    real ga[2] = {3, 4}, gb[1] = {12};
    const real *grads[2] = {ga, gb};
    long sizes[2] = {2, 1};
    double norm = grad_global_norm(grads, sizes, 2);
    CHECK_NEAR(norm, 13, 1e-9);
    CHECK_NEAR(grad_clip_scale(norm, 1.0), 1.0 / 13, 1e-12);
    CHECK(grad_clip_scale(norm, 20) == 1 && grad_clip_scale(norm, 0) == 1 && grad_clip_scale(0, 1) == 1);
}

// ---------------------------------------------------------------- rope
static void test_rope(pcg32 *rng) {
    int B = 2, T = 9, H = 3, hd = 16;
    long n = (long)B * T * H * hd;
    real *x = vec(n, 1, rng), *y = vec(n, 0, NULL), *z = vec(n, 0, NULL);
    rope_forward(y, x, B, T, H, hd, 1000);
    double worst = 0, moved = 0;
    for (long r = 0; r < n / hd; r++) {
        double a = 0, b = 0;
        for (int d = 0; d < hd; d++) {
            a += (double)x[r * hd + d] * x[r * hd + d];
            b += (double)y[r * hd + d] * y[r * hd + d];
            moved += fabs((double)x[r * hd + d] - y[r * hd + d]);
        }
        worst = fmax(worst, fabs(sqrt(a) - sqrt(b)) / sqrt(a));
    }
    CHECK_MSG(worst < 1e-5, "rope changed a head's norm by %g", worst);
    CHECK(moved > 1);  // it did rotate
    // position 0 is the identity; in place equals out of place
    rope_forward(z, x, B, 1, H, hd, 0);
    CHECK(max_abs_diff(z, x, (long)H * hd) < 1e-7);
    memcpy(z, x, sizeof(real) * (size_t)n);
    rope_forward(z, z, B, T, H, hd, 1000);
    CHECK(max_abs_diff(z, y, n) == 0);
    // decoding: token t rotated alone at pos0 + t equals the full sequence
    rope_forward(z, x + 5L * H * hd, 1, 1, H, hd, 1005);
    CHECK(max_abs_diff(z, y + 5L * H * hd, (long)H * hd) < 1e-6);
    // the score depends on relative position only: <R(3)a, R(1)b> = <R(13)a, R(11)b>
    real a[16], b[16], ra[16], rb[16];
    double s1 = 0, s2 = 0;
    for (int d = 0; d < hd; d++) a[d] = (real)pcg32_normal(rng), b[d] = (real)pcg32_normal(rng);
    rope_forward(ra, a, 1, 1, 1, hd, 3), rope_forward(rb, b, 1, 1, 1, hd, 1);
    for (int d = 0; d < hd; d++) s1 += (double)ra[d] * rb[d];
    rope_forward(ra, a, 1, 1, 1, hd, 13), rope_forward(rb, b, 1, 1, 1, hd, 11);
    for (int d = 0; d < hd; d++) s2 += (double)ra[d] * rb[d];
    CHECK_NEAR(s1, s2, 1e-4);
    free(x), free(y), free(z);
}

// ---------------------------------------------------------------- large inputs, bad input
static void test_large_and_bad(pcg32 *rng) {
    real big[6] = {-1e4f, -80, -1e-3f, 0, 90, 1e4f}, y[6];
    for (int k = ACT_IDENTITY; k <= ACT_ELU1; k++) {
        activation_forward(y, big, 6, (act_kind)k);
        int ok = all_finite(y, 6);
        for (int i = 0; i < 6; i++) ok = ok && isfinite(act_derivative((act_kind)k, big[i]));
        CHECK_MSG(ok, "activation %d is not finite for large inputs", k);
    }
    // scores of order 1e4: softmax saturates, stays finite
    attn_shape s = {.B = 1, .T = 6, .H = 2, .Hkv = 1, .hd = 4};
    long nq = 48, nk = 24;
    real *q = vec(nq, 100, rng), *k = vec(nk, 100, rng), *v = vec(nk, 1, rng), *o = vec(nq, 0, NULL);
    real *lse = vec(12, 0, NULL);
    real *dq = vec(nq, 0, NULL), *dk = vec(nk, 0, NULL), *dv = vec(nk, 0, NULL);
    star_error err;
    CHECK(attention_forward(o, lse, q, k, v, s, &err) == 0);
    CHECK(attention_backward(dq, dk, dv, o, o, lse, q, k, v, s, &err) == 0);
    CHECK(all_finite(o, nq) && all_finite(lse, 12) && all_finite(dq, nq) && all_finite(dk, nk) && all_finite(dv, nk));

    s.H = 3, s.Hkv = 2;
    CHECK(attention_forward(o, lse, q, k, v, s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "3 query heads");
    s = (attn_shape){.B = 1, .T = 2, .H = 1, .Hkv = 1, .hd = 5};
    diff_attn_saved sv = {o, o, lse, lse};
    real lam = 0.8f;
    CHECK(diff_attention_forward(o, &sv, q, k, v, &lam, s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "even");
    attn_cache c;
    CHECK(attn_cache_init(&c, k, v, 1, 3, 1, 4, 4, &err) == -1);

    int32_t tok[3] = {1, 7, 2};
    real table[7 * 2] = {0}, out[6];
    CHECK(embedding_forward(out, tok, table, 3, 7, 2, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "position 1");
    tok[1] = 6;
    table[12] = 5;
    CHECK(embedding_forward(out, tok, table, 3, 7, 2, &err) == 0);
    CHECK(out[2] == 5);
    free(q), free(k), free(v), free(o), free(lse), free(dq), free(dk), free(dv);
}

int main(void) {
    pcg32 rng;
    pcg32_seed(&rng, 77, 3);
    test_decode((attn_shape){.B = 2, .T = 9, .H = 4, .Hkv = 4, .hd = 8}, 0, &rng);
    test_decode((attn_shape){.B = 2, .T = 9, .H = 4, .Hkv = 2, .hd = 8}, 0, &rng);
    test_decode((attn_shape){.B = 1, .T = 12, .H = 4, .Hkv = 1, .hd = 4, .window = 4}, 0, &rng);
    test_decode((attn_shape){.B = 2, .T = 8, .H = 2, .Hkv = 2, .hd = 8}, 1, &rng);
    test_decode((attn_shape){.B = 2, .T = 10, .H = 4, .Hkv = 2, .hd = 8, .window = 3}, 1, &rng);
    test_backward_accumulates(&rng);
    test_crossentropy(&rng);
    test_adamw();
    test_rope(&rng);
    test_large_and_bad(&rng);
    TEST_END();
}
