// star: AdamW over a list of tensors in one launch, as operators/adamw.c per element
// (fp32 master weights and moments, bias corrections in double on the host, the same fp32
// formula), plus the global gradient norm for clipping.
// Multi-tensor: the list's descriptors live on the device with a prefix of block counts;
// block b finds its tensor by binary search and takes ADAMW_CHUNK consecutive elements of
// it, so one launch covers every tensor however many there are. The norm uses the same
// mapping: each block writes its fp64 partial sum, one block adds the partials in order
// (deterministic) and stores the norm and the clip factor on the device, where the next
// update reads it without a round trip to the host.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common.cuh"

#define ADAMW_THREADS 256
#define ADAMW_PER_THREAD 8
#define ADAMW_CHUNK (ADAMW_THREADS * ADAMW_PER_THREAD)

struct adamw_list_cuda {
    int n_tensors;
    int n_blocks;                  // blocks of one launch over the whole list
    adamw_tensor_cuda *d_tensors;  // [n_tensors]
    int *d_block_start;            // [n_tensors + 1], prefix sums of each tensor's blocks
    double *d_partials;            // [n_blocks], norm partial sums
    double *d_norm_clip;           // [2]: last global norm and its clip factor
};

// The tensor holding block b: the last t with start[t] <= b (empty tensors have no block).
__device__ __forceinline__ int block_tensor(const int *start, int n_tensors, int b) {
    int lo = 0, hi = n_tensors - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (start[mid] <= b)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

// One kernel for both forms of the update: the constants by value (k_arg) or, when k_dev
// is set, read from device memory (a captured graph's step). The arithmetic after the
// choice is the same code, so both give the same bits. norm_clip: the list's [norm, clip
// factor]; guard (or NULL): skip the whole update unless *guard and the norm are finite.
__global__ void __launch_bounds__(ADAMW_THREADS) adamw_kernel(const adamw_tensor_cuda *tensors, const int *start,
                                                              int n_tensors, adamw_consts_cuda k_arg,
                                                              const adamw_consts_cuda *k_dev,
                                                              const double *norm_clip, int clip,
                                                              const double *guard) {
    if (guard && !(isfinite(*guard) && isfinite(norm_clip[0]))) return;
    const adamw_consts_cuda k = k_dev ? *k_dev : k_arg;
    int t = block_tensor(start, n_tensors, blockIdx.x);
    adamw_tensor_cuda T = tensors[t];
    long base = (long)(blockIdx.x - start[t]) * ADAMW_CHUNK;
    float gs = (float)(k.grad_scale * (clip ? norm_clip[1] : 1.0));
    float wd = T.decay ? k.wd : 0.0f;
#pragma unroll
    for (int j = 0; j < ADAMW_PER_THREAD; j++) {
        long i = base + j * ADAMW_THREADS + threadIdx.x;
        if (i >= T.n) break;
        float g = T.grad[i] * gs;
        float mi = k.b1 * T.m[i] + k.c1 * g;
        float vi = k.b2 * T.v[i] + k.c2 * g * g;
        T.m[i] = mi;
        T.v[i] = vi;
        float p = T.param[i];
        p -= k.lr * ((mi / k.bc1) / (sqrtf(vi / k.bc2) + k.eps) + wd * p);
        T.param[i] = p;
        if (T.param_bf16) T.param_bf16[i] = __float2bfloat16_rn(p);
    }
}

__global__ void __launch_bounds__(ADAMW_THREADS) grad_norm_partial_kernel(double *partials,
                                                                          const adamw_tensor_cuda *tensors,
                                                                          const int *start, int n_tensors) {
    __shared__ double part[32];
    int t = block_tensor(start, n_tensors, blockIdx.x);
    const float *g = tensors[t].grad;
    long n = tensors[t].n;
    long base = (long)(blockIdx.x - start[t]) * ADAMW_CHUNK;
    double s = 0.0;
#pragma unroll
    for (int j = 0; j < ADAMW_PER_THREAD; j++) {
        long i = base + j * ADAMW_THREADS + threadIdx.x;
        if (i < n) s += (double)g[i] * (double)g[i];
    }
    s = block_sum(s, part);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

// norm_clip[0] = sqrt(sum of partials); norm_clip[1] = grad_clip_scale(norm, max_norm).
__global__ void grad_norm_finish_kernel(double *norm_clip, const double *partials, int n_blocks, double max_norm) {
    __shared__ double part[32];
    double s = 0.0;
    for (int b = threadIdx.x; b < n_blocks; b += blockDim.x) s += partials[b];
    s = block_sum(s, part);
    if (threadIdx.x == 0) {
        double norm = sqrt(s);
        norm_clip[0] = norm;
        norm_clip[1] = (max_norm <= 0 || norm <= max_norm || norm == 0) ? 1.0 : max_norm / norm;
    }
}

int adamw_list_destroy_cuda(adamw_list_cuda *l, star_error *err) {
    if (!l) return 0;
    cudaError_t e[4] = {cudaFree(l->d_tensors), cudaFree(l->d_block_start), cudaFree(l->d_partials),
                        cudaFree(l->d_norm_clip)};
    free(l);
    for (int i = 0; i < 4; i++) cudaCheck(e[i], err);
    return 0;
}

int adamw_list_create_cuda(adamw_list_cuda **out, const adamw_tensor_cuda *tensors, int n_tensors, star_error *err) {
    *out = NULL;
    if (n_tensors <= 0) return STAR_FAIL(err, "adamw: empty tensor list");
    adamw_list_cuda *l = (adamw_list_cuda *)calloc(1, sizeof *l);
    int *start = (int *)malloc(sizeof(int) * (size_t)(n_tensors + 1));
    if (!l || !start) {
        free(l);
        free(start);
        return STAR_FAIL(err, "adamw: out of host memory for a list of %d tensors", n_tensors);
    }
    long blocks = 0;
    for (int t = 0; t < n_tensors; t++) {
        start[t] = (int)blocks;
        if (tensors[t].n < 0 || (tensors[t].n > 0 && (!tensors[t].param || !tensors[t].grad || !tensors[t].m ||
                                                      !tensors[t].v))) {
            free(l);
            free(start);
            return STAR_FAIL(err, "adamw: tensor %d of the list has n = %ld or a NULL array", t, tensors[t].n);
        }
        blocks += (tensors[t].n + ADAMW_CHUNK - 1) / ADAMW_CHUNK;
        if (blocks > 0x7fffffffL) {
            free(l);
            free(start);
            return STAR_FAIL(err, "adamw: the list needs more than 2^31 blocks");
        }
    }
    start[n_tensors] = (int)blocks;
    l->n_tensors = n_tensors;
    l->n_blocks = (int)blocks;
    cudaError_t e = cudaSuccess;
    if (e == cudaSuccess) e = cudaMalloc(&l->d_tensors, sizeof(adamw_tensor_cuda) * (size_t)n_tensors);
    if (e == cudaSuccess) e = cudaMalloc(&l->d_block_start, sizeof(int) * (size_t)(n_tensors + 1));
    if (e == cudaSuccess) e = cudaMalloc(&l->d_partials, sizeof(double) * (size_t)(blocks > 0 ? blocks : 1));
    if (e == cudaSuccess) e = cudaMalloc(&l->d_norm_clip, 2 * sizeof(double));
    if (e == cudaSuccess)
        e = cudaMemcpy(l->d_tensors, tensors, sizeof(adamw_tensor_cuda) * (size_t)n_tensors, cudaMemcpyHostToDevice);
    if (e == cudaSuccess)
        e = cudaMemcpy(l->d_block_start, start, sizeof(int) * (size_t)(n_tensors + 1), cudaMemcpyHostToDevice);
    const double norm_clip[2] = {0.0, 1.0};
    if (e == cudaSuccess) e = cudaMemcpy(l->d_norm_clip, norm_clip, sizeof norm_clip, cudaMemcpyHostToDevice);
    free(start);
    if (e != cudaSuccess) {
        adamw_list_destroy_cuda(l, NULL);
        cudaCheck(e, err);
    }
    *out = l;
    return 0;
}

int grad_global_norm_cuda(adamw_list_cuda *l, double max_norm, star_stream s, star_error *err) {
    if (l->n_blocks > 0) {
        grad_norm_partial_kernel<<<l->n_blocks, ADAMW_THREADS, 0, s>>>(l->d_partials, l->d_tensors, l->d_block_start,
                                                                       l->n_tensors);
        cudaCheck(cudaGetLastError(), err);
    }
    grad_norm_finish_kernel<<<1, 1024, 0, s>>>(l->d_norm_clip, l->d_partials, l->n_blocks, max_norm);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int grad_global_norm_copy_cuda(adamw_list_cuda *l, double *dst, star_stream s, star_error *err) {
    cudaCheck(cudaMemcpyAsync(dst, l->d_norm_clip, sizeof(double), cudaMemcpyDefault, s), err);
    return 0;
}

int grad_global_norm_read_cuda(adamw_list_cuda *l, double *norm, star_stream s, star_error *err) {
    if (grad_global_norm_copy_cuda(l, norm, s, err) != 0) return -1;
    cudaCheck(cudaStreamSynchronize(s), err);
    return 0;
}

int adamw_consts_make_cuda(adamw_consts_cuda *k, long t, adamw_hparams hp, double grad_scale, star_error *err) {
    if (t < 1) return STAR_FAIL(err, "adamw: step %ld (steps count from 1)", t);
    // The same float constants as the CPU update (1 - beta and the bias corrections in double).
    k->b1 = (float)hp.beta1;
    k->b2 = (float)hp.beta2;
    k->c1 = (float)(1 - hp.beta1);
    k->c2 = (float)(1 - hp.beta2);
    k->eps = (float)hp.eps;
    k->lr = (float)hp.lr;
    k->wd = (float)hp.weight_decay;
    k->bc1 = (float)(1.0 - pow(hp.beta1, (double)t));
    k->bc2 = (float)(1.0 - pow(hp.beta2, (double)t));
    k->grad_scale = grad_scale;
    return 0;
}

int adamw_update_cuda(adamw_list_cuda *l, long t, adamw_hparams hp, double grad_scale, int clip, star_stream s,
                      star_error *err) {
    adamw_consts_cuda k;
    if (adamw_consts_make_cuda(&k, t, hp, grad_scale, err) != 0) return -1;
    if (l->n_blocks == 0) return 0;
    adamw_kernel<<<l->n_blocks, ADAMW_THREADS, 0, s>>>(l->d_tensors, l->d_block_start, l->n_tensors, k, NULL,
                                                       l->d_norm_clip, clip, NULL);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int adamw_update_device_cuda(adamw_list_cuda *l, const adamw_consts_cuda *d_k, const double *guard, int clip,
                             star_stream s, star_error *err) {
    if (!d_k) return STAR_FAIL(err, "adamw_update_device_cuda: no device constants");
    if (l->n_blocks == 0) return 0;
    adamw_consts_cuda unused;
    memset(&unused, 0, sizeof unused);
    adamw_kernel<<<l->n_blocks, ADAMW_THREADS, 0, s>>>(l->d_tensors, l->d_block_start, l->n_tensors, unused, d_k,
                                                       l->d_norm_clip, clip, guard);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}
