// star: the gated product y = act(g) * u (SwiGLU with silu, GeGLU with gelu) and its
// backward, as operators/glu.c. Memory-bound: each thread moves chunks of 8 values, in
// 16-byte accesses when n % 8 == 0 and every pointer is 16-byte aligned. A thread reads
// all of its chunk's inputs before writing, so outputs may alias inputs.
#include "kernels/activation.cuh"
#include "kernels/common.cuh"

// The activation is a template argument: its switch folds away at compile time.
template <bool VEC, act_kind k>
__global__ void glu_forward_kernel(floatX *y, const floatX *g, const floatX *u, long n) {
    long chunks = (n + PACK - 1) / PACK;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < chunks; i += (long)gridDim.x * blockDim.x) {
        long c = i * PACK;
        float gv[PACK], uv[PACK], yv[PACK];
        load_chunk<VEC>(gv, g, c, n);
        load_chunk<VEC>(uv, u, c, n);
#pragma unroll
        for (int j = 0; j < PACK; j++) yv[j] = act_value_dev(k, gv[j]) * uv[j];
        store_chunk<VEC>(y, yv, c, n);
    }
}

template <bool VEC, bool ADD, act_kind k>
__global__ void glu_backward_kernel(floatX *dg, floatX *du, const floatX *dy, const floatX *g, const floatX *u,
                                    long n) {
    long chunks = (n + PACK - 1) / PACK;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < chunks; i += (long)gridDim.x * blockDim.x) {
        long c = i * PACK;
        float gv[PACK], uv[PACK], dyv[PACK], ag[PACK] = {}, au[PACK] = {};
        // Every load before the first store: one memory latency per chunk, not two (a load
        // after a store through another pointer waits for it).
        load_chunk<VEC>(gv, g, c, n);
        load_chunk<VEC>(uv, u, c, n);
        load_chunk<VEC>(dyv, dy, c, n);
        if (ADD && dg) load_chunk<VEC>(ag, dg, c, n);
        if (ADD && du) load_chunk<VEC>(au, du, c, n);
#pragma unroll
        for (int j = 0; j < PACK; j++) {
            float a, da;
            act_value_derivative_dev(k, gv[j], &a, &da);
            ag[j] += dyv[j] * uv[j] * da;
            au[j] += dyv[j] * a;
        }
        if (dg) store_chunk<VEC>(dg, ag, c, n);
        if (du) store_chunk<VEC>(du, au, c, n);
    }
}

static int glu_vec(long n, const void *a, const void *b, const void *c, const void *d, const void *e) {
    return n % PACK == 0 && (!a || is_aligned16(a)) && (!b || is_aligned16(b)) && (!c || is_aligned16(c)) &&
           (!d || is_aligned16(d)) && (!e || is_aligned16(e));
}

template <bool VEC>
static void glu_forward_launch(unsigned blocks, int threads, star_stream s, floatX *y, const floatX *g, const floatX *u,
                               long n, act_kind k) {
    void (*kernel)(floatX *, const floatX *, const floatX *, long) =
        k == ACT_IDENTITY  ? glu_forward_kernel<VEC, ACT_IDENTITY>
        : k == ACT_SIGMOID ? glu_forward_kernel<VEC, ACT_SIGMOID>
        : k == ACT_SILU    ? glu_forward_kernel<VEC, ACT_SILU>
        : k == ACT_GELU    ? glu_forward_kernel<VEC, ACT_GELU>
                           : glu_forward_kernel<VEC, ACT_ELU1>;
    kernel<<<blocks, threads, 0, s>>>(y, g, u, n);
}

template <bool VEC, bool ADD>
static void glu_backward_launch(unsigned blocks, int threads, star_stream s, floatX *dg, floatX *du, const floatX *dy,
                                const floatX *g, const floatX *u, long n, act_kind k) {
    void (*kernel)(floatX *, floatX *, const floatX *, const floatX *, const floatX *, long) =
        k == ACT_IDENTITY  ? glu_backward_kernel<VEC, ADD, ACT_IDENTITY>
        : k == ACT_SIGMOID ? glu_backward_kernel<VEC, ADD, ACT_SIGMOID>
        : k == ACT_SILU    ? glu_backward_kernel<VEC, ADD, ACT_SILU>
        : k == ACT_GELU    ? glu_backward_kernel<VEC, ADD, ACT_GELU>
                           : glu_backward_kernel<VEC, ADD, ACT_ELU1>;
    kernel<<<blocks, threads, 0, s>>>(dg, du, dy, g, u, n);
}

int glu_forward_cuda(floatX *y, const floatX *g, const floatX *u, long n, act_kind k, star_stream s, star_error *err) {
    if (n <= 0) return 0;
    if (k < ACT_IDENTITY || k > ACT_ELU1) return STAR_FAIL(err, "glu_forward_cuda: unknown activation %d", (int)k);
    const int threads = 256;
    unsigned blocks = grid_for((n + PACK - 1) / PACK, threads);
    if (glu_vec(n, y, g, u, NULL, NULL))
        glu_forward_launch<true>(blocks, threads, s, y, g, u, n, k);
    else
        glu_forward_launch<false>(blocks, threads, s, y, g, u, n, k);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int glu_backward_cuda(floatX *dg, floatX *du, const floatX *dy, const floatX *g, const floatX *u, long n, act_kind k,
                      grad_write mode, star_stream s, star_error *err) {
    if (n <= 0 || (!dg && !du)) return 0;
    if (k < ACT_IDENTITY || k > ACT_ELU1) return STAR_FAIL(err, "glu_backward_cuda: unknown activation %d", (int)k);
    const int threads = 256;
    unsigned blocks = grid_for((n + PACK - 1) / PACK, threads);
    int vec = glu_vec(n, dg, du, dy, g, u), add = mode == GRAD_ADD;
    if (vec && add)
        glu_backward_launch<true, true>(blocks, threads, s, dg, du, dy, g, u, n, k);
    else if (vec)
        glu_backward_launch<true, false>(blocks, threads, s, dg, du, dy, g, u, n, k);
    else if (add)
        glu_backward_launch<false, true>(blocks, threads, s, dg, du, dy, g, u, n, k);
    else
        glu_backward_launch<false, false>(blocks, threads, s, dg, du, dy, g, u, n, k);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}
