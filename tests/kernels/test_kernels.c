// Every CUDA kernel against its CPU operator (operators/, float build) on the same random
// bf16-rounded inputs: outputs start as NaN so an unwritten element fails; bf16 outputs
// are within bf16 rounding (relative error 1e-2 of the largest reference value), fp32
// outputs within 1e-4 to 1e-5; the embedding is bit-identical to the CPU; the
// deterministic reductions give the same bits twice. A backward that takes a grad_write
// writes under GRAD_SET over NaN the values it adds onto zeros under GRAD_ADD. The matrix
// product is checked against a double-precision loop (the CPU product needs OpenBLAS,
// which a GPU machine may lack). With no CUDA device the test prints SKIP and exits 77
// (ctest: skipped).
#include "operators/adamw.h"
#include "operators/crossentropy.h"
#include "operators/embedding.h"
#include "operators/glu.h"
#include "operators/rmsnorm.h"
#include "operators/rope.h"
#include "tests/kernels/kernel_test_util.h"

#define TOL_BF16 1e-2
#define TOL_F32 1e-5
#define TOL_F32_SUM 1e-4  // fp32 sums over many terms in another order

static star_cuda *ctx;

// ------------------------------------------------------------------------ conversions
static void test_casts(pcg32 *rng) {
    long n = 1003;
    float *a = host_random(n, 100, 0, rng), *ref = host_f32(n), *got = host_f32(n);
    for (long i = 0; i < n; i++) ref[i] = bf2f(f2bf(a[i]));
    float *d32 = dev_f32(a, n);
    floatX *d16 = (floatX *)dev_alloc(sizeof(floatX) * n);
    dev_nan(d16, sizeof(floatX) * n);
    MUST(cast_f32_to_bf16_cuda(d16, d32, n, NULL, &kt_err));
    get_bf16(got, d16, n);
    CHECK_EQUAL("cast f32 -> bf16 (round to nearest even)", got, ref, n);
    dev_nan(d32, sizeof(float) * n);
    MUST(cast_bf16_to_f32_cuda(d32, d16, n, NULL, &kt_err));
    get_f32(got, d32, n);
    CHECK_EQUAL("cast bf16 -> f32", got, ref, n);
    kt_release();
}

// ------------------------------------------------------------------------ matmul
static void test_matmul(int N, int C, int OC, pcg32 *rng) {
    printf("matmul N=%d C=%d OC=%d\n", N, C, OC);
    long ni = (long)N * C, nw = (long)OC * C, no = (long)N * OC;
    float *inp = host_random(ni, 1, 1, rng), *w = host_random(nw, 1, 1, rng), *dout = host_random(no, 1, 1, rng);
    float *dinp = host_random(ni, 1, 1, rng), *dw = host_random(nw, 1, 0, rng), *out = host_f32(no);
    float *dinp0 = host_copy(dinp, ni), *dw0 = host_copy(dw, nw), *dinp_set = host_f32(ni);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = 0;
            for (int c = 0; c < C; c++) s += (double)inp[(long)n * C + c] * w[(long)o * C + c];
            out[(long)n * OC + o] = (float)s;
        }
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int o = 0; o < OC; o++) s += (double)dout[(long)n * OC + o] * w[(long)o * C + c];
            dinp_set[(long)n * C + c] = (float)s;
            dinp[(long)n * C + c] = (float)(s + dinp[(long)n * C + c]);
        }
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++) {
            double s = dw[(long)o * C + c];
            for (int n = 0; n < N; n++) s += (double)dout[(long)n * OC + o] * inp[(long)n * C + c];
            dw[(long)o * C + c] = (float)s;
        }

    floatX *d_inp = dev_bf16(inp, ni), *d_w = dev_bf16(w, nw), *d_dout = dev_bf16(dout, no);
    floatX *d_out = (floatX *)dev_alloc(sizeof(floatX) * no);
    float *d_out32 = (float *)dev_alloc(sizeof(float) * no), *got = host_f32(ni > nw ? (ni > no ? ni : no) : nw);
    dev_nan(d_out, sizeof(floatX) * no);
    dev_nan(d_out32, sizeof(float) * no);
    MUST(matmul_forward_cuda(ctx, d_out, d_inp, d_w, N, C, OC, NULL, &kt_err));
    MUST(matmul_forward_f32_cuda(ctx, d_out32, d_inp, d_w, N, C, OC, NULL, &kt_err));
    get_bf16(got, d_out, no);
    CHECK_CLOSE("forward, bf16 out", got, out, no, TOL_BF16);
    get_f32(got, d_out32, no);
    CHECK_CLOSE("forward, fp32 out", got, out, no, TOL_F32_SUM);

    floatX *d_dinp = dev_bf16(dinp0, ni);
    float *d_dw = dev_f32(dw0, nw);
    MUST(matmul_backward_cuda(ctx, d_dinp, d_dw, d_dout, d_inp, d_w, N, C, OC, GRAD_ADD, NULL, &kt_err));
    get_bf16(got, d_dinp, ni);
    CHECK_CLOSE("backward dinp += dout @ w (bf16)", got, dinp, ni, TOL_BF16);
    get_f32(got, d_dw, nw);
    CHECK_CLOSE("backward dw += dout^T @ inp (fp32)", got, dw, nw, TOL_F32_SUM);
    // GRAD_SET (beta 0) over NaN: dinp = dout @ w, the old values never read.
    floatX *d_dinp_set = dev_nan_bf16(ni);
    MUST(matmul_backward_cuda(ctx, d_dinp_set, NULL, d_dout, d_inp, d_w, N, C, OC, GRAD_SET, NULL, &kt_err));
    get_bf16(got, d_dinp_set, ni);
    CHECK_CLOSE("backward dinp = dout @ w (GRAD_SET over NaN)", got, dinp_set, ni, TOL_BF16);
    kt_release();
}

// ------------------------------------------------------------------------ rmsnorm
static void test_rmsnorm(long N, int C, int with_w, pcg32 *rng) {
    printf("rmsnorm N=%ld C=%d %s\n", N, C, with_w ? "with weight" : "no weight (per-head form)");
    long n = N * C;
    float *x = host_random(n, 2, 1, rng), *r = host_random(n, 2, 1, rng), *w = NULL;
    if (with_w) {
        w = host_random(C, 0.5f, 0, rng);
        for (int c = 0; c < C; c++) w[c] = bf2f(f2bf(1.0f + w[c]));
    }
    float *y = host_f32(n), *rstd = host_f32(N), *got = host_f32(n);
    rmsnorm_forward(y, rstd, x, w, N, C);

    floatX *d_x = dev_bf16(x, n), *d_r = dev_bf16(r, n), *d_w = w ? dev_bf16(w, C) : NULL;
    floatX *d_y = (floatX *)dev_alloc(sizeof(floatX) * n);
    float *d_rstd = (float *)dev_alloc(sizeof(float) * N);
    dev_nan(d_y, sizeof(floatX) * n);
    dev_nan(d_rstd, sizeof(float) * N);
    MUST(rmsnorm_forward_cuda(d_y, d_rstd, d_x, d_w, N, C, NULL, &kt_err));
    get_bf16(got, d_y, n);
    CHECK_CLOSE("forward y", got, y, n, TOL_BF16);
    get_f32(got, d_rstd, N);
    CHECK_CLOSE("forward rstd", got, rstd, N, TOL_F32);

    // Fused residual: sum = bf16(x + r), y = rmsnorm(sum); then in place over x.
    float *sum = host_f32(n), *y2 = host_f32(n), *rstd2 = host_f32(N);
    for (long i = 0; i < n; i++) sum[i] = bf2f(f2bf(x[i] + r[i]));
    rmsnorm_forward(y2, rstd2, sum, w, N, C);
    floatX *d_sum = (floatX *)dev_alloc(sizeof(floatX) * n), *d_xs = dev_bf16(x, n);
    dev_nan(d_sum, sizeof(floatX) * n);
    dev_nan(d_y, sizeof(floatX) * n);
    dev_nan(d_rstd, sizeof(float) * N);
    MUST(rmsnorm_residual_forward_cuda(d_sum, d_y, d_rstd, d_x, d_r, d_w, N, C, NULL, &kt_err));
    get_bf16(got, d_sum, n);
    CHECK_EQUAL("residual sum = bf16(x + r)", got, sum, n);
    get_bf16(got, d_y, n);
    CHECK_CLOSE("residual y = rmsnorm(sum)", got, y2, n, TOL_BF16);
    get_f32(got, d_rstd, N);
    CHECK_CLOSE("residual rstd", got, rstd2, N, TOL_F32);
    MUST(rmsnorm_residual_forward_cuda(d_xs, d_y, d_rstd, d_xs, d_r, d_w, N, C, NULL, &kt_err));
    get_bf16(got, d_xs, n);
    CHECK_EQUAL("residual sum written over x", got, sum, n);

    // Backward from the plain forward's state (the GPU's own rstd).
    MUST(rmsnorm_forward_cuda(d_y, d_rstd, d_x, d_w, N, C, NULL, &kt_err));
    float *dy = host_random(n, 1, 1, rng), *dx = host_random(n, 1, 1, rng), *dw = host_random(C, 1, 0, rng);
    floatX *d_dy = dev_bf16(dy, n), *d_dx = dev_bf16(dx, n);
    float *d_dw = dev_f32(dw, C), *d_dw2 = dev_f32(dw, C);
    float *scratch = (float *)dev_alloc(sizeof(float) * rmsnorm_backward_scratch_floats(C));
    dev_nan(scratch, sizeof(float) * rmsnorm_backward_scratch_floats(C));
    rmsnorm_backward(dx, with_w ? dw : NULL, dy, x, w, rstd, N, C);
    MUST(rmsnorm_backward_cuda(d_dx, with_w ? d_dw : NULL, scratch, d_dy, d_x, d_w, d_rstd, N, C, NULL, &kt_err));
    get_bf16(got, d_dx, n);
    CHECK_CLOSE("backward dx +=", got, dx, n, TOL_BF16);
    if (with_w) {
        float *got2 = host_f32(C);
        get_f32(got, d_dw, C);
        CHECK_CLOSE("backward dw += (fp32)", got, dw, C, TOL_F32_SUM);
        MUST(rmsnorm_backward_cuda(NULL, d_dw2, scratch, d_dy, d_x, d_w, d_rstd, N, C, NULL, &kt_err));
        get_f32(got2, d_dw2, C);
        CHECK_EQUAL("backward dw again: same bits", got2, got, C);
        CHECK(rmsnorm_backward_cuda(NULL, d_dw, NULL, d_dy, d_x, d_w, d_rstd, N, C, NULL, &kt_err) == -1);
    }
    kt_release();
}

// ------------------------------------------------------------------------ glu
static void test_glu(long n, act_kind k, pcg32 *rng) {
    static const char *names[] = {"identity", "sigmoid", "silu", "gelu", "elu1"};
    printf("glu n=%ld act=%s\n", n, names[k]);
    float *g = host_random(n, 4, 1, rng), *u = host_random(n, 2, 1, rng), *y = host_f32(n), *got = host_f32(n);
    glu_forward(y, g, u, n, k);
    floatX *d_g = dev_bf16(g, n), *d_u = dev_bf16(u, n), *d_y = (floatX *)dev_alloc(sizeof(floatX) * n);
    dev_nan(d_y, sizeof(floatX) * n);
    MUST(glu_forward_cuda(d_y, d_g, d_u, n, k, NULL, &kt_err));
    get_bf16(got, d_y, n);
    CHECK_CLOSE("forward y = act(g) * u", got, y, n, TOL_BF16);

    float *dy = host_random(n, 1, 1, rng), *dg = host_random(n, 1, 1, rng), *du = host_random(n, 1, 1, rng);
    floatX *d_dy = dev_bf16(dy, n), *d_dg = dev_bf16(dg, n), *d_du = dev_bf16(du, n);
    glu_backward(dg, du, dy, g, u, n, k);
    MUST(glu_backward_cuda(d_dg, d_du, d_dy, d_g, d_u, n, k, GRAD_ADD, NULL, &kt_err));
    get_bf16(got, d_dg, n);
    CHECK_CLOSE("backward dg +=", got, dg, n, TOL_BF16);
    get_bf16(got, d_du, n);
    CHECK_CLOSE("backward du +=", got, du, n, TOL_BF16);
    floatX *d_dg0 = dev_zero_bf16(n), *d_du0 = dev_zero_bf16(n), *d_dgs = dev_nan_bf16(n), *d_dus = dev_nan_bf16(n);
    MUST(glu_backward_cuda(d_dg0, d_du0, d_dy, d_g, d_u, n, k, GRAD_ADD, NULL, &kt_err));
    MUST(glu_backward_cuda(d_dgs, d_dus, d_dy, d_g, d_u, n, k, GRAD_SET, NULL, &kt_err));
    CHECK_SET_IS_ADD("backward dg = (GRAD_SET over NaN)", d_dgs, d_dg0, n);
    CHECK_SET_IS_ADD("backward du = (GRAD_SET over NaN)", d_dus, d_du0, n);
    kt_release();
}

// ------------------------------------------------------------------------ rope
static void test_rope(int B, int T, int H, int hd, int pos0, pcg32 *rng) {
    printf("rope B=%d T=%d H=%d hd=%d pos0=%d\n", B, T, H, hd, pos0);
    long n = (long)B * T * H * hd;
    float *x = host_random(n, 2, 1, rng), *out = host_f32(n), *got = host_f32(n);
    rope_forward(out, x, B, T, H, hd, pos0);
    floatX *d_x = dev_bf16(x, n), *d_x2 = dev_bf16(x, n), *d_out = (floatX *)dev_alloc(sizeof(floatX) * n);
    dev_nan(d_out, sizeof(floatX) * n);
    MUST(rope_forward_cuda(d_out, d_x, B, T, H, hd, pos0, NULL, &kt_err));
    get_bf16(got, d_out, n);
    CHECK_CLOSE("forward", got, out, n, TOL_BF16);
    MUST(rope_forward_cuda(d_x2, d_x2, B, T, H, hd, pos0, NULL, &kt_err));
    get_bf16(got, d_x2, n);
    CHECK_CLOSE("forward in place", got, out, n, TOL_BF16);

    float *dout = host_random(n, 1, 1, rng), *dx = host_random(n, 1, 1, rng);
    floatX *d_dout = dev_bf16(dout, n), *d_dx = dev_bf16(dx, n);
    rope_backward(dx, dout, B, T, H, hd, pos0);
    MUST(rope_backward_cuda(d_dx, d_dout, B, T, H, hd, pos0, GRAD_ADD, NULL, &kt_err));
    get_bf16(got, d_dx, n);
    CHECK_CLOSE("backward dx +=", got, dx, n, TOL_BF16);
    floatX *d_dx0 = dev_zero_bf16(n), *d_dxs = dev_nan_bf16(n);
    MUST(rope_backward_cuda(d_dx0, d_dout, B, T, H, hd, pos0, GRAD_ADD, NULL, &kt_err));
    MUST(rope_backward_cuda(d_dxs, d_dout, B, T, H, hd, pos0, GRAD_SET, NULL, &kt_err));
    CHECK_SET_IS_ADD("backward dx = (GRAD_SET over NaN)", d_dxs, d_dx0, n);
    CHECK(rope_forward_cuda(d_out, d_x, 1, 1, 1, 3, 0, NULL, &kt_err) == -1);  // odd head dimension
    kt_release();
}

// `test_kernels --time`: RoPE forward and backward (GRAD_SET) at the model shapes
// (microseconds per call, 20 calls after 3 untimed).
static void time_rope(pcg32 *rng) {
    static const int shapes[][4] = {{8, 4096, 12, 64}, {16, 2048, 8, 64}, {8, 4096, 6, 128}};
    for (int si = 0; si < 3; si++) {
        int B = shapes[si][0], T = shapes[si][1], H = shapes[si][2], hd = shapes[si][3];
        long n = (long)B * T * H * hd;
        float *x = host_random(n, 2, 1, rng);
        floatX *d_x = dev_bf16(x, n), *d_o = dev_nan_bf16(n);
        double us[2];
        for (int bw = 0; bw < 2; bw++) {
            double t0 = 0;
            for (int r = -3; r < 20; r++) {
                if (r == 0) {
                    MUST(star_cuda_sync(NULL, &kt_err));
                    t0 = kt_now_ms();
                }
                if (bw) MUST(rope_backward_cuda(d_o, d_x, B, T, H, hd, 0, GRAD_SET, NULL, &kt_err));
                else MUST(rope_forward_cuda(d_o, d_x, B, T, H, hd, 0, NULL, &kt_err));
            }
            MUST(star_cuda_sync(NULL, &kt_err));
            us[bw] = (kt_now_ms() - t0) / 20 * 1e3;
        }
        printf("rope B%d T%d H%d hd%d (%.0f MB read and written a call): forward %.1f us (%.2f TB/s), backward "
               "%.1f us\n",
               B, T, H, hd, 4.0 * n / 1e6, us[0], 4.0 * n / us[0] * 1e-6, us[1]);
        kt_release();
    }
}

// ------------------------------------------------------------------------ scale_channels
// The diagonal output projection's backward against a double-precision loop.
static void test_scale_channels(long N, int C, pcg32 *rng) {
    printf("scale_channels N=%ld C=%d\n", N, C);
    long n = N * C;
    float *x = host_random(n, 1, 1, rng), *dy = host_random(n, 1, 1, rng), *dx = host_random(n, 1, 1, rng);
    float *w = host_random(C, 1, 0, rng), *dw = host_random(C, 1, 0, rng), *got = host_f32(n);
    floatX *d_x = dev_bf16(x, n), *d_dy = dev_bf16(dy, n), *d_dx = dev_bf16(dx, n);
    float *d_w = dev_f32(w, C), *d_dw = dev_f32(dw, C);
    for (int c = 0; c < C; c++) {
        double acc = dw[c];
        for (long r = 0; r < N; r++) acc += (double)dy[r * C + c] * x[r * C + c];
        dw[c] = (float)acc;
    }
    for (long i = 0; i < n; i++) dx[i] += dy[i] * w[i % C];
    MUST(scale_channels_backward_cuda(d_dx, d_dw, d_dy, d_x, d_w, N, C, GRAD_ADD, NULL, &kt_err));
    get_bf16(got, d_dx, n);
    CHECK_CLOSE("backward dx += dy * w", got, dx, n, TOL_BF16);
    get_f32(got, d_dw, C);
    CHECK_CLOSE("backward dw += sum dy * x (fp32)", got, dw, C, TOL_F32_SUM);
    floatX *d_dx0 = dev_zero_bf16(n), *d_dxs = dev_nan_bf16(n);
    MUST(scale_channels_backward_cuda(d_dx0, NULL, d_dy, d_x, d_w, N, C, GRAD_ADD, NULL, &kt_err));
    MUST(scale_channels_backward_cuda(d_dxs, NULL, d_dy, d_x, d_w, N, C, GRAD_SET, NULL, &kt_err));
    CHECK_SET_IS_ADD("backward dx = (GRAD_SET over NaN)", d_dxs, d_dx0, n);
    kt_release();
}

// ------------------------------------------------------------------------ embedding
static void test_embedding(long N, int V, int C, pcg32 *rng) {
    printf("embedding N=%ld V=%d C=%d\n", N, V, C);
    float *table = host_random((long)V * C, 1, 1, rng), *out = host_f32(N * C), *got = host_f32(N * C);
    int32_t *tok = (int32_t *)host_alloc(sizeof(int32_t) * N);
    for (long n = 0; n < N; n++) tok[n] = (int32_t)pcg32_bounded(rng, (uint32_t)V);  // many repeats
    star_error e;
    CHECK(embedding_forward(out, tok, table, N, V, C, &e) == 0);
    int32_t *d_tok = (int32_t *)dev_bytes(tok, sizeof(int32_t) * N);
    floatX *d_table = dev_bf16(table, (long)V * C), *d_out = (floatX *)dev_alloc(sizeof(floatX) * N * C);
    dev_nan(d_out, sizeof(floatX) * N * C);
    MUST(embedding_forward_cuda(d_out, d_tok, d_table, N, V, C, NULL, &kt_err));
    get_bf16(got, d_out, N * C);
    CHECK_EQUAL("forward rows", got, out, N * C);

    float *dout = host_random(N * C, 1, 1, rng), *dt = host_random((long)V * C, 1, 0, rng);
    float *dt_gpu = host_f32((long)V * C);
    floatX *d_dout = dev_bf16(dout, N * C);
    float *d_dt = dev_f32(dt, (long)V * C);
    size_t sb;
    MUST(embedding_backward_scratch_bytes(&sb, N, V, &kt_err));
    void *scratch = dev_alloc(sb);
    dev_nan(scratch, sb);
    embedding_backward(dt, dout, tok, N, C);
    MUST(embedding_backward_cuda(d_dt, scratch, sb, d_dout, d_tok, N, V, C, NULL, &kt_err));
    get_f32(dt_gpu, d_dt, (long)V * C);
    CHECK_EQUAL("backward dtable += (position order)", dt_gpu, dt, (long)V * C);
    CHECK(embedding_backward_cuda(d_dt, scratch, sb - 1, d_dout, d_tok, N, V, C, NULL, &kt_err) == -1);

    // Bad tokens: a NaN row forward, skipped backward; the other rows as before.
    if (N > 5) {
        tok[3] = V;
        tok[5] = -2;
        MUST(star_cuda_upload(d_tok, tok, sizeof(int32_t) * N, &kt_err));
        MUST(embedding_forward_cuda(d_out, d_tok, d_table, N, V, C, NULL, &kt_err));
        get_bf16(got, d_out, N * C);
        int nan_rows = isnan(got[3 * C]) && isnan(got[4 * C - 1]) && isnan(got[5 * C]) && isnan(got[6 * C - 1]);
        CHECK_MSG(nan_rows, "a token outside [0, V) gives a NaN row");
        CHECK(memcmp(got, out, sizeof(float) * 3 * C) == 0);
        CHECK(memcmp(got + 6 * C, out + 6 * C, sizeof(float) * (N - 6) * C) == 0);
        long m = 0;
        int32_t *vt = (int32_t *)host_alloc(sizeof(int32_t) * N);
        float *vd = host_f32(N * C);
        for (long n = 0; n < N; n++) {
            if (tok[n] < 0 || tok[n] >= V) continue;
            vt[m] = tok[n];
            memcpy(vd + m * C, dout + n * C, sizeof(float) * C);
            m++;
        }
        embedding_backward(dt, vd, vt, m, C);
        MUST(embedding_backward_cuda(d_dt, scratch, sb, d_dout, d_tok, N, V, C, NULL, &kt_err));
        get_f32(dt_gpu, d_dt, (long)V * C);
        CHECK_EQUAL("backward skips bad tokens", dt_gpu, dt, (long)V * C);
    }
    kt_release();
}

// ------------------------------------------------------------------------ cross-entropy
// Logits uniform in [-spread, spread].
static void test_crossentropy(long N, int V, float spread, pcg32 *rng) {
    printf("crossentropy N=%ld V=%d logits within +-%g\n", N, V, spread);
    long n = N * V;
    float *logits = host_random(n, spread, 0, rng), *probs = host_f32(n), *losses = host_f32(N), *got = host_f32(n);
    int32_t *tgt = (int32_t *)host_alloc(sizeof(int32_t) * N);
    for (long i = 0; i < N; i++) tgt[i] = i % 5 == 2 ? -1 : (int32_t)pcg32_bounded(rng, (uint32_t)V);
    double loss;
    long count;
    star_error e;
    CHECK(crossentropy_forward(&loss, &count, probs, losses, logits, tgt, N, V, &e) == 0);

    float *d_logits = dev_f32(logits, n), *d_probs = (float *)dev_alloc(sizeof(float) * n);
    float *d_losses = (float *)dev_alloc(sizeof(float) * N);
    int32_t *d_tgt = (int32_t *)dev_bytes(tgt, sizeof(int32_t) * N);
    double *d_loss = (double *)dev_alloc(sizeof(double)), gpu_loss, gpu_loss2;
    int *d_count = (int *)dev_alloc(sizeof(int)), gpu_count;
    dev_nan(d_probs, sizeof(float) * n);
    dev_nan(d_losses, sizeof(float) * N);
    dev_nan(d_loss, sizeof(double));
    dev_nan(d_count, sizeof(int));
    MUST(crossentropy_forward_cuda(d_probs, d_losses, d_loss, d_count, d_logits, d_tgt, N, V, NULL, &kt_err));
    get_f32(got, d_probs, n);
    CHECK_CLOSE("forward probs", got, probs, n, TOL_F32);
    get_f32(got, d_losses, N);
    CHECK_CLOSE("forward per-position losses", got, losses, N, TOL_F32);
    MUST(star_cuda_download(&gpu_loss, d_loss, sizeof gpu_loss, &kt_err));
    MUST(star_cuda_download(&gpu_count, d_count, sizeof gpu_count, &kt_err));
    CHECK_NEAR(gpu_loss, loss, TOL_F32 * loss);
    CHECK(gpu_count == count);

    float dloss = 1.5f, *dl = host_f32(n);
    crossentropy_backward(dl, probs, tgt, N, V, dloss);
    floatX *d_dl = (floatX *)dev_alloc(sizeof(floatX) * n);
    dev_nan(d_dl, sizeof(floatX) * n);
    MUST(crossentropy_backward_cuda(d_dl, d_probs, d_tgt, d_count, N, V, dloss, NULL, &kt_err));
    get_bf16(got, d_dl, n);
    CHECK_CLOSE("backward dlogits (bf16)", got, dl, n, TOL_BF16);

    // Fused: the same losses, loss and dlogits from one pass; twice gives the same bits.
    dev_nan(d_dl, sizeof(floatX) * n);
    dev_nan(d_losses, sizeof(float) * N);
    dev_nan(d_loss, sizeof(double));
    dev_nan(d_count, sizeof(int));
    MUST(crossentropy_fused_cuda(d_dl, d_losses, d_loss, d_count, d_logits, d_tgt, N, V, dloss, NULL, &kt_err));
    get_bf16(got, d_dl, n);
    CHECK_CLOSE("fused dlogits (bf16)", got, dl, n, TOL_BF16);
    get_f32(got, d_losses, N);
    CHECK_CLOSE("fused per-position losses", got, losses, N, TOL_F32);
    MUST(star_cuda_download(&gpu_loss, d_loss, sizeof gpu_loss, &kt_err));
    CHECK_NEAR(gpu_loss, loss, TOL_F32 * loss);
    MUST(crossentropy_fused_cuda(d_dl, d_losses, d_loss, d_count, d_logits, d_tgt, N, V, dloss, NULL, &kt_err));
    MUST(star_cuda_download(&gpu_loss2, d_loss, sizeof gpu_loss2, &kt_err));
    CHECK(memcmp(&gpu_loss, &gpu_loss2, sizeof gpu_loss) == 0);

    // probs written over the logits.
    MUST(crossentropy_forward_cuda(d_logits, d_losses, d_loss, d_count, d_logits, d_tgt, N, V, NULL, &kt_err));
    get_f32(got, d_logits, n);
    CHECK_CLOSE("forward probs in place", got, probs, n, TOL_F32);

    // A target outside the vocabulary makes the loss NaN.
    tgt[0] = V;
    MUST(star_cuda_upload(d_tgt, tgt, sizeof(int32_t) * N, &kt_err));
    MUST(crossentropy_fused_cuda(d_dl, d_losses, d_loss, d_count, d_probs, d_tgt, N, V, dloss, NULL, &kt_err));
    MUST(star_cuda_download(&gpu_loss, d_loss, sizeof gpu_loss, &kt_err));
    CHECK_MSG(isnan(gpu_loss), "target %d outside [0, %d) gives a NaN loss, got %g", V, V, gpu_loss);

    // A NaN logit makes its row's loss NaN and no other row's.
    tgt[0] = 0;
    MUST(star_cuda_upload(d_tgt, tgt, sizeof(int32_t) * N, &kt_err));
    logits[V + V / 2] = NAN;
    MUST(star_cuda_upload(d_logits, logits, sizeof(float) * n, &kt_err));
    MUST(crossentropy_fused_cuda(d_dl, d_losses, d_loss, d_count, d_logits, d_tgt, N, V, dloss, NULL, &kt_err));
    get_f32(got, d_losses, N);
    CHECK_MSG(isnan(got[1]), "row 1 with a NaN logit: loss %g, expected NaN", got[1]);
    CHECK_MSG(isfinite(got[0]) && isfinite(got[3]), "rows 0 and 3 without NaN: losses %g and %g", got[0], got[3]);
    kt_release();
}

// ------------------------------------------------------------------------ adamw
#define ADAMW_TENSORS 5
static void test_adamw(pcg32 *rng) {
    printf("adamw, %d tensors, 3 steps\n", ADAMW_TENSORS);
    const long sizes[ADAMW_TENSORS] = {1000, 5000, 0, 7, 2048};
    const int decay[ADAMW_TENSORS] = {1, 0, 1, 0, 1};
    adamw_hparams hp = {1e-2, 0.9, 0.95, 1e-8, 0.1};
    float *p[ADAMW_TENSORS], *g[ADAMW_TENSORS], *m[ADAMW_TENSORS], *v[ADAMW_TENSORS];
    adamw_tensor_cuda dt[ADAMW_TENSORS];
    long total = 0;
    for (int t = 0; t < ADAMW_TENSORS; t++) {
        long n = sizes[t];
        total += n;
        p[t] = host_random(n, 1, 0, rng);
        g[t] = host_f32(n);
        m[t] = host_f32(n);
        v[t] = host_f32(n);
        dt[t] = (adamw_tensor_cuda){dev_f32(p[t], n), dev_f32(g[t], n), dev_f32(m[t], n), dev_f32(v[t], n),
                                    (floatX *)dev_alloc(sizeof(floatX) * (n ? n : 1)), n, decay[t]};
        dev_nan(dt[t].param_bf16, sizeof(floatX) * n);
    }
    adamw_list_cuda *list;
    MUST(adamw_list_create_cuda(&list, dt, ADAMW_TENSORS, &kt_err));
    for (long step = 1; step <= 3; step++) {
        // Steps 1 and 2 clip (the norm is about 45, the limit 10); step 3 scales by 0.5 only.
        int clip = step < 3;
        double max_norm = clip ? 10 : 0, grad_scale = clip ? 1 : 0.5;
        for (int t = 0; t < ADAMW_TENSORS; t++) {
            for (long i = 0; i < sizes[t]; i++) g[t][i] = 2.0f * pcg32_float(rng) - 1.0f;
            MUST(star_cuda_upload((void *)dt[t].grad, g[t], sizeof(float) * sizes[t], &kt_err));
        }
        double norm = grad_global_norm((const real *const *)g, sizes, ADAMW_TENSORS), gpu_norm;
        double scale = grad_clip_scale(norm, max_norm);
        for (int t = 0; t < ADAMW_TENSORS; t++)
            adamw_update(p[t], g[t], m[t], v[t], sizes[t], step, hp, decay[t], grad_scale * (clip ? scale : 1));
        MUST(grad_global_norm_cuda(list, max_norm, NULL, &kt_err));
        MUST(adamw_update_cuda(list, step, hp, grad_scale, clip, NULL, &kt_err));
        MUST(grad_global_norm_read_cuda(list, &gpu_norm, NULL, &kt_err));
        CHECK_NEAR(gpu_norm, norm, 1e-12 * norm);
    }
    CHECK(adamw_update_cuda(list, 0, hp, 1, 0, NULL, &kt_err) == -1);  // steps count from 1
    float *all[4], *ref[4];
    for (int k = 0; k < 4; k++) {
        all[k] = host_f32(total);
        ref[k] = host_f32(total);
    }
    long off = 0;
    for (int t = 0; t < ADAMW_TENSORS; t++) {
        long n = sizes[t];
        get_f32(all[0] + off, dt[t].param, n);
        get_f32(all[1] + off, dt[t].m, n);
        get_f32(all[2] + off, dt[t].v, n);
        get_bf16(all[3] + off, dt[t].param_bf16, n);
        memcpy(ref[0] + off, p[t], sizeof(float) * n);
        memcpy(ref[1] + off, m[t], sizeof(float) * n);
        memcpy(ref[2] + off, v[t], sizeof(float) * n);
        off += n;
    }
    for (long i = 0; i < total; i++) ref[3][i] = bf2f(f2bf(all[0][i]));
    CHECK_CLOSE("master weights after 3 steps", all[0], ref[0], total, TOL_F32);
    CHECK_CLOSE("first moments", all[1], ref[1], total, TOL_F32);
    CHECK_CLOSE("second moments", all[2], ref[2], total, TOL_F32);
    CHECK_EQUAL("bf16 copy = rounded master weights", all[3], ref[3], total);
    MUST(adamw_list_destroy_cuda(list, &kt_err));
    kt_release();
}

// The AdamW step captured in a CUDA graph with its constants read from device memory,
// against adamw_update_cuda on an identical copy: the same bits after 3 steps (weights,
// moments, bf16 copy, norm); the guard leaves everything as it was when it is NaN; a
// capture that a synchronizing call broke is discarded and leaves the stream usable.
static void test_adamw_graph(pcg32 *rng) {
    printf("adamw as a captured graph, %d tensors, 3 steps\n", ADAMW_TENSORS);
    const long sizes[ADAMW_TENSORS] = {1000, 5000, 0, 7, 2048};
    const int decay[ADAMW_TENSORS] = {1, 0, 1, 0, 1};
    adamw_hparams hp = {1e-2, 0.9, 0.95, 1e-8, 0.1};
    adamw_tensor_cuda dt[2][ADAMW_TENSORS];
    long total = 0;
    for (int t = 0; t < ADAMW_TENSORS; t++) {
        long n = sizes[t];
        total += n;
        float *p = host_random(n, 1, 0, rng), *g = host_random(n, 1, 0, rng), *z = host_f32(n);
        for (int k = 0; k < 2; k++)
            dt[k][t] = (adamw_tensor_cuda){dev_f32(p, n), dev_f32(g, n), dev_f32(z, n), dev_f32(z, n),
                                           (floatX *)dev_alloc(sizeof(floatX) * (n ? n : 1)), n, decay[t]};
    }
    adamw_list_cuda *list[2];
    MUST(adamw_list_create_cuda(&list[0], dt[0], ADAMW_TENSORS, &kt_err));
    MUST(adamw_list_create_cuda(&list[1], dt[1], ADAMW_TENSORS, &kt_err));
    star_stream s;
    MUST(star_cuda_stream_create(&s, &kt_err));
    adamw_consts_cuda *h_k, *d_k = (adamw_consts_cuda *)dev_alloc(sizeof *d_k);
    double *h_norm, *d_guard = (double *)dev_alloc(sizeof(double)), one = 1.0, nan_ = NAN;
    MUST(star_cuda_host_alloc((void **)&h_k, sizeof *h_k, &kt_err));
    MUST(star_cuda_host_alloc((void **)&h_norm, sizeof *h_norm, &kt_err));
    MUST(star_cuda_upload(d_guard, &one, sizeof one, &kt_err));
    MUST(star_cuda_device_sync(&kt_err));  // the legacy-stream uploads, before stream s reads them
    const double max_norm = 10;            // the norm is about 50: every step clips
    star_cuda_graph *graph = NULL;
    MUST(star_cuda_capture_begin(s, &kt_err));
    int rc = star_cuda_upload_async(d_k, h_k, sizeof *h_k, s, &kt_err) != 0 ||
             grad_global_norm_cuda(list[1], max_norm, s, &kt_err) != 0 ||
             adamw_update_device_cuda(list[1], d_k, d_guard, 1, s, &kt_err) != 0 ||
             grad_global_norm_copy_cuda(list[1], h_norm, s, &kt_err) != 0;
    MUST(star_cuda_capture_end(s, rc == 0, &graph, &kt_err));
    for (long step = 1; step <= 3; step++) {
        double norm0;
        MUST(grad_global_norm_cuda(list[0], max_norm, s, &kt_err));
        MUST(adamw_update_cuda(list[0], step, hp, 1.0, 1, s, &kt_err));
        MUST(grad_global_norm_read_cuda(list[0], &norm0, s, &kt_err));
        MUST(adamw_consts_make_cuda(h_k, step, hp, 1.0, &kt_err));
        MUST(star_cuda_graph_launch(graph, s, &kt_err));
        MUST(star_cuda_sync(s, &kt_err));
        CHECK_MSG(memcmp(&norm0, h_norm, sizeof norm0) == 0, "step %ld: norm %.17g uncaptured, %.17g captured", step,
                  norm0, *h_norm);
    }
    MUST(star_cuda_device_sync(&kt_err));
    float *got[2][4];
    for (int k = 0; k < 2; k++) {
        for (int q = 0; q < 4; q++) got[k][q] = host_f32(total);
        long off = 0;
        for (int t = 0; t < ADAMW_TENSORS; t++) {
            get_f32(got[k][0] + off, dt[k][t].param, sizes[t]);
            get_f32(got[k][1] + off, dt[k][t].m, sizes[t]);
            get_f32(got[k][2] + off, dt[k][t].v, sizes[t]);
            get_bf16(got[k][3] + off, dt[k][t].param_bf16, sizes[t]);
            off += sizes[t];
        }
    }
    CHECK_EQUAL("captured adamw: master weights", got[1][0], got[0][0], total);
    CHECK_EQUAL("captured adamw: first moments", got[1][1], got[0][1], total);
    CHECK_EQUAL("captured adamw: second moments", got[1][2], got[0][2], total);
    CHECK_EQUAL("captured adamw: bf16 copy", got[1][3], got[0][3], total);
    // A non-finite guard: the update leaves everything as it was.
    MUST(star_cuda_upload_async(d_guard, &nan_, sizeof nan_, s, &kt_err));
    MUST(adamw_consts_make_cuda(h_k, 4, hp, 1.0, &kt_err));
    MUST(star_cuda_graph_launch(graph, s, &kt_err));
    MUST(star_cuda_sync(s, &kt_err));
    float *after = host_f32(total), *m_after = host_f32(total);
    long off = 0;
    for (int t = 0; t < ADAMW_TENSORS; t++) {
        get_f32(after + off, dt[1][t].param, sizes[t]);
        get_f32(m_after + off, dt[1][t].m, sizes[t]);
        off += sizes[t];
    }
    CHECK_EQUAL("guard NaN: master weights unchanged", after, got[1][0], total);
    CHECK_EQUAL("guard NaN: first moments unchanged", m_after, got[1][1], total);
    // A capture broken by a synchronizing call: discarded, the stream usable again.
    MUST(star_cuda_capture_begin(s, &kt_err));
    int broke = star_cuda_sync(s, &kt_err);
    star_cuda_graph *none = NULL;
    CHECK(broke != 0);
    CHECK(star_cuda_capture_end(s, 0, &none, &kt_err) == -1 && none == NULL);
    CHECK(star_cuda_memset(d_guard, 0, sizeof(double), s, &kt_err) == 0 && star_cuda_sync(s, &kt_err) == 0);
    star_cuda_graph_destroy(graph);
    MUST(star_cuda_host_free(h_k, &kt_err));
    MUST(star_cuda_host_free(h_norm, &kt_err));
    MUST(star_cuda_stream_destroy(s, &kt_err));
    MUST(adamw_list_destroy_cuda(list[0], &kt_err));
    MUST(adamw_list_destroy_cuda(list[1], &kt_err));
    kt_release();
}

int main(int argc, char **argv) {
    kt_skip_without_device();
    MUST(star_cuda_create(&ctx, 0, &kt_err));
    pcg32 rng = pcg32_derive(20260101, 1);
    if (argc > 1 && strcmp(argv[1], "--time") == 0) {
        time_rope(&rng);
        MUST(star_cuda_destroy(ctx, &kt_err));
        return 0;
    }

    test_casts(&rng);
    test_matmul(64, 128, 96, &rng);
    test_matmul(37, 40, 24, &rng);
    test_matmul(13, 33, 17, &rng);  // no dimension a multiple of 8
    test_rmsnorm(67, 256, 1, &rng);
    test_rmsnorm(33, 100, 1, &rng);      // C % 8 != 0: element-wise path
    test_rmsnorm(40 * 4, 64, 0, &rng);   // per-head form: N*H rows of hd
    test_rmsnorm(3, 2048, 1, &rng);      // several chunks per lane; dw partial sums past shared memory
    test_rmsnorm(4099, 96, 1, &rng);     // the fused backward with several rows per warp
    for (int k = ACT_IDENTITY; k <= ACT_ELU1; k++) test_glu(4096, (act_kind)k, &rng);
    test_glu(1001, ACT_SILU, &rng);
    test_glu(1001, ACT_GELU, &rng);
    test_rope(2, 5, 3, 16, 0, &rng);
    test_rope(1, 4, 2, 64, 3000, &rng);  // far positions: the angles stay those of the CPU
    test_rope(2, 3, 6, 128, 7, &rng);    // 16-byte kernel, a last group of 2 heads
    test_rope(1, 3, 2, 256, 2000, &rng); // 16-byte kernel at hd 256, far positions
    test_rope(1, 3, 2, 512, 100, &rng);  // hd past 256: the element-wise kernel
    test_rope(2, 3, 5, 6, 0, &rng);      // hd/2 % 8 != 0: the element-wise kernel
    test_scale_channels(67, 40, &rng);
    test_embedding(300, 50, 24, &rng);
    test_embedding(200, 7, 13, &rng);
    test_crossentropy(40, 1000, 4, &rng);
    test_crossentropy(9, 37, 4, &rng);
    test_crossentropy(6, 8196, 4, &rng);     // 2049 float4s a row: past the unrolled steps, the tail loop
    test_crossentropy(4, 50304, 4, &rng);    // GPT-2's padded vocabulary (kept in shared memory on Hopper)
    test_crossentropy(300, 50304, 4, &rng);  // more rows than blocks: each block streams in its next row
    test_crossentropy(5000, 256, 4, &rng);   // the same at a search's vocabulary (128 threads a row)
    test_crossentropy(3, 60000, 4, &rng);    // a row past 227 KB of shared memory: the two-read path
    // Logits 120 nats apart: probabilities below 2^-126, which the device flushes to 0.
    test_crossentropy(8, 1000, 60, &rng);
    test_crossentropy(4, 50304, 60, &rng);
    test_adamw(&rng);
    test_adamw_graph(&rng);

    MUST(star_cuda_destroy(ctx, &kt_err));
    TEST_END();
}
