// star: causal long convolution, as operators/long_conv.c (the filter path of the gated
// long convolution), through cuFFT in fp32:
//   y[b,t,c] = sum_{s<=t} h[c][s] x[b,t-s,c] + skip[c] x[b,t,c]
// Each (b, c) sequence is copied into a zero-padded fp32 row of n = 2^k >= 2T values, so
// the circular product of the transforms is the causal one (and the backward's
// correlations do not wrap). One batched real-to-complex plan over the B*C rows, one over
// the C filter rows, and the two inverses. 1/n is folded into the spectral product.
// Backward:
//   dx = IFFT(FFT(dy) conj(FFT(h)))[0, T) + skip dy
//   dh[c] = IFFT(sum_b FFT(dy_b) conj(FFT(x_b)))[0, T)    (spectra summed over b in order)
//   dskip[c] = sum_{b,t} dy x                              (fixed order, no atomics)
// The plan holds the cuFFT plans and the buffers for one shape (B, T, C).
#include <cufft.h>
#include <stdlib.h>

#include "kernels/common.cuh"

#define cufftCheck(call, err)                                                                               \
    do {                                                                                                    \
        cufftResult r_ = (call);                                                                            \
        if (r_ != CUFFT_SUCCESS)                                                                            \
            return star_fail_at((err), __FILE__, __LINE__, "cuFFT error %d at %s:%d in %s", (int)r_, __FILE__, \
                                __LINE__, #call);                                                           \
    } while (0)

struct long_conv_plan_cuda {
    int B, T, C, n, nc;
    cufftHandle r2c_rows, c2r_rows, r2c_filt, c2r_filt;
    int have[4];
    float *R;         // [B*C][n] real rows
    cufftComplex *X;  // [B*C][nc]
    cufftComplex *Y;  // [B*C][nc]
    cufftComplex *Hf; // [C][nc]
    float *part;      // [LC_DSKIP_SPLITS][C] dskip partials
};

// R[(b C + c) n + t] = src[(b T + t) C + c] for t < T (the padding stays as memset): a
// 32 x 32 (t, c) tile through shared memory, so both the read and the write are coalesced.
// Grid (C/32, T/32, B), block (32, 8).
__global__ void lc_pack_kernel(float *R, const floatX *src, int T, int C, int n) {
    __shared__ float tile[32][33];
    int b = blockIdx.z, t0 = blockIdx.y * 32, c0 = blockIdx.x * 32, tx = threadIdx.x;
    for (int j = threadIdx.y; j < 32; j += 8) {
        int t = t0 + j, c = c0 + tx;
        tile[j][tx] = t < T && c < C ? __bfloat162float(src[((long)b * T + t) * C + c]) : 0.0f;
    }
    __syncthreads();
    for (int j = threadIdx.y; j < 32; j += 8) {
        int c = c0 + j, t = t0 + tx;
        if (c < C && t < T) R[((long)b * C + c) * n + t] = tile[tx][j];
    }
}

__global__ void lc_pack_filter_kernel(float *R, const float *h, int C, int T, int n) {
    long total = (long)C * n;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        long c = i / n;
        int t = (int)(i % n);
        R[i] = t < T ? h[c * T + t] : 0.0f;
    }
}

// Z[(b C + c)][i] = X[(b C + c)][i] * (conj ? conj(F[c][i]) : F[c][i]) * inv_n
__global__ void lc_cmul_kernel(cufftComplex *Z, const cufftComplex *X, const cufftComplex *F, int B, int C, int nc,
                               int conj, float inv_n) {
    long total = (long)B * C * nc;
    for (long k = blockIdx.x * (long)blockDim.x + threadIdx.x; k < total; k += (long)gridDim.x * blockDim.x) {
        int i = (int)(k % nc);
        int c = (int)((k / nc) % C);
        cufftComplex u = X[k], v = F[(long)c * nc + i];
        if (conj) v.y = -v.y;
        cufftComplex z;
        z.x = (u.x * v.x - u.y * v.y) * inv_n;
        z.y = (u.x * v.y + u.y * v.x) * inv_n;
        Z[k] = z;
    }
}

// DH[c][i] = inv_n * sum_b DY[b,c][i] conj(X[b,c][i])  (b in order)
__global__ void lc_dh_spectrum_kernel(cufftComplex *DH, const cufftComplex *DY, const cufftComplex *X, int B, int C,
                                      int nc, float inv_n) {
    long total = (long)C * nc;
    for (long k = blockIdx.x * (long)blockDim.x + threadIdx.x; k < total; k += (long)gridDim.x * blockDim.x) {
        float re = 0.0f, im = 0.0f;
        for (int b = 0; b < B; b++) {
            cufftComplex u = DY[(long)b * total + k], v = X[(long)b * total + k];
            re += u.x * v.x + u.y * v.y;
            im += u.y * v.x - u.x * v.y;
        }
        DH[k].x = re * inv_n;
        DH[k].y = im * inv_n;
    }
}

// out[b,t,c] = bf16((acc ? out : 0) + R[(b C + c) n + t] + skip[c] s[b,t,c]): the pack's
// tile transpose the other way. Grid (C/32, T/32, B), block (32, 8).
__global__ void lc_unpack_kernel(floatX *out, const float *R, const float *skip, const floatX *src, int T, int C, int n,
                                 int acc) {
    __shared__ float tile[32][33];
    int b = blockIdx.z, t0 = blockIdx.y * 32, c0 = blockIdx.x * 32, tx = threadIdx.x;
    for (int j = threadIdx.y; j < 32; j += 8) {
        int c = c0 + j, t = t0 + tx;
        tile[j][tx] = c < C && t < T ? R[((long)b * C + c) * n + t] : 0.0f;
    }
    __syncthreads();
    for (int j = threadIdx.y; j < 32; j += 8) {
        int t = t0 + j, c = c0 + tx;
        if (t >= T || c >= C) continue;
        long i = ((long)b * T + t) * C + c;
        float v = tile[tx][j];
        if (skip) v += skip[c] * __bfloat162float(src[i]);
        if (acc) v += __bfloat162float(out[i]);
        out[i] = __float2bfloat16_rn(v);
    }
}

// dh[c][k] += R[c n + k] for k < T
__global__ void lc_dh_unpack_kernel(float *dh, const float *R, int C, int T, int n) {
    long total = (long)C * T;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        long c = i / T;
        int k = (int)(i % T);
        dh[i] += R[c * n + k];
    }
}

// dskip[c] += sum_{b,t} dy x in two fixed-order steps: LC_DSKIP_SPLITS row ranges x 32
// channels per block (rows ty, ty + 8, ... of the range, the 8 partials in order) into
// part [splits][C], then the ranges in order.
#define LC_DSKIP_SPLITS 64
__global__ void lc_dskip_partial_kernel(float *part, const floatX *dy, const floatX *x, long BT, int C) {
    __shared__ float p8[8][WARP_SIZE];
    int tx = threadIdx.x, ty = threadIdx.y, c = blockIdx.x * WARP_SIZE + tx;
    long per = (BT + LC_DSKIP_SPLITS - 1) / LC_DSKIP_SPLITS;
    long r0 = blockIdx.y * per, r1 = r0 + per < BT ? r0 + per : BT;
    float acc = 0.0f;
    if (c < C)
        for (long r = r0 + ty; r < r1; r += 8) acc += __bfloat162float(dy[r * C + c]) * __bfloat162float(x[r * C + c]);
    p8[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && c < C) {
        float s = 0.0f;
        for (int j = 0; j < 8; j++) s += p8[j][tx];
        part[(long)blockIdx.y * C + c] = s;
    }
}

__global__ void lc_dskip_finish_kernel(float *dskip, const float *part, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float s = 0.0f;
    for (int j = 0; j < LC_DSKIP_SPLITS; j++) s += part[(long)j * C + c];
    dskip[c] += s;
}

int long_conv_plan_destroy_cuda(long_conv_plan_cuda *p, star_error *err) {
    if (!p) return 0;
    cufftHandle hs[4] = {p->r2c_rows, p->c2r_rows, p->r2c_filt, p->c2r_filt};
    cufftResult r = CUFFT_SUCCESS;
    for (int i = 0; i < 4; i++)
        if (p->have[i]) {
            cufftResult ri = cufftDestroy(hs[i]);
            if (r == CUFFT_SUCCESS) r = ri;
        }
    cudaError_t e = cudaSuccess, ei;
    void *bufs[5] = {p->R, p->X, p->Y, p->Hf, p->part};
    for (int i = 0; i < 5; i++)
        if (bufs[i] && (ei = cudaFree(bufs[i])) != cudaSuccess && e == cudaSuccess) e = ei;
    free(p);
    cufftCheck(r, err);
    cudaCheck(e, err);
    return 0;
}

// Builds the plan into p (already zeroed); on failure the caller destroys what was made.
static int lc_plan_fill(long_conv_plan_cuda *p, star_error *err) {
    long rows = (long)p->B * p->C;
    if (rows > 0x7fffffffL) return STAR_FAIL(err, "long_conv_plan_create_cuda: B*C = %ld rows is too many", rows);
    cufftCheck(cufftPlan1d(&p->r2c_rows, p->n, CUFFT_R2C, (int)rows), err);
    p->have[0] = 1;
    cufftCheck(cufftPlan1d(&p->c2r_rows, p->n, CUFFT_C2R, (int)rows), err);
    p->have[1] = 1;
    cufftCheck(cufftPlan1d(&p->r2c_filt, p->n, CUFFT_R2C, p->C), err);
    p->have[2] = 1;
    cufftCheck(cufftPlan1d(&p->c2r_filt, p->n, CUFFT_C2R, p->C), err);
    p->have[3] = 1;
    cudaCheck(cudaMalloc(&p->R, sizeof(float) * rows * p->n), err);
    cudaCheck(cudaMalloc(&p->X, sizeof(cufftComplex) * rows * p->nc), err);
    cudaCheck(cudaMalloc(&p->Y, sizeof(cufftComplex) * rows * p->nc), err);
    cudaCheck(cudaMalloc(&p->Hf, sizeof(cufftComplex) * (long)p->C * p->nc), err);
    cudaCheck(cudaMalloc(&p->part, sizeof(float) * LC_DSKIP_SPLITS * p->C), err);
    return 0;
}

int long_conv_plan_create_cuda(long_conv_plan_cuda **out, int B, int T, int C, star_error *err) {
    *out = NULL;
    if (B < 1 || T < 1 || C < 1 || T > 65535 * 32 || B > 65535)
        return STAR_FAIL(err, "long_conv_plan_create_cuda: bad shape B=%d T=%d C=%d", B, T, C);
    long_conv_plan_cuda *p = (long_conv_plan_cuda *)calloc(1, sizeof *p);
    if (!p) return STAR_FAIL(err, "long_conv_plan_create_cuda: out of host memory");
    p->B = B, p->T = T, p->C = C;
    p->n = 2;
    while (p->n < 2 * T) p->n *= 2;
    p->nc = p->n / 2 + 1;
    if (lc_plan_fill(p, err)) {
        long_conv_plan_destroy_cuda(p, NULL);  // report the first error
        return -1;
    }
    *out = p;
    return 0;
}

// The pack / unpack tiles: (C/32, T/32, B).
static dim3 lc_tiles(const long_conv_plan_cuda *p) {
    return dim3((unsigned)((p->C + 31) / 32), (unsigned)((p->T + 31) / 32), (unsigned)p->B);
}

static int lc_set_stream(long_conv_plan_cuda *p, cudaStream_t s, star_error *err) {
    cufftCheck(cufftSetStream(p->r2c_rows, s), err);
    cufftCheck(cufftSetStream(p->c2r_rows, s), err);
    cufftCheck(cufftSetStream(p->r2c_filt, s), err);
    cufftCheck(cufftSetStream(p->c2r_filt, s), err);
    return 0;
}

// Hf = FFT of the zero-padded filter rows (uses R).
static int lc_filter_spectrum(long_conv_plan_cuda *p, const float *h, cudaStream_t s, star_error *err) {
    lc_pack_filter_kernel<<<grid_for((long)p->C * p->n, 256), 256, 0, s>>>(p->R, h, p->C, p->T, p->n);
    cudaCheck(cudaGetLastError(), err);
    cufftCheck(cufftExecR2C(p->r2c_filt, p->R, p->Hf), err);
    return 0;
}

// Z = FFT of the zero-padded rows of src [B,T,C] (uses R).
static int lc_rows_spectrum(long_conv_plan_cuda *p, cufftComplex *Z, const floatX *src, cudaStream_t s,
                            star_error *err) {
    cudaCheck(cudaMemsetAsync(p->R, 0, sizeof(float) * (size_t)p->B * p->C * p->n, s), err);
    lc_pack_kernel<<<lc_tiles(p), dim3(32, 8), 0, s>>>(p->R, src, p->T, p->C, p->n);
    cudaCheck(cudaGetLastError(), err);
    cufftCheck(cufftExecR2C(p->r2c_rows, p->R, Z), err);
    return 0;
}

int long_conv_forward_cuda(long_conv_plan_cuda *p, floatX *y, const floatX *x, const float *h, const float *skip,
                           star_stream s, star_error *err) {
    int B = p->B, T = p->T, C = p->C, n = p->n, nc = p->nc;
    if (lc_set_stream(p, s, err) || lc_filter_spectrum(p, h, s, err) || lc_rows_spectrum(p, p->X, x, s, err))
        return -1;
    lc_cmul_kernel<<<grid_for((long)B * C * nc, 256), 256, 0, s>>>(p->X, p->X, p->Hf, B, C, nc, 0, 1.0f / n);
    cudaCheck(cudaGetLastError(), err);
    cufftCheck(cufftExecC2R(p->c2r_rows, p->X, p->R), err);
    lc_unpack_kernel<<<lc_tiles(p), dim3(32, 8), 0, s>>>(y, p->R, skip, x, T, C, n, 0);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int long_conv_backward_cuda(long_conv_plan_cuda *p, floatX *dx, float *dh, float *dskip, const floatX *dy,
                            const floatX *x, const float *h, const float *skip, star_stream s, star_error *err) {
    int B = p->B, T = p->T, C = p->C, n = p->n, nc = p->nc;
    if (lc_set_stream(p, s, err)) return -1;
    if (dx || dh)
        if (lc_rows_spectrum(p, p->X, dy, s, err)) return -1;  // X = FFT(dy)
    if (dh) {
        if (lc_rows_spectrum(p, p->Y, x, s, err)) return -1;  // Y = FFT(x)
        lc_dh_spectrum_kernel<<<grid_for((long)C * nc, 256), 256, 0, s>>>(p->Hf, p->X, p->Y, B, C, nc, 1.0f / n);
        cudaCheck(cudaGetLastError(), err);
        cufftCheck(cufftExecC2R(p->c2r_filt, p->Hf, p->R), err);
        lc_dh_unpack_kernel<<<grid_for((long)C * T, 256), 256, 0, s>>>(dh, p->R, C, T, n);
        cudaCheck(cudaGetLastError(), err);
    }
    if (dx) {
        if (lc_filter_spectrum(p, h, s, err)) return -1;
        lc_cmul_kernel<<<grid_for((long)B * C * nc, 256), 256, 0, s>>>(p->X, p->X, p->Hf, B, C, nc, 1, 1.0f / n);
        cudaCheck(cudaGetLastError(), err);
        cufftCheck(cufftExecC2R(p->c2r_rows, p->X, p->R), err);
        lc_unpack_kernel<<<lc_tiles(p), dim3(32, 8), 0, s>>>(dx, p->R, skip, dy, T, C, n, 1);
        cudaCheck(cudaGetLastError(), err);
    }
    if (dskip) {
        dim3 grid((C + WARP_SIZE - 1) / WARP_SIZE, LC_DSKIP_SPLITS), block(WARP_SIZE, 8);
        lc_dskip_partial_kernel<<<grid, block, 0, s>>>(p->part, dy, x, (long)B * T, C);
        cudaCheck(cudaGetLastError(), err);
        lc_dskip_finish_kernel<<<(C + 255) / 256, 256, 0, s>>>(dskip, p->part, C);
        cudaCheck(cudaGetLastError(), err);
    }
    return 0;
}
