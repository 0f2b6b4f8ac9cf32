// The sequence-mixing kernels other than softmax attention (short and long convolution,
// linear attention, SSD scan) against their CPU operators on the same random bf16-rounded
// inputs, forward and backward, with T = 1, T not a multiple of the chunk (64) and the
// largest widths the kernels take. Outputs that a kernel overwrites start as NaN, so an
// element it fails to write fails the check; accumulated gradients start from random
// values. Bounds (relative error = max|gpu - ref| / max|ref|, infinite on any NaN):
//   bf16 outputs and gradients              1e-2  (bf16 rounding is 2^-9 = 0.002)
//   fp32 sums (dw, dskip; the filter)       1e-4  (fp32 in another order)
//   fp32 FFT results (long conv dh)         2e-4  (fp32 cuFFT: ~1e-6 of the largest value)
//   fp32 SSD per-head gradients             1e-3  (a different algorithm: running sums)
// The references: operators/short_conv.c, linear_attention.c and ssd_scan.c (float), the
// last two through the plain-loop gemm below (no OpenBLAS on a GPU machine); the long
// convolution and its implicit filter against double-precision direct sums here
// (operators/long_conv.c needs FFTW). Linear attention and the SSD scan run twice, on the tensor-core chunked scan
// (the default) and on the fp32 one (scan_tensor_cores_set_cuda(0), as STAR_SCAN_TC=0),
// both against the same references and bounds; test_scan_switch checks the switch itself.
// `test_seq_kernels --time` instead times the scans of both paths at model shapes.
// With no CUDA device the test prints SKIP and exits 77 (ctest: skipped).

#include "operators/linear_attention.h"
#include "operators/long_conv.h"  // LONG_CONV_T0
#include "operators/matmul.h"
#include "operators/short_conv.h"
#include "operators/ssd_scan.h"
#include "tests/kernels/kernel_test_util.h"

#define TOL_BF16 1e-2
#define TOL_F32_SUM 1e-4
#define TOL_FFT 2e-4
#define TOL_SSD_PARAM 1e-3

// ------------------------------------------------------------------------ short conv
static void test_short_conv(int B, int T, int C, int K, pcg32 *rng) {
    printf("short_conv B=%d T=%d C=%d K=%d\n", B, T, C, K);
    long n = (long)B * T * C, nw = (long)C * K;
    float *x = host_random(n, 1, 1, rng), *w = host_random(nw, 0.5f, 1, rng), *y = host_f32(n), *got = host_f32(n);
    short_conv_forward(y, x, w, B, T, C, K);
    floatX *d_x = dev_bf16(x, n), *d_w = dev_bf16(w, nw), *d_y = dev_nan_bf16(n);
    MUST(short_conv_forward_cuda(d_y, d_x, d_w, B, T, C, K, NULL, &kt_err));
    get_bf16(got, d_y, n);
    CHECK_CLOSE("forward y", got, y, n, TOL_BF16);

    float *dy = host_random(n, 1, 1, rng), *dx = host_random(n, 1, 1, rng), *dw = host_random(nw, 1, 0, rng);
    float *dw0 = host_copy(dw, nw), *gw = host_f32(nw), *gw2 = host_f32(nw);
    floatX *d_dy = dev_bf16(dy, n), *d_dx = dev_bf16(dx, n);
    float *d_dw = dev_f32(dw0, nw), *d_dw2 = dev_f32(dw0, nw);
    long ns = short_conv_backward_scratch_floats(C, K);
    float *scratch = (float *)dev_alloc(sizeof(float) * ns);
    dev_nan(scratch, sizeof(float) * ns);
    short_conv_backward(dx, dw, dy, x, w, B, T, C, K);
    MUST(short_conv_backward_cuda(d_dx, d_dw, scratch, d_dy, d_x, d_w, B, T, C, K, GRAD_ADD, NULL, &kt_err));
    get_bf16(got, d_dx, n);
    CHECK_CLOSE("backward dx +=", got, dx, n, TOL_BF16);
    get_f32(gw, d_dw, nw);
    CHECK_CLOSE("backward dw += (fp32)", gw, dw, nw, TOL_F32_SUM);
    MUST(short_conv_backward_cuda(NULL, d_dw2, scratch, d_dy, d_x, d_w, B, T, C, K, GRAD_ADD, NULL, &kt_err));
    get_f32(gw2, d_dw2, nw);
    CHECK_EQUAL("backward dw again: same bits", gw2, gw, nw);
    floatX *d_dx0 = dev_zero_bf16(n), *d_dxs = dev_nan_bf16(n);
    MUST(short_conv_backward_cuda(d_dx0, NULL, NULL, d_dy, d_x, d_w, B, T, C, K, GRAD_ADD, NULL, &kt_err));
    MUST(short_conv_backward_cuda(d_dxs, NULL, NULL, d_dy, d_x, d_w, B, T, C, K, GRAD_SET, NULL, &kt_err));
    CHECK_SET_IS_ADD("backward dx = (GRAD_SET over NaN)", d_dxs, d_dx0, n);
    CHECK(short_conv_forward_cuda(d_y, d_x, d_w, B, T, C, 17, NULL, &kt_err) == -1);  // K > 16
    CHECK(short_conv_backward_cuda(NULL, d_dw, NULL, d_dy, d_x, d_w, B, T, C, K, GRAD_ADD, NULL, &kt_err) == -1);
    kt_release();
}

// ------------------------------------------------------------------------ long conv
// Direct sums in double: y = causal conv(h, x) + skip x and the three gradients (not
// accumulated: the caller adds the starting values).
static void long_conv_ref(float *y, float *dx, float *dh, float *dskip, const float *x, const float *dy, const float *h,
                          const float *skip, int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++) {
                long i = ((long)b * T + t) * C + c;
                double sy = skip ? (double)skip[c] * x[i] : 0, sx = skip ? (double)skip[c] * dy[i] : 0;
                for (int s = 0; s <= t; s++) sy += (double)h[(long)c * T + s] * x[((long)b * T + t - s) * C + c];
                for (int u = 0; t + u < T; u++) sx += (double)h[(long)c * T + u] * dy[((long)b * T + t + u) * C + c];
                y[i] = (float)sy;
                dx[i] += (float)sx;
            }
    for (int c = 0; c < C; c++) {
        double sk = 0;
        for (int k = 0; k < T; k++) {
            double s = 0;
            for (int b = 0; b < B; b++)
                for (int t = k; t < T; t++)
                    s += (double)dy[((long)b * T + t) * C + c] * x[((long)b * T + t - k) * C + c];
            dh[(long)c * T + k] += (float)s;
        }
        for (long bt = 0; bt < (long)B * T; bt++) sk += (double)dy[bt * C + c] * x[bt * C + c];
        dskip[c] += (float)sk;
    }
}

static void test_long_conv(int B, int T, int C, int with_skip, pcg32 *rng) {
    printf("long_conv B=%d T=%d C=%d %s\n", B, T, C, with_skip ? "with skip" : "no skip");
    long n = (long)B * T * C, nh = (long)C * T;
    float *x = host_random(n, 1, 1, rng), *h = host_random(nh, 1, 0, rng), *skip = NULL;
    for (int c = 0; c < C; c++)  // a decaying filter, as the implicit parameterization makes
        for (int t = 0; t < T; t++) h[(long)c * T + t] *= expf(-(float)t / (50.0f + 20.0f * c));
    if (with_skip) skip = host_random(C, 1, 0, rng);
    float *dy = host_random(n, 1, 1, rng), *dx = host_random(n, 1, 1, rng), *dh = host_random(nh, 1, 0, rng);
    float *dskip = host_random(C, 1, 0, rng), *dh0 = host_copy(dh, nh), *dskip0 = host_copy(dskip, C);
    float *dx0 = host_copy(dx, n), *y = host_f32(n), *got = host_f32(n > nh ? n : nh);
    long_conv_ref(y, dx, dh, dskip, x, dy, h, skip, B, T, C);

    long_conv_plan_cuda *plan;
    MUST(long_conv_plan_create_cuda(&plan, B, T, C, &kt_err));
    floatX *d_x = dev_bf16(x, n), *d_y = dev_nan_bf16(n), *d_dy = dev_bf16(dy, n), *d_dx = dev_bf16(dx0, n);
    float *d_h = dev_f32(h, nh), *d_skip = skip ? dev_f32(skip, C) : NULL, *d_dh = dev_f32(dh0, nh);
    float *d_dskip = dev_f32(dskip0, C);
    MUST(long_conv_forward_cuda(plan, d_y, d_x, d_h, d_skip, NULL, &kt_err));
    get_bf16(got, d_y, n);
    CHECK_CLOSE("forward y (cuFFT)", got, y, n, TOL_BF16);
    MUST(long_conv_backward_cuda(plan, d_dx, d_dh, d_dskip, d_dy, d_x, d_h, d_skip, NULL, &kt_err));
    get_bf16(got, d_dx, n);
    CHECK_CLOSE("backward dx += (cuFFT correlation)", got, dx, n, TOL_BF16);
    get_f32(got, d_dh, nh);
    CHECK_CLOSE("backward dh += (fp32, cuFFT correlation)", got, dh, nh, TOL_FFT);
    get_f32(got, d_dskip, C);
    CHECK_CLOSE("backward dskip += (fp32)", got, dskip, C, TOL_F32_SUM);
    MUST(long_conv_plan_destroy_cuda(plan, &kt_err));
    CHECK(long_conv_plan_create_cuda(&plan, B, 0, C, &kt_err) == -1 && plan == NULL);
    kt_release();
}

// ------------------------------------------------------------------------ long conv filter
// The implicit filter of operators/long_conv.h in double, its angles w_m t rounded to float
// as the kernels form them (float w_m times float t): h, and da, db, dalpha (not
// accumulated: the caller adds the starting values).
static float filter_angle(int m, int t) { return (float)(3.14159265358979323846 * (m + 1) / LONG_CONV_T0) * (float)t; }

static void filter_ref(float *h, float *da, float *db, float *dalpha, const float *dh, const float *a, const float *b,
                       const float *alpha, int C, int T, int M) {
    for (int c = 0; c < C; c++) {
        double sp = alpha[c] > 20 ? alpha[c] : log1p(exp(alpha[c])), sig = 1 / (1 + exp(-alpha[c])), dal = 0;
        for (int t = 0; t < T; t++) {
            double decay = exp(-sp * t / LONG_CONV_T0), sum = 0, g = dh[(long)c * T + t] * decay;
            for (int m = 0; m < M; m++) {
                double wt = filter_angle(m, t);
                sum += a[(long)c * M + m] * cos(wt) + b[(long)c * M + m] * sin(wt);
            }
            h[(long)c * T + t] = (float)(sum * decay);
            dal += g * sum * (-(double)t / LONG_CONV_T0);
        }
        for (int m = 0; m < M; m++) {
            double ga = 0, gb = 0;
            for (int t = 0; t < T; t++) {
                double wt = filter_angle(m, t), g = dh[(long)c * T + t] * exp(-sp * t / LONG_CONV_T0);
                ga += g * cos(wt);
                gb += g * sin(wt);
            }
            da[(long)c * M + m] += (float)ga;
            db[(long)c * M + m] += (float)gb;
        }
        dalpha[c] += (float)(dal * sig);
    }
}

static void test_filter(int C, int T, int M, pcg32 *rng) {
    printf("long_conv filter C=%d T=%d M=%d\n", C, T, M);
    long nh = (long)C * T, nm = (long)C * M;
    float *a = host_random(nm, 1, 0, rng), *b = host_random(nm, 1, 0, rng), *alpha = host_random(C, 2, 0, rng);
    float *dh = host_random(nh, 1, 0, rng), *da = host_random(nm, 1, 0, rng), *db = host_random(nm, 1, 0, rng);
    float *dalpha = host_random(C, 1, 0, rng), *h = host_f32(nh), *got = host_f32(nh > nm ? nh : nm);
    float *da0 = host_copy(da, nm), *db0 = host_copy(db, nm), *dalpha0 = host_copy(dalpha, C);
    filter_ref(h, da, db, dalpha, dh, a, b, alpha, C, T, M);

    float *d_a = dev_f32(a, nm), *d_b = dev_f32(b, nm), *d_alpha = dev_f32(alpha, C), *d_dh = dev_f32(dh, nh);
    float *d_h = (float *)dev_alloc(sizeof(float) * nh), *d_da = dev_f32(da0, nm), *d_db = dev_f32(db0, nm);
    float *d_dalpha = dev_f32(dalpha0, C);
    dev_nan(d_h, sizeof(float) * nh);
    MUST(long_conv_filter_forward_cuda(d_h, d_a, d_b, d_alpha, C, T, M, NULL, &kt_err));
    get_f32(got, d_h, nh);
    CHECK_CLOSE("filter forward h (fp32)", got, h, nh, TOL_F32_SUM);
    MUST(long_conv_filter_backward_cuda(d_da, d_db, d_dalpha, d_dh, d_a, d_b, d_alpha, C, T, M, NULL, &kt_err));
    get_f32(got, d_da, nm);
    CHECK_CLOSE("filter backward da += (fp32)", got, da, nm, TOL_F32_SUM);
    get_f32(got, d_db, nm);
    CHECK_CLOSE("filter backward db += (fp32)", got, db, nm, TOL_F32_SUM);
    get_f32(got, d_dalpha, C);
    CHECK_CLOSE("filter backward dalpha += (fp32)", got, dalpha, C, TOL_F32_SUM);
    // dalpha alone (da and db NULL) gives the same bits as with them.
    float *d_dalpha2 = dev_f32(dalpha0, C), *got2 = host_f32(C);
    MUST(long_conv_filter_backward_cuda(NULL, NULL, d_dalpha2, d_dh, d_a, d_b, d_alpha, C, T, M, NULL, &kt_err));
    get_f32(got2, d_dalpha2, C);
    CHECK_EQUAL("filter backward dalpha alone: same bits", got2, got, C);
    kt_release();
}

// ------------------------------------------------------------------------ linear attention
static void test_linear_attention(int B, int T, int H, int D, linatt_phi phi, pcg32 *rng) {
    printf("linear_attention B=%d T=%d H=%d D=%d phi=%s\n", B, T, H, D, phi == LINATT_PHI_ELU1 ? "elu+1" : "identity");
    long n = (long)B * T * H * D;
    star_error e;
    float *q = host_random(n, 1, 1, rng), *k = host_random(n, 1, 1, rng), *v = host_random(n, 1, 1, rng);
    float *o = host_f32(n), *got = host_f32(n);
    CHECK(linear_attention_forward_chunked(o, q, k, v, B, T, H, D, 64, phi, &e) == 0);
    floatX *d_q = dev_bf16(q, n), *d_k = dev_bf16(k, n), *d_v = dev_bf16(v, n), *d_o = dev_nan_bf16(n);
    MUST(linear_attention_forward_cuda(d_o, d_q, d_k, d_v, B, T, H, D, phi, NULL, &kt_err));
    get_bf16(got, d_o, n);
    CHECK_CLOSE("forward o", got, o, n, TOL_BF16);

    float *dout = host_random(n, 1, 1, rng), *dq = host_random(n, 1, 1, rng), *dk = host_random(n, 1, 1, rng);
    float *dv = host_random(n, 1, 1, rng);
    floatX *d_dout = dev_bf16(dout, n), *d_dq = dev_bf16(dq, n), *d_dk = dev_bf16(dk, n), *d_dv = dev_bf16(dv, n);
    CHECK(linear_attention_backward(dq, dk, dv, dout, q, k, v, B, T, H, D, 64, phi, &e) == 0);
    MUST(linear_attention_backward_cuda(d_dq, d_dk, d_dv, d_dout, d_q, d_k, d_v, B, T, H, D, phi, NULL, &kt_err));
    get_bf16(got, d_dq, n);
    CHECK_CLOSE("backward dq +=", got, dq, n, TOL_BF16);
    get_bf16(got, d_dk, n);
    CHECK_CLOSE("backward dk +=", got, dk, n, TOL_BF16);
    get_bf16(got, d_dv, n);
    CHECK_CLOSE("backward dv +=", got, dv, n, TOL_BF16);
    CHECK(linear_attention_forward_cuda(d_o, d_q, d_k, d_v, 1, 1, 1, 129, phi, NULL, &kt_err) == -1);  // D > 128
    kt_release();
}

// ------------------------------------------------------------------------ SSD scan
static void test_ssd(int B, int T, int H, int P, int N, int with_bias_D, pcg32 *rng) {
    printf("ssd_scan B=%d T=%d H=%d P=%d N=%d %s\n", B, T, H, P, N,
           with_bias_D ? "with dt_bias and D" : "no dt_bias, no D");
    ssd_shape s = {B, T, H, P, N};
    long nx = (long)B * T * H * P, nb = (long)B * T * N, nt = (long)B * T * H;
    star_error e;
    float *x = host_random(nx, 1, 1, rng), *Bm = host_random(nb, 1, 1, rng), *Cm = host_random(nb, 1, 1, rng);
    float *dt = host_random(nt, 2, 0, rng), *A_log = host_random(H, 1, 0, rng);
    for (long i = 0; i < nt; i++) dt[i] = bf2f(f2bf(dt[i] - 1.0f));  // raw step in [-3, 1)
    float *dt_bias = with_bias_D ? host_random(H, 0.5f, 0, rng) : NULL;
    float *Dp = with_bias_D ? host_random(H, 1, 0, rng) : NULL;
    ssd_inputs in = {x, Bm, Cm, dt, dt_bias, A_log, Dp};
    float *y = host_f32(nx), *got = host_f32(nx > nb ? nx : nb);
    CHECK(ssd_scan_forward_chunked(y, &in, s, 64, &e) == 0);

    floatX *d_x = dev_bf16(x, nx), *d_B = dev_bf16(Bm, nb), *d_C = dev_bf16(Cm, nb), *d_dt = dev_bf16(dt, nt);
    float *d_bias = dt_bias ? dev_f32(dt_bias, H) : NULL, *d_Alog = dev_f32(A_log, H);
    float *d_D = Dp ? dev_f32(Dp, H) : NULL;
    ssd_inputs_cuda din = {d_x, d_B, d_C, d_dt, d_bias, d_Alog, d_D};
    floatX *d_y = dev_nan_bf16(nx);
    MUST(ssd_scan_forward_cuda(d_y, &din, s, NULL, &kt_err));
    get_bf16(got, d_y, nx);
    CHECK_CLOSE("forward y", got, y, nx, TOL_BF16);

    float *dy = host_random(nx, 1, 1, rng), *dx = host_random(nx, 1, 1, rng), *dB = host_random(nb, 1, 1, rng);
    float *dC = host_random(nb, 1, 1, rng), *ddt = host_random(nt, 1, 1, rng);
    float *dbias = host_random(H, 1, 0, rng), *dAlog = host_random(H, 1, 0, rng), *dD = host_random(H, 1, 0, rng);
    floatX *d_dy = dev_bf16(dy, nx), *d_dx = dev_bf16(dx, nx), *d_dB = dev_bf16(dB, nb), *d_dC = dev_bf16(dC, nb);
    floatX *d_ddt = dev_bf16(ddt, nt);
    float *d_dbias = dev_f32(dbias, H), *d_dAlog = dev_f32(dAlog, H), *d_dD = dev_f32(dD, H);
    float *dAlog0 = host_copy(dAlog, H), *dbias0 = host_copy(dbias, H), *dD0 = host_copy(dD, H);
    ssd_grads gr = {dx, dB, dC, ddt, dbias, dAlog, dD};
    CHECK(ssd_scan_backward(&gr, dy, &in, s, 64, &e) == 0);
    size_t sb = ssd_scan_backward_scratch_bytes(s);
    void *scratch = dev_alloc(sb);
    dev_nan(scratch, sb);
    ssd_grads_cuda dgr = {d_dx, d_dB, d_dC, d_ddt, d_dbias, d_dAlog, d_dD};
    MUST(ssd_scan_backward_cuda(&dgr, scratch, sb, d_dy, &din, s, NULL, &kt_err));
    get_bf16(got, d_dx, nx);
    CHECK_CLOSE("backward dx +=", got, dx, nx, TOL_BF16);
    get_bf16(got, d_dB, nb);
    CHECK_CLOSE("backward dBm += (summed over heads)", got, dB, nb, TOL_BF16);
    get_bf16(got, d_dC, nb);
    CHECK_CLOSE("backward dCm += (summed over heads)", got, dC, nb, TOL_BF16);
    get_bf16(got, d_ddt, nt);
    CHECK_CLOSE("backward ddt += (raw step)", got, ddt, nt, TOL_BF16);
    float *gA = host_f32(H), *gA2 = host_f32(H);
    get_f32(gA, d_dAlog, H);
    CHECK_CLOSE("backward dA_log += (fp32)", gA, dAlog, H, TOL_SSD_PARAM);
    get_f32(got, d_dbias, H);
    CHECK_CLOSE(with_bias_D ? "backward ddt_bias += (fp32)" : "ddt_bias untouched without dt_bias", got, dbias, H,
                with_bias_D ? TOL_SSD_PARAM : 0);
    get_f32(got, d_dD, H);
    CHECK_CLOSE(with_bias_D ? "backward dD += (fp32)" : "dD untouched without D", got, dD, H,
                with_bias_D ? TOL_SSD_PARAM : 0);
    // The per-head sums are deterministic: the same gradients again from the same start.
    MUST(star_cuda_upload(d_dAlog, dAlog0, sizeof(float) * H, &kt_err));
    MUST(star_cuda_upload(d_dbias, dbias0, sizeof(float) * H, &kt_err));
    MUST(star_cuda_upload(d_dD, dD0, sizeof(float) * H, &kt_err));
    ssd_grads_cuda only_params = {NULL, NULL, NULL, NULL, d_dbias, d_dAlog, d_dD};
    MUST(ssd_scan_backward_cuda(&only_params, scratch, sb, d_dy, &din, s, NULL, &kt_err));
    get_f32(gA2, d_dAlog, H);
    CHECK_EQUAL("backward dA_log again: same bits", gA2, gA, H);
    CHECK(ssd_scan_backward_cuda(&dgr, scratch, sb - 1, d_dy, &din, s, NULL, &kt_err) == -1);
    ssd_shape wide = {1, 1, 1, 8, 129};
    CHECK(ssd_scan_forward_cuda(d_y, &din, wide, NULL, &kt_err) == -1);  // N > 128
    kt_release();
}

// The chunk loads: 16 bytes at a time when every input is 16-byte aligned with strides
// that are multiples of 8 (the default at model shapes), element by element otherwise.
// The same inputs placed one element past an alignment take the second path: both paths
// must give the same bits, forward and backward, of linear attention and of the SSD.
static floatX *dev_bf16_at(const float *h, long n, int off) {  // a copy starting off elements in
    floatX *d = (floatX *)dev_alloc(sizeof(floatX) * (size_t)(n + off));
    uint16_t *tmp = (uint16_t *)star_malloc(sizeof(uint16_t) * (size_t)n);
    for (long i = 0; i < n; i++) tmp[i] = f2bf(h[i]);
    MUST(star_cuda_upload(d + off, tmp, sizeof(uint16_t) * (size_t)n, &kt_err));
    free(tmp);
    return d + off;
}

static void test_scan_loads(pcg32 *rng) {
    printf("chunked scan loads: 16-byte (aligned inputs) against element-wise (misaligned)\n");
    int B = 2, T = 150, H = 2, D = 64;
    long n = (long)B * T * H * D;
    float *in[4], *acc[3], *got[2][4];
    for (int i = 0; i < 4; i++) in[i] = host_random(n, 1, 1, rng);  // q, k, v, dout
    for (int i = 0; i < 3; i++) acc[i] = host_random(n, 1, 1, rng);  // dq, dk, dv before +=
    for (int off = 0; off < 2; off++) {
        floatX *d[4], *g[3], *o = dev_nan_bf16(n);
        for (int i = 0; i < 4; i++) d[i] = dev_bf16_at(in[i], n, off);
        for (int i = 0; i < 3; i++) g[i] = dev_bf16_at(acc[i], n, off);
        MUST(linear_attention_forward_cuda(o, d[0], d[1], d[2], B, T, H, D, LINATT_PHI_ELU1, NULL, &kt_err));
        MUST(linear_attention_backward_cuda(g[0], g[1], g[2], d[3], d[0], d[1], d[2], B, T, H, D, LINATT_PHI_ELU1,
                                            NULL, &kt_err));
        for (int i = 0; i < 4; i++) {
            got[off][i] = host_f32(n);
            get_bf16(got[off][i], i == 0 ? o : g[i - 1], n);
        }
    }
    CHECK_EQUAL("linear attention o", got[1][0], got[0][0], n);
    CHECK_EQUAL("linear attention dq", got[1][1], got[0][1], n);
    CHECK_EQUAL("linear attention dk", got[1][2], got[0][2], n);
    CHECK_EQUAL("linear attention dv", got[1][3], got[0][3], n);

    ssd_shape s = {2, 150, 2, 32, 16};
    long nx = (long)s.B * s.T * s.H * s.P, nb = (long)s.B * s.T * s.N, nt = (long)s.B * s.T * s.H;
    float *x = host_random(nx, 1, 1, rng), *Bm = host_random(nb, 1, 1, rng), *Cm = host_random(nb, 1, 1, rng);
    float *dt = host_random(nt, 2, 1, rng), *dy = host_random(nx, 1, 1, rng), *A_log = host_random(s.H, 1, 0, rng);
    float *bias = host_random(s.H, 0.5f, 0, rng), *Dp = host_random(s.H, 1, 0, rng);
    float *sg[2][5];
    for (int off = 0; off < 2; off++) {
        ssd_inputs_cuda din = {dev_bf16_at(x, nx, off), dev_bf16_at(Bm, nb, off), dev_bf16_at(Cm, nb, off),
                               dev_bf16(dt, nt), dev_f32(bias, s.H), dev_f32(A_log, s.H), dev_f32(Dp, s.H)};
        floatX *y = dev_nan_bf16(nx), *dx = dev_bf16(x, nx), *dB = dev_bf16(Bm, nb), *dC = dev_bf16(Cm, nb);
        floatX *ddt = dev_bf16(dt, nt);
        float *dA = dev_f32(A_log, s.H), *dbias = dev_f32(bias, s.H), *dD = dev_f32(Dp, s.H);
        MUST(ssd_scan_forward_cuda(y, &din, s, NULL, &kt_err));
        size_t sb = ssd_scan_backward_scratch_bytes(s);
        void *scratch = dev_alloc(sb);
        ssd_grads_cuda dgr = {dx, dB, dC, ddt, dbias, dA, dD};
        MUST(ssd_scan_backward_cuda(&dgr, scratch, sb, dev_bf16_at(dy, nx, off), &din, s, NULL, &kt_err));
        for (int i = 0; i < 5; i++) sg[off][i] = host_f32(nx);
        get_bf16(sg[off][0], y, nx);
        get_bf16(sg[off][1], dx, nx);
        get_bf16(sg[off][2], dB, nb);
        get_bf16(sg[off][3], dC, nb);
        get_f32(sg[off][4], dA, s.H);
    }
    CHECK_EQUAL("SSD y", sg[1][0], sg[0][0], nx);
    CHECK_EQUAL("SSD dx", sg[1][1], sg[0][1], nx);
    CHECK_EQUAL("SSD dBm", sg[1][2], sg[0][2], nb);
    CHECK_EQUAL("SSD dCm", sg[1][3], sg[0][3], nb);
    CHECK_EQUAL("SSD dA_log", sg[1][4], sg[0][4], s.H);
    kt_release();
}

// The switch: the two paths give different bits (so the tensor-core kernel really ran),
// STAR_SCAN_TC is read when no mode is set, and a bad value is refused by name.
static void test_scan_switch(pcg32 *rng) {
    printf("chunked scan switch (STAR_SCAN_TC)\n");
    int B = 1, T = 200, H = 2, D = 64;
    long n = (long)B * T * H * D;
    float *q = host_random(n, 1, 1, rng), *k = host_random(n, 1, 1, rng), *v = host_random(n, 1, 1, rng);
    float *o_tc = host_f32(n), *o_f32 = host_f32(n), *o_env = host_f32(n);
    floatX *d_q = dev_bf16(q, n), *d_k = dev_bf16(k, n), *d_v = dev_bf16(v, n), *d_o = dev_nan_bf16(n);
    scan_tensor_cores_set_cuda(1);
    MUST(linear_attention_forward_cuda(d_o, d_q, d_k, d_v, B, T, H, D, LINATT_PHI_ELU1, NULL, &kt_err));
    get_bf16(o_tc, d_o, n);
    scan_tensor_cores_set_cuda(0);
    MUST(linear_attention_forward_cuda(d_o, d_q, d_k, d_v, B, T, H, D, LINATT_PHI_ELU1, NULL, &kt_err));
    get_bf16(o_f32, d_o, n);
    long differ = 0;
    for (long i = 0; i < n; i++) differ += memcmp(&o_tc[i], &o_f32[i], sizeof(float)) != 0;
    printf("  %ld of %ld outputs differ between tensor cores and fp32\n", differ, n);
    CHECK(differ > 0);
    CHECK_CLOSE("tensor cores vs fp32 kernel", o_tc, o_f32, n, TOL_BF16);
    scan_tensor_cores_set_cuda(-1);
    CHECK(setenv("STAR_SCAN_TC", "0", 1) == 0);
    MUST(linear_attention_forward_cuda(d_o, d_q, d_k, d_v, B, T, H, D, LINATT_PHI_ELU1, NULL, &kt_err));
    get_bf16(o_env, d_o, n);
    CHECK_EQUAL("STAR_SCAN_TC=0 is the fp32 kernel", o_env, o_f32, n);
    CHECK(setenv("STAR_SCAN_TC", "yes", 1) == 0);
    CHECK(linear_attention_forward_cuda(d_o, d_q, d_k, d_v, B, T, H, D, LINATT_PHI_ELU1, NULL, &kt_err) == -1);
    CHECK(strstr(kt_err.msg, "STAR_SCAN_TC") != NULL);
    CHECK(unsetenv("STAR_SCAN_TC") == 0);
    MUST(linear_attention_forward_cuda(d_o, d_q, d_k, d_v, B, T, H, D, LINATT_PHI_ELU1, NULL, &kt_err));
    get_bf16(o_env, d_o, n);
    CHECK_EQUAL("STAR_SCAN_TC unset is tensor cores", o_env, o_tc, n);
    kt_release();
}

// `test_seq_kernels --time`: wall-clock means of the chunked scans at a model's shapes, on
// tensor cores and on the fp32 kernel (no checks; the inputs are random).
static void time_scans(pcg32 *rng) {
    const int reps = 20;
    int B = 8, T = 2048, H = 12, D = 64;  // linear attention
    long n = (long)B * T * H * D;
    float *hq = host_random(n, 1, 1, rng);
    floatX *q = dev_bf16(hq, n), *k = dev_bf16(hq, n), *v = dev_bf16(hq, n), *o = dev_nan_bf16(n);
    floatX *dq = dev_bf16(hq, n), *dk = dev_bf16(hq, n), *dv = dev_bf16(hq, n);
    ssd_shape s = {8, 2048, 24, 64, 64};  // SSD
    long nx = (long)s.B * s.T * s.H * s.P, nb = (long)s.B * s.T * s.N, nt = (long)s.B * s.T * s.H;
    float *hx = host_random(nx, 1, 1, rng), *hdt = host_random(nt, 1, 1, rng), *hA = host_random(s.H, 1, 0, rng);
    floatX *x = dev_bf16(hx, nx), *Bm = dev_bf16(hx, nb), *Cm = dev_bf16(hx + nb, nb), *dt = dev_bf16(hdt, nt);
    floatX *y = dev_nan_bf16(nx), *dy = dev_bf16(hx, nx), *dx = dev_bf16(hx, nx), *dBm = dev_bf16(hx, nb);
    floatX *dCm = dev_bf16(hx, nb), *ddt = dev_bf16(hdt, nt);
    float *A_log = dev_f32(hA, s.H), *Dp = dev_f32(hA, s.H), *dA = dev_f32(hA, s.H), *dD = dev_f32(hA, s.H);
    ssd_inputs_cuda in = {x, Bm, Cm, dt, NULL, A_log, Dp};
    ssd_grads_cuda gr = {dx, dBm, dCm, ddt, NULL, dA, dD};
    size_t sb = ssd_scan_backward_scratch_bytes(s);
    void *scratch = dev_alloc(sb);
    for (int tc = 1; tc >= 0; tc--) {
        scan_tensor_cores_set_cuda(tc);
        double ms[4];
        for (int which = 0; which < 4; which++) {
            for (int r = -2; r < reps; r++) {  // 2 warm-up calls
                if (r == 0) {
                    MUST(star_cuda_sync(NULL, &kt_err));
                    ms[which] = kt_now_ms();
                }
                if (which == 0) MUST(linear_attention_forward_cuda(o, q, k, v, B, T, H, D, LINATT_PHI_ELU1, NULL, &kt_err));
                if (which == 1)
                    MUST(linear_attention_backward_cuda(dq, dk, dv, o, q, k, v, B, T, H, D, LINATT_PHI_ELU1, NULL, &kt_err));
                if (which == 2) MUST(ssd_scan_forward_cuda(y, &in, s, NULL, &kt_err));
                if (which == 3) MUST(ssd_scan_backward_cuda(&gr, scratch, sb, dy, &in, s, NULL, &kt_err));
            }
            MUST(star_cuda_sync(NULL, &kt_err));
            ms[which] = (kt_now_ms() - ms[which]) / reps;
        }
        printf("%s: linear attention B=%d T=%d H=%d D=%d forward %.3f ms, backward %.3f ms; "
               "SSD B=%d T=%d H=%d P=%d N=%d forward %.3f ms, backward %.3f ms\n",
               tc ? "tensor cores" : "fp32 kernel", B, T, H, D, ms[0], ms[1], s.B, s.T, s.H, s.P, s.N, ms[2], ms[3]);
    }
    scan_tensor_cores_set_cuda(-1);
    kt_release();
}

int main(int argc, char **argv) {
    kt_skip_without_device();
    star_cuda *ctx;
    MUST(star_cuda_create(&ctx, 0, &kt_err));
    pcg32 rng = pcg32_derive(20260102, 1);
    if (argc > 1 && strcmp(argv[1], "--time") == 0) {
        time_scans(&rng);
        MUST(star_cuda_destroy(ctx, &kt_err));
        return 0;
    }

    test_short_conv(2, 50, 96, 4, &rng);
    test_short_conv(3, 7, 37, 7, &rng);   // T = K, C not a multiple of 32
    test_short_conv(1, 1, 16, 3, &rng);   // T = 1
    test_short_conv(2, 300, 64, 3, &rng);

    test_long_conv(2, 100, 24, 1, &rng);
    test_long_conv(1, 1, 8, 1, &rng);     // T = 1 (n = 2)
    test_long_conv(3, 257, 16, 0, &rng);  // n = 1024
    test_long_conv(1, 1000, 5, 1, &rng);
    test_filter(24, 100, 8, &rng);
    test_filter(3, 1, 8, &rng);      // T = 1
    test_filter(5, 2049, 3, &rng);   // T past 8 strides of the block, M not a power of 2
    test_filter(40, 1024, 16, &rng);

    // The chunked scans twice: tensor cores (the default), then the fp32 kernel.
    for (int tc = 1; tc >= 0; tc--) {
        printf("-- chunked scans on %s\n", tc ? "tensor cores (bf16 operands)" : "the fp32 kernel (STAR_SCAN_TC=0)");
        scan_tensor_cores_set_cuda(tc);
        test_linear_attention(2, 100, 2, 16, LINATT_PHI_ELU1, &rng);   // T = 64 + 36
        test_linear_attention(1, 1, 3, 8, LINATT_PHI_IDENTITY, &rng);  // T = 1
        test_linear_attention(1, 130, 2, 40, LINATT_PHI_IDENTITY, &rng);  // D = 32 + 8: a partial value slice
        test_linear_attention(2, 200, 1, 64, LINATT_PHI_ELU1, &rng);
        test_linear_attention(1, 70, 1, 128, LINATT_PHI_ELU1, &rng);  // the widest head

        test_ssd(2, 100, 3, 16, 8, 1, &rng);
        test_ssd(1, 1, 2, 8, 4, 1, &rng);      // T = 1
        test_ssd(2, 128, 2, 32, 16, 0, &rng);  // T = 2 chunks exactly
        test_ssd(1, 150, 2, 64, 32, 1, &rng);
        test_ssd(1, 70, 1, 128, 128, 1, &rng);  // the widest state
        test_linear_attention(1, 90, 2, 12, LINATT_PHI_ELU1, &rng);  // D % 8 != 0: element-wise loads
        test_scan_loads(&rng);
    }
    test_scan_switch(&rng);

    MUST(star_cuda_destroy(ctx, &kt_err));
    TEST_END();
}
