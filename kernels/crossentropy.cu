// star: softmax cross-entropy over fp32 logits, as operators/crossentropy.c. One block per
// row: each thread keeps an online (max, sum of exp) over its strided columns (as float4s
// where the row is aligned and V a multiple of 4), the pairs merge in a fixed tree (one
// pass over the logits for the normalizer), then a second pass writes the probabilities
// (forward) or dloss * (p - onehot) / count as floatX (fused, no probs kept). Where the
// row fits in shared memory (V * 4 bytes: GPT-2's 50304 on Hopper) the first pass keeps
// it there and the second reads it back, so the logits leave device memory once: one
// block of CE_STASH_THREADS per SM. Otherwise the second pass reads the row again (from
// device memory at large vocabularies: the rows in flight overflow L2). The mean loss is
// one block summing the per-row losses in fp64 in a fixed order, so the loss is
// deterministic; the forward and the fused pass pick their path by the same rule (V, and
// the alignment of the logits and of what they write), so aligned, they give the same losses.
#include <math.h>

#include "kernels/common.cuh"

#define CE_THREADS 512
#define CE_STASH_THREADS 1024

struct max_sum {
    float m, s;  // running max and sum of exp(x - m)
};

__device__ __forceinline__ max_sum ms_merge(max_sum a, max_sum b) {
    float m = fmaxf(a.m, b.m);
    if (m == -INFINITY) return {m, 0.0f};
    return {m, a.s * expf(a.m - m) + b.s * expf(b.m - m)};
}

// Adds four logits to a thread's running (max, sum): one rescale per four, NaN in, NaN out.
__device__ __forceinline__ void ms_add4(max_sum &a, float4 v) {
    float m = fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w));  // fmaxf skips NaN
    if (m > a.m) {
        a.s *= expf(a.m - m);  // 0 from -inf; a NaN sum stays NaN
        a.m = m;
    }
    if (a.m != -INFINITY)
        a.s += (expf(v.x - a.m) + expf(v.y - a.m)) + (expf(v.z - a.m) + expf(v.w - a.m));
    else if (v.x != v.x || v.y != v.y || v.z != v.z || v.w != v.w)
        a.s = v.x + v.y + v.z + v.w;  // NaN
}

// Streams a row as float4 (n4 of them), calling f(value, index) for each of the thread's:
// CE_UNROLL independent loads in flight per thread before their use (a row pass is bound
// by the loads in flight, not by the arithmetic).
#define CE_UNROLL 4
template <int THREADS, class F>
__device__ __forceinline__ void for_row_float4(const float *x, int n4, F f) {
    const float4 *x4 = reinterpret_cast<const float4 *>(x);
    int i = threadIdx.x;
    for (; i + (CE_UNROLL - 1) * THREADS < n4; i += CE_UNROLL * THREADS) {
        float4 v[CE_UNROLL];
#pragma unroll
        for (int u = 0; u < CE_UNROLL; u++) v[u] = x4[i + u * THREADS];
#pragma unroll
        for (int u = 0; u < CE_UNROLL; u++) f(v[u], i + u * THREADS);
    }
    for (; i < n4; i += THREADS) f(x4[i], i);
}

// log-sum-exp of a row of V, for every thread of the block. VEC: x 16-byte aligned and V a
// multiple of 4. stash (VEC only): where the row's float4s are kept, or NULL.
template <int THREADS, bool VEC>
__device__ float row_lse(const float *x, int V, float4 *stash) {
    __shared__ max_sum warp_part[THREADS / WARP_SIZE];
    __shared__ float lse_shared;
    max_sum a = {-INFINITY, 0.0f};
    if (VEC && stash) {
        for_row_float4<THREADS>(x, V / 4, [&](float4 v, int i) {
            stash[i] = v;
            ms_add4(a, v);
        });
    } else if (VEC) {
        for_row_float4<THREADS>(x, V / 4, [&](float4 v, int) { ms_add4(a, v); });
    } else {
        for (int i = threadIdx.x; i < V; i += THREADS) {
            float v = x[i];
            if (v > a.m) {
                a.s = a.s * expf(a.m - v) + 1.0f;
                a.m = v;
            } else if (a.m != -INFINITY) {
                a.s += expf(v - a.m);
            } else if (v != v) {
                a.s = v;  // NaN in, NaN out
            }
        }
    }
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o /= 2) {
        max_sum b = {__shfl_xor_sync(0xffffffffu, a.m, o), __shfl_xor_sync(0xffffffffu, a.s, o)};
        a = ms_merge(a, b);
    }
    int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    if (lane == 0) warp_part[warp] = a;
    __syncthreads();
    if (threadIdx.x == 0) {
        max_sum t = warp_part[0];
        for (int k = 1; k < THREADS / WARP_SIZE; k++) t = ms_merge(t, warp_part[k]);
        lse_shared = t.m + logf(t.s);
    }
    __syncthreads();
    return lse_shared;
}

// Four dlogits = k p - k onehot from four logits at columns c..c+3, as 4 bf16 in 8 bytes.
__device__ __forceinline__ void store_dlogits4(floatX *d, float4 v, int c, int tgt, float k, float lse) {
    float r[4] = {v.x, v.y, v.z, v.w};
    __nv_bfloat162 o[2];
#pragma unroll
    for (int e = 0; e < 4; e++) r[e] = tgt < 0 ? 0.0f : k * expf(r[e] - lse) - (c + e == tgt ? k : 0.0f);
    o[0] = __floats2bfloat162_rn(r[0], r[1]);
    o[1] = __floats2bfloat162_rn(r[2], r[3]);
    *reinterpret_cast<uint2 *>(d + c) = *reinterpret_cast<uint2 *>(o);
}

// FUSED: dlogits = dloss * (p - onehot) / count; otherwise probs = p (probs may alias logits).
// VEC: logits and the output 16-byte aligned, V a multiple of 4. STASH (VEC only): the row
// kept in dynamic shared memory (V floats) between the passes.
template <bool FUSED, bool VEC, bool STASH>
__global__ void __launch_bounds__(STASH ? CE_STASH_THREADS : CE_THREADS)
    crossentropy_row_kernel(float *probs, floatX *dlogits, float *losses, const float *logits, const int32_t *targets,
                            const int *d_count, int V, float dloss) {
    constexpr int THREADS = STASH ? CE_STASH_THREADS : CE_THREADS;
    extern __shared__ float4 ce_row[];
    long n = blockIdx.x;
    const float *x = logits + n * V;
    int tgt = targets[n];
    // The target's logit is read before any thread overwrites the row (row_lse syncs first).
    float xt = 0.0f;
    if (threadIdx.x == 0 && tgt >= 0 && tgt < V) xt = x[tgt];
    float lse = row_lse<THREADS, VEC>(x, V, STASH ? ce_row : NULL);
    // The second pass reads the stash: each thread its own float4s, the ones it stored.
    const float *x2 = STASH ? reinterpret_cast<const float *>(ce_row) : x;
    if (threadIdx.x == 0) losses[n] = tgt == -1 ? 0.0f : (tgt >= 0 && tgt < V) ? lse - xt : nanf("");
    if (FUSED) {
        int count = *d_count;
        float k = count > 0 ? dloss / (float)count : 0.0f;
        floatX *d = dlogits + n * V;
        if (VEC) {
            for_row_float4<THREADS>(x2, V / 4, [&](float4 v, int i) { store_dlogits4(d, v, 4 * i, tgt, k, lse); });
        } else {
            for (int i = threadIdx.x; i < V; i += THREADS) {
                float v = tgt < 0 ? 0.0f : k * expf(x[i] - lse) - (i == tgt ? k : 0.0f);
                d[i] = __float2bfloat16_rn(v);
            }
        }
    } else {
        float *p = probs + n * V;
        if (VEC) {
            float4 *p4 = reinterpret_cast<float4 *>(p);
            for_row_float4<THREADS>(x2, V / 4, [&](float4 v, int i) {
                p4[i] = make_float4(expf(v.x - lse), expf(v.y - lse), expf(v.z - lse), expf(v.w - lse));
            });
        } else {
            for (int i = threadIdx.x; i < V; i += THREADS) p[i] = expf(x[i] - lse);
        }
    }
}

__global__ void crossentropy_count_kernel(int *d_count, const int32_t *targets, long N) {
    __shared__ int part[32];
    int c = 0;
    for (long n = threadIdx.x; n < N; n += blockDim.x) c += targets[n] >= 0;
    c = block_sum(c, part);
    if (threadIdx.x == 0) *d_count = c;
}

__global__ void crossentropy_mean_kernel(double *d_loss, int *d_count, const float *losses, const int32_t *targets,
                                         long N) {
    __shared__ double dpart[32];
    __shared__ int ipart[32];
    double sum = 0.0;
    int c = 0;
    for (long n = threadIdx.x; n < N; n += blockDim.x)
        if (targets[n] >= 0) {
            sum += losses[n];
            c++;
        }
    sum = block_sum(sum, dpart);
    c = block_sum(c, ipart);
    if (threadIdx.x == 0) {
        *d_loss = c > 0 ? sum / c : 0.0;
        *d_count = c;
    }
}

__global__ void crossentropy_backward_kernel(floatX *dlogits, const float *probs, const int32_t *targets,
                                             const int *d_count, int V, float dloss) {
    long n = blockIdx.x;
    int tgt = targets[n];
    int count = *d_count;
    float k = count > 0 ? dloss / (float)count : 0.0f;
    const float *p = probs + n * V;
    floatX *d = dlogits + n * V;
    for (int i = threadIdx.x; i < V; i += blockDim.x)
        d[i] = __float2bfloat16_rn(tgt < 0 ? 0.0f : k * p[i] - (i == tgt ? k : 0.0f));
}

// Bytes of dynamic shared memory that keep a row of V fp32 logits, or 0 where the row does
// not fit beside the kernel's own (static) shared memory on the current device.
static int ce_stash_bytes(int V, star_error *err) {
    int dev = 0, optin = 0;
    cudaCheck(cudaGetDevice(&dev), err);
    cudaCheck(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev), err);
    size_t bytes = (size_t)V * sizeof(float), own = 1024;  // warp_part and lse_shared, rounded up
    return bytes + own <= (size_t)optin ? (int)bytes : 0;
}

// The row kernel for N rows: the shared-memory path where it applies, else the streaming one.
template <bool FUSED>
static int ce_rows(float *probs, floatX *dlogits, float *losses, const float *logits, const int32_t *targets,
                   const int *d_count, long N, int V, float dloss, star_stream s, star_error *err) {
    int vec = V % 4 == 0 && is_aligned16(logits) && is_aligned16(FUSED ? (const void *)dlogits : (const void *)probs);
    int stash = 0;
    if (vec) {
        stash = ce_stash_bytes(V, err);
        if (stash < 0) return -1;
    }
    if (stash > 0) {
        cudaCheck(cudaFuncSetAttribute(crossentropy_row_kernel<FUSED, true, true>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, stash),
                  err);
        crossentropy_row_kernel<FUSED, true, true>
            <<<(unsigned)N, CE_STASH_THREADS, stash, s>>>(probs, dlogits, losses, logits, targets, d_count, V, dloss);
    } else if (vec) {
        crossentropy_row_kernel<FUSED, true, false>
            <<<(unsigned)N, CE_THREADS, 0, s>>>(probs, dlogits, losses, logits, targets, d_count, V, dloss);
    } else {
        crossentropy_row_kernel<FUSED, false, false>
            <<<(unsigned)N, CE_THREADS, 0, s>>>(probs, dlogits, losses, logits, targets, d_count, V, dloss);
    }
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

static int ce_check(long N, int V, star_error *err) {
    if (N > 0x7fffffffL) return STAR_FAIL(err, "crossentropy: %ld rows exceed the grid", N);
    if (V <= 0) return STAR_FAIL(err, "crossentropy: vocabulary size %d", V);
    return 0;
}

int crossentropy_forward_cuda(float *probs, float *losses, double *d_loss, int *d_count, const float *logits,
                              const int32_t *targets, long N, int V, star_stream s, star_error *err) {
    if (ce_check(N, V, err)) return -1;
    if (N > 0 && ce_rows<false>(probs, NULL, losses, logits, targets, NULL, N, V, 0.0f, s, err)) return -1;
    crossentropy_mean_kernel<<<1, 1024, 0, s>>>(d_loss, d_count, losses, targets, N);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int crossentropy_backward_cuda(floatX *dlogits, const float *probs, const int32_t *targets, const int *d_count,
                               long N, int V, float dloss, star_stream s, star_error *err) {
    if (ce_check(N, V, err)) return -1;
    if (N == 0) return 0;
    crossentropy_backward_kernel<<<(unsigned)N, CE_THREADS, 0, s>>>(dlogits, probs, targets, d_count, V, dloss);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int crossentropy_fused_cuda(floatX *dlogits, float *losses, double *d_loss, int *d_count, const float *logits,
                            const int32_t *targets, long N, int V, float dloss, star_stream s, star_error *err) {
    if (ce_check(N, V, err)) return -1;
    crossentropy_count_kernel<<<1, 1024, 0, s>>>(d_count, targets, N);
    cudaCheck(cudaGetLastError(), err);
    if (N > 0 && ce_rows<true>(NULL, dlogits, losses, logits, targets, d_count, N, V, dloss, s, err)) return -1;
    crossentropy_mean_kernel<<<1, 1024, 0, s>>>(d_loss, d_count, losses, targets, N);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}
