// star: device discovery, the per-device context (cuBLASLt handle and workspace), streams,
// device and pinned host memory, copies, and the floatX <-> fp32 conversions.
#include <stdlib.h>

#include "kernels/common.cuh"
#include "kernels/device.cuh"

int star_cuda_device_count(int *count, star_error *err) {
    *count = 0;
    cudaError_t e = cudaGetDeviceCount(count);
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) {
        (void)cudaGetLastError();  // clear it so the next checked call does not report it
        *count = 0;
        return 0;
    }
    cudaCheck(e, err);
    return 0;
}

int star_cuda_create(star_cuda **out, int device, star_error *err) {
    *out = NULL;
    cudaCheck(cudaSetDevice(device), err);
    star_cuda *ctx = (star_cuda *)calloc(1, sizeof *ctx);
    if (!ctx) return STAR_FAIL(err, "out of host memory for the CUDA context");
    ctx->device = device;
    ctx->workspace_bytes = STAR_CUBLASLT_WORKSPACE;
    cudaError_t e = cudaMalloc(&ctx->workspace, ctx->workspace_bytes);
    if (e != cudaSuccess) {
        free(ctx);
        cudaCheck(e, err);
    }
    cublasStatus_t s = cublasLtCreate(&ctx->lt);
    if (s != CUBLAS_STATUS_SUCCESS) {
        (void)cudaFree(ctx->workspace);  // already failing: report the first error
        free(ctx);
        cublasCheck(s, err);
    }
    *out = ctx;
    return 0;
}

int star_cuda_destroy(star_cuda *ctx, star_error *err) {
    if (!ctx) return 0;
    cublasStatus_t s = cublasLtDestroy(ctx->lt);
    cudaError_t e = cudaFree(ctx->workspace);
    free(ctx);
    cublasCheck(s, err);
    cudaCheck(e, err);
    return 0;
}

int star_cuda_malloc(void **ptr, size_t bytes, star_error *err) {
    *ptr = NULL;
    cudaCheck(cudaMalloc(ptr, bytes ? bytes : 1), err);
    return 0;
}

void star_cuda_clear_error(void) { (void)cudaGetLastError(); }

int star_cuda_free(void *ptr, star_error *err) {
    if (ptr) cudaCheck(cudaFree(ptr), err);
    return 0;
}

int star_cuda_upload(void *dst, const void *src, size_t bytes, star_error *err) {
    if (bytes) cudaCheck(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), err);
    return 0;
}

int star_cuda_download(void *dst, const void *src, size_t bytes, star_error *err) {
    if (bytes) cudaCheck(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), err);
    return 0;
}

int star_cuda_upload_async(void *dst, const void *src, size_t bytes, star_stream s, star_error *err) {
    if (bytes) cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s), err);
    return 0;
}

int star_cuda_download_async(void *dst, const void *src, size_t bytes, star_stream s, star_error *err) {
    if (bytes) cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), err);
    return 0;
}

int star_cuda_device_sync(star_error *err) {
    cudaCheck(cudaDeviceSynchronize(), err);
    return 0;
}

int star_cuda_stream_create(star_stream *s, star_error *err) {
    *s = NULL;
    cudaStream_t st;
    cudaCheck(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), err);
    *s = st;
    return 0;
}

int star_cuda_stream_destroy(star_stream s, star_error *err) {
    if (s) cudaCheck(cudaStreamDestroy(s), err);
    return 0;
}

int star_cuda_host_alloc(void **ptr, size_t bytes, star_error *err) {
    *ptr = NULL;
    cudaCheck(cudaMallocHost(ptr, bytes ? bytes : 1), err);
    return 0;
}

int star_cuda_host_free(void *ptr, star_error *err) {
    if (ptr) cudaCheck(cudaFreeHost(ptr), err);
    return 0;
}

int star_cuda_memset(void *ptr, int byte, size_t bytes, star_stream s, star_error *err) {
    if (bytes) cudaCheck(cudaMemsetAsync(ptr, byte, bytes, s), err);
    return 0;
}

int star_cuda_sync(star_stream s, star_error *err) {
    cudaCheck(cudaStreamSynchronize(s), err);
    return 0;
}

__global__ void cast_f32_to_bf16_kernel(floatX *out, const float *in, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(in[i]);
}

__global__ void cast_bf16_to_f32_kernel(float *out, const floatX *in, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        out[i] = __bfloat162float(in[i]);
}

int cast_f32_to_bf16_cuda(floatX *out, const float *in, long n, star_stream s, star_error *err) {
    if (n <= 0) return 0;
    cast_f32_to_bf16_kernel<<<grid_for(n, 256), 256, 0, s>>>(out, in, n);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int cast_bf16_to_f32_cuda(float *out, const floatX *in, long n, star_stream s, star_error *err) {
    if (n <= 0) return 0;
    cast_bf16_to_f32_kernel<<<grid_for(n, 256), 256, 0, s>>>(out, in, n);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}
