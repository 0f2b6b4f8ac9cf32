// star: what `star bench --backend cuda` reports about the device: its name, memory in
// use, and the bf16 matrix-product peak measured on it (a large cuBLASLt product timed with
// CUDA events), the denominator of the model FLOPs utilization; and the range of a run
// that a profiler records.
#include <cuda_profiler_api.h>
#include <stdio.h>

#include "kernels/common.cuh"
#include "kernels/device.cuh"

int star_cuda_device_name(int device, char *name, size_t cap, star_error *err) {
    cudaDeviceProp prop;
    cudaCheck(cudaGetDeviceProperties(&prop, device), err);
    snprintf(name, cap, "%s", prop.name);
    return 0;
}

int star_cuda_memory_used(size_t *used, size_t *total, star_error *err) {
    size_t free_b = 0, total_b = 0;
    cudaCheck(cudaMemGetInfo(&free_b, &total_b), err);
    *used = total_b - free_b;
    if (total) *total = total_b;
    return 0;
}

int star_cuda_profile_range(int on, star_error *err) {
    if (on) cudaCheck(cudaProfilerStart(), err);
    else cudaCheck(cudaProfilerStop(), err);
    return 0;
}

__global__ void fill_bf16_kernel(floatX *p, long n, uint32_t seed) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        uint32_t x = (uint32_t)i * 2654435761u ^ seed;
        x ^= x >> 13;
        x *= 0x5bd1e995u;
        x ^= x >> 15;
        p[i] = __float2bfloat16_rn(((x & 0xffff) / 65536.0f - 0.5f) * 0.1f);
    }
}

int matmul_peak_tflops_cuda(star_cuda *ctx, int n, int reps, double *tflops, star_error *err) {
    *tflops = 0;
    if (n < 256 || reps < 1) return STAR_FAIL(err, "matmul_peak_tflops_cuda: n %d (>= 256) or reps %d (>= 1)", n, reps);
    size_t elems = (size_t)n * n;
    floatX *a = NULL, *b = NULL, *c = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    int rc = -1;
    float ms = 0;
    if (star_cuda_malloc((void **)&a, elems * sizeof(floatX), err) || star_cuda_malloc((void **)&b, elems * sizeof(floatX), err) ||
        star_cuda_malloc((void **)&c, elems * sizeof(floatX), err))
        goto out;
    fill_bf16_kernel<<<grid_for((long)elems, 256), 256>>>(a, (long)elems, 1u);
    fill_bf16_kernel<<<grid_for((long)elems, 256), 256>>>(b, (long)elems, 2u);
    if (cudaGetLastError() != cudaSuccess) {
        STAR_FAIL(err, "matmul_peak_tflops_cuda: fill kernel launch failed");
        goto out;
    }
    if (cudaEventCreate(&e0) != cudaSuccess || cudaEventCreate(&e1) != cudaSuccess) {
        STAR_FAIL(err, "matmul_peak_tflops_cuda: cudaEventCreate failed");
        goto out;
    }
    for (int w = 0; w < 2; w++)  // warm-up: heuristics, clocks
        if (matmul_forward_cuda(ctx, c, a, b, n, n, n, NULL, err) != 0) goto out;
    cudaEventRecord(e0, NULL);
    for (int r = 0; r < reps; r++)
        if (matmul_forward_cuda(ctx, c, a, b, n, n, n, NULL, err) != 0) goto out;
    cudaEventRecord(e1, NULL);
    if (cudaEventSynchronize(e1) != cudaSuccess || cudaEventElapsedTime(&ms, e0, e1) != cudaSuccess || ms <= 0) {
        STAR_FAIL(err, "matmul_peak_tflops_cuda: timing the products failed");
        goto out;
    }
    *tflops = 2.0 * n * (double)n * n * reps / (ms * 1e-3) / 1e12;
    rc = 0;
out:
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    star_error ignore;
    star_cuda_free(a, &ignore);
    star_cuda_free(b, &ignore);
    star_cuda_free(c, &ignore);
    return rc;
}
