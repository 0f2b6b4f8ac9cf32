// star: RMS normalization, as operators/rmsnorm.c: y = x * rstd * w with
// rstd = 1 / sqrt(mean(x^2) + eps), and the fused residual variant that first forms
// sum = x + r. One warp per row: lanes take chunks of 8 channels (16-byte accesses when
// C % 8 == 0 and the pointers are aligned), the sum of squares is a warp reduction, and
// the second pass re-reads the row (from cache) to write y.
// Backward: dx = r g - x r^3 / C * sum(g x) with g = dy * w, one warp per row; dw sums
// dy x rstd over rows in two deterministic steps: fixed row ranges, each reduced in a
// fixed order into scratch, then the ranges summed in order. Where a
// block's 8 rows of fp32 partial sums fit in shared memory (C <= 1536), one kernel does
// dx and the partial sums together, reading dy and x once (rmsnorm_backward_fused_kernel).
#include "kernels/common.cuh"
#include "operators/rmsnorm.h"  // RMSNORM_EPS

// Row ranges: at most this many blocks of the fused kernel, enough for about 60 warps (and
// as many rows' loads in flight) on every SM of a Hopper.
#define RMSNORM_DW_SPLITS 1024
#define RMSNORM_DW_RANGES 64  // row ranges of rmsnorm_dw_partial_kernel (C > 1536)
#define ROWS_PER_BLOCK 8  // warps per block in the row kernels

__device__ __forceinline__ float round_bf16(float v) { return __bfloat162float(__float2bfloat16_rn(v)); }

template <bool VEC, bool RESIDUAL>
__global__ void rmsnorm_forward_kernel(floatX *sum, floatX *y, float *rstd, const floatX *x, const floatX *r,
                                       const floatX *w, long N, int C) {
    int lane = threadIdx.x % WARP_SIZE;
    long row = blockIdx.x * (long)ROWS_PER_BLOCK + threadIdx.x / WARP_SIZE;
    if (row >= N) return;
    const floatX *xr = x + row * C;
    floatX *yr = y + row * C;
    floatX *sr = RESIDUAL ? sum + row * C : NULL;
    float ss = 0.0f;
    for (int c = lane * PACK; c < C; c += WARP_SIZE * PACK) {
        float v[PACK];
        load_chunk<VEC>(v, xr, c, C);
        if (RESIDUAL) {
            float rv[PACK];
            load_chunk<VEC>(rv, r + row * C, c, C);
#pragma unroll
            for (int j = 0; j < PACK; j++) v[j] = round_bf16(v[j] + rv[j]);  // normalize what is stored
            store_chunk<VEC>(sr, v, c, C);
        }
#pragma unroll
        for (int j = 0; j < PACK; j++) ss += v[j] * v[j];
    }
    ss = warp_sum(ss);
    float rs = 1.0f / sqrtf(ss / C + (float)RMSNORM_EPS);
    if (lane == 0) rstd[row] = rs;
    // Each lane re-reads only the chunks it wrote itself, so sum may alias x or r.
    const floatX *src = RESIDUAL ? sr : xr;
    for (int c = lane * PACK; c < C; c += WARP_SIZE * PACK) {
        float v[PACK], wv[PACK];
        load_chunk<VEC>(v, src, c, C);
        if (w) load_chunk<VEC>(wv, w, c, C);
#pragma unroll
        for (int j = 0; j < PACK; j++) v[j] = v[j] * rs * (w ? wv[j] : 1.0f);
        store_chunk<VEC>(yr, v, c, C);
    }
}

template <bool VEC>
__global__ void rmsnorm_backward_dx_kernel(floatX *dx, const floatX *dy, const floatX *x, const floatX *w,
                                           const float *rstd, long N, int C) {
    int lane = threadIdx.x % WARP_SIZE;
    long row = blockIdx.x * (long)ROWS_PER_BLOCK + threadIdx.x / WARP_SIZE;
    if (row >= N) return;
    const floatX *xr = x + row * C, *dyr = dy + row * C;
    floatX *dxr = dx + row * C;
    float r = rstd[row];
    float dot = 0.0f;
    for (int c = lane * PACK; c < C; c += WARP_SIZE * PACK) {
        float xv[PACK], dyv[PACK], wv[PACK];
        load_chunk<VEC>(xv, xr, c, C);
        load_chunk<VEC>(dyv, dyr, c, C);
        if (w) load_chunk<VEC>(wv, w, c, C);
#pragma unroll
        for (int j = 0; j < PACK; j++) dot += dyv[j] * (w ? wv[j] : 1.0f) * xv[j];
    }
    dot = warp_sum(dot);
    float k = dot * r * r * r / C;
    for (int c = lane * PACK; c < C; c += WARP_SIZE * PACK) {
        float xv[PACK], dyv[PACK], wv[PACK], acc[PACK];
        load_chunk<VEC>(xv, xr, c, C);
        load_chunk<VEC>(dyv, dyr, c, C);
        load_chunk<VEC>(acc, dxr, c, C);
        if (w) load_chunk<VEC>(wv, w, c, C);
#pragma unroll
        for (int j = 0; j < PACK; j++) acc[j] += r * dyv[j] * (w ? wv[j] : 1.0f) - k * xv[j];
        store_chunk<VEC>(dxr, acc, c, C);
    }
}

// Block (32, 8) over 32 channels and one row range: thread (tx, ty) sums rows ty, ty + 8,
// ... of the range, then the 8 partial sums are added in ty order.
__global__ void rmsnorm_dw_partial_kernel(float *scratch, const floatX *dy, const floatX *x, const float *rstd, long N,
                                          int C) {
    __shared__ float part[8][WARP_SIZE];
    int tx = threadIdx.x, ty = threadIdx.y;
    int c = blockIdx.x * WARP_SIZE + tx;
    long per = (N + RMSNORM_DW_RANGES - 1) / RMSNORM_DW_RANGES;
    long r0 = blockIdx.y * per, r1 = r0 + per < N ? r0 + per : N;
    float acc = 0.0f;
    if (c < C)
        for (long n = r0 + ty; n < r1; n += 8)
            acc += __bfloat162float(dy[n * C + c]) * __bfloat162float(x[n * C + c]) * rstd[n];
    part[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && c < C) {
        float s = 0.0f;
        for (int k = 0; k < 8; k++) s += part[k][tx];
        scratch[(long)blockIdx.y * C + c] = s;
    }
}

// One block per row range, a warp per row as rmsnorm_backward_dx_kernel (DX: also dx).
// Each warp adds its rows' dy x rstd into its own fp32 partial sums in shared memory,
// stored [warp][j][chunk] for channel chunk * 8 + j so that a warp's lanes touch
// consecutive words; then the block adds its 8 warps' sums in order into scratch.
template <bool VEC, bool DX>
__global__ void rmsnorm_backward_fused_kernel(floatX *dx, float *scratch, const floatX *dy, const floatX *x,
                                              const floatX *w, const float *rstd, long N, int C) {
    extern __shared__ float part[];  // [ROWS_PER_BLOCK][PACK][nch]
    int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE, nch = (C + PACK - 1) / PACK;
    float *mine = part + (long)warp * PACK * nch;
    // Each lane zeroes the sums it alone adds to below (chunk lane + 32 k, every j), so no
    // lane reads what another wrote before the block's barrier.
    for (int ch = lane; ch < nch; ch += WARP_SIZE)
#pragma unroll
        for (int j = 0; j < PACK; j++) mine[j * nch + ch] = 0.0f;
    long per = (N + gridDim.x - 1) / gridDim.x;
    long r0 = blockIdx.x * per, r1 = r0 + per < N ? r0 + per : N;
    for (long row = r0 + warp; row < r1; row += ROWS_PER_BLOCK) {
        const floatX *xr = x + row * C, *dyr = dy + row * C;
        float r = rstd[row], k = 0.0f;
        if (DX) {
            float dot = 0.0f;
            for (int c = lane * PACK; c < C; c += WARP_SIZE * PACK) {
                float xv[PACK], dyv[PACK], wv[PACK];
                load_chunk<VEC>(xv, xr, c, C);
                load_chunk<VEC>(dyv, dyr, c, C);
                load_chunk<VEC>(wv, w, c, C);
#pragma unroll
                for (int j = 0; j < PACK; j++) dot += dyv[j] * wv[j] * xv[j];
            }
            k = warp_sum(dot) * r * r * r / C;
        }
        for (int c = lane * PACK; c < C; c += WARP_SIZE * PACK) {
            float xv[PACK], dyv[PACK], wv[PACK], acc[PACK];
            load_chunk<VEC>(xv, xr, c, C);
            load_chunk<VEC>(dyv, dyr, c, C);
            if (DX) {
                load_chunk<VEC>(acc, dx + row * C, c, C);
                load_chunk<VEC>(wv, w, c, C);
#pragma unroll
                for (int j = 0; j < PACK; j++) acc[j] += r * dyv[j] * wv[j] - k * xv[j];
                store_chunk<VEC>(dx + row * C, acc, c, C);
            }
#pragma unroll
            for (int j = 0; j < PACK; j++) mine[j * nch + c / PACK] += dyv[j] * xv[j] * r;
        }
    }
    __syncthreads();
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float s = 0.0f;
        for (int k = 0; k < ROWS_PER_BLOCK; k++) s += part[((long)k * PACK + c % PACK) * nch + c / PACK];
        scratch[(long)blockIdx.x * C + c] = s;
    }
}

// Block (32, 32) over 32 channels: thread (tx, ty) sums parts ty, ty + 32, ... of channel
// tx, then the 32 sums are added in ty order (up to 1024 parts: one serial loop per channel
// took 37 us a call at C 768, latency-bound).
__global__ void rmsnorm_dw_finish_kernel(float *dw, const float *scratch, int parts, int C) {
    __shared__ float part[32][WARP_SIZE + 1];
    int tx = threadIdx.x, ty = threadIdx.y, c = blockIdx.x * WARP_SIZE + tx;
    float s = 0.0f;
    if (c < C) {
#pragma unroll 8
        for (int k = ty; k < parts; k += 32) s += scratch[(long)k * C + c];
    }
    part[ty][tx] = s;
    __syncthreads();
    if (ty == 0 && c < C) {
        float t = 0.0f;
        for (int k = 0; k < 32; k++) t += part[k][tx];
        dw[c] += t;
    }
}

static void dw_finish(float *dw, const float *scratch, int parts, int C, star_stream s) {
    rmsnorm_dw_finish_kernel<<<(C + WARP_SIZE - 1) / WARP_SIZE, dim3(WARP_SIZE, 32), 0, s>>>(dw, scratch, parts, C);
}

static int rows_vec(int C, const void *a, const void *b, const void *c, const void *d) {
    return C % PACK == 0 && (!a || is_aligned16(a)) && (!b || is_aligned16(b)) && (!c || is_aligned16(c)) &&
           (!d || is_aligned16(d));
}

static unsigned row_blocks(long N) { return (unsigned)((N + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK); }

int rmsnorm_forward_cuda(floatX *y, float *rstd, const floatX *x, const floatX *w, long N, int C, star_stream s,
                         star_error *err) {
    if (N <= 0 || C <= 0) return 0;
    dim3 threads(ROWS_PER_BLOCK * WARP_SIZE);
    if (rows_vec(C, y, x, w, NULL))
        rmsnorm_forward_kernel<true, false><<<row_blocks(N), threads, 0, s>>>(NULL, y, rstd, x, NULL, w, N, C);
    else
        rmsnorm_forward_kernel<false, false><<<row_blocks(N), threads, 0, s>>>(NULL, y, rstd, x, NULL, w, N, C);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int rmsnorm_residual_forward_cuda(floatX *sum, floatX *y, float *rstd, const floatX *x, const floatX *r,
                                  const floatX *w, long N, int C, star_stream s, star_error *err) {
    if (N <= 0 || C <= 0) return 0;
    dim3 threads(ROWS_PER_BLOCK * WARP_SIZE);
    if (rows_vec(C, sum, y, x, r) && (!w || is_aligned16(w)))
        rmsnorm_forward_kernel<true, true><<<row_blocks(N), threads, 0, s>>>(sum, y, rstd, x, r, w, N, C);
    else
        rmsnorm_forward_kernel<false, true><<<row_blocks(N), threads, 0, s>>>(sum, y, rstd, x, r, w, N, C);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

long rmsnorm_backward_scratch_floats(int C) { return (long)RMSNORM_DW_SPLITS * C; }

int rmsnorm_backward_cuda(floatX *dx, float *dw, float *scratch, const floatX *dy, const floatX *x, const floatX *w,
                          const float *rstd, long N, int C, star_stream s, star_error *err) {
    if (N <= 0 || C <= 0) return 0;
    if (dw && !w) return STAR_FAIL(err, "rmsnorm_backward_cuda: dw given without a weight");
    if (dw && !scratch) return STAR_FAIL(err, "rmsnorm_backward_cuda: dw needs scratch");
    dim3 threads(ROWS_PER_BLOCK * WARP_SIZE);
    int vec = rows_vec(C, dx, dy, x, w);
    size_t fused_smem = sizeof(float) * ROWS_PER_BLOCK * PACK * ((C + PACK - 1) / PACK);
    if (dw && fused_smem <= 48 * 1024) {
        void (*kernel)(floatX *, float *, const floatX *, const floatX *, const floatX *, const float *, long, int) =
            dx ? (vec ? rmsnorm_backward_fused_kernel<true, true> : rmsnorm_backward_fused_kernel<false, true>)
               : (vec ? rmsnorm_backward_fused_kernel<true, false> : rmsnorm_backward_fused_kernel<false, false>);
        int parts = N < (long)RMSNORM_DW_SPLITS * ROWS_PER_BLOCK ? (int)row_blocks(N) : RMSNORM_DW_SPLITS;
        kernel<<<parts, threads, fused_smem, s>>>(dx, scratch, dy, x, w, rstd, N, C);
        cudaCheck(cudaGetLastError(), err);
        dw_finish(dw, scratch, parts, C, s);
        cudaCheck(cudaGetLastError(), err);
        return 0;
    }
    if (dx) {
        if (vec)
            rmsnorm_backward_dx_kernel<true><<<row_blocks(N), threads, 0, s>>>(dx, dy, x, w, rstd, N, C);
        else
            rmsnorm_backward_dx_kernel<false><<<row_blocks(N), threads, 0, s>>>(dx, dy, x, w, rstd, N, C);
        cudaCheck(cudaGetLastError(), err);
    }
    if (dw) {
        dim3 grid((C + WARP_SIZE - 1) / WARP_SIZE, RMSNORM_DW_RANGES), block(WARP_SIZE, 8);
        rmsnorm_dw_partial_kernel<<<grid, block, 0, s>>>(scratch, dy, x, rstd, N, C);
        cudaCheck(cudaGetLastError(), err);
        dw_finish(dw, scratch, RMSNORM_DW_RANGES, C, s);
        cudaCheck(cudaGetLastError(), err);
    }
    return 0;
}
