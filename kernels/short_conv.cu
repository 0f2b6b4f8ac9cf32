// star: depthwise causal short convolution, as operators/short_conv.c:
//   y[b,t,c] = sum_{k<K} w[c][k] x[b,t-k,c]   (x = 0 before t = 0), K <= SHORT_CONV_K_MAX.
// Forward and dx: one thread per output element (channels fastest, so each tap reads a
// contiguous row; the K rows a block touches come from cache). dw: fixed row ranges x 32
// channels per block, each thread summing its K taps over rows ty, ty + 8, ... of the
// range, the 8 partials added in order into scratch, then the ranges summed in order:
// deterministic, no atomics (the rmsnorm dw scheme).
#include "kernels/common.cuh"

#define SHORT_CONV_K_MAX 16
#define SHORT_CONV_DW_SPLITS 64

__global__ void short_conv_forward_kernel(floatX *y, const floatX *x, const floatX *w, long BT, int T, int C, int K) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < BT * C; i += (long)gridDim.x * blockDim.x) {
        long bt = i / C;
        int c = (int)(i % C), t = (int)(bt % T);
        float acc = 0.0f;
        for (int k = 0; k < K && k <= t; k++)
            acc += __bfloat162float(w[(long)c * K + k]) * __bfloat162float(x[i - (long)k * C]);
        y[i] = __float2bfloat16_rn(acc);
    }
}

// dx[b,s,c] += sum_{k, s+k<T} w[c][k] dy[b,s+k,c]   (= when !add)
__global__ void short_conv_dx_kernel(floatX *dx, const floatX *dy, const floatX *w, long BT, int T, int C, int K,
                                     int add) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < BT * C; i += (long)gridDim.x * blockDim.x) {
        long bt = i / C;
        int c = (int)(i % C), s = (int)(bt % T);
        float acc = 0.0f;
        for (int k = 0; k < K && s + k < T; k++)
            acc += __bfloat162float(w[(long)c * K + k]) * __bfloat162float(dy[i + (long)k * C]);
        dx[i] = __float2bfloat16_rn(add ? __bfloat162float(dx[i]) + acc : acc);
    }
}

// Block (32, 8) over 32 channels and one range of the B*T rows: scratch[split][c][k].
__global__ void short_conv_dw_partial_kernel(float *scratch, const floatX *dy, const floatX *x, long BT, int T, int C,
                                             int K) {
    __shared__ float part[8][WARP_SIZE][SHORT_CONV_K_MAX + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int c = blockIdx.x * WARP_SIZE + tx;
    long per = (BT + SHORT_CONV_DW_SPLITS - 1) / SHORT_CONV_DW_SPLITS;
    long r0 = blockIdx.y * per, r1 = r0 + per < BT ? r0 + per : BT;
    float acc[SHORT_CONV_K_MAX];
#pragma unroll
    for (int k = 0; k < SHORT_CONV_K_MAX; k++) acc[k] = 0.0f;
    if (c < C)
        for (long n = r0 + ty; n < r1; n += 8) {
            float g = __bfloat162float(dy[n * C + c]);
            int t = (int)(n % T);
#pragma unroll
            for (int k = 0; k < SHORT_CONV_K_MAX; k++)
                if (k < K && k <= t) acc[k] += g * __bfloat162float(x[(n - k) * C + c]);
        }
    for (int k = 0; k < K; k++) part[ty][tx][k] = acc[k];
    __syncthreads();
    if (ty == 0 && c < C)
        for (int k = 0; k < K; k++) {
            float s = 0.0f;
            for (int j = 0; j < 8; j++) s += part[j][tx][k];
            scratch[((long)blockIdx.y * C + c) * K + k] = s;
        }
}

__global__ void short_conv_dw_finish_kernel(float *dw, const float *scratch, int C, int K) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= C * K) return;
    float s = 0.0f;
    for (int j = 0; j < SHORT_CONV_DW_SPLITS; j++) s += scratch[(long)j * C * K + i];
    dw[i] += s;
}

static int short_conv_check(const char *what, int B, int T, int C, int K, star_error *err) {
    if (B < 1 || T < 1 || C < 1 || K < 1 || K > SHORT_CONV_K_MAX)
        return STAR_FAIL(err, "%s: bad shape B=%d T=%d C=%d K=%d (K must be in [1, %d])", what, B, T, C, K,
                         SHORT_CONV_K_MAX);
    return 0;
}

int short_conv_forward_cuda(floatX *y, const floatX *x, const floatX *w, int B, int T, int C, int K, star_stream s,
                            star_error *err) {
    if (short_conv_check("short_conv_forward_cuda", B, T, C, K, err)) return -1;
    long BT = (long)B * T;
    short_conv_forward_kernel<<<grid_for(BT * C, 256), 256, 0, s>>>(y, x, w, BT, T, C, K);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

long short_conv_backward_scratch_floats(int C, int K) { return (long)SHORT_CONV_DW_SPLITS * C * K; }

int short_conv_backward_cuda(floatX *dx, float *dw, float *scratch, const floatX *dy, const floatX *x, const floatX *w,
                             int B, int T, int C, int K, grad_write dx_mode, star_stream s, star_error *err) {
    if (short_conv_check("short_conv_backward_cuda", B, T, C, K, err)) return -1;
    if (dw && !scratch) return STAR_FAIL(err, "short_conv_backward_cuda: dw needs scratch");
    long BT = (long)B * T;
    if (dx) {
        short_conv_dx_kernel<<<grid_for(BT * C, 256), 256, 0, s>>>(dx, dy, w, BT, T, C, K, dx_mode == GRAD_ADD);
        cudaCheck(cudaGetLastError(), err);
    }
    if (dw) {
        dim3 grid((C + WARP_SIZE - 1) / WARP_SIZE, SHORT_CONV_DW_SPLITS), block(WARP_SIZE, 8);
        short_conv_dw_partial_kernel<<<grid, block, 0, s>>>(scratch, dy, x, BT, T, C, K);
        cudaCheck(cudaGetLastError(), err);
        short_conv_dw_finish_kernel<<<(C * K + 255) / 256, 256, 0, s>>>(dw, scratch, C, K);
        cudaCheck(cudaGetLastError(), err);
    }
    return 0;
}
