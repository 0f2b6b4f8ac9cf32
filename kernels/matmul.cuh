// star: the one cuBLASLt call behind every matrix product of the CUDA backend, for kernels
// that need other strides or transposes (grouped projections, attention).
#ifndef STAR_KERNELS_MATMUL_CUH
#define STAR_KERNELS_MATMUL_CUH

#include "kernels/common.cuh"

// Column-major D [m,n] (leading dimension ldd, type dtype: CUDA_R_16BF or CUDA_R_32F)
//   = op(A) [m,k] x op(B) [k,n] + beta * D,
// A and B bf16 (stored k x m / n x k when transposed), fp32 accumulation and scale.
int matmul_lt(star_cuda *ctx, int transa, int transb, int m, int n, int k, const floatX *A, int lda,
              const floatX *B, int ldb, float beta, void *D, cudaDataType_t dtype, int ldd, cudaStream_t stream,
              star_error *err);

#endif
