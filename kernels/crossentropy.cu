// star: softmax cross-entropy over fp32 logits, as operators/crossentropy.c. Each thread
// keeps an online (max, sum of exp) over its strided columns (as float4s where the row is
// aligned and V a multiple of 4), the pairs merge in a fixed tree (one pass over the
// logits for the normalizer), then a second pass writes the probabilities (forward) or
// dloss * (p - onehot) / count as floatX (fused, no probs kept). Two kernels:
// - crossentropy_stream_kernel, where a row fits in shared memory (V * 4 bytes: GPT-2's
//   50304 on Hopper; the search's 256 many times over): a fixed grid of blocks, each
//   taking rows n, n + grid, ... The row lives in shared memory; while the second pass
//   reads a slot and writes its outputs, cp.async brings the block's next row into that
//   slot, so the logits leave device memory once and the reads of the next row overlap
//   the writes of this one (one block per SM at V 50304 would otherwise alternate).
// - crossentropy_row_kernel otherwise: one block per row, the second pass reading the row
//   again (from device memory at large vocabularies: the rows in flight overflow L2).
// The mean loss is one block summing the per-row losses in fp64 in a fixed order, so the
// loss is deterministic; the forward and the fused pass pick their kernel by the same rule
// (V, and the alignment of the logits and of what they write), so aligned, they give the
// same losses.
#include <math.h>

#include "kernels/common.cuh"
#include "kernels/mma.cuh"  // cp.async

#define CE_THREADS 512

// exp through the special-function unit (ex2 of x log2 e, as __expf: about 1e-6 relative
// at the arguments a softmax meets, under the fp32 checks' 1e-5; results below 2^-126
// flushed to zero, kernels/common.cuh): the two passes evaluate one per logit each, and
// from shared memory the first pass is bound by that arithmetic.
__device__ __forceinline__ float ce_exp(float x) { return exp2_ftz(x * 1.4426950408889634f); }

struct max_sum {
    float m, s;  // running max and sum of exp(x - m)
};

__device__ __forceinline__ max_sum ms_merge(max_sum a, max_sum b) {
    float m = fmaxf(a.m, b.m);
    if (m == -INFINITY) return {m, 0.0f};
    return {m, a.s * ce_exp(a.m - m) + b.s * ce_exp(b.m - m)};
}

// Adds four logits to a thread's running (max, sum): one rescale per four, NaN in, NaN out.
__device__ __forceinline__ void ms_add4(max_sum &a, float4 v) {
    float m = fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w));  // fmaxf skips NaN
    if (m > a.m) {
        a.s *= ce_exp(a.m - m);  // 0 from -inf; a NaN sum stays NaN
        a.m = m;
    }
    if (a.m != -INFINITY)
        a.s += (ce_exp(v.x - a.m) + ce_exp(v.y - a.m)) + (ce_exp(v.z - a.m) + ce_exp(v.w - a.m));
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

// A block's (max, sum) pairs merged in a fixed order; returns the log-sum-exp to every
// thread. Thread 0 reads *xt_at (the target's logit, or NULL) between the merge's two
// barriers, into *xt.
template <int THREADS>
__device__ float block_lse(max_sum a, const float *xt_at, float *xt) {
    __shared__ max_sum warp_part[THREADS / WARP_SIZE];
    __shared__ float lse_shared;
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
        if (xt_at) *xt = *xt_at;
    }
    __syncthreads();
    return lse_shared;
}

// log-sum-exp of a row of V, for every thread of the block. VEC: x 16-byte aligned and V a
// multiple of 4.
template <int THREADS, bool VEC>
__device__ float row_lse(const float *x, int V) {
    max_sum a = {-INFINITY, 0.0f};
    if (VEC) {
        for_row_float4<THREADS>(x, V / 4, [&](float4 v, int) { ms_add4(a, v); });
    } else {
        for (int i = threadIdx.x; i < V; i += THREADS) {
            float v = x[i];
            if (v > a.m) {
                a.s = a.s * ce_exp(a.m - v) + 1.0f;
                a.m = v;
            } else if (a.m != -INFINITY) {
                a.s += ce_exp(v - a.m);
            } else if (v != v) {
                a.s = v;  // NaN in, NaN out
            }
        }
    }
    return block_lse<THREADS>(a, NULL, NULL);
}

// Four dlogits = k p - k onehot from four logits at columns c..c+3, as 4 bf16 in 8 bytes.
__device__ __forceinline__ void store_dlogits4(floatX *d, float4 v, int c, int tgt, float k, float lse) {
    float r[4] = {v.x, v.y, v.z, v.w};
    __nv_bfloat162 o[2];
#pragma unroll
    for (int e = 0; e < 4; e++) r[e] = tgt < 0 ? 0.0f : k * ce_exp(r[e] - lse) - (c + e == tgt ? k : 0.0f);
    o[0] = __floats2bfloat162_rn(r[0], r[1]);
    o[1] = __floats2bfloat162_rn(r[2], r[3]);
    *reinterpret_cast<uint2 *>(d + c) = *reinterpret_cast<uint2 *>(o);
}

// The second pass's four outputs from four probabilities' logits at float4 index i:
// dlogits (FUSED) or probs.
template <bool FUSED>
__device__ __forceinline__ void row_out4(float *p, floatX *d, float4 v, int i, int tgt, float k, float lse) {
    if (FUSED)
        store_dlogits4(d, v, 4 * i, tgt, k, lse);
    else
        reinterpret_cast<float4 *>(p)[i] =
            make_float4(ce_exp(v.x - lse), ce_exp(v.y - lse), ce_exp(v.z - lse), ce_exp(v.w - lse));
}

__device__ __forceinline__ float row_loss(int tgt, int V, float lse, float xt) {
    return tgt == -1 ? 0.0f : (tgt >= 0 && tgt < V) ? lse - xt : nanf("");
}

// FUSED: dlogits = dloss * (p - onehot) / count; otherwise probs = p (probs may alias logits).
// VEC: logits and the output 16-byte aligned, V a multiple of 4.
template <bool FUSED, bool VEC>
__global__ void __launch_bounds__(CE_THREADS)
    crossentropy_row_kernel(float *probs, floatX *dlogits, float *losses, const float *logits, const int32_t *targets,
                            const int *d_count, int V, float dloss) {
    long n = blockIdx.x;
    const float *x = logits + n * V;
    int tgt = targets[n];
    // The target's logit is read before any thread overwrites the row (row_lse syncs first).
    float xt = 0.0f;
    if (threadIdx.x == 0 && tgt >= 0 && tgt < V) xt = x[tgt];
    float lse = row_lse<CE_THREADS, VEC>(x, V);
    if (threadIdx.x == 0) losses[n] = row_loss(tgt, V, lse, xt);
    int count = FUSED ? *d_count : 0;
    float k = count > 0 ? dloss / (float)count : 0.0f;
    float *p = FUSED ? NULL : probs + n * V;
    floatX *d = FUSED ? dlogits + n * V : NULL;
    if (VEC) {
        for_row_float4<CE_THREADS>(x, V / 4, [&](float4 v, int i) { row_out4<FUSED>(p, d, v, i, tgt, k, lse); });
    } else {
        for (int i = threadIdx.x; i < V; i += CE_THREADS) {
            float e = ce_exp(x[i] - lse);
            if (FUSED)
                d[i] = __float2bfloat16_rn(tgt < 0 ? 0.0f : k * e - (i == tgt ? k : 0.0f));
            else
                p[i] = e;
        }
    }
}

// See the top of the file. Aligned rows, V a multiple of 4; V * 4 bytes of dynamic shared
// memory. In the second pass a thread issues the cp.async into a slot only after storing
// the outputs computed from it (so the slot has been read), and reads, in either pass,
// only the slots it fills itself, so cp.async.wait_group needs no barrier; the target's
// logit, read by thread 0 from any slot, is read between block_lse's two barriers.
template <bool FUSED, int THREADS>
__global__ void __launch_bounds__(THREADS)
    crossentropy_stream_kernel(float *probs, floatX *dlogits, float *losses, const float *logits,
                               const int32_t *targets, const int *d_count, long N, int V, float dloss) {
    extern __shared__ float4 ce_row[];
    int n4 = V / 4;
    int count = FUSED ? *d_count : 0;
    float k = count > 0 ? dloss / (float)count : 0.0f;
    long n = blockIdx.x;
    if (n < N) {
        const float4 *x4 = reinterpret_cast<const float4 *>(logits + n * V);
        for (int i = threadIdx.x; i < n4; i += THREADS) cp_async16(&ce_row[i], &x4[i], true);
    }
    cp_async_commit();
    for (; n < N; n += gridDim.x) {
        int tgt = targets[n];
        cp_async_wait<0>();
        max_sum a = {-INFINITY, 0.0f};
        for (int i = threadIdx.x; i < n4; i += THREADS) ms_add4(a, ce_row[i]);
        float xt = 0.0f;
        bool in_row = tgt >= 0 && tgt < V;
        float lse = block_lse<THREADS>(a, in_row ? reinterpret_cast<const float *>(ce_row) + tgt : NULL, &xt);
        if (threadIdx.x == 0) losses[n] = row_loss(tgt, V, lse, xt);
        long next = n + gridDim.x;
        const float4 *xn = next < N ? reinterpret_cast<const float4 *>(logits + next * V) : NULL;
        float *p = FUSED ? NULL : probs + n * V;
        floatX *d = FUSED ? dlogits + n * V : NULL;
        for_row_float4<THREADS>(reinterpret_cast<const float *>(ce_row), n4, [&](float4 v, int i) {
            row_out4<FUSED>(p, d, v, i, tgt, k, lse);
            if (xn) cp_async16(&ce_row[i], &xn[i], true);
        });
        cp_async_commit();
    }
    cp_async_wait<0>();
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
    size_t bytes = (size_t)V * sizeof(float), own = 1024;  // block_lse's, rounded up
    return bytes + own <= (size_t)optin ? (int)bytes : 0;
}

// The streaming kernel on as many blocks as fit on the device at once (at most N).
template <bool FUSED, int THREADS>
static int ce_stream(float *probs, floatX *dlogits, float *losses, const float *logits, const int32_t *targets,
                     const int *d_count, long N, int V, float dloss, int bytes, star_stream s, star_error *err) {
    void (*kernel)(float *, floatX *, float *, const float *, const int32_t *, const int *, long, int, float) =
        crossentropy_stream_kernel<FUSED, THREADS>;
    int dev = 0, sms = 0, per_sm = 0;
    cudaCheck(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes), err);
    cudaCheck(cudaGetDevice(&dev), err);
    cudaCheck(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), err);
    cudaCheck(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, THREADS, bytes), err);
    long grid = (long)sms * (per_sm > 0 ? per_sm : 1);
    if (grid > N) grid = N;
    kernel<<<(unsigned)grid, THREADS, bytes, s>>>(probs, dlogits, losses, logits, targets, d_count, N, V, dloss);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// The row kernels for N rows: the streaming one where the row fits in shared memory (1024
// threads a row at large V, 128 at small), else one block per row.
template <bool FUSED>
static int ce_rows(float *probs, floatX *dlogits, float *losses, const float *logits, const int32_t *targets,
                   const int *d_count, long N, int V, float dloss, star_stream s, star_error *err) {
    int vec = V % 4 == 0 && is_aligned16(logits) && is_aligned16(FUSED ? (const void *)dlogits : (const void *)probs);
    int stash = 0;
    if (vec) {
        stash = ce_stash_bytes(V, err);
        if (stash < 0) return -1;
    }
    if (stash > 0 && V >= 8192)
        return ce_stream<FUSED, 1024>(probs, dlogits, losses, logits, targets, d_count, N, V, dloss, stash, s, err);
    if (stash > 0)
        return ce_stream<FUSED, 128>(probs, dlogits, losses, logits, targets, d_count, N, V, dloss, stash, s, err);
    if (vec)
        crossentropy_row_kernel<FUSED, true>
            <<<(unsigned)N, CE_THREADS, 0, s>>>(probs, dlogits, losses, logits, targets, d_count, V, dloss);
    else
        crossentropy_row_kernel<FUSED, false>
            <<<(unsigned)N, CE_THREADS, 0, s>>>(probs, dlogits, losses, logits, targets, d_count, V, dloss);
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
