// star: matrix products through cuBLASLt, bf16 inputs with fp32 accumulation, in the
// layout of operators/matmul.h: activations row-major [N, C], weights [OC, C],
// out = inp @ w^T. cuBLASLt is column-major, so each row-major product is written as the
// column-major product of the transposes (a row-major [R, K] matrix is a column-major
// K x R one with leading dimension K):
//   forward  out^T [OC,N] = op_T(w)  [OC,C] x inp^T [C,N]
//   dinp     dinp^T [C,N] += w^T [C,OC] x dout^T [OC,N]
//   dw       dw^T  [C,OC] += inp^T [C,N] x op_T(dout^T) [N,OC]
// The backward products accumulate through beta = 1 (dinp with GRAD_SET: beta = 0, which
// never reads it); parameter gradients are fp32.
#include "kernels/common.cuh"
#include "kernels/device.cuh"
#include "kernels/matmul.cuh"

// Every cuBLASLt object made here is destroyed on every path: failures jump to done.
#define LT_TRY(call)                                                                                         \
    do {                                                                                                     \
        cublasStatus_t s_ = (call);                                                                          \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                                   \
            rc = star_fail_at(err, __FILE__, __LINE__, "cuBLAS error %d (%s) at %s:%d in %s", (int)s_,       \
                              cublasGetStatusString(s_), __FILE__, __LINE__, #call);                         \
            goto done;                                                                                       \
        }                                                                                                    \
    } while (0)

int matmul_lt(star_cuda *ctx, int transa, int transb, int m, int n, int k, const floatX *A, int lda,
              const floatX *B, int ldb, float beta, void *D, cudaDataType_t dtype, int ldd, cudaStream_t stream,
              star_error *err) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {  // an empty sum: D = beta D
        size_t elem = dtype == CUDA_R_32F ? sizeof(float) : sizeof(floatX);
        if (beta == 0.0f) cudaCheck(cudaMemsetAsync(D, 0, elem * (size_t)ldd * n, stream), err);
        return 0;
    }
    int rc = 0;
    float alpha = 1.0f;
    cublasOperation_t ta = transa ? CUBLAS_OP_T : CUBLAS_OP_N, tb = transb ? CUBLAS_OP_T : CUBLAS_OP_N;
    uint64_t ws = ctx->workspace_bytes;
    int found = 0;
    cublasLtMatmulHeuristicResult_t heur;
    cublasLtMatmulDesc_t desc = NULL;
    cublasLtMatrixLayout_t la = NULL, lb = NULL, ldl = NULL;
    cublasLtMatmulPreference_t pref = NULL;

    LT_TRY(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    LT_TRY(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    LT_TRY(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    // Stored shapes (column-major): A is m x k, or k x m when transposed; B likewise.
    LT_TRY(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, transa ? k : m, transa ? m : k, lda));
    LT_TRY(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, transb ? n : k, transb ? k : n, ldb));
    LT_TRY(cublasLtMatrixLayoutCreate(&ldl, dtype, m, n, ldd));
    LT_TRY(cublasLtMatmulPreferenceCreate(&pref));
    LT_TRY(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    LT_TRY(cublasLtMatmulAlgoGetHeuristic(ctx->lt, desc, la, lb, ldl, ldl, pref, 1, &heur, &found));
    if (found == 0) {
        rc = STAR_FAIL(err, "cuBLASLt has no algorithm for the product m=%d n=%d k=%d (transa %d, transb %d)", m, n,
                       k, transa, transb);
        goto done;
    }
    LT_TRY(cublasLtMatmul(ctx->lt, desc, &alpha, A, la, B, lb, &beta, D, ldl, D, ldl, &heur.algo, ctx->workspace,
                          ctx->workspace_bytes, stream));
done:
    // Teardown statuses matter only when all else succeeded.
    if (pref && cublasLtMatmulPreferenceDestroy(pref) != CUBLAS_STATUS_SUCCESS && rc == 0)
        rc = STAR_FAIL(err, "cublasLtMatmulPreferenceDestroy failed");
    if (ldl && cublasLtMatrixLayoutDestroy(ldl) != CUBLAS_STATUS_SUCCESS && rc == 0)
        rc = STAR_FAIL(err, "cublasLtMatrixLayoutDestroy failed");
    if (lb && cublasLtMatrixLayoutDestroy(lb) != CUBLAS_STATUS_SUCCESS && rc == 0)
        rc = STAR_FAIL(err, "cublasLtMatrixLayoutDestroy failed");
    if (la && cublasLtMatrixLayoutDestroy(la) != CUBLAS_STATUS_SUCCESS && rc == 0)
        rc = STAR_FAIL(err, "cublasLtMatrixLayoutDestroy failed");
    if (desc && cublasLtMatmulDescDestroy(desc) != CUBLAS_STATUS_SUCCESS && rc == 0)
        rc = STAR_FAIL(err, "cublasLtMatmulDescDestroy failed");
    return rc;
}

int matmul_forward_cuda(star_cuda *ctx, floatX *out, const floatX *inp, const floatX *w, int N, int C, int OC,
                        star_stream s, star_error *err) {
    return matmul_lt(ctx, 1, 0, OC, N, C, w, C, inp, C, 0.0f, out, CUDA_R_16BF, OC, s, err);
}

int matmul_forward_f32_cuda(star_cuda *ctx, float *out, const floatX *inp, const floatX *w, int N, int C, int OC,
                            star_stream s, star_error *err) {
    return matmul_lt(ctx, 1, 0, OC, N, C, w, C, inp, C, 0.0f, out, CUDA_R_32F, OC, s, err);
}

int matmul_backward_cuda(star_cuda *ctx, floatX *dinp, float *dw, const floatX *dout, const floatX *inp,
                         const floatX *w, int N, int C, int OC, grad_write dinp_mode, star_stream s, star_error *err) {
    float beta = dinp_mode == GRAD_SET ? 0.0f : 1.0f;
    if (dinp && matmul_lt(ctx, 0, 0, C, N, OC, w, C, dout, OC, beta, dinp, CUDA_R_16BF, C, s, err)) return -1;
    if (dw && matmul_lt(ctx, 0, 1, C, OC, N, inp, C, dout, OC, 1.0f, dw, CUDA_R_32F, C, s, err)) return -1;
    return 0;
}
