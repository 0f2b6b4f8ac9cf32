// star: the small element-wise and per-channel kernels the CUDA model needs between the
// operator kernels: the residual add, device copies, the diagonal output projection,
// block-diagonal (grouped) projections through a dense product, and the implicit filter
// of the gated long convolution (operators/long_conv.h's long_conv_filter_*).
#include <math.h>

#include "kernels/common.cuh"

extern "C" {
#include "operators/long_conv.h"  // LONG_CONV_T0
}

#define EW_THREADS 256

__global__ void add_kernel(floatX *out, const floatX *a, const floatX *b, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(__bfloat162float(a[i]) + __bfloat162float(b[i]));
}

int add_cuda(floatX *out, const floatX *a, const floatX *b, long n, star_stream s, star_error *err) {
    if (n <= 0) return 0;
    add_kernel<<<grid_for(n, EW_THREADS), EW_THREADS, 0, s>>>(out, a, b, n);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int star_cuda_copy(void *dst, const void *src, size_t bytes, star_stream s, star_error *err) {
    if (bytes) cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s), err);
    return 0;
}

// ---- diagonal output projection: y[n,c] = x[n,c] w[c] --------------------------------------
__global__ void scale_channels_forward_kernel(floatX *y, const floatX *x, const float *w, long N, int C) {
    long n = N * C;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16_rn(__bfloat162float(x[i]) * w[i % C]);
}

int scale_channels_forward_cuda(floatX *y, const floatX *x, const float *w, long N, int C, star_stream s,
                                star_error *err) {
    if (N * C <= 0) return 0;
    scale_channels_forward_kernel<<<grid_for(N * C, EW_THREADS), EW_THREADS, 0, s>>>(y, x, w, N, C);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

__global__ void scale_channels_dx_kernel(floatX *dx, const floatX *dy, const float *w, long N, int C, int add) {
    long n = N * C;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        float v = __bfloat162float(dy[i]) * w[i % C];
        dx[i] = __float2bfloat16_rn(add ? __bfloat162float(dx[i]) + v : v);
    }
}

// dw[c] += sum_n dy[n,c] x[n,c]: block (32 channels, 8 row lanes), rows summed in a fixed
// order per lane, then the 8 lanes in order (deterministic).
__global__ void scale_channels_dw_kernel(float *dw, const floatX *dy, const floatX *x, long N, int C) {
    __shared__ float part[8][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    float acc = 0.0f;
    if (c < C)
        for (long n = threadIdx.y; n < N; n += 8) acc += __bfloat162float(dy[n * C + c]) * __bfloat162float(x[n * C + c]);
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float t = 0.0f;
        for (int k = 0; k < 8; k++) t += part[k][threadIdx.x];
        dw[c] += t;
    }
}

int scale_channels_backward_cuda(floatX *dx, float *dw, const floatX *dy, const floatX *x, const float *w, long N,
                                 int C, grad_write dx_mode, star_stream s, star_error *err) {
    if (N * C <= 0) return 0;
    if (dx) {
        scale_channels_dx_kernel<<<grid_for(N * C, EW_THREADS), EW_THREADS, 0, s>>>(dx, dy, w, N, C, dx_mode == GRAD_ADD);
        cudaCheck(cudaGetLastError(), err);
    }
    if (dw) {
        scale_channels_dw_kernel<<<(C + 31) / 32, dim3(32, 8), 0, s>>>(dw, dy, x, N, C);
        cudaCheck(cudaGetLastError(), err);
    }
    return 0;
}

// ---- grouped (block-diagonal) projections --------------------------------------------------
// w [G][OC/G][C/G] (operators/matmul.h's grouped layout) <-> the dense [OC][C] matrix with
// the G blocks on its diagonal and zeros elsewhere.
__global__ void grouped_to_dense_kernel(floatX *dense, const floatX *w, int OC, int C, int G) {
    long n = (long)OC * C;
    int oc = OC / G, c = C / G;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int r = (int)(i / C), q = (int)(i % C), g = r / oc;
        dense[i] = q / c == g ? w[((long)g * oc + r % oc) * c + q % c] : __float2bfloat16_rn(0.0f);
    }
}

int grouped_to_dense_cuda(floatX *dense, const floatX *w, int OC, int C, int G, star_stream s, star_error *err) {
    if (G < 1 || OC % G || C % G) return STAR_FAIL(err, "grouped_to_dense_cuda: %d groups do not divide %dx%d", G, OC, C);
    long n = (long)OC * C;
    if (n <= 0) return 0;
    grouped_to_dense_kernel<<<grid_for(n, EW_THREADS), EW_THREADS, 0, s>>>(dense, w, OC, C, G);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

__global__ void grouped_grad_gather_kernel(float *dw, const float *ddense, int OC, int C, int G) {
    int oc = OC / G, c = C / G;
    long n = (long)OC * c;  // elements of the grouped tensor
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int r = (int)(i / c), q = (int)(i % c), g = r / oc;  // row r of [OC] rows of c values
        dw[i] += ddense[(long)r * C + (long)g * c + q];
    }
}

int grouped_grad_gather_cuda(float *dw, const float *ddense, int OC, int C, int G, star_stream s, star_error *err) {
    if (G < 1 || OC % G || C % G) return STAR_FAIL(err, "grouped_grad_gather_cuda: %d groups do not divide %dx%d", G, OC, C);
    long n = (long)OC * (C / G);
    if (n <= 0) return 0;
    grouped_grad_gather_kernel<<<grid_for(n, EW_THREADS), EW_THREADS, 0, s>>>(dw, ddense, OC, C, G);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// ---- implicit long-convolution filter (fp32, the CPU formulas in float) --------------------
#define LC_PI_D 3.14159265358979323846

__device__ __forceinline__ float softplus_f(float x) { return x > 20.0f ? x : log1pf(expf(x)); }
__device__ __forceinline__ float sigmoid_f(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float mode_angle(int m, int t) { return (float)(LC_PI_D * (m + 1) / LONG_CONV_T0) * (float)t; }

__global__ void filter_forward_kernel(float *h, const float *a, const float *b, const float *alpha, int C, int T, int M) {
    long n = (long)C * T;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int c = (int)(i / T), t = (int)(i % T);
        float acc = 0.0f;
        for (int m = 0; m < M; m++) {
            float wt = mode_angle(m, t);
            acc += a[(long)c * M + m] * cosf(wt) + b[(long)c * M + m] * sinf(wt);
        }
        h[i] = acc * expf(-softplus_f(alpha[c]) * t / LONG_CONV_T0);
    }
}

int long_conv_filter_forward_cuda(float *h, const float *a, const float *b, const float *alpha, int C, int T, int M,
                                  star_stream s, star_error *err) {
    long n = (long)C * T;
    if (n <= 0) return 0;
    filter_forward_kernel<<<grid_for(n, EW_THREADS), EW_THREADS, 0, s>>>(h, a, b, alpha, C, T, M);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// One block per channel, its threads over t. For each mode m, da and db are block sums of
// g_t cos(w_m t) and g_t sin(w_m t), g_t = dh[t] exp(-rate t); dalpha comes from the same
// terms, sum over m and t of g_t (a_m cos + b_m sin) (-t / T0), so each (m, t) angle is
// computed once. Every sum runs in a fixed order: deterministic.
#define FILTER_BWD_THREADS 256
__global__ void __launch_bounds__(FILTER_BWD_THREADS)
    filter_backward_kernel(float *da, float *db, float *dalpha, const float *dh, const float *a, const float *b,
                           const float *alpha, int T, int M) {
    __shared__ float red[32];
    int c = blockIdx.x;
    float rate = softplus_f(alpha[c]) / LONG_CONV_T0;
    const float *dhc = dh + (long)c * T;
    float gal = 0.0f;  // this thread's part of dalpha / sigmoid(alpha)
    for (int m = 0; m < M; m++) {
        float am = a[(long)c * M + m], bm = b[(long)c * M + m];
        float ga = 0.0f, gb = 0.0f;
        for (int t = threadIdx.x; t < T; t += FILTER_BWD_THREADS) {
            float wt = mode_angle(m, t), g = dhc[t] * expf(-rate * t);
            float cw = cosf(wt), sw = sinf(wt);
            ga += g * cw;
            gb += g * sw;
            gal += g * (am * cw + bm * sw) * (-(float)t / LONG_CONV_T0);
        }
        if (da || db) {  // uniform over the block
            ga = block_sum(ga, red);
            gb = block_sum(gb, red);
            if (threadIdx.x == 0) {
                if (da) da[(long)c * M + m] += ga;
                if (db) db[(long)c * M + m] += gb;
            }
        }
    }
    if (!dalpha) return;  // uniform over the block
    gal = block_sum(gal, red);
    if (threadIdx.x == 0) dalpha[c] += gal * sigmoid_f(alpha[c]);
}

int long_conv_filter_backward_cuda(float *da, float *db, float *dalpha, const float *dh, const float *a, const float *b,
                                   const float *alpha, int C, int T, int M, star_stream s, star_error *err) {
    if (C <= 0 || T <= 0) return 0;
    filter_backward_kernel<<<C, FILTER_BWD_THREADS, 0, s>>>(da, db, dalpha, dh, a, b, alpha, T, M);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}
