// star kernel tests: host bf16 rounding, device buffers through the kernels.h API, and
// comparisons that report the relative error of every checked output.
#ifndef STAR_TESTS_KERNEL_TEST_UTIL_H
#define STAR_TESTS_KERNEL_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/pcg32.h"
#include "kernels/kernels.h"
#include "tests/test_util.h"

static star_error kt_err;

// Wall-clock milliseconds, for the tests' --time modes (timings side by side, no checks).
static inline double kt_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

// A failed CUDA call makes the rest meaningless: report and stop.
static inline void must_at(int rc, const char *file, int line) {
    if (rc == 0) return;
    fprintf(stderr, "%s:%d: CUDA call failed: %s\n", file, line, kt_err.msg);
    exit(1);
}
#define MUST(call) must_at((call), __FILE__, __LINE__)

// Round to nearest even, as __float2bfloat16_rn; NaN stays NaN.
static inline uint16_t f2bf(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float bf2f(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// Every buffer a test makes is tracked and released by kt_release() when the test ends.
#define KT_MAX_BUFFERS 512
static void *kt_host[KT_MAX_BUFFERS], *kt_dev[KT_MAX_BUFFERS];
static int kt_nhost, kt_ndev;

static inline void *kt_track(void **list, int *count, void *p) {
    if (*count == KT_MAX_BUFFERS) {
        fprintf(stderr, "kernel test: more than %d buffers in one test\n", KT_MAX_BUFFERS);
        exit(1);
    }
    list[(*count)++] = p;
    return p;
}

static inline void kt_release(void) {
    for (int i = 0; i < kt_nhost; i++) free(kt_host[i]);
    for (int i = 0; i < kt_ndev; i++) MUST(star_cuda_free(kt_dev[i], &kt_err));
    kt_nhost = kt_ndev = 0;
}

static inline void *host_alloc(size_t bytes) { return kt_track(kt_host, &kt_nhost, star_calloc(1, bytes ? bytes : 1)); }

static inline float *host_f32(long n) { return (float *)host_alloc(sizeof(float) * (size_t)(n > 0 ? n : 1)); }

// Uniform in [-scale, scale), rounded to bf16 when `bf16` (inputs the GPU sees exactly).
static inline float *host_random(long n, float scale, int bf16, pcg32 *rng) {
    float *a = host_f32(n);
    for (long i = 0; i < n; i++) {
        a[i] = scale * (2.0f * pcg32_float(rng) - 1.0f);
        if (bf16) a[i] = bf2f(f2bf(a[i]));
    }
    return a;
}

static inline float *host_copy(const float *a, long n) {
    float *b = host_f32(n);
    memcpy(b, a, sizeof(float) * (size_t)n);
    return b;
}

static inline void *dev_alloc(size_t bytes) {
    void *p;
    MUST(star_cuda_malloc(&p, bytes, &kt_err));
    return kt_track(kt_dev, &kt_ndev, p);
}

static inline floatX *dev_bf16(const float *h, long n) {
    floatX *d = (floatX *)dev_alloc(sizeof(floatX) * (size_t)(n > 0 ? n : 1));
    uint16_t *tmp = (uint16_t *)star_malloc(sizeof(uint16_t) * (size_t)(n > 0 ? n : 1));
    for (long i = 0; i < n; i++) tmp[i] = f2bf(h[i]);
    MUST(star_cuda_upload(d, tmp, sizeof(uint16_t) * (size_t)n, &kt_err));
    free(tmp);
    return d;
}

static inline float *dev_f32(const float *h, long n) {
    float *d = (float *)dev_alloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    MUST(star_cuda_upload(d, h, sizeof(float) * (size_t)n, &kt_err));
    return d;
}

static inline void *dev_bytes(const void *h, size_t bytes) {
    void *d = dev_alloc(bytes ? bytes : 1);
    MUST(star_cuda_upload(d, h, bytes, &kt_err));
    return d;
}

// Every output starts as NaN (all bits set: NaN in bf16 and fp32), so an element the
// kernel fails to write shows up.
static inline void dev_nan(void *d, size_t bytes) { MUST(star_cuda_memset(d, 0xff, bytes, NULL, &kt_err)); }

static inline floatX *dev_nan_bf16(long n) {
    floatX *d = (floatX *)dev_alloc(sizeof(floatX) * (size_t)(n > 0 ? n : 1));
    dev_nan(d, sizeof(floatX) * (size_t)n);
    return d;
}

static inline floatX *dev_zero_bf16(long n) {
    floatX *d = (floatX *)dev_alloc(sizeof(floatX) * (size_t)(n > 0 ? n : 1));
    MUST(star_cuda_memset(d, 0, sizeof(floatX) * (size_t)n, NULL, &kt_err));
    return d;
}

static inline void get_bf16(float *h, const floatX *d, long n) {
    uint16_t *tmp = (uint16_t *)star_malloc(sizeof(uint16_t) * (size_t)(n > 0 ? n : 1));
    MUST(star_cuda_sync(NULL, &kt_err));
    MUST(star_cuda_download(tmp, d, sizeof(uint16_t) * (size_t)n, &kt_err));
    for (long i = 0; i < n; i++) h[i] = bf2f(tmp[i]);
    free(tmp);
}

static inline void get_f32(float *h, const float *d, long n) {
    MUST(star_cuda_sync(NULL, &kt_err));
    MUST(star_cuda_download(h, d, sizeof(float) * (size_t)n, &kt_err));
}

// max |got - ref| / (max |ref| + 1e-30); infinite when got has a NaN or an infinity.
static inline double rel_diff(const float *got, const float *ref, long n) {
    double dmax = 0, rmax = 0;
    for (long i = 0; i < n; i++) {
        if (!isfinite(got[i])) return INFINITY;
        double d = fabs((double)got[i] - (double)ref[i]);
        if (d > dmax) dmax = d;
        if (fabs((double)ref[i]) > rmax) rmax = fabs((double)ref[i]);
    }
    return dmax / (rmax + 1e-30);
}

static inline void check_close_at(const char *what, const float *got, const float *ref, long n, double tol,
                           const char *file, int line) {
    double d = rel_diff(got, ref, n);
    test_checks++;
    printf("  %-44s rel err %.3g (tol %.g)\n", what, d, tol);
    if (!(d <= tol)) {
        test_failures++;
        fprintf(stderr, "%s:%d: %s: relative error %.3g exceeds %.3g\n", file, line, what, d, tol);
    }
}
#define CHECK_CLOSE(what, got, ref, n, tol) check_close_at((what), (got), (ref), (n), (tol), __FILE__, __LINE__)

static inline void check_equal_at(const char *what, const float *got, const float *ref, long n, const char *file,
                           int line) {
    long bad = 0;
    for (long i = 0; i < n; i++)
        if (memcmp(&got[i], &ref[i], sizeof(float)) != 0) bad++;
    test_checks++;
    printf("  %-44s %ld of %ld differ in bits\n", what, bad, n);
    if (bad) {
        test_failures++;
        fprintf(stderr, "%s:%d: %s: %ld of %ld elements differ in bits\n", file, line, what, bad, n);
    }
}
#define CHECK_EQUAL(what, got, ref, n) check_equal_at((what), (got), (ref), (n), __FILE__, __LINE__)

// A gradient written with GRAD_SET over NaN (d_set) against the same one added with
// GRAD_ADD onto zeros (d_add): equal values (==, so a zero's sign may differ; an element
// left unwritten stays NaN and never equals).
static inline void check_set_is_add_at(const char *what, const floatX *d_set, const floatX *d_add, long n,
                                       const char *file, int line) {
    float *a = (float *)star_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    float *b = (float *)star_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    get_bf16(a, d_set, n);
    get_bf16(b, d_add, n);
    long bad = 0;
    for (long i = 0; i < n; i++)
        if (!(a[i] == b[i])) bad++;
    test_checks++;
    printf("  %-44s %ld of %ld differ\n", what, bad, n);
    if (bad) {
        test_failures++;
        fprintf(stderr, "%s:%d: %s: %ld of %ld elements differ from GRAD_ADD onto zeros\n", file, line, what, bad, n);
    }
    free(a);
    free(b);
}
#define CHECK_SET_IS_ADD(what, d_set, d_add, n) check_set_is_add_at((what), (d_set), (d_add), (n), __FILE__, __LINE__)

// Exit 77 (ctest's skip) when no CUDA device is present, saying why.
static inline void kt_skip_without_device(void) {
    int devices = 0;
    if (star_cuda_device_count(&devices, &kt_err) != 0 || devices == 0) {
        printf("SKIP: no CUDA device%s%s\n", devices == 0 && kt_err.msg[0] ? ": " : "", kt_err.msg);
        exit(77);
    }
}

#endif
