// The CUDA causal attention (kernels/attention.cu) against the CPU operators
// (operators/attention.c, attention_diff.c; float build) on the same bf16-rounded random
// inputs, over batch, length (1, 17, 128, 257: one key, one partial tile, whole tiles, a
// partial tile past several), GQA groups (4 query heads on 4, 2, 1 kv heads), head dims
// 32, 64 and 128, full causal and a sliding window; then differential attention (two
// half-width maps, lambda, head norm; head dims 32, 64 and 128: half-heads of 16, 32, 64)
// on a subset of those shapes.
//   Forward: out (bf16, pre-filled with NaN) within 1e-2 of the largest reference value;
//     lse (fp32, NaN-filled) within 1e-4.
//   Backward: dq, dk, dv accumulate (+=) onto random starting values as large as the
//     gradient itself (at least 0.05, for the exactly-zero dq, dk of T = 1), so a missed
//     element shows as an error of the gradient's size; each within 1e-2 of the largest
//     reference value; a second run gives the same bits. Written with GRAD_SET over NaN,
//     each is the value the same backward adds onto zeros (version 3's dq, summed by
//     atomics: within the bf16 bound of it where T > 1).
//   Differential: the same bounds for the maps, dq, dk, dv and for out against the CPU's
//     combination of the GPU's maps; out and dlambda end to end within 2e-2 (TOL_DIFF_E2E).
// Every case runs on the three versions of the kernels (attention_kernel_version_set_cuda:
// 3, dQ by atomics, then 2, the default, then 1) on the same inputs; version 3's dq is not
// bit-reproducible (atomics), its dk and dv are, and are version 2's bits. Any NaN or
// infinity in an output is an infinite error. Versions 2 and 3's forward also runs with
// 16-row warps (attention_forward_rows_per_warp_set_cuda(16)) and with three key/value
// buffers (attention_stages_set_cuda(3)): out and lse (differential: out, both maps, lse)
// must be the default's bits, and their backward with each kernel shape set explicitly
// (32- and 64-row dK/dV query tiles, the dQ kernel at 1 and 2 blocks per SM, 2 and 3
// stages: bwd_shapes): dk and dv (version 2: dq too) must be the default's bits. On a
// compute capability 9.0 device, version 2's cases at head dim 64 also run its passes on
// wgmma (attention_wgmma_set_cuda: the forward, mask 4; the backward, masks 1, 2, 3): what
// a wgmma pass forms against the CPU and repeatable bit for bit, the rest the default's
// bits; the pipelined forward (mask 8) gives mask 4's bits, and each pass with its
// warpgroups ping-ponged (+ 16), or with one warpgroup per block (+ 32), the bits it gives
// without. With no CUDA device the test prints SKIP and exits 77 (ctest: skipped).
// `test_attention_kernels --time`: forward and backward times and TFLOP/s of the versions
// at the model shapes (no checks). `--sanitize`: a few cases on versions 3 and 2 only, for
// compute-sanitizer racecheck.

#include "operators/attention.h"
#include "operators/rmsnorm.h"
#include "tests/kernels/kernel_test_util.h"

#define TOL_BF16 1e-2
#define TOL_LSE 1e-4  // fp32 logsumexp, scores summed in another order
#define TOL_F32_ROW 1e-5  // fp32 row statistic from the same bf16 values
// Differential attention end to end: o1 and o2 are saved in bf16 (the CPU keeps fp32), and
// the head norm rescales o1 - lambda o2, where the two partly cancel, to unit RMS: the
// maps' rounding (2^-9 relative) grows by the ratio |o| / |o1 - lambda o2| (measured on
// an H200: up to 0.012 on out, 0.008 on dlambda).
#define TOL_DIFF_E2E 2e-2

static const attn_grad_write attn_add = {GRAD_ADD, GRAD_ADD, GRAD_ADD}, attn_set = {GRAD_SET, GRAD_SET, GRAD_SET};

// 1: every case runs on every kernel version; 2 (`--sanitize`): versions 3 and 2.
static int min_version = 1;

// Worst relative error of each checked quantity over all cases.
enum { W_OUT, W_LSE, W_DQ, W_DK, W_DV, W_RSTD, W_DIFF_E2E, W_DLAMBDA, W_COUNT };
static const char *worst_names[W_COUNT] = {"out", "lse", "dq", "dk", "dv", "rstd", "diffout", "dlambda"};
// [kernel version], and slot WGMMA_SLOT: version 2 with its passes on wgmma.
enum { WGMMA_SLOT = 4, N_SLOTS = 5 };
static const char *slot_names[N_SLOTS] = {"", "v1", "v2", "v3", "v2 (passes on wgmma)"};
static double worst[N_SLOTS][W_COUNT];
static char worst_case[N_SLOTS][W_COUNT][96];
static char case_name[96];
static int version;  // of the kernels under test, or WGMMA_SLOT while checking that pass
static int wgmma_ok;  // the device runs the wgmma kernels (compute capability 9.0)

static void check_tracked(int which, const char *what, const float *got, const float *ref, long n, double tol) {
    double d = rel_diff(got, ref, n);
    if (!(d <= worst[version][which])) {  // NaN-safe: an infinite error always becomes the worst
        worst[version][which] = d;
        snprintf(worst_case[version][which], sizeof worst_case[version][which], "%s", case_name);
    }
    char label[160];
    snprintf(label, sizeof label, "%s %s", slot_names[version], what);
    CHECK_CLOSE(label, got, ref, n, tol);
}

static void set_version(int v) {
    version = v;
    attention_kernel_version_set_cuda(v);
    CHECK(attention_kernel_version_cuda(&kt_err) == v);
}

// The scale of a gradient's random starting values: its largest magnitude, at least
// 0.05 (with T = 1 the softmax is constant: dq and dk are exactly 0 and the GPU's are
// rounding noise, which a zero reference would turn into an infinite relative error).
static float start_scale(const float *a, long n) {
    float m = 0.05f;
    for (long i = 0; i < n; i++) m = fabsf(a[i]) > m ? fabsf(a[i]) : m;
    return m;
}

static void test_attention_gpu(attn_shape s, const float *out, const float *lse, const float *dout, const float *dq,
                               const float *dk, const float *dv, const float *dq0, const float *dk0, const float *dv0,
                               const floatX *d_q, const floatX *d_k, const floatX *d_v);

static void test_attention(int B, int T, int H, int Hkv, int hd, int window, pcg32 *rng) {
    snprintf(case_name, sizeof case_name, "B=%d T=%d H=%d Hkv=%d hd=%d window=%d", B, T, H, Hkv, hd, window);
    printf("attention %s\n", case_name);
    attn_shape s = {B, T, H, Hkv, hd, window};
    long nq = (long)B * T * H * hd, nkv = (long)B * T * Hkv * hd, nl = (long)B * H * T;
    // q, k in [-2, 2): score standard deviation about 1.3, so the softmax is not flat.
    float *q = host_random(nq, 2, 1, rng), *k = host_random(nkv, 2, 1, rng), *v = host_random(nkv, 1, 1, rng);
    float *out = host_f32(nq), *lse = host_f32(nl);
    star_error e;
    if (attention_forward(out, lse, q, k, v, s, &e) != 0) {
        fprintf(stderr, "CPU attention_forward failed: %s\n", e.msg);
        exit(1);
    }

    // CPU gradients from zero, then starting values of the gradient's own size.
    float *dout = host_random(nq, 1, 1, rng);
    float *dq = host_f32(nq), *dk = host_f32(nkv), *dv = host_f32(nkv);
    if (attention_backward(dq, dk, dv, dout, out, lse, q, k, v, s, &e) != 0) {
        fprintf(stderr, "CPU attention_backward failed: %s\n", e.msg);
        exit(1);
    }
    float *dq0 = host_random(nq, start_scale(dq, nq), 1, rng), *dk0 = host_random(nkv, start_scale(dk, nkv), 1, rng);
    float *dv0 = host_random(nkv, start_scale(dv, nkv), 1, rng);
    for (long i = 0; i < nq; i++) dq[i] += dq0[i];
    for (long i = 0; i < nkv; i++) {
        dk[i] += dk0[i];
        dv[i] += dv0[i];
    }
    floatX *d_q = dev_bf16(q, nq), *d_k = dev_bf16(k, nkv), *d_v = dev_bf16(v, nkv);
    for (int ver = 3; ver >= min_version; ver--) {
        set_version(ver);
        test_attention_gpu(s, out, lse, dout, dq, dk, dv, dq0, dk0, dv0, d_q, d_k, d_v);
    }
    attention_kernel_version_set_cuda(-1);
    kt_release();
}

// The forward's other kernel shapes: 16-row warps (attention_forward_rows_per_warp_set_cuda)
// and three key/value buffers (attention_stages_set_cuda); each gives the default's bits.
static void fwd_shape_set(int i) {
    attention_forward_rows_per_warp_set_cuda(i == 0 ? 16 : 0);
    attention_stages_set_cuda(i == 1 ? 3 : 0);
}
static const char *const fwd_shapes[] = {"16-row warps", "3 stages"};
enum { N_FWD_SHAPES = 2 };

// Versions 2 and 3's forward in each of fwd_shapes gives the bits of the default (32-row
// warps at value width 64; the same kernel at 32 and 128).
static void check_forward_rows(attn_shape s, const floatX *d_out, const float *d_lse, const floatX *d_q,
                               const floatX *d_k, const floatX *d_v) {
    long nq = (long)s.B * s.T * s.H * s.hd, nl = (long)s.B * s.H * s.T;
    floatX *d_out16 = dev_nan_bf16(nq);
    float *d_lse16 = (float *)dev_alloc(sizeof(float) * nl);
    float *a = host_f32(nq), *b = host_f32(nq);
    char name[96];
    for (int i = 0; i < N_FWD_SHAPES; i++) {
        dev_nan(d_lse16, sizeof(float) * nl);
        fwd_shape_set(i);
        MUST(attention_forward_cuda(d_out16, d_lse16, d_q, d_k, d_v, s, NULL, &kt_err));
        fwd_shape_set(-1);
        get_bf16(a, d_out, nq);
        get_bf16(b, d_out16, nq);
        snprintf(name, sizeof name, "forward out, %s: same bits", fwd_shapes[i]);
        CHECK_EQUAL(name, a, b, nq);
        get_f32(a, d_lse, nl);
        get_f32(b, d_lse16, nl);
        snprintf(name, sizeof name, "forward lse, %s: same bits", fwd_shapes[i]);
        CHECK_EQUAL(name, a, b, nl);
    }
}

// The backward's kernel shapes, each set explicitly (the default is one of them at every
// value width and version): dK/dV query tiles of 32 or 64 rows, the dQ kernel at 1 or 2
// blocks per SM, 2 or 3 buffers for the streamed tiles.
static const struct {
    int dkv_rows, dq_blocks, stages;
    const char *what;
} bwd_shapes[] = {{32, 0, 0, "32-row dK/dV tiles"},
                  {64, 0, 0, "64-row dK/dV tiles"},
                  {0, 1, 0, "dQ at 1 block per SM"},
                  {0, 2, 0, "dQ at 2 blocks per SM"},
                  {0, 0, 2, "2 stages"},
                  {0, 0, 3, "3 stages"}};
enum { N_BWD_SHAPES = sizeof bwd_shapes / sizeof bwd_shapes[0] };

static void bwd_shape_set(int i) {
    attention_backward_dkv_rows_set_cuda(bwd_shapes[i].dkv_rows);
    attention_backward_dq_blocks_set_cuda(bwd_shapes[i].dq_blocks);
    attention_stages_set_cuda(bwd_shapes[i].stages);
}

// After a backward with shape i: the default shapes back, then its dk and dv (device) must
// be the default's bits gk, gv, and so must its dq (gq) where the dQ kernel forms it;
// version 3's dq (gq NULL: its atomics add in a varying order) is checked against the
// CPU's dq_cpu instead.
static void check_bwd_shape(int i, const floatX *d_dq, const floatX *d_dk, const floatX *d_dv, const float *gq,
                            const float *gk, const float *gv, const float *dq_cpu, float *got, long nq, long nkv) {
    attention_backward_dkv_rows_set_cuda(0);
    attention_backward_dq_blocks_set_cuda(0);
    attention_stages_set_cuda(0);
    const char *what = bwd_shapes[i].what;
    char name[96];
    get_bf16(got, d_dk, nkv);
    snprintf(name, sizeof name, "backward dk, %s: same bits", what);
    CHECK_EQUAL(name, got, gk, nkv);
    get_bf16(got, d_dv, nkv);
    snprintf(name, sizeof name, "backward dv, %s: same bits", what);
    CHECK_EQUAL(name, got, gv, nkv);
    get_bf16(got, d_dq, nq);
    if (gq) {
        snprintf(name, sizeof name, "backward dq, %s: same bits", what);
        CHECK_EQUAL(name, got, gq, nq);
    } else {
        snprintf(name, sizeof name, "backward dq, %s", what);
        check_tracked(W_DQ, name, got, dq_cpu, nq, TOL_BF16);
    }
}

// GRAD_SET: dq, dk, dv written over NaN (never read) are the values the same backward
// adds onto zeros. Version 3's dq is summed by atomics in no fixed order: there, where
// T > 1 (with T = 1 dq is rounding noise around 0), within the bf16 bound of it instead.
static void check_grad_set(attn_shape s, const floatX *d_dout, const floatX *d_out, const float *d_lse,
                           const floatX *d_q, const floatX *d_k, const floatX *d_v, float *scratch) {
    long nq = (long)s.B * s.T * s.H * s.hd, nkv = (long)s.B * s.T * s.Hkv * s.hd;
    floatX *zq = dev_zero_bf16(nq), *zk = dev_zero_bf16(nkv), *zv = dev_zero_bf16(nkv);
    floatX *sq = dev_nan_bf16(nq), *sk = dev_nan_bf16(nkv), *sv = dev_nan_bf16(nkv);
    MUST(attention_backward_cuda(zq, zk, zv, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s, attn_add, NULL,
                                 &kt_err));
    MUST(attention_backward_cuda(sq, sk, sv, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s, attn_set, NULL,
                                 &kt_err));
    if (version != 3) {
        CHECK_SET_IS_ADD("backward dq = (GRAD_SET over NaN)", sq, zq, nq);
    } else if (s.T > 1) {
        float *a = host_f32(nq), *b = host_f32(nq);
        get_bf16(a, sq, nq);
        get_bf16(b, zq, nq);
        CHECK_CLOSE("backward dq = (GRAD_SET over NaN, atomics)", a, b, nq, TOL_BF16);
    }
    CHECK_SET_IS_ADD("backward dk = (GRAD_SET over NaN)", sk, zk, nkv);
    CHECK_SET_IS_ADD("backward dv = (GRAD_SET over NaN)", sv, zv, nkv);
}

// One version's forward and backward on the device against the CPU's results.
static void test_attention_gpu(attn_shape s, const float *out, const float *lse, const float *dout, const float *dq,
                               const float *dk, const float *dv, const float *dq0, const float *dk0, const float *dv0,
                               const floatX *d_q, const floatX *d_k, const floatX *d_v) {
    long nq = (long)s.B * s.T * s.H * s.hd, nkv = (long)s.B * s.T * s.Hkv * s.hd, nl = (long)s.B * s.H * s.T;
    float *got = host_f32(nq > nkv ? nq : nkv);
    floatX *d_out = (floatX *)dev_alloc(sizeof(floatX) * nq);
    float *d_lse = (float *)dev_alloc(sizeof(float) * nl);
    dev_nan(d_out, sizeof(floatX) * nq);
    dev_nan(d_lse, sizeof(float) * nl);
    MUST(attention_forward_cuda(d_out, d_lse, d_q, d_k, d_v, s, NULL, &kt_err));
    get_bf16(got, d_out, nq);
    check_tracked(W_OUT, "forward out (bf16)", got, out, nq, TOL_BF16);
    get_f32(got, d_lse, nl);
    check_tracked(W_LSE, "forward lse (fp32)", got, lse, nl, TOL_LSE);
    if (version >= 2) check_forward_rows(s, d_out, d_lse, d_q, d_k, d_v);
    if (version == 2 && s.hd == 64 && wgmma_ok) {
        // The forward on wgmma (mask 4) twice, then pipelined (8), ping-ponged (4 + 16), both
        // (8 + 16), and plain and pipelined with one warpgroup per block (+ 32): the same
        // arithmetic, so the same bits.
        enum { NF = 7 };
        const int fmask[NF] = {4, 4, 8, 4 + 16, 8 + 16, 4 + 32, 8 + 32};
        floatX *d_o4[NF];
        float *d_l4[NF];
        float *again = host_f32(nq > nl ? nq : nl);
        for (int k = 0; k < NF; k++) {
            d_o4[k] = dev_nan_bf16(nq);
            d_l4[k] = (float *)dev_alloc(sizeof(float) * nl);
            dev_nan(d_l4[k], sizeof(float) * nl);
            attention_wgmma_set_cuda(fmask[k]);
            MUST(attention_forward_cuda(d_o4[k], d_l4[k], d_q, d_k, d_v, s, NULL, &kt_err));
        }
        attention_wgmma_set_cuda(0);
        version = WGMMA_SLOT;
        get_bf16(got, d_o4[0], nq);
        check_tracked(W_OUT, "forward out (bf16)", got, out, nq, TOL_BF16);
        get_bf16(again, d_o4[1], nq);
        CHECK_EQUAL("forward out on wgmma, again: same bits", again, got, nq);
        get_f32(got, d_l4[0], nl);
        check_tracked(W_LSE, "forward lse (fp32)", got, lse, nl, TOL_LSE);
        get_f32(again, d_l4[1], nl);
        CHECK_EQUAL("forward lse on wgmma, again: same bits", again, got, nl);
        for (int k = 2; k < NF; k++) {
            char name[96];
            get_f32(got, d_l4[0], nl);
            get_f32(again, d_l4[k], nl);
            snprintf(name, sizeof name, "forward lse on wgmma, mask %d: mask 4's bits", fmask[k]);
            CHECK_EQUAL(name, again, got, nl);
            get_bf16(got, d_o4[0], nq);
            get_bf16(again, d_o4[k], nq);
            snprintf(name, sizeof name, "forward out on wgmma, mask %d: mask 4's bits", fmask[k]);
            CHECK_EQUAL(name, again, got, nq);
        }
        version = 2;
    }

    floatX *d_dout = dev_bf16(dout, nq), *d_dq = dev_bf16(dq0, nq), *d_dk = dev_bf16(dk0, nkv);
    floatX *d_dv = dev_bf16(dv0, nkv);
    long ns = attention_backward_scratch_floats(s);
    float *scratch = (float *)dev_alloc(sizeof(float) * ns);
    dev_nan(scratch, sizeof(float) * ns);
    MUST(attention_backward_cuda(d_dq, d_dk, d_dv, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s,
                                 attn_add, NULL, &kt_err));
    float *gq = host_f32(nq), *gk = host_f32(nkv), *gv = host_f32(nkv);
    get_bf16(gq, d_dq, nq);
    get_bf16(gk, d_dk, nkv);
    get_bf16(gv, d_dv, nkv);
    check_tracked(W_DQ, "backward dq +=", gq, dq, nq, TOL_BF16);
    check_tracked(W_DK, "backward dk += (summed over the group)", gk, dk, nkv, TOL_BF16);
    check_tracked(W_DV, "backward dv += (summed over the group)", gv, dv, nkv, TOL_BF16);
    // Version 3 changes only how dq is summed: its dk and dv are version 2's bits (the loop
    // runs version 3 first).
    static float *v3_dk, *v3_dv;
    if (version == 3) {
        free(v3_dk);
        free(v3_dv);
        v3_dk = malloc(sizeof(float) * nkv);
        v3_dv = malloc(sizeof(float) * nkv);
        memcpy(v3_dk, gk, sizeof(float) * nkv);
        memcpy(v3_dv, gv, sizeof(float) * nkv);
    } else if (version == 2 && v3_dk) {
        CHECK_EQUAL("version 3's dk is version 2's", v3_dk, gk, nkv);
        CHECK_EQUAL("version 3's dv is version 2's", v3_dv, gv, nkv);
    }

    // Deterministic: the same starting values give the same bits (version 3: dk and dv;
    // its dq's atomics add in a varying order).
    floatX *d_dq2 = dev_bf16(dq0, nq), *d_dk2 = dev_bf16(dk0, nkv), *d_dv2 = dev_bf16(dv0, nkv);
    MUST(attention_backward_cuda(d_dq2, d_dk2, d_dv2, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s, attn_add, NULL,
                                 &kt_err));
    get_bf16(got, d_dq2, nq);
    if (version != 3) CHECK_EQUAL("backward again: dq same bits", got, gq, nq);
    get_bf16(got, d_dk2, nkv);
    CHECK_EQUAL("backward again: dk same bits", got, gk, nkv);
    get_bf16(got, d_dv2, nkv);
    CHECK_EQUAL("backward again: dv same bits", got, gv, nkv);
    check_grad_set(s, d_dout, d_out, d_lse, d_q, d_k, d_v, scratch);

    // Each of the backward's kernel shapes set explicitly: the default's bits.
    if (version >= 2) {
        for (int alt = 0; alt < N_BWD_SHAPES; alt++) {
            floatX *d_dq3 = dev_bf16(dq0, nq), *d_dk3 = dev_bf16(dk0, nkv), *d_dv3 = dev_bf16(dv0, nkv);
            bwd_shape_set(alt);
            MUST(attention_backward_cuda(d_dq3, d_dk3, d_dv3, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s, attn_add,
                                         NULL, &kt_err));
            check_bwd_shape(alt, d_dq3, d_dk3, d_dv3, version == 2 ? gq : NULL, gk, gv, dq, got, nq, nkv);
        }
    }

    // Version 2 with its passes on wgmma (head dim 64 on a compute capability 9.0 device),
    // dK/dV alone (mask 1), dQ alone (2) and both (3): what a wgmma pass forms is checked
    // against the CPU within the bound (its sums run in another order: not the default's
    // bits) and is the same bits when run again; what the mma.sync pass forms is the
    // default's bits. With the warpgroups ping-ponged (mask + 16), or one warpgroup per
    // block (mask + 32): the same bits again.
    if (version == 2 && s.hd == 64 && wgmma_ok) {
        float *again = host_f32(nq > nkv ? nq : nkv);
        for (int mask = 1; mask <= 3; mask++) {
            floatX *d_dq4 = dev_bf16(dq0, nq), *d_dk4 = dev_bf16(dk0, nkv), *d_dv4 = dev_bf16(dv0, nkv);
            floatX *d_dq5 = dev_bf16(dq0, nq), *d_dk5 = dev_bf16(dk0, nkv), *d_dv5 = dev_bf16(dv0, nkv);
            floatX *d_dq6 = dev_bf16(dq0, nq), *d_dk6 = dev_bf16(dk0, nkv), *d_dv6 = dev_bf16(dv0, nkv);
            floatX *d_dq7 = dev_bf16(dq0, nq), *d_dk7 = dev_bf16(dk0, nkv), *d_dv7 = dev_bf16(dv0, nkv);
            attention_wgmma_set_cuda(mask);
            MUST(attention_backward_cuda(d_dq4, d_dk4, d_dv4, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s, attn_add,
                                         NULL, &kt_err));
            MUST(attention_backward_cuda(d_dq5, d_dk5, d_dv5, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s, attn_add,
                                         NULL, &kt_err));
            attention_wgmma_set_cuda(mask + 16);
            MUST(attention_backward_cuda(d_dq6, d_dk6, d_dv6, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s, attn_add,
                                         NULL, &kt_err));
            attention_wgmma_set_cuda(mask + 32);
            MUST(attention_backward_cuda(d_dq7, d_dk7, d_dv7, scratch, d_dout, d_out, d_lse, d_q, d_k, d_v, s, attn_add,
                                         NULL, &kt_err));
            attention_wgmma_set_cuda(0);
            const floatX *d_got[3] = {d_dq4, d_dk4, d_dv4}, *d_again[3] = {d_dq5, d_dk5, d_dv5};
            const floatX *d_pp[3] = {d_dq6, d_dk6, d_dv6}, *d_one[3] = {d_dq7, d_dk7, d_dv7};
            const float *cpu[3] = {dq, dk, dv}, *def[3] = {gq, gk, gv};
            const long len[3] = {nq, nkv, nkv};
            const int slot[3] = {W_DQ, W_DK, W_DV}, on_wgmma[3] = {mask & 2, mask & 1, mask & 1};
            static const char *nm[3] = {"dq", "dk", "dv"};
            for (int o = 0; o < 3; o++) {
                char name[128];
                get_bf16(got, d_got[o], len[o]);
                if (on_wgmma[o]) {
                    version = WGMMA_SLOT;
                    snprintf(name, sizeof name, "backward %s += (wgmma mask %d)", nm[o], mask);
                    check_tracked(slot[o], name, got, cpu[o], len[o], TOL_BF16);
                    version = 2;
                    get_bf16(again, d_again[o], len[o]);
                    snprintf(name, sizeof name, "backward %s, wgmma mask %d, again: same bits", nm[o], mask);
                    CHECK_EQUAL(name, again, got, len[o]);
                    get_bf16(again, d_pp[o], len[o]);
                    snprintf(name, sizeof name, "backward %s, wgmma mask %d: mask %d's bits", nm[o], mask + 16, mask);
                    CHECK_EQUAL(name, again, got, len[o]);
                    get_bf16(again, d_one[o], len[o]);
                    snprintf(name, sizeof name, "backward %s, wgmma mask %d: mask %d's bits", nm[o], mask + 32, mask);
                    CHECK_EQUAL(name, again, got, len[o]);
                } else {
                    snprintf(name, sizeof name, "backward %s, wgmma mask %d: the default's bits", nm[o], mask);
                    CHECK_EQUAL(name, got, def[o], len[o]);
                }
            }
        }
    }
}

// Differential attention against operators/attention_diff.c: the saved maps and their
// lse; rstd and out against the CPU's combination of the GPU's own maps, and out end to
// end; then dq, dk, dv, dlambda accumulated onto starting values as above (dlambda is
// fp32 but computed from the bf16 maps: the end-to-end tolerance).
static void test_diff_attention(int B, int T, int H, int Hkv, int hd, int window, pcg32 *rng) {
    snprintf(case_name, sizeof case_name, "diff B=%d T=%d H=%d Hkv=%d hd=%d window=%d", B, T, H, Hkv, hd, window);
    printf("differential attention %s\n", case_name + 5);
    attn_shape s = {B, T, H, Hkv, hd, window};
    long nq = (long)B * T * H * hd, nkv = (long)B * T * Hkv * hd, nl = (long)B * H * T, rows = (long)B * T * H;
    float *q = host_random(nq, 2, 1, rng), *k = host_random(nkv, 2, 1, rng), *v = host_random(nkv, 1, 1, rng);
    float *lambda = host_f32(H);
    for (int h = 0; h < H; h++) lambda[h] = 0.2f + 0.6f * pcg32_float(rng);
    diff_attn_saved sv = {host_f32(nq), host_f32(nq), host_f32(2 * nl), host_f32(rows)};
    float *out = host_f32(nq);
    star_error e;
    if (diff_attention_forward(out, &sv, q, k, v, lambda, s, &e) != 0) {
        fprintf(stderr, "CPU diff_attention_forward failed: %s\n", e.msg);
        exit(1);
    }
    float *dout = host_random(nq, 1, 1, rng), *scr = host_f32(nq);
    float *dq = host_f32(nq), *dk = host_f32(nkv), *dv = host_f32(nkv), *dl = host_f32(H);
    if (diff_attention_backward(dq, dk, dv, dl, scr, dout, &sv, q, k, v, lambda, s, &e) != 0) {
        fprintf(stderr, "CPU diff_attention_backward failed: %s\n", e.msg);
        exit(1);
    }
    float *dq0 = host_random(nq, start_scale(dq, nq), 1, rng), *dk0 = host_random(nkv, start_scale(dk, nkv), 1, rng);
    float *dv0 = host_random(nkv, start_scale(dv, nkv), 1, rng), *dl0 = host_random(H, start_scale(dl, H), 0, rng);
    for (long i = 0; i < nq; i++) dq[i] += dq0[i];
    for (long i = 0; i < nkv; i++) {
        dk[i] += dk0[i];
        dv[i] += dv0[i];
    }
    for (int h = 0; h < H; h++) dl[h] += dl0[h];
    floatX *d_q = dev_bf16(q, nq), *d_k = dev_bf16(k, nkv), *d_v = dev_bf16(v, nkv), *d_dout = dev_bf16(dout, nq);
    float *d_lambda = dev_f32(lambda, H);
    float *got = host_f32(nq > nkv ? nq : nkv), *g1 = host_f32(nq), *g2 = host_f32(nq), *comb = host_f32(nq);
    float *comb_rstd = host_f32(rows);
    for (int ver = 3; ver >= min_version; ver--) {
        set_version(ver);
        floatX *d_out = (floatX *)dev_alloc(sizeof(floatX) * nq);
        diff_attn_saved_cuda dsv = {(floatX *)dev_alloc(sizeof(floatX) * nq), (floatX *)dev_alloc(sizeof(floatX) * nq),
                                    (float *)dev_alloc(sizeof(float) * 2 * nl), (float *)dev_alloc(sizeof(float) * rows)};
        dev_nan(d_out, sizeof(floatX) * nq);
        dev_nan(dsv.o1, sizeof(floatX) * nq);
        dev_nan(dsv.o2, sizeof(floatX) * nq);
        dev_nan(dsv.lse, sizeof(float) * 2 * nl);
        dev_nan(dsv.rstd, sizeof(float) * rows);
        MUST(diff_attention_forward_cuda(d_out, &dsv, d_q, d_k, d_v, d_lambda, s, NULL, &kt_err));
        for (int fs = 0; version >= 2 && fs < N_FWD_SHAPES; fs++) {  // the same bits (out and both maps)
            diff_attn_saved_cuda d16 = {dev_nan_bf16(nq), dev_nan_bf16(nq), (float *)dev_alloc(sizeof(float) * 2 * nl),
                                        (float *)dev_alloc(sizeof(float) * rows)};
            floatX *d_out16 = dev_nan_bf16(nq);
            fwd_shape_set(fs);
            MUST(diff_attention_forward_cuda(d_out16, &d16, d_q, d_k, d_v, d_lambda, s, NULL, &kt_err));
            fwd_shape_set(-1);
            static const char *const what[] = {"out", "o1", "o2"};
            const floatX *mine[] = {d_out, dsv.o1, dsv.o2}, *theirs[] = {d_out16, d16.o1, d16.o2};
            char name[96];
            for (int o = 0; o < 3; o++) {
                get_bf16(g1, mine[o], nq);
                get_bf16(got, theirs[o], nq);
                snprintf(name, sizeof name, "forward %s, %s: same bits", what[o], fwd_shapes[fs]);
                CHECK_EQUAL(name, g1, got, nq);
            }
            get_f32(g2, dsv.lse, 2 * nl);  // 2 nl <= nq: hd >= 32
            get_f32(got, d16.lse, 2 * nl);
            snprintf(name, sizeof name, "forward lse, %s: same bits", fwd_shapes[fs]);
            CHECK_EQUAL(name, g2, got, 2 * nl);
        }
        get_bf16(g1, dsv.o1, nq);
        check_tracked(W_OUT, "forward o1 (map 1, bf16)", g1, sv.o1, nq, TOL_BF16);
        get_bf16(g2, dsv.o2, nq);
        check_tracked(W_OUT, "forward o2 (map 2, bf16)", g2, sv.o2, nq, TOL_BF16);
        get_f32(got, dsv.lse, 2 * nl);
        check_tracked(W_LSE, "forward lse of both maps (fp32)", got, sv.lse, 2 * nl, TOL_LSE);
        // The combination on its own: the CPU formula applied to the GPU's (bf16) maps.
        for (long i = 0; i < nq; i++) comb[i] = g1[i] - lambda[(i / hd) % H] * g2[i];
        head_rmsnorm_forward(comb, comb_rstd, comb, (long)B * T, H, hd);
        for (long i = 0; i < nq; i++) comb[i] *= (float)(1.0 - DIFF_ATTN_LAMBDA_INIT);
        get_f32(got, dsv.rstd, rows);
        check_tracked(W_RSTD, "forward head-norm rstd, of the GPU's maps", got, comb_rstd, rows, TOL_F32_ROW);
        get_bf16(got, d_out, nq);
        check_tracked(W_OUT, "forward out, of the GPU's maps (bf16)", got, comb, nq, TOL_BF16);
        // End to end: the maps' bf16 rounding, amplified where o1 and lambda o2 cancel.
        check_tracked(W_DIFF_E2E, "forward out, end to end", got, out, nq, TOL_DIFF_E2E);

        floatX *d_dq = dev_bf16(dq0, nq), *d_dk = dev_bf16(dk0, nkv), *d_dv = dev_bf16(dv0, nkv);
        float *d_dl = dev_f32(dl0, H);
        size_t sb = diff_attention_backward_scratch_bytes(s);
        void *scratch = dev_alloc(sb);
        dev_nan(scratch, sb);
        MUST(diff_attention_backward_cuda(d_dq, d_dk, d_dv, d_dl, scratch, sb, d_dout, &dsv, d_q, d_k, d_v, d_lambda, s,
                                          attn_add, NULL, &kt_err));
        get_bf16(got, d_dq, nq);
        check_tracked(W_DQ, "backward dq +=", got, dq, nq, TOL_BF16);
        get_bf16(got, d_dk, nkv);
        check_tracked(W_DK, "backward dk +=", got, dk, nkv, TOL_BF16);
        get_bf16(got, d_dv, nkv);
        check_tracked(W_DV, "backward dv +=", got, dv, nkv, TOL_BF16);
        get_f32(got, d_dl, H);
        check_tracked(W_DLAMBDA, "backward dlambda += (fp32, from bf16 maps)", got, dl, H, TOL_DIFF_E2E);
        CHECK(diff_attention_backward_cuda(d_dq, d_dk, d_dv, d_dl, scratch, sb - 1, d_dout, &dsv, d_q, d_k, d_v,
                                           d_lambda, s, attn_add, NULL, &kt_err) == -1);  // scratch too small
        {  // GRAD_SET over NaN: the values added onto zeros (dv: the second map adds onto the first)
            floatX *zq = dev_zero_bf16(nq), *zk = dev_zero_bf16(nkv), *zv = dev_zero_bf16(nkv);
            floatX *sq = dev_nan_bf16(nq), *sk = dev_nan_bf16(nkv), *svv = dev_nan_bf16(nkv);
            float *d_dlz = dev_f32(dl0, H);
            MUST(diff_attention_backward_cuda(zq, zk, zv, d_dlz, scratch, sb, d_dout, &dsv, d_q, d_k, d_v, d_lambda, s,
                                              attn_add, NULL, &kt_err));
            MUST(diff_attention_backward_cuda(sq, sk, svv, d_dlz, scratch, sb, d_dout, &dsv, d_q, d_k, d_v, d_lambda,
                                              s, attn_set, NULL, &kt_err));
            if (version != 3) CHECK_SET_IS_ADD("backward dq = (GRAD_SET over NaN)", sq, zq, nq);
            CHECK_SET_IS_ADD("backward dk = (GRAD_SET over NaN)", sk, zk, nkv);
            CHECK_SET_IS_ADD("backward dv = (GRAD_SET over NaN)", svv, zv, nkv);
        }
        if (version >= 2) {  // each of the backward's kernel shapes set explicitly: the default's bits
            float *gq = host_f32(nq), *gk = host_f32(nkv), *gv = host_f32(nkv);
            get_bf16(gq, d_dq, nq);
            get_bf16(gk, d_dk, nkv);
            get_bf16(gv, d_dv, nkv);
            for (int alt = 0; alt < N_BWD_SHAPES; alt++) {
                floatX *d_dq3 = dev_bf16(dq0, nq), *d_dk3 = dev_bf16(dk0, nkv), *d_dv3 = dev_bf16(dv0, nkv);
                float *d_dl3 = dev_f32(dl0, H);
                bwd_shape_set(alt);
                MUST(diff_attention_backward_cuda(d_dq3, d_dk3, d_dv3, d_dl3, scratch, sb, d_dout, &dsv, d_q, d_k, d_v,
                                                  d_lambda, s, attn_add, NULL, &kt_err));
                check_bwd_shape(alt, d_dq3, d_dk3, d_dv3, version == 2 ? gq : NULL, gk, gv, dq, got, nq, nkv);
            }
        }
    }
    attention_kernel_version_set_cuda(-1);
    kt_release();
}

// Shapes the kernels do not take are refused with a message, not run.
static void test_refused(void) {
    printf("attention: unsupported shapes refused\n");
    floatX *buf = (floatX *)dev_alloc(sizeof(floatX) * 4096);
    float *lse = (float *)dev_alloc(sizeof(float) * 64);
    attn_shape bad_hd = {1, 4, 2, 2, 96, 0}, bad_group = {1, 4, 3, 2, 64, 0}, bad_window = {1, 4, 2, 2, 64, -1};
    CHECK(attention_forward_cuda(buf, lse, buf, buf, buf, bad_hd, NULL, &kt_err) == -1);
    CHECK_STR_CONTAINS(kt_err.msg, "head dim 96");
    diff_attn_saved_cuda sv = {.o1 = buf, .o2 = buf, .lse = lse, .rstd = lse};
    CHECK(diff_attention_forward_cuda(buf, &sv, buf, buf, buf, lse, (attn_shape){1, 4, 2, 2, 96, 0}, NULL, &kt_err) ==
          -1);
    CHECK_STR_CONTAINS(kt_err.msg, "head dim 96 is not supported on CUDA (32, 64 or 128)");
    CHECK(attention_forward_cuda(buf, lse, buf, buf, buf, bad_group, NULL, &kt_err) == -1);
    CHECK(attention_backward_cuda(buf, buf, buf, lse, buf, buf, lse, buf, buf, buf, bad_window,
                                  attn_add, NULL, &kt_err) == -1);
    CHECK(attention_forward_cuda(buf + 1, lse, buf, buf, buf, (attn_shape){1, 4, 2, 2, 64, 0}, NULL, &kt_err) == -1);
    CHECK_STR_CONTAINS(kt_err.msg, "aligned");
    kt_release();
}

// One forward's device buffers, for the environment switches below.
typedef struct {
    attn_shape s;
    floatX *o, *q, *k, *v;
    float *lse;
} fwd_bufs;

// With var=val in the environment the forward gives the bits want (nq values); name says what.
static void check_env_forward(const fwd_bufs *f, const char *var, const char *val, const float *want, float *got,
                              const char *name) {
    long nq = (long)f->s.B * f->s.T * f->s.H * f->s.hd;
    CHECK(setenv(var, val, 1) == 0);
    MUST(attention_forward_cuda(f->o, f->lse, f->q, f->k, f->v, f->s, NULL, &kt_err));
    get_bf16(got, f->o, nq);
    CHECK_EQUAL(name, got, want, nq);
}

// With var=val in the environment the forward fails naming var.
static void check_env_refused(const fwd_bufs *f, const char *var, const char *val) {
    CHECK(setenv(var, val, 1) == 0);
    CHECK(attention_forward_cuda(f->o, f->lse, f->q, f->k, f->v, f->s, NULL, &kt_err) == -1);
    CHECK(strstr(kt_err.msg, var) != NULL);
}

// The version switch: STAR_ATTN_V1=1 selects version 1 (bit-identical to
// attention_kernel_version_set_cuda(1)), STAR_ATTN_ATOMIC_DQ=1 version 3; a bad value, or
// both, is refused naming the variable. STAR_ATTN_STAGES likewise (3 buffers, the same bits).
static void test_version_switch(pcg32 *rng) {
    printf("attention version switch (STAR_ATTN_V1)\n");
    attn_shape s = {1, 300, 2, 1, 64, 0};
    long nq = (long)s.B * s.T * s.H * s.hd, nkv = (long)s.B * s.T * s.Hkv * s.hd, nl = (long)s.B * s.H * s.T;
    float *q = host_random(nq, 2, 1, rng), *k = host_random(nkv, 2, 1, rng), *v = host_random(nkv, 1, 1, rng);
    float *o1 = host_f32(nq), *o2 = host_f32(nq), *oenv = host_f32(nq);
    fwd_bufs f = {s, dev_nan_bf16(nq), dev_bf16(q, nq), dev_bf16(k, nkv), dev_bf16(v, nkv),
                  (float *)dev_alloc(sizeof(float) * nl)};
    attention_kernel_version_set_cuda(1);
    MUST(attention_forward_cuda(f.o, f.lse, f.q, f.k, f.v, s, NULL, &kt_err));
    get_bf16(o1, f.o, nq);
    attention_kernel_version_set_cuda(2);
    MUST(attention_forward_cuda(f.o, f.lse, f.q, f.k, f.v, s, NULL, &kt_err));
    get_bf16(o2, f.o, nq);
    long differ = 0;
    for (long i = 0; i < nq; i++) differ += memcmp(&o1[i], &o2[i], sizeof(float)) != 0;
    printf("  %ld of %ld outputs differ between versions 1 and 2\n", differ, nq);
    CHECK(differ > 0);  // exp2 and the tile order change the rounding: the two really ran
    attention_kernel_version_set_cuda(-1);
    check_env_forward(&f, "STAR_ATTN_V1", "1", o1, oenv, "STAR_ATTN_V1=1 is version 1");
    CHECK(attention_kernel_version_cuda(&kt_err) == 1);
    check_env_refused(&f, "STAR_ATTN_V1", "yes");
    CHECK(unsetenv("STAR_ATTN_V1") == 0);
    CHECK(attention_kernel_version_cuda(&kt_err) == 2);
    CHECK(setenv("STAR_ATTN_ATOMIC_DQ", "1", 1) == 0);
    CHECK(attention_kernel_version_cuda(&kt_err) == 3);
    CHECK(setenv("STAR_ATTN_V1", "1", 1) == 0);  // both: refused
    CHECK(attention_kernel_version_cuda(&kt_err) == -1 && strstr(kt_err.msg, "choose one") != NULL);
    CHECK(unsetenv("STAR_ATTN_V1") == 0);
    CHECK(setenv("STAR_ATTN_ATOMIC_DQ", "on", 1) == 0);
    CHECK(attention_kernel_version_cuda(&kt_err) == -1 && strstr(kt_err.msg, "STAR_ATTN_ATOMIC_DQ") != NULL);
    CHECK(unsetenv("STAR_ATTN_ATOMIC_DQ") == 0);
    CHECK(attention_kernel_version_cuda(&kt_err) == 2);
    CHECK(attention_stages_cuda(&kt_err) == 0);  // unset: the defaults
    check_env_forward(&f, "STAR_ATTN_STAGES", "3", o2, oenv, "STAR_ATTN_STAGES=3 gives version 2's bits");
    CHECK(attention_stages_cuda(&kt_err) == 3);
    check_env_refused(&f, "STAR_ATTN_STAGES", "4");
    CHECK(unsetenv("STAR_ATTN_STAGES") == 0);
    CHECK(attention_stages_cuda(&kt_err) == 0);
    kt_release();
}

// STAR_ATTN_WGMMA picks the passes on wgmma while no mask is set: "3" gives the bits of
// mask 3, a value other than 0 to 63 fails the call naming the variable.
static void test_wgmma_switch(pcg32 *rng) {
    printf("backward passes on wgmma switch (STAR_ATTN_WGMMA)\n");
    attn_shape s = {1, 300, 2, 1, 64, 0};
    long nq = (long)s.B * s.T * s.H * s.hd, nkv = (long)s.B * s.T * s.Hkv * s.hd, nl = (long)s.B * s.H * s.T;
    float *q = host_random(nq, 2, 1, rng), *k = host_random(nkv, 2, 1, rng), *v = host_random(nkv, 1, 1, rng);
    float *dout = host_random(nq, 1, 1, rng), *g[4] = {host_f32(nq), host_f32(nq), host_f32(nq), host_f32(nq)};
    floatX *d_q = dev_bf16(q, nq), *d_k = dev_bf16(k, nkv), *d_v = dev_bf16(v, nkv), *d_o = dev_nan_bf16(nq);
    floatX *d_dout = dev_bf16(dout, nq), *d_dq = dev_nan_bf16(nq), *d_dk = dev_nan_bf16(nkv), *d_dv = dev_nan_bf16(nkv);
    float *d_lse = (float *)dev_alloc(sizeof(float) * nl);
    float *scratch = (float *)dev_alloc(sizeof(float) * attention_backward_scratch_floats(s));
    attention_kernel_version_set_cuda(2);
    MUST(attention_forward_cuda(d_o, d_lse, d_q, d_k, d_v, s, NULL, &kt_err));
    for (int pass = 0; pass < 4; pass++) {  // mask 3 set, then STAR_ATTN_WGMMA=3, =19 (ping-pong), =35
        const char *val[4] = {NULL, "3", "19", "35"};
        MUST(star_cuda_memset(d_dq, 0, sizeof(floatX) * nq, NULL, &kt_err));
        if (pass == 0) attention_wgmma_set_cuda(3);
        else {
            attention_wgmma_set_cuda(-1);
            CHECK(setenv("STAR_ATTN_WGMMA", val[pass], 1) == 0);
        }
        MUST(attention_backward_cuda(d_dq, d_dk, d_dv, scratch, d_dout, d_o, d_lse, d_q, d_k, d_v, s,
                                     attn_add, NULL, &kt_err));
        get_bf16(g[pass], d_dq, nq);
    }
    CHECK_EQUAL("STAR_ATTN_WGMMA=3 is mask 3 (dq)", g[1], g[0], nq);
    CHECK_EQUAL("STAR_ATTN_WGMMA=19 gives mask 3's bits (dq)", g[2], g[0], nq);
    CHECK_EQUAL("STAR_ATTN_WGMMA=35 gives mask 3's bits (dq)", g[3], g[0], nq);
    const char *bad[3] = {"64", "3x", " 3"};
    for (int k = 0; k < 3; k++) {
        CHECK(setenv("STAR_ATTN_WGMMA", bad[k], 1) == 0);
        CHECK(attention_backward_cuda(d_dq, d_dk, d_dv, scratch, d_dout, d_o, d_lse, d_q, d_k, d_v, s, attn_add, NULL,
                                      &kt_err) == -1);
        CHECK(strstr(kt_err.msg, "STAR_ATTN_WGMMA") != NULL);
    }
    CHECK(unsetenv("STAR_ATTN_WGMMA") == 0);
    MUST(attention_backward_cuda(d_dq, d_dk, d_dv, scratch, d_dout, d_o, d_lse, d_q, d_k, d_v, s,
                                 attn_add, NULL, &kt_err));
    attention_wgmma_set_cuda(0);
    attention_kernel_version_set_cuda(-1);
    kt_release();
}

// `--time`: wall-clock means (10 calls after 2 warm-up ones) of both versions at the model
// shapes. FLOPs: causal forward 2 products of B H T^2 hd / 2 multiply-adds each
// (2 B H T^2 hd); the backward counted as 2.5 times that (FlashAttention's convention;
// version 1's dQ recompute does more work than that).
// Milliseconds per call of the forward (which 0) or backward (1), after 2 untimed calls.
typedef struct {
    attn_shape s;
    floatX *q, *k, *v, *out, *dout, *dq, *dk, *dv;
    float *lse, *scratch;
} time_bufs;

static double time_ms(const time_bufs *t, int which, int reps) {
    double t0 = 0;
    for (int r = -2; r < reps; r++) {
        if (r == 0) {
            MUST(star_cuda_sync(NULL, &kt_err));
            t0 = kt_now_ms();
        }
        if (which == 0) MUST(attention_forward_cuda(t->out, t->lse, t->q, t->k, t->v, t->s, NULL, &kt_err));
        else
            MUST(attention_backward_cuda(t->dq, t->dk, t->dv, t->scratch, t->dout, t->out, t->lse, t->q, t->k, t->v,
                                         t->s, attn_add, NULL, &kt_err));
    }
    MUST(star_cuda_sync(NULL, &kt_err));
    return (kt_now_ms() - t0) / reps;
}

// Version 2's passes on wgmma (STAR_ATTN_WGMMA masks 1, 2, 3 for the backward, 4 and 8
// for the forward, each plus extra) against the default's times def (forward, backward).
static void time_wgmma_passes(const time_bufs *t, int extra, const char *label, const double def[2], double flops,
                              int reps) {
    double wg[4] = {0}, tf = 2.5 * flops * 1e-9;
    for (int mask = 1; mask <= 3; mask++) {
        attention_wgmma_set_cuda(mask + extra);
        wg[mask] = time_ms(t, 1, reps);
    }
    attention_wgmma_set_cuda(4 + extra);
    double wf = time_ms(t, 0, reps);
    attention_wgmma_set_cuda(8 + extra);
    double wp = time_ms(t, 0, reps);
    attention_wgmma_set_cuda(0);
    printf("  v2 on wgmma%s: backward with the dK/dV pass %.3f ms (%.2fx the default's), the dQ pass %.3f ms (%.2fx), "
           "both %.3f ms (%.0f TFLOP/s, %.2fx); forward %.3f ms (%.0f TFLOP/s, %.2fx), pipelined %.3f ms (%.0f "
           "TFLOP/s, %.2fx)\n",
           label, wg[1], def[1] / wg[1], wg[2], def[1] / wg[2], wg[3], tf / wg[3], def[1] / wg[3], wf,
           flops / wf * 1e-9, def[0] / wf, wp, flops / wp * 1e-9, def[0] / wp);
}

static void time_attention(pcg32 *rng) {
    static const attn_shape shapes[] = {
        {16, 2048, 8, 8, 64, 0}, {8, 4096, 12, 12, 64, 0}, {8, 4096, 6, 6, 128, 0}, {16, 2048, 16, 16, 32, 0}};
    const int reps = 10;
    for (int si = 0; si < (int)(sizeof shapes / sizeof shapes[0]); si++) {
        attn_shape s = shapes[si];
        long nq = (long)s.B * s.T * s.H * s.hd, nkv = (long)s.B * s.T * s.Hkv * s.hd, nl = (long)s.B * s.H * s.T;
        float *hq = host_random(nq, 2, 1, rng);
        time_bufs t = {s, dev_bf16(hq, nq), dev_bf16(hq, nkv), dev_bf16(hq, nkv), dev_nan_bf16(nq), dev_bf16(hq, nq),
                       dev_bf16(hq, nq), dev_bf16(hq, nkv), dev_bf16(hq, nkv), (float *)dev_alloc(sizeof(float) * nl),
                       (float *)dev_alloc(sizeof(float) * attention_backward_scratch_floats(s))};
        double flops = 2.0 * s.B * s.H * (double)s.T * s.T * s.hd;
        double ms[4][2];
        for (int ver = 1; ver <= 3; ver++) {
            attention_kernel_version_set_cuda(ver);
            for (int which = 0; which < 2; which++) ms[ver][which] = time_ms(&t, which, reps);
            printf("v%d B%d T%d H%d hd%d: forward %.3f ms (%.0f TFLOP/s), backward %.3f ms (%.0f TFLOP/s)\n", ver,
                   s.B, s.T, s.H, s.hd, ms[ver][0], flops / ms[ver][0] * 1e-9, ms[ver][1],
                   2.5 * flops / ms[ver][1] * 1e-9);
        }
        // Version 2's forward with the 16-row warps it had before 32-row ones; versions 2
        // and 3's backward with the kernel shapes they had before the default's (64-row
        // dK/dV query tiles; version 2's dQ kernel at 1 block per SM), and each change alone.
        attention_kernel_version_set_cuda(2);
        attention_forward_rows_per_warp_set_cuda(16);
        double f16 = time_ms(&t, 0, reps);
        attention_forward_rows_per_warp_set_cuda(0);
        double old[4] = {0};
        attention_backward_dkv_rows_set_cuda(64);
        attention_backward_dq_blocks_set_cuda(1);
        for (int ver = 2; ver <= 3; ver++) {
            attention_kernel_version_set_cuda(ver);
            old[ver] = time_ms(&t, 1, reps);
        }
        attention_kernel_version_set_cuda(2);
        attention_backward_dkv_rows_set_cuda(32);
        double rows32 = time_ms(&t, 1, reps);
        attention_backward_dkv_rows_set_cuda(64);
        attention_backward_dq_blocks_set_cuda(2);
        double blocks2 = time_ms(&t, 1, reps);
        attention_backward_dkv_rows_set_cuda(0);
        attention_backward_dq_blocks_set_cuda(0);
        double tf = 2.5 * flops * 1e-9;
        printf("v2 forward with 16-row warps: %.3f ms (%.0f TFLOP/s); backward with 64-row dK/dV tiles and dQ at 1 "
               "block per SM: v2 %.3f ms (%.0f TFLOP/s), v3 %.3f ms (%.0f); v2 with 32-row tiles only %.3f ms (%.0f), "
               "with dQ at 2 blocks only %.3f ms (%.0f)\n",
               f16, flops / f16 * 1e-9, old[2], tf / old[2], old[3], tf / old[3], rows32, tf / rows32, blocks2,
               tf / blocks2);
        printf("  v2 / v1 speed-up: forward %.2fx, backward %.2fx; v3 / v2 backward %.2fx; v2 forward 32- / 16-row "
               "warps %.2fx; backward default / before v2 %.2fx, v3 %.2fx (v2 32-row tiles only %.2fx, dQ at 2 "
               "blocks only %.2fx)\n",
               ms[1][0] / ms[2][0], ms[1][1] / ms[2][1], ms[2][1] / ms[3][1], f16 / ms[2][0], old[2] / ms[2][1],
               old[3] / ms[3][1], old[2] / rows32, old[2] / blocks2);
        {  // three buffers for the streamed tiles against two, timed back to back twice
            attention_kernel_version_set_cuda(2);
            double st2[2] = {0}, st3[2] = {0};
            for (int round = 0; round < 2; round++)
                for (int which = 0; which < 2; which++) {
                    attention_stages_set_cuda(2);
                    st2[which] += time_ms(&t, which, reps);
                    attention_stages_set_cuda(3);
                    st3[which] += time_ms(&t, which, reps);
                }
            attention_stages_set_cuda(0);
            printf("  v2 with 3 stages / 2: forward %.3f / %.3f ms (%.0f TFLOP/s, %.2fx), backward %.3f / %.3f ms (%.0f "
                   "TFLOP/s, %.2fx)\n",
                   st3[0] / 2, st2[0] / 2, 2 * flops / st3[0] * 1e-9, st2[0] / st3[0], st3[1] / 2, st2[1] / 2,
                   2 * tf / st3[1], st2[1] / st3[1]);
        }
        if (wgmma_ok && s.hd == 64) {  // version 2's passes on wgmma: dK/dV, dQ, both; forward
            attention_kernel_version_set_cuda(2);
            time_wgmma_passes(&t, 0, "", ms[2], flops, reps);
            attention_wgmma_set_cuda(3 + 16);
            double bpp = time_ms(&t, 1, reps);
            attention_wgmma_set_cuda(4 + 16);
            double fpp = time_ms(&t, 0, reps);
            attention_wgmma_set_cuda(8 + 16);
            double ppp = time_ms(&t, 0, reps);
            attention_wgmma_set_cuda(0);
            printf("  v2 on wgmma, warpgroups ping-ponged: backward (both passes) %.3f ms (%.0f TFLOP/s, %.2fx the "
                   "default's); forward %.3f ms (%.0f TFLOP/s, %.2fx), pipelined %.3f ms (%.0f TFLOP/s, %.2fx)\n",
                   bpp, tf / bpp, ms[2][1] / bpp, fpp, flops / fpp * 1e-9, ms[2][0] / fpp, ppp, flops / ppp * 1e-9,
                   ms[2][0] / ppp);
            time_wgmma_passes(&t, 32, ", one warpgroup per block", ms[2], flops, reps);
        }
        kt_release();
    }
    attention_kernel_version_set_cuda(-1);
}

int main(int argc, char **argv) {
    kt_skip_without_device();
    star_cuda *ctx;
    MUST(star_cuda_create(&ctx, 0, &kt_err));
    pcg32 rng;
    pcg32_seed(&rng, 1234, 5);
    wgmma_ok = wgmma_available_cuda(&kt_err);
    if (wgmma_ok < 0) MUST(-1);
    attention_wgmma_set_cuda(0);  // the default passes, whatever STAR_ATTN_WGMMA says
    printf("%s\n", wgmma_ok ? "wgmma: this device runs the sm_90a kernels" : kt_err.msg);
    if (argc > 1 && strcmp(argv[1], "--time") == 0) {
        time_attention(&rng);
        MUST(star_cuda_destroy(ctx, &kt_err));
        return 0;
    }

    // `--sanitize`: a subset small enough for compute-sanitizer racecheck (over 100x slower):
    // version 2 on partial and whole tiles, GQA, head dims 32, 64, 128, differential at 64 and 32, windows across tiles.
    if (argc > 1 && strcmp(argv[1], "--sanitize") == 0) {
        min_version = 2;
        test_attention(1, 17, 4, 2, 64, 0, &rng);
        test_attention(2, 257, 4, 1, 128, 32, &rng);
        test_attention(1, 300, 2, 2, 64, 100, &rng);
        test_attention(1, 600, 2, 2, 128, 200, &rng);
        test_diff_attention(2, 257, 4, 1, 64, 32, &rng);
        test_attention(2, 300, 4, 2, 32, 100, &rng);
        test_diff_attention(2, 257, 4, 4, 32, 32, &rng);
        MUST(star_cuda_destroy(ctx, &kt_err));
        TEST_END();
    }
    static const int Ts[] = {1, 17, 128, 257}, kvs[] = {4, 2, 1}, hds[] = {64, 128, 32}, windows[] = {0, 32};
    for (int b = 1; b <= 2; b++)
        for (int ti = 0; ti < 4; ti++)
            for (int hi = 0; hi < 3; hi++)
                for (int ki = 0; ki < 3; ki++)
                    for (int wi = 0; wi < 2; wi++) test_attention(b, Ts[ti], 4, kvs[ki], hds[hi], windows[wi], &rng);
    test_attention(1, 257, 4, 1, 64, 1, &rng);     // window 1: each query sees only itself
    test_attention(1, 200, 8, 2, 128, 64, &rng);   // window = key tile; 4 heads per group
    test_attention(2, 300, 2, 2, 64, 100, &rng);   // window across tile boundaries
    // Several of version 2's 128-row query tiles and 128-key dK/dV blocks, windows that
    // start mid-tile.
    test_attention(1, 700, 2, 1, 64, 0, &rng);
    test_attention(1, 600, 2, 2, 128, 200, &rng);
    test_attention(1, 520, 4, 2, 64, 130, &rng);
    test_attention(1, 700, 2, 2, 32, 0, &rng);     // head dim 32 over several tiles
    test_attention(2, 520, 4, 1, 32, 130, &rng);
    for (int ti = 0; ti < 2; ti++)
        for (int hi = 0; hi < 3; hi++)
            for (int ki = 0; ki < 2; ki++)
                for (int wi = 0; wi < 2; wi++)
                    test_diff_attention(2, ti ? 257 : 17, 4, ki ? 1 : 4, hds[hi], windows[wi], &rng);
    test_refused();
    test_version_switch(&rng);
    test_wgmma_switch(&rng);

    for (int ver = N_SLOTS - 1; ver >= 1; ver--) {
        if (ver == WGMMA_SLOT && !wgmma_ok) continue;
        printf("worst relative errors over all cases, %s:\n", slot_names[ver]);
        for (int i = 0; i < W_COUNT; i++)
            if (worst_case[ver][i][0])
                printf("  %-7s %.3g  (%s)\n", worst_names[i], worst[ver][i], worst_case[ver][i]);
    }
    MUST(star_cuda_destroy(ctx, &kt_err));
    TEST_END();
}
