// star: what every CUDA kernel file shares: the checked-call macros, 16-byte packed
// loads and stores of floatX, and warp / block reductions.
// Checked calls return -1 from the enclosing function with err naming the call, the error
// and file:line (library code never exits); a launch is checked with cudaCheck(
// cudaGetLastError(), err) right after it.
#ifndef STAR_KERNELS_COMMON_CUH
#define STAR_KERNELS_COMMON_CUH

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "kernels/kernels.h"

#define cudaCheck(call, err)                                                                                     \
    do {                                                                                                         \
        cudaError_t e_ = (call);                                                                                 \
        if (e_ != cudaSuccess)                                                                                   \
            return star_fail_at((err), __FILE__, __LINE__, "CUDA error %s (%s) at %s:%d in %s", cudaGetErrorName(e_), \
                                cudaGetErrorString(e_), __FILE__, __LINE__, #call);                              \
    } while (0)

#define cublasCheck(call, err)                                                                                   \
    do {                                                                                                         \
        cublasStatus_t s_ = (call);                                                                              \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                                         \
            return star_fail_at((err), __FILE__, __LINE__, "cuBLAS error %d (%s) at %s:%d in %s", (int)s_,            \
                                cublasGetStatusString(s_), __FILE__, __LINE__, #call);                           \
    } while (0)

#define WARP_SIZE 32

// Blocks for n items at `per_block` items each, capped so that grid-stride loops cover the rest.
static inline unsigned grid_for(long n, long per_block) {
    long b = (n + per_block - 1) / per_block;
    if (b < 1) b = 1;
    if (b > 65535L * 32) b = 65535L * 32;
    return (unsigned)b;
}

static inline int is_aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

// ---- 8 floatX in one 16-byte access -----------------------------------------------------
#define PACK 8  // floatX per 16 bytes

__device__ __forceinline__ void load8(float out[PACK], const floatX *p) {
    int4 raw = *reinterpret_cast<const int4 *>(p);
    const floatX *v = reinterpret_cast<const floatX *>(&raw);
#pragma unroll
    for (int k = 0; k < PACK; k++) out[k] = __bfloat162float(v[k]);
}

__device__ __forceinline__ void store8(floatX *p, const float in[PACK]) {
    int4 raw;
    floatX *v = reinterpret_cast<floatX *>(&raw);
#pragma unroll
    for (int k = 0; k < PACK; k++) v[k] = __float2bfloat16_rn(in[k]);
    *reinterpret_cast<int4 *>(p) = raw;
}

// Chunk of up to 8 values starting at p[c] in a row of C: one 16-byte access when VEC
// (C % 8 == 0 and the row 16-byte aligned), element-wise with bounds otherwise (missing
// values read as 0 and are not written).
template <bool VEC>
__device__ __forceinline__ void load_chunk(float out[PACK], const floatX *p, long c, long C) {
    if (VEC) {
        load8(out, p + c);
    } else {
#pragma unroll
        for (int k = 0; k < PACK; k++) out[k] = c + k < C ? __bfloat162float(p[c + k]) : 0.0f;
    }
}

template <bool VEC>
__device__ __forceinline__ void store_chunk(floatX *p, const float in[PACK], long c, long C) {
    if (VEC) {
        store8(p + c, in);
    } else {
#pragma unroll
        for (int k = 0; k < PACK; k++)
            if (c + k < C) p[c + k] = __float2bfloat16_rn(in[k]);
    }
}

// 2^x on the special-function unit with results below 2^-126 flushed to zero
// (ex2.approx.ftz.f32). exp2f, expf's fast forms and __expf compile to the same MUFU.EX2
// wrapped in a compare and two predicated multiplies that keep those denormal results:
// three more instructions per exponential, which a softmax never needs.
__device__ __forceinline__ float exp2_ftz(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// ---- Reductions (fixed order: the same inputs give the same bits) -----------------------
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
// shared holds 32 values; the call ends with a barrier so shared may be reused.
template <typename T>
__device__ T block_sum(T v, T *shared) {
    int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE, nwarps = blockDim.x / WARP_SIZE;
    v = warp_sum(v);
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    T t = lane < nwarps ? shared[lane] : (T)0;
    t = warp_sum(t);
    __syncthreads();
    return t;
}

#endif
