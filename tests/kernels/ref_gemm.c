// The CPU operators' gemm (operators/matmul.h) for the kernel tests' reference library
// (star_kernels_ref, built without OpenBLAS): a double-accumulating loop.
#include "operators/matmul.h"

void gemm(int trans_a, int trans_b, int M, int N, int K, real alpha, const real *A, int lda, const real *B, int ldb,
          real beta, real *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = trans_a ? A[(long)k * lda + i] : A[(long)i * lda + k];
                double b = trans_b ? B[(long)j * ldb + k] : B[(long)k * ldb + j];
                s += a * b;
            }
            real *c = &C[(long)i * ldc + j];
            *c = (real)(alpha * s + (beta == 0 ? 0 : beta * (double)*c));
        }
}
