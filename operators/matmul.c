#include "operators/matmul.h"

#include <cblas.h>

void gemm(int trans_a, int trans_b, int M, int N, int K, real alpha, const real *A, int lda, const real *B, int ldb,
          real beta, real *C, int ldc) {
    if (M <= 0 || N <= 0) return;
#ifdef STAR_REAL_DOUBLE
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
#else
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

void matmul_forward(real *out, const real *inp, const real *w, int N, int C, int OC) {
    gemm(0, 1, N, OC, C, 1, inp, C, w, C, 0, out, OC);
}

void matmul_backward(real *dinp, real *dw, const real *dout, const real *inp, const real *w, int N, int C, int OC) {
    if (dinp) gemm(0, 0, N, C, OC, 1, dout, OC, w, C, 1, dinp, C);
    if (dw) gemm(1, 0, OC, C, N, 1, dout, OC, inp, C, 1, dw, C);
}

void matmul_grouped_forward(real *out, const real *inp, const real *w, int N, int C, int OC, int G) {
    int c = C / G, oc = OC / G;
    for (int g = 0; g < G; g++)
        gemm(0, 1, N, oc, c, 1, inp + g * c, C, w + (long)g * oc * c, c, 0, out + g * oc, OC);
}

void matmul_grouped_backward(real *dinp, real *dw, const real *dout, const real *inp, const real *w, int N, int C,
                             int OC, int G) {
    int c = C / G, oc = OC / G;
    for (int g = 0; g < G; g++) {
        const real *wg = w + (long)g * oc * c;
        if (dinp) gemm(0, 0, N, c, oc, 1, dout + g * oc, OC, wg, c, 1, dinp + g * c, C);
        if (dw) gemm(1, 0, oc, c, N, 1, dout + g * oc, OC, inp + g * c, C, 1, dw + (long)g * oc * c, c);
    }
}
