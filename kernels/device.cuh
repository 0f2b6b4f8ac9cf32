// star: the per-device context behind the opaque star_cuda of kernels.h.
#ifndef STAR_KERNELS_DEVICE_CUH
#define STAR_KERNELS_DEVICE_CUH

#include "kernels/common.cuh"

// cuBLASLt workspace: 32 MiB, what NVIDIA recommends for Hopper.
#define STAR_CUBLASLT_WORKSPACE ((size_t)32 << 20)

struct star_cuda {
    int device;
    cublasLtHandle_t lt;
    void *workspace;
    size_t workspace_bytes;
};

#endif
