// Hopper's warpgroup products (kernels/wgmma.cuh) one 64 x 64 tile at a time, against a
// double-precision product of the same bf16 inputs: every way an operand can reach
// wgmma (A K-major or M-major in shared memory or in registers, times B K-major or
// N-major), at K = 16 (one product), 64 and 256 (accumulating chains), with the operands
// in shared memory laid out without swizzle and with the 128-byte swizzle. Bound 1e-4
// relative to the largest |C| (bf16 products are exact in fp32; only the order of the fp32
// sums differs); the output starts as NaN, so an element not written fails. Where a case
// fails, the test says where in the reference the first wrong values are found (a
// transposed or shifted fragment shows as such) and, for an MN-major operand, whether
// the descriptor's strides read the other way round would pass. The kernels are sm_90a:
// on any other device, or with none, the test prints SKIP and exits 77 (ctest: skipped).
// `test_wgmma --time`: the products' throughput in each arrangement, without swizzle and
// with it, side by side in one run (no checks).
#include "tests/kernels/kernel_test_util.h"

#define TILE 64
#define TOL_WGMMA 1e-4

static const char *a_modes[3] = {"A K-major in shared memory", "A M-major in shared memory", "A in registers"};

// Where |ref - v| is smallest, as "(row, col)".
static void locate(char *out, size_t cap, const float *ref, float v) {
    int best = 0;
    for (int i = 1; i < TILE * TILE; i++)
        if (fabsf(ref[i] - v) < fabsf(ref[best] - v)) best = i;
    snprintf(out, cap, "(%d, %d), which holds %g", best / TILE, best % TILE, ref[best]);
}

// got = the device's product for one arrangement.
static void tile_run(float *got, int K, int a_mode, int b_mn, int sw, const float *a, const float *bt) {
    floatX *d_a = dev_bf16(a, (long)TILE * K), *d_bt = dev_bf16(bt, (long)TILE * K);
    float *d_c = (float *)dev_alloc(sizeof(float) * TILE * TILE);
    dev_nan(d_c, sizeof(float) * TILE * TILE);
    MUST(wgmma_tile_product_cuda(d_c, d_a, d_bt, K, a_mode, b_mn, sw, NULL, &kt_err));
    get_f32(got, d_c, TILE * TILE);
}

static void test_tile(int K, int a_mode, int b_mn, int sw, pcg32 *rng) {
    char what[160];
    snprintf(what, sizeof what, "K=%d, %s, B %s%s", K, a_modes[a_mode], b_mn ? "N-major" : "K-major",
             sw ? ", 128-byte swizzle" : "");
    float *a = host_random((long)TILE * K, 1, 1, rng), *bt = host_random((long)TILE * K, 1, 1, rng);
    float *ref = host_f32(TILE * TILE), *got = host_f32(TILE * TILE);
    for (int m = 0; m < TILE; m++)
        for (int n = 0; n < TILE; n++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += (double)a[(long)m * K + k] * bt[(long)n * K + k];
            ref[m * TILE + n] = (float)s;
        }
    tile_run(got, K, a_mode, b_mn, sw, a, bt);
    double err = rel_diff(got, ref, TILE * TILE);
    printf("  %-80s relative error %.3g\n", what, err);
    CHECK_MSG(err <= TOL_WGMMA, "%s: relative error %g > %g", what, err, TOL_WGMMA);
    if (!(err <= TOL_WGMMA)) {
        double scale = 0;
        for (int i = 0; i < TILE * TILE; i++) scale = fmax(scale, fabs(ref[i]));
        for (int i = 0, shown = 0; i < TILE * TILE && shown < 3; i++)
            if (!(fabs(got[i] - ref[i]) <= TOL_WGMMA * scale)) {
                char where[96];
                locate(where, sizeof where, ref, got[i]);
                fprintf(stderr, "    (%d, %d): got %g, expected %g; nearest reference value at %s\n", i / TILE,
                        i % TILE, got[i], ref[i], where);
                shown++;
            }
        // An MN-major operand: would the descriptor's strides read the other way round pass?
        if (a_mode == 1 || b_mn == 1) {
            tile_run(got, K, a_mode == 1 ? 3 : a_mode, b_mn == 1 ? 2 : b_mn, sw, a, bt);
            double e2 = rel_diff(got, ref, TILE * TILE);
            fprintf(stderr, "    with the MN-major strides (LBO, SBO) swapped: relative error %.3g (%s)\n", e2,
                    e2 <= TOL_WGMMA ? "passes: swap them in wgmma.cuh" : "fails too");
        }
    }
    kt_release();
}


// TFLOP/s of one arrangement: 4 warpgroups per SM, after one untimed launch.
static double rate(int a_mode, int b_mn, int swizzle, int blocks, float *d_out) {
    const int iters = 20000;
    MUST(wgmma_rate_run_cuda(d_out, blocks, 100, a_mode, b_mn, swizzle, NULL, &kt_err));
    MUST(star_cuda_sync(NULL, &kt_err));
    double t0 = kt_now_ms();
    MUST(wgmma_rate_run_cuda(d_out, blocks, iters, a_mode, b_mn, swizzle, NULL, &kt_err));
    MUST(star_cuda_sync(NULL, &kt_err));
    double ms = kt_now_ms() - t0;
    return 2.0 * 64 * 64 * 64 * (double)iters * blocks / ms * 1e-9;
}

static void time_products(void) {
    int blocks = wgmma_rate_blocks_cuda(&kt_err);
    if (blocks < 0) MUST(-1);
    float *d_out = (float *)dev_alloc(sizeof(float) * blocks);
    for (int a_mode = 0; a_mode < 3; a_mode++)
        for (int b_mn = 0; b_mn < 2; b_mn++) {
            double plain = rate(a_mode, b_mn, 0, blocks, d_out), sw = rate(a_mode, b_mn, 128, blocks, d_out);
            printf("%-28s B %-7s: %6.0f TFLOP/s without swizzle, %6.0f with the 128-byte swizzle (%.2fx)\n",
                   a_modes[a_mode], b_mn ? "N-major" : "K-major", plain, sw, sw / plain);
        }
    kt_release();
}

int main(int argc, char **argv) {
    kt_skip_without_device();
    star_cuda *ctx = NULL;
    MUST(star_cuda_create(&ctx, 0, &kt_err));
    // Refused on anything but compute capability 9.0: the kernels are sm_90a only.
    int available = wgmma_available_cuda(&kt_err);
    if (available < 0) MUST(-1);
    if (available == 0) {
        printf("SKIP: %s\n", kt_err.msg);
        MUST(star_cuda_destroy(ctx, &kt_err));
        return 77;
    }
    if (argc > 1 && strcmp(argv[1], "--time") == 0) {
        time_products();
        MUST(star_cuda_destroy(ctx, &kt_err));
        return 0;
    }
    pcg32 rng = pcg32_derive(20261202, 1);
    const int Ks[3] = {16, 64, 256};
    for (int sw = 0; sw < 2; sw++)
        for (int ki = 0; ki < 3; ki++)
            for (int a_mode = 0; a_mode < 3; a_mode++)
                for (int b_mn = 0; b_mn < 2; b_mn++) test_tile(Ks[ki], a_mode, b_mn, sw ? 128 : 0, &rng);
    // Bad arguments are refused, naming them.
    CHECK(wgmma_tile_product_cuda(NULL, NULL, NULL, 24, 0, 0, 0, NULL, &kt_err) == -1 && strstr(kt_err.msg, "K 24"));
    CHECK(wgmma_tile_product_cuda(NULL, NULL, NULL, 16, 4, 0, 0, NULL, &kt_err) == -1 && strstr(kt_err.msg, "a_mode 4"));
    CHECK(wgmma_tile_product_cuda(NULL, NULL, NULL, 16, 0, 3, 0, NULL, &kt_err) == -1 && strstr(kt_err.msg, "b_mn 3"));
    CHECK(wgmma_tile_product_cuda(NULL, NULL, NULL, 16, 0, 0, 64, NULL, &kt_err) == -1 &&
          strstr(kt_err.msg, "swizzle 64"));
    MUST(star_cuda_destroy(ctx, &kt_err));
    TEST_END();
}
